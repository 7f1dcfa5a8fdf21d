/**
 * composedRunProfile: the one profile a composed run uses, as the CLI's checks before a run
 * ask it (the run itself applies the same rule: composedProfiles.test.ts runs it).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Chain } from '../../core/chain/model';
import { composedRunProfile } from '../../core/runner/run';
import { makeChain, type StepSpec } from './helpers';

/** A chain of these steps whose default profile is `a` (profiles a and b). */
const chainWith = (steps: readonly StepSpec[]): Chain => ({
  ...makeChain(steps),
  profiles: ['a', 'b'].map((name) => ({ name, provider: 'openai' as const, baseUrl: 'http://127.0.0.1:1/v1', model: name, sampling: {}, span: { start: 0, end: 0 } })),
  defaultProfile: 'a',
});

void describe('composedRunProfile', () => {
  void test('no step names a profile: undefined (the run\'s default)', () => {
    assert.equal(composedRunProfile(chainWith([{ id: 's1' }, { id: 's2' }])), undefined);
  });
  void test('every step on b, or the steps naming none on the default b: b', () => {
    assert.equal(composedRunProfile(chainWith([{ id: 's1', profile: 'b' }, { id: 's2', profile: 'b' }])), 'b');
    assert.equal(composedRunProfile(chainWith([{ id: 's1', profile: 'b' }, { id: 's2' }]), { defaultProfile: 'b' }), 'b');
  });
  void test('the steps disagree: undefined (the default); up to stopAfter they may agree', () => {
    const chain = chainWith([{ id: 's1', profile: 'b' }, { id: 's2' }]);
    assert.equal(composedRunProfile(chain), undefined);
    assert.equal(composedRunProfile(chain, { stopAfter: 's1' }), 'b');
    assert.equal(composedRunProfile(chain, { stopAfter: 'no-such-step' }), undefined, 'an unknown step counts every step');
  });
});
