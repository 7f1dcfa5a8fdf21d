/**
 * client/run/modelChoice.ts: the model the editor names a run by (the `Running X with …`
 * notification, the model status bar item and its tooltip), by core's runProfile as the run
 * record and `coi run` name it: not a chosen default profile that no step runs on.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Chain } from '../../core/chain/model';
import { choiceLabel, runChoice, runChoices, runsUseLine, type ModelChoice } from '../../client/run/modelChoice';
import { makeChain, type StepSpec } from '../runner/helpers';

/** A chain of these steps with profiles `local` (the file's first) and `api`. */
const chainWith = (steps: readonly StepSpec[]): Chain => ({
  ...makeChain(steps),
  profiles: ['local', 'api'].map((name) => ({ name, provider: 'openai' as const, baseUrl: 'http://127.0.0.1:1/v1', model: name, sampling: {}, span: { start: 0, end: 0 } })),
  defaultProfile: 'local',
});
const profile = (name: string): ModelChoice => ({ kind: 'profile', name });
const spec: ModelChoice = { kind: 'spec', spec: '/models/qwen2.5-0.5b-instruct-q4_k_m.gguf' };

void describe('the model a run is named by in the editor', () => {
  const cases: { name: string; steps: StepSpec[]; chosen: ModelChoice | undefined; run?: Parameters<typeof runChoice>[2]; label: string }[] = [
    { name: 'no step names a profile: the chosen one', steps: [{ id: 's1' }, { id: 's2' }], chosen: profile('local'), label: 'local' },
    { name: 'every step names api: api, not the chosen default no step runs on', steps: [{ id: 's1', profile: 'api' }, { id: 's2', profile: 'api' }], chosen: profile('local'), label: 'api' },
    { name: 'the first step names api, a later one the chosen default: api, as the record', steps: [{ id: 's1', profile: 'api' }, { id: 's2', profile: 'local' }], chosen: profile('local'), label: 'api' },
    { name: 'a composed run whose steps disagree runs on the chosen default', steps: [{ id: 's1', profile: 'api' }, { id: 's2' }], chosen: profile('local'), run: { mode: 'composed' }, label: 'local' },
    { name: 'run to the first step, which names none (the second names api): the chosen one', steps: [{ id: 's1' }, { id: 's2', profile: 'api' }], chosen: profile('local'), run: { stopAfter: 's1', pinned: {} }, label: 'local' },
    { name: 'the first step pinned: the second step names the run', steps: [{ id: 's1' }, { id: 's2', profile: 'api' }], chosen: profile('local'), run: { pinned: { s1: 'given' } }, label: 'api' },
    { name: 'a model spec runs every step: the spec, whatever the steps name', steps: [{ id: 's1', profile: 'api' }], chosen: spec, label: 'qwen2.5-0.5b-instruct-q4_k_m.gguf' },
    { name: 'no model', steps: [{ id: 's1' }], chosen: undefined, label: 'no model' },
  ];
  for (const c of cases) {
    void test(c.name, () => {
      assert.equal(choiceLabel(runChoice(chainWith(c.steps), c.chosen, c.run)), c.label);
    });
  }
});

void describe('the model status bar item', () => {
  void test('it names the first step\'s profile; its tooltip says the chosen one runs the steps that name none', () => {
    const chain = chainWith([{ id: 's1', profile: 'api' }, { id: 's2' }]);
    const runs = runChoices(chain, profile('local'));
    assert.deepEqual(runs.map(choiceLabel), ['api', 'local'], 'both are loaded, so both model files are checked');
    assert.equal(runsUseLine(profile('local'), runs[0]!), "Runs of this file use api (the first step's model profile; local, the chosen one, runs the steps that name none).");
  });
  void test('every step names its own profile: the chosen default is neither shown nor checked', () => {
    const runs = runChoices(chainWith([{ id: 's1', profile: 'api' }, { id: 's2', profile: 'api' }]), profile('local'));
    assert.deepEqual(runs.map(choiceLabel), ['api']);
  });
  void test('the chosen profile runs the first step: it alone, and the tooltip as before', () => {
    const runs = runChoices(chainWith([{ id: 's1' }, { id: 's2', profile: 'api' }]), profile('local'));
    assert.deepEqual(runs.map(choiceLabel), ['local']);
    assert.equal(runsUseLine(profile('local'), runs[0]!), 'Runs of this file use local.');
    assert.deepEqual(runChoices(chainWith([{ id: 's1' }]), undefined), []);
  });
});
