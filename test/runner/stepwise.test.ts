/**
 * Stepwise runs through the real local backend (worker process, node-llama-cpp,
 * the tiny generated model): streaming, the step cache and its targeted
 * invalidation, run-to / re-run-from with pinned outputs, contracts, cancellation.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { StepCache } from '../../core/runner/cache';
import { runChain } from '../../core/runner/run';
import { RunStore } from '../../core/runner/runStore';
import type { Chain } from '../../core/chain/model';
import { CountingBackend, makeChain, tinyLocalBackend, type TinyLocal } from './helpers';
import { tempDir } from '../helpers/tempDir';

const INPUTS = { text: 'The storm closed three roads on Tuesday.' };

/** Step `b` reads the input, not `a`: editing `a` must not re-run `b`. */
function diamond(aInstruction = 'Summarize the text.'): Chain {
  return makeChain([
    { id: 'a', instruction: aInstruction },
    { id: 'b', instruction: 'List the places in the text.', from: ['text'] },
    { id: 'c', instruction: 'Combine both answers.', from: ['a', 'b'] },
  ]);
}

void describe('stepwise runs on the tiny local model', () => {
  let tiny: TinyLocal;
  let backend: CountingBackend;
  before(() => {
    tiny = tinyLocalBackend();
    backend = new CountingBackend(tiny.backend);
  });
  after(async () => tiny.dispose());

  const freshCache = (): StepCache => new StepCache(tempDir());

  void test('one model call per step; streamed text adds up to each output; later steps read earlier outputs', async () => {
    const chain = makeChain([{ id: 'first' }, { id: 'second' }]);
    const streamed = new Map<string, string>();
    const before = backend.calls;
    const record = await runChain(chain, {
      backend,
      inputs: INPUTS,
      events: { onStepText: (id, chunk) => streamed.set(id, (streamed.get(id) ?? '') + chunk) },
    });
    assert.equal(record.status, 'ok', record.error);
    assert.equal(backend.calls - before, 2);
    assert.equal(record.modelCalls, 2);
    for (const step of record.steps) {
      assert.equal(step.status, 'ok');
      assert.ok((step.output ?? '').length > 0);
      assert.equal(streamed.get(step.id), step.rawOutput);
      assert.ok(step.completionTokens > 0 && step.promptTokens > 0);
      assert.equal(step.cached, false);
    }
    // The second prompt carries the first step's output as its input.
    assert.ok(record.steps[1]!.prompt!.includes(record.steps[0]!.output!));
    assert.equal(record.output, record.steps[1]!.output);
  });

  void test('re-running an unchanged chain makes zero model calls and gives the same outputs', async () => {
    const cache = freshCache();
    const first = await runChain(diamond(), { backend, inputs: INPUTS, cache });
    const callsBefore = backend.calls;
    const second = await runChain(diamond(), { backend, inputs: INPUTS, cache });
    assert.equal(backend.calls, callsBefore);
    assert.equal(second.modelCalls, 0);
    assert.deepEqual(second.steps.map((s) => s.cached), [true, true, true]);
    assert.deepEqual(second.steps.map((s) => s.output), first.steps.map((s) => s.output));
  });

  void test('editing one step re-runs it and its dependents only (explicit `from` graph)', async () => {
    const cache = freshCache();
    await runChain(diamond(), { backend, inputs: INPUTS, cache });
    const edited = await runChain(diamond('Summarize the text in French.'), { backend, inputs: INPUTS, cache });
    const byId = Object.fromEntries(edited.steps.map((s) => [s.id, s]));
    assert.equal(byId.a!.cached, false, 'the edited step runs');
    assert.equal(byId.b!.cached, true, 'b reads only the input: untouched');
    // c reads a; a's prompt changed, so c's key changed unless a's output happens to be identical.
    const aChanged = edited.steps[0]!.output !== undefined;
    assert.ok(aChanged);
    assert.equal(edited.modelCalls, byId.c!.cached ? 1 : 2);
  });

  void test('editing the last step re-runs nothing before it', async () => {
    const cache = freshCache();
    const chain = makeChain([{ id: 's1' }, { id: 's2' }, { id: 's3', instruction: 'Say it shorter.' }]);
    await runChain(chain, { backend, inputs: INPUTS, cache });
    const edited = makeChain([{ id: 's1' }, { id: 's2' }, { id: 's3', instruction: 'Say it longer.' }]);
    const record = await runChain(edited, { backend, inputs: INPUTS, cache });
    assert.deepEqual(record.steps.map((s) => s.cached), [true, true, false]);
    assert.equal(record.modelCalls, 1);
  });

  void test('run to a step stops after it; re-run from a step uses a pinned earlier output', async () => {
    const chain = makeChain([{ id: 's1' }, { id: 's2' }, { id: 's3' }]);
    const partial = await runChain(chain, { backend, inputs: INPUTS, stopAfter: 's2' });
    assert.deepEqual(partial.steps.map((s) => s.status), ['ok', 'ok', 'skipped']);
    assert.equal(partial.modelCalls, 2);

    const pinnedText = 'A pinned intermediate output written by the user.';
    const rerun = await runChain(chain, { backend, inputs: INPUTS, pinned: { s1: pinnedText }, rerunFrom: 's2' });
    assert.equal(rerun.steps[0]!.pinned, true);
    assert.equal(rerun.steps[0]!.output, pinnedText);
    assert.equal(rerun.modelCalls, 2);
    assert.ok(rerun.steps[1]!.prompt!.includes(pinnedText), 'step 2 reads the pinned output');
  });

  void test('re-run from a step takes earlier outputs from the cache and generates the rest afresh', async () => {
    const cache = freshCache();
    const chain = makeChain([{ id: 's1' }, { id: 's2' }, { id: 's3' }]);
    await runChain(chain, { backend, inputs: INPUTS, cache });
    const rerun = await runChain(chain, { backend, inputs: INPUTS, cache, rerunFrom: 's2' });
    assert.deepEqual(rerun.steps.map((s) => s.cached), [true, false, false]);
    assert.equal(rerun.modelCalls, 2);
  });

  void test('a label contract is enforced by the grammar on the local model', async () => {
    const chain = makeChain([{ id: 'sentiment', instruction: 'Classify the sentiment.', contract: { kind: 'label', labels: ['positive', 'negative'] } }]);
    const record = await runChain(chain, { backend, inputs: INPUTS });
    assert.equal(record.status, 'ok', record.error);
    assert.ok(['positive', 'negative'].includes(record.steps[0]!.output!));
    assert.deepEqual(backend.prompts.at(-1)!.constraint, { kind: 'labels', labels: ['positive', 'negative'] });
  });

  void test('an output that breaks its contract stops the run at that step and keeps earlier outputs', async () => {
    // Without the grammar the tiny model writes gibberish, never a number in range.
    const chain = makeChain([{ id: 'draft' }, { id: 'score', instruction: 'Rate it.', contract: { kind: 'number', min: 1, max: 5 } }, { id: 'never' }]);
    const record = await runChain(chain, { backend, inputs: INPUTS });
    assert.equal(record.status, 'failed');
    assert.equal(record.steps[0]!.status, 'ok');
    assert.ok(record.steps[0]!.output);
    assert.equal(record.steps[1]!.status, 'failed');
    assert.equal(record.steps[1]!.error?.code, 'contract');
    assert.match(record.steps[1]!.error!.message, /Step "score" broke its output contract \(number\): expected a number/);
    assert.equal(record.steps[2]!.status, 'skipped');
    assert.match(record.error!, /score/);
  });

  void test('cancelling stops the run: the running step and the rest are cancelled', async () => {
    const controller = new AbortController();
    const chain = makeChain([{ id: 's1' }, { id: 's2' }, { id: 's3' }]);
    const record = await runChain(chain, {
      backend,
      inputs: INPUTS,
      params: { maxTokens: 400 },
      signal: controller.signal,
      events: { onStepText: (id) => id === 's2' && controller.abort() },
    });
    assert.equal(record.status, 'cancelled');
    assert.deepEqual(record.steps.map((s) => s.status), ['ok', 'cancelled', 'cancelled']);
  });

  void test('the run record is saved, listed and reopened', async () => {
    const store = new RunStore(tempDir());
    const record = await runChain(makeChain([{ id: 'only' }]), { backend, inputs: INPUTS, file: '/x/chain.coi' });
    const path = store.save(record);
    assert.equal(readdirSync(store.directory).length, 1);
    const listed = store.list();
    assert.equal(listed[0]!.id, record.id);
    assert.equal(listed[0]!.path, path);
    const reopened = store.open(record.id);
    assert.deepEqual(reopened.inputs, INPUTS);
    assert.equal(reopened.steps[0]!.output, record.steps[0]!.output);
    assert.equal(reopened.steps[0]!.prompt, record.steps[0]!.prompt);
    assert.equal(reopened.model, tiny.backend.identity.model);
  });
});
