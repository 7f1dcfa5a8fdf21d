/**
 * Composed mode (the paper's way): one generation for the whole chain, split by
 * the `Task i output` markers. The released records give real marked outputs
 * (replayed as the model's answer); the tiny model gives output without markers,
 * which must be reported, not guessed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BackendError, type GenerateRequest, type GenerateResult, type ModelBackend } from '../../core/backends/types';
import { liveComposedOutputs, runChain, RunRequestError } from '../../core/runner/run';
import { recordForStorage } from '../../core/runner/storedRecord';
import { alpacaPrompt } from '../../core/runner/prompt';
import { repoPath, sharedDataPath, sharedDataSkip } from '../helpers/paths';
import { makeChain, tinyLocalBackend, type TinyLocal } from './helpers';

interface PaperRecord {
  readonly instruction: string;
  readonly input: string;
  readonly output: string;
}

/** Answers every prompt with a released record's output, streamed in pieces; keeps the prompt it got. */
class ReplayBackend implements ModelBackend {
  readonly identity = { backend: 'replay', model: 'coi2_test.json' };
  lastPrompt: GenerateRequest['prompt'] | undefined;
  constructor(private readonly text: string) {}
  generate(request: GenerateRequest): Promise<GenerateResult> {
    this.lastPrompt = request.prompt;
    for (let i = 0; i < this.text.length; i += 7) request.onText?.(this.text.slice(i, i + 7));
    return Promise.resolve({ text: this.text, promptTokens: 1, completionTokens: 1, durationMs: 1, stopReason: 'stop' });
  }
  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

/** CoI2 chains have two steps (one record's first instruction itself contains " and then "). */
function chainOf(record: PaperRecord) {
  const parts = record.instruction.split(' and then ');
  const instructions = [parts.slice(0, -1).join(' and then '), parts[parts.length - 1]!];
  return makeChain(instructions.map((instruction, i) => ({ id: `task${i + 1}`, instruction })));
}

/** Five records of coi2_test.json kept in the repository (record 0 first, each marker variant): the tests run without ../shared. */
const excerpt = JSON.parse(readFileSync(repoPath('test', 'fixtures', 'records', 'coi2-excerpt.json'), 'utf8')) as PaperRecord[];

void test('composed runs on the released records: the Alpaca prompt is the paper\'s, the outputs split by step', async () => {
  const record = excerpt[0]!;
  const backend = new ReplayBackend(record.output);
  let streamed = '';
  const run = await runChain(chainOf(record), {
    backend,
    inputs: { text: record.input },
    mode: 'composed',
    template: 'alpaca',
    events: { onComposedText: (chunk) => (streamed += chunk) },
  });
  assert.equal(run.status, 'ok', run.error);
  assert.deepEqual(backend.lastPrompt, { kind: 'completion', text: alpacaPrompt(record.instruction, record.input) });
  assert.equal(streamed, record.output);
  assert.deepEqual(
    run.steps.map((s) => s.output),
    ['They prepared for the start of the race.', 'The input is not ironic'],
  );
  assert.equal(run.modelCalls, 1);
  assert.equal(run.composed?.rawOutput, record.output);
});

void test('every marker variant in the released test set is split (newlines, two spaces, "Task2 output:")', { skip: sharedDataSkip }, async () => {
  await assertEveryRecordSplits(JSON.parse(readFileSync(sharedDataPath('coi2_test.json'), 'utf8')) as PaperRecord[]);
});

void test('every marker variant of the excerpt in test/fixtures is split', async () => {
  await assertEveryRecordSplits(excerpt);
});

async function assertEveryRecordSplits(records: readonly PaperRecord[]): Promise<void> {
  let twoSpaces = 0;
  let noSpace = 0;
  for (const record of records) {
    if (/\S {2}Task/.test(record.output)) twoSpaces++;
    if (/Task\d/.test(record.output)) noSpace++;
    const run = await runChain(chainOf(record), { backend: new ReplayBackend(record.output), inputs: { text: record.input }, mode: 'composed', template: 'alpaca' });
    assert.equal(run.status, 'ok', `${record.output.slice(0, 120)}: ${run.error}`);
    for (const step of run.steps) assert.doesNotMatch(step.output!, /Task\s*\d+\s*output/i);
  }
  assert.ok(twoSpaces > 0 && noSpace > 0, 'the data holds both variants');
}

void test('a missing marker is reported on the step it concerns; earlier steps keep their outputs', async () => {
  const record = excerpt[0]!;
  const truncated = 'Task 1 output and task 2 input: They prepared for the start of the race.\nTask 2 output and task 3 input: They won.';
  const chain = makeChain([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
  const run = await runChain(chain, { backend: new ReplayBackend(truncated), inputs: { text: record.input }, mode: 'composed' });
  assert.equal(run.status, 'failed');
  assert.equal(run.steps[0]!.status, 'ok');
  assert.equal(run.steps[0]!.output, 'They prepared for the start of the race.');
  // Without task 3's marker nobody knows where task 2's output ends: both are reported.
  for (const step of run.steps.slice(1)) {
    assert.equal(step.status, 'failed');
    assert.equal(step.error?.code, 'missing-marker');
    assert.match(step.error!.message, /No marker for task 3: expected 'Task 3 output:'/);
  }
});

void describe('composed mode on the tiny local model', () => {
  let tiny: TinyLocal;
  before(() => (tiny = tinyLocalBackend(24)));
  after(async () => tiny.dispose());

  void test('a random model writes no markers: every step reports it, nothing is guessed', async () => {
    const chain = makeChain([{ id: 'a' }, { id: 'b' }]);
    const run = await runChain(chain, { backend: tiny.backend, inputs: { text: 'Some input.' }, mode: 'composed' });
    assert.equal(run.status, 'failed');
    assert.equal(run.modelCalls, 1);
    assert.ok((run.composed?.rawOutput ?? '').length > 0);
    for (const step of run.steps) {
      assert.equal(step.status, 'failed');
      assert.equal(step.error?.code, 'missing-marker');
      assert.equal(step.output, undefined);
    }
    assert.match(run.error!, /No step markers found/);
  });

  void test('a composed generation cancelled while it streams keeps the text streamed so far (partialOutput)', async () => {
    const chain = makeChain([{ id: 'a' }, { id: 'b' }]);
    const controller = new AbortController();
    let streamed = '';
    const run = await runChain(chain, {
      backend: tiny.backend,
      inputs: { text: 'Some input.' },
      mode: 'composed',
      params: { maxTokens: 200, temperature: 0 },
      signal: controller.signal,
      events: {
        onComposedText: (chunk) => {
          streamed += chunk;
          if (streamed.trim().length > 0) controller.abort();
        },
      },
    });
    assert.equal(run.status, 'cancelled');
    assert.deepEqual(run.steps.map((s) => s.status), ['cancelled', 'cancelled']);
    // The tiny model writes no markers: all it streamed is the first step's part.
    assert.ok(streamed.trim().length > 0);
    assert.ok(run.steps[0]!.partialOutput!.length > 0, JSON.stringify(run.steps[0]));
    assert.equal(run.steps[0]!.partialOutput, streamed.trim());
    assert.equal(run.steps[1]!.partialOutput, undefined);
  });
});

/** Streams `text` in pieces, then fails as a server that stops answering does. */
class BreakingBackend implements ModelBackend {
  readonly identity = { backend: 'breaking', model: 'none' };
  constructor(private readonly text: string) {}
  generate(request: GenerateRequest): Promise<GenerateResult> {
    for (let i = 0; i < this.text.length; i += 5) request.onText?.(this.text.slice(i, i + 5));
    return Promise.reject(new BackendError('timed-out', 'did not finish within 1 s'));
  }
  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

void test('a composed generation that fails keeps what it streamed: each step its part, by the markers seen (partialOutput), capped in the saved record', async () => {
  const streamed = 'Sure.\nTask 1 output and task 2 input: They prepared for the race.\nTask 2 output and task 3 input: The race was not iro';
  const chain = makeChain([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
  const run = await runChain(chain, { backend: new BreakingBackend(streamed), inputs: { text: 'x' }, mode: 'composed' });
  assert.equal(run.status, 'failed');
  assert.deepEqual(run.steps.map((s) => s.status), ['failed', 'failed', 'failed']);
  assert.match(run.error!, /^The composed generation: did not finish within 1 s/);
  assert.deepEqual(run.steps.map((s) => s.partialOutput), ['They prepared for the race.', 'The race was not iro', undefined]);
  assert.deepEqual(run.steps.map((s) => s.output), [undefined, undefined, undefined]);
  // Like a failed stepwise call, the time it ran (on the last step, as a composed run's tokens and time are).
  assert.ok(run.steps[2]!.durationMs >= 0 && run.steps[0]!.durationMs === 0);
  // The record keeps the one generation: its prompt, and the whole text streamed (no raw output: it never ended).
  assert.equal(run.composed?.partialOutput, streamed);
  assert.equal(run.composed?.rawOutput, undefined);
  assert.match(run.composed?.prompt ?? '', /and then Rewrite the text for step b/);
  assert.equal(run.composed?.durationMs, run.steps[2]!.durationMs);
  // A saved record caps a partial output as it caps outputs.
  const long = `Task 1 output and task 2 input: ${'word '.repeat(100)}`;
  const cut = await runChain(makeChain([{ id: 'a' }, { id: 'b' }]), { backend: new BreakingBackend(long), inputs: { text: 'x' }, mode: 'composed' });
  assert.equal(cut.steps[0]!.partialOutput, long.slice('Task 1 output and task 2 input: '.length).trim());
  assert.match(recordForStorage(cut, 50).steps[0]!.partialOutput!, /^(word ){10}\n… \[449 more characters not kept in the run record\]$/);
  assert.match(recordForStorage(cut, 50).composed!.partialOutput!, /^Task 1 output and task 2 input: word word word wor\n… \[482 more characters not kept in the run record\]$/);
  assert.equal(recordForStorage(cut, 50).composed!.rawOutput, undefined);
});

void test('while a composed generation streams, its text is routed to steps by the markers seen so far', () => {
  assert.deepEqual(liveComposedOutputs('Task 1 output and task 2 input: They prep', 2), ['They prep', '']);
  assert.deepEqual(liveComposedOutputs('Task 1 output and task 2 input: A.\nTask2 output: B', 2), ['A.', 'B']);
  assert.deepEqual(liveComposedOutputs('Sure, here', 2), ['Sure, here', '']);
});

void test('composed runs refuse --pin and --from (one generation cannot honour them) before any model call', async () => {
  const record = excerpt[0]!;
  let calls = 0;
  const backend = new ReplayBackend(record.output);
  const counting: ModelBackend = { identity: backend.identity, generate: (request) => (calls++, backend.generate(request)), dispose: () => backend.dispose() };
  const chain = chainOf(record);
  await assert.rejects(
    runChain(chain, { backend: counting, inputs: { text: record.input }, mode: 'composed', pinned: { task1: 'my own summary' } }),
    (error: Error) => error instanceof RunRequestError && /composed run generates the whole chain in one model call, so it cannot use pinned outputs \(task1\): run stepwise/.test(error.message),
  );
  await assert.rejects(
    runChain(chain, { backend: counting, inputs: { text: record.input }, mode: 'composed', rerunFrom: 'task2' }),
    (error: Error) => error instanceof RunRequestError && /cannot use a re-run from "task2"/.test(error.message),
  );
  assert.equal(calls, 0);
  // Stepwise honours the pin: the pinned step is not generated.
  const stepwise = await runChain(chain, { backend: counting, inputs: { text: record.input }, pinned: { task1: 'my own summary' } });
  assert.equal(stepwise.steps[0]?.pinned, true);
  assert.equal(stepwise.steps[0]?.output, 'my own summary');
  assert.equal(calls, 1);
});
