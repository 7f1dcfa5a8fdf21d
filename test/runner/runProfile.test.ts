/**
 * runProfile: the profile that names a run, one rule for its record's backend/model, `coi run`'s
 * `Running … with` line and the editor's notification and model status bar item. Stepwise: the
 * first generated step's profile (its own, else the default); composed: the one profile its
 * generation runs on. undefined stands for the run's default.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Chain } from '../../core/chain/model';
import { runProfile, type RunNaming } from '../../core/runner/run';
import { makeChain, type StepSpec } from './helpers';

/** A chain of these steps whose default profile is `a` (profiles a and b). */
const chainWith = (steps: readonly StepSpec[]): Chain => ({
  ...makeChain(steps),
  profiles: ['a', 'b'].map((name) => ({ name, provider: 'openai' as const, baseUrl: 'http://127.0.0.1:1/v1', model: name, sampling: {}, span: { start: 0, end: 0 } })),
  defaultProfile: 'a',
});

interface Case {
  readonly name: string;
  readonly steps: readonly StepSpec[];
  readonly run?: RunNaming;
  /** For a stepwise run, and for a composed one (when it differs). */
  readonly stepwise: string | undefined;
  readonly composed?: string | undefined;
}

const cases: readonly Case[] = [
  { name: 'no step names a profile: the default', steps: [{ id: 's1' }, { id: 's2' }], stepwise: undefined },
  { name: 'every step names b: b', steps: [{ id: 's1', profile: 'b' }, { id: 's2', profile: 'b' }], stepwise: 'b' },
  // Edge case (a): `coi run` said the default (a step names it), the record the first step's model.
  { name: 'the first step names b, a later one the default a explicitly: stepwise b (the first step), composed the default (they disagree)', steps: [{ id: 's1', profile: 'b' }, { id: 's2', profile: 'a' }], stepwise: 'b', composed: undefined },
  // Edge case (b): a stepwise run starts on b; a composed run is one generation, on the default, with a warning.
  { name: 'only the first step names a profile: stepwise b, composed the default (the second step runs on a)', steps: [{ id: 's1', profile: 'b' }, { id: 's2' }], stepwise: 'b', composed: undefined },
  { name: 'only a later step names b: the first step runs on the default', steps: [{ id: 's1' }, { id: 's2', profile: 'b' }], stepwise: undefined, composed: undefined },
  { name: 'the first step names the default a: a', steps: [{ id: 's1', profile: 'a' }, { id: 's2' }], stepwise: 'a', composed: 'a' },
  { name: 'only the first step names b, the run\'s default is b: b either way', steps: [{ id: 's1', profile: 'b' }, { id: 's2' }], run: { defaultProfile: 'b' }, stepwise: 'b', composed: 'b' },
  { name: 'up to the first step (stopAfter), which names b: b either way', steps: [{ id: 's1', profile: 'b' }, { id: 's2' }], run: { stopAfter: 's1' }, stepwise: 'b', composed: 'b' },
  { name: 'the first step pinned: stepwise, the first generated step names it (a composed run takes no pins)', steps: [{ id: 's1', profile: 'b' }, { id: 's2' }], run: { pinned: { s1: 'given' } }, stepwise: undefined, composed: undefined },
  { name: 'the first step pinned, the second names b: stepwise b', steps: [{ id: 's1' }, { id: 's2', profile: 'b' }], run: { pinned: { s1: 'given' } }, stepwise: 'b', composed: undefined },
  { name: 'every step pinned: nothing is generated, the default', steps: [{ id: 's1', profile: 'b' }], run: { pinned: { s1: 'given' } }, stepwise: undefined, composed: 'b' },
];

void describe('runProfile', () => {
  for (const c of cases) {
    void test(c.name, () => {
      const chain = chainWith(c.steps);
      assert.equal(runProfile(chain, { ...c.run, mode: 'stepwise' }), c.stepwise, 'stepwise');
      assert.equal(runProfile(chain, { ...c.run }), c.stepwise, 'no mode: stepwise');
      assert.equal(runProfile(chain, { ...c.run, mode: 'composed' }), 'composed' in c ? c.composed : c.stepwise, 'composed');
    });
  }
});
