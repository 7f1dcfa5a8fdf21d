/**
 * client/run/modelChoice.ts: the model the editor names a run by (the `Running X with …`
 * notification, the model status bar item and its tooltip, `CoI: Show Model Info`), by core's
 * runProfile as the run record and `coi run` name it: not a chosen default profile that no step
 * runs on, nor a pinned step's.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Chain } from '../../core/chain/model';
import { choiceLabel, chosenModel, modelInfoLabel, runChoice, runChoices, runModel, runsUseLine, type ChosenModel, type ModelChoice } from '../../client/run/modelChoice';
import { makeChain, type StepSpec } from '../runner/helpers';

/** A chain of these steps with profiles `local` (the file's first) and `api`. */
const chainWith = (steps: readonly StepSpec[]): Chain => ({
  ...makeChain(steps),
  profiles: ['local', 'api'].map((name) => ({ name, provider: 'openai' as const, baseUrl: 'http://127.0.0.1:1/v1', model: name, sampling: {}, span: { start: 0, end: 0 } })),
  defaultProfile: 'local',
});
const profile = (name: string): ModelChoice => ({ kind: 'profile', name });
const spec: ModelChoice = { kind: 'spec', spec: '/models/qwen2.5-0.5b-instruct-q4_k_m.gguf' };
/** The file's first profile, `local`, chosen because nothing was picked. */
const fileDefault: ChosenModel = { choice: profile('local'), source: 'file' };

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
    assert.equal(
      runsUseLine(fileDefault, runModel(chain, fileDefault)!),
      "Runs of this file use api (the model profile of step s1, the first step a run generates; local, the file's first model profile, runs the steps that name none).",
    );
  });
  void test('every step names its own profile: the chosen default is neither shown nor checked', () => {
    const runs = runChoices(chainWith([{ id: 's1', profile: 'api' }, { id: 's2', profile: 'api' }]), profile('local'));
    assert.deepEqual(runs.map(choiceLabel), ['api']);
  });
  void test('the chosen profile runs the first step: it alone, and where it comes from', () => {
    const chain = chainWith([{ id: 's1' }, { id: 's2', profile: 'api' }]);
    const runs = runChoices(chain, profile('local'));
    assert.deepEqual(runs.map(choiceLabel), ['local']);
    assert.equal(runsUseLine(fileDefault, runModel(chain, fileDefault)!), "Runs of this file use local (the file's first model profile).");
    assert.deepEqual(runChoices(chainWith([{ id: 's1' }]), undefined), []);
  });
  void test('a pinned first step does not name it: the step a run generates first does, as the run\'s notification', () => {
    // s1 (pinned) would run on the chosen local; s2, the first step Run Chain generates, names api.
    const chain = chainWith([{ id: 's1' }, { id: 's2', profile: 'api' }, { id: 's3' }]);
    const pinned = { s1: 'given' };
    const run = runModel(chain, fileDefault, pinned);
    assert.equal(choiceLabel(run?.choice), choiceLabel(runChoice(chain, fileDefault.choice, { pinned })), 'the status bar and the notification name one model');
    assert.equal(choiceLabel(run?.choice), 'api');
    assert.deepEqual(runChoices(chain, fileDefault.choice, pinned).map(choiceLabel), ['api', 'local'], 'local still runs s3: both model files are checked');
    assert.equal(runsUseLine(fileDefault, run!), "Runs of this file use api (the model profile of step s2, the first step a run generates; local, the file's first model profile, runs the steps that name none).");
  });
  void test('every step that names a profile pinned: the chosen one runs the rest, and it alone is checked', () => {
    const chain = chainWith([{ id: 's1', profile: 'api' }, { id: 's2' }]);
    assert.deepEqual(runChoices(chain, profile('local'), { s1: 'given' }).map(choiceLabel), ['local']);
    assert.equal(runsUseLine(fileDefault, runModel(chain, fileDefault, { s1: 'given' })!), "Runs of this file use local (the file's first model profile).");
  });
});

void describe('the chosen model of a file and where it comes from', () => {
  const chain = chainWith([{ id: 's1' }]);
  void test('a profile picked with Select Model, while the file has it', () => {
    assert.deepEqual(chosenModel(chain, profile('api'), '/models/x.gguf'), { choice: profile('api'), source: 'selected' });
  });
  void test('a picked profile the file no longer has: the file\'s first profile', () => {
    assert.deepEqual(chosenModel(chain, profile('gone'), undefined), fileDefault);
  });
  void test('a picked model spec, whatever the file\'s profiles', () => {
    assert.deepEqual(chosenModel(chain, spec, undefined), { choice: spec, source: 'selected' });
  });
  void test('no profile and no pick: coi.defaultModel, else no model', () => {
    const bare: Chain = { ...makeChain([{ id: 's1' }]), profiles: [] };
    assert.deepEqual(chosenModel(bare, undefined, '/models/x.gguf'), { choice: { kind: 'spec', spec: '/models/x.gguf' }, source: 'setting' });
    assert.equal(chosenModel(bare, undefined, undefined), undefined);
  });
});

void describe('CoI: Show Model Info names the model a run of the file loads first, and why', () => {
  const cases: { name: string; steps: StepSpec[]; chosen: ChosenModel; pinned?: Record<string, string>; label: string }[] = [
    { name: 'the first step names api: api, not the chosen default', steps: [{ id: 's1', profile: 'api' }, { id: 's2' }], chosen: fileDefault, label: 'api (the model profile of step s1, the first step a run generates)' },
    { name: 'the first step pinned: the second step\'s profile', steps: [{ id: 's1', profile: 'local' }, { id: 's2', profile: 'api' }], chosen: fileDefault, pinned: { s1: 'given' }, label: 'api (the model profile of step s2, the first step a run generates)' },
    { name: 'no step names one: the profile selected for the file', steps: [{ id: 's1' }], chosen: { choice: profile('api'), source: 'selected' }, label: 'api (selected for this file)' },
    { name: 'no step names one, nothing selected: the file\'s first profile', steps: [{ id: 's1' }], chosen: fileDefault, label: "local (the file's first model profile)" },
    { name: 'a selected model spec runs every step, whatever they name', steps: [{ id: 's1', profile: 'api' }], chosen: { choice: spec, source: 'selected' }, label: 'qwen2.5-0.5b-instruct-q4_k_m.gguf (selected for this file)' },
    { name: 'coi.defaultModel', steps: [{ id: 's1' }], chosen: { choice: spec, source: 'setting' }, label: 'qwen2.5-0.5b-instruct-q4_k_m.gguf (the coi.defaultModel setting)' },
  ];
  for (const c of cases) {
    void test(c.name, () => {
      assert.equal(modelInfoLabel(runModel(chainWith(c.steps), c.chosen, c.pinned)!), c.label);
    });
  }
  void test('no model chosen: none', () => {
    assert.equal(runModel(chainWith([{ id: 's1' }]), undefined), undefined);
  });
});
