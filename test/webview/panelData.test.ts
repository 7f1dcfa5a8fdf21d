// The extension side's pure parts: the evaluation store cache (pages never larger than the
// protocol allows, a store read once per change), GGUF discovery, and a run record as the
// panel shows it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EvalStoreCache } from '../../client/panel/evalStoreCache';
import { ggufFilesIn } from '../../client/panel/ggufFiles';
import { rerunInputs, runDetail } from '../../client/panel/runView';
import { RunStore } from '../../core/runner/runStore';
import type { RunRecord } from '../../core/runner/types';
import { maxEvalPageSize } from '../../webview/protocol';
import { writeGeneratedStore } from '../helpers/evalStore';
import { tempDir } from '../helpers/tempDir';

void test('eval store cache: a page is never larger than the protocol allows, whatever the webview asks', () => {
  const store = join(tempDir(), '.coi-evals', 'big');
  writeGeneratedStore(store, { items: 600 });
  const cache = new EvalStoreCache({ resamples: 50 });
  const asks: { limit: number; offset: number; size: number; first: number }[] = [
    { limit: 50, offset: 0, size: 50, first: 0 },
    { limit: 1_000_000, offset: 0, size: maxEvalPageSize, first: 0 },
    { limit: -5, offset: 0, size: 1, first: 0 },
    { limit: 50, offset: 1190, size: 10, first: 1190 },
    { limit: Number.NaN, offset: Number.NaN, size: 1, first: 0 },
  ];
  for (const ask of asks) {
    const page = cache.page({ store, offset: ask.offset, limit: ask.limit });
    assert.equal(page.total, 1200, JSON.stringify(ask));
    assert.equal(page.results.length, ask.size, JSON.stringify(ask));
    assert.equal(page.offset, ask.first, JSON.stringify(ask));
  }
  assert.equal(cache.reads, 1, 'the store is read once for all these pages');
});

void test('eval store cache: appended results are read again, with a new report', () => {
  const store = join(tempDir(), '.coi-evals', 'growing');
  const contents = writeGeneratedStore(store, { items: 30 });
  const cache = new EvalStoreCache({ resamples: 50 });
  assert.equal(cache.overview(store).report.counts.results, 60);
  assert.equal(cache.overview(store).report.counts.results, 60);
  assert.equal(cache.reads, 1);
  // A running evaluation appends a line: the next request sees it.
  const extra = { ...contents.results[0], item: 'record extra' };
  appendFileSync(join(store, 'results.jsonl'), JSON.stringify(extra) + '\n');
  assert.equal(cache.overview(store).report.counts.results, 61);
  assert.equal(cache.page({ store, offset: 0, limit: 50, item: 'extra' }).total, 1);
  assert.equal(cache.reads, 2);
});

void test('eval store cache: a folder that is not a store is a clear error', () => {
  assert.throws(() => new EvalStoreCache().overview(tempDir()), /not an evaluation store/);
});

void test('ggufFilesIn: .gguf files in the folder and one level below, sorted, nothing else', () => {
  const root = tempDir();
  mkdirSync(join(root, 'sub', 'deeper'), { recursive: true });
  for (const file of ['b.gguf', 'a.GGUF', 'notes.txt', join('sub', 'c.gguf'), join('sub', 'deeper', 'd.gguf')]) writeFileSync(join(root, file), 'x'.repeat(10));
  assert.deepEqual(
    ggufFilesIn(root).map((f) => [f.path.slice(root.length + 1), f.sizeBytes, f.folder === root]),
    [
      ['a.GGUF', 10, true],
      ['b.gguf', 10, true],
      [join('sub', 'c.gguf'), 10, true],
    ],
  );
  assert.deepEqual(ggufFilesIn(join(root, 'missing')), []);
  assert.equal(ggufFilesIn(root, 1).length, 1);
});

const step = (over: Partial<RunRecord['steps'][number]>): RunRecord['steps'][number] => ({ id: 's', index: 0, status: 'ok', cached: false, pinned: false, durationMs: 5, promptTokens: 3, completionTokens: 2, definitionHash: 'h', ...over });

void test('runDetail: raw text only when it differs, backend error codes kept, a composed generation carried', () => {
  const record: RunRecord = {
    version: 1,
    id: 'r1',
    chain: 'c',
    file: '/w/c.coi',
    mode: 'composed',
    template: 'alpaca',
    backend: 'local',
    model: '/m/tiny.gguf',
    inputs: { text: 'hello' },
    startedAt: '2026-12-01T00:00:00Z',
    durationMs: 40,
    status: 'failed',
    error: 'Step b failed',
    modelCalls: 1,
    composed: { prompt: 'P', rawOutput: 'Task 1 output: x', cached: false, durationMs: 30, promptTokens: 10, completionTokens: 5 },
    steps: [
      step({ id: 'a', output: 'positive', rawOutput: 'positive' }),
      step({ id: 'b', index: 1, status: 'failed', output: undefined, rawOutput: '```json\n{}', error: { code: 'backend', backendCode: 'timed-out', message: 'too slow' }, warnings: ['odd'] }),
    ],
  };
  const detail = runDetail(record, 'editor');
  assert.equal(detail.row.origin, 'editor');
  assert.equal(detail.steps[0]?.rawOutput, undefined);
  assert.equal(detail.steps[1]?.rawOutput, '```json\n{}');
  assert.deepEqual(detail.steps[1]?.error, { code: 'backend/timed-out', message: 'too slow' });
  assert.deepEqual(detail.steps[1]?.warnings, ['odd']);
  assert.equal(detail.composed?.rawOutput, 'Task 1 output: x');
  assert.deepEqual(detail.warnings, []);
});

void test('runDetail: a run whose call broke keeps what the model had streamed: a step\'s partialOutput, and a failed composed generation\'s whole text without a raw output', () => {
  const record: RunRecord = {
    version: 1,
    id: 'r',
    chain: 'c',
    mode: 'composed',
    template: 'chat',
    backend: 'openai',
    model: 'tiny',
    inputs: {},
    startedAt: '2026-12-01T00:00:00Z',
    durationMs: 40,
    status: 'failed',
    error: 'The composed generation: did not finish within 1 s',
    modelCalls: 1,
    composed: { prompt: 'P', partialOutput: 'Task 1 output and task 2 input: They prep', cached: false, durationMs: 30, promptTokens: 0, completionTokens: 0 },
    steps: [
      step({ id: 'a', status: 'failed', output: undefined, partialOutput: 'They prep', error: { code: 'backend', backendCode: 'timed-out', message: 'The composed generation: did not finish within 1 s' } }),
      step({ id: 'b', index: 1, status: 'failed', output: undefined, error: { code: 'backend', backendCode: 'timed-out', message: 'The composed generation: did not finish within 1 s' } }),
    ],
  };
  const detail = runDetail(record, 'workspace');
  assert.deepEqual(detail.steps.map((s) => s.partialOutput), ['They prep', undefined]);
  assert.equal(detail.composed?.rawOutput, undefined);
  assert.equal(detail.composed?.partialOutput, 'Task 1 output and task 2 input: They prep');
  assert.ok(!('rawOutput' in (detail.composed ?? {})), 'no rawOutput key');
});

void test('Re-run from here: refused, naming the input, when the run record kept only the head of an input; the record\'s inputs otherwise', () => {
  const store = new RunStore(tempDir());
  const base: RunRecord = { version: 1, id: 'r', chain: 'c', file: '/w/c.coi', mode: 'stepwise', template: 'chat', backend: 'local', model: 'm', inputs: {}, startedAt: '2026-12-01T00:00:00Z', durationMs: 1, status: 'ok', modelCalls: 1, steps: [step({ id: 'a', output: 'x' })] };
  const long = 'y'.repeat(200_005);
  const whole = { text: 'x'.repeat(200_000), lang: 'fr' };
  store.save({ ...base, id: 'cut', inputs: { text: long, lang: 'fr' } });
  store.save({ ...base, id: 'whole', inputs: whole });
  const cut = store.open('cut');
  assert.equal(cut.inputs['text']?.length, 200_049, 'the record keeps the head and a note');
  assert.throws(() => rerunInputs(cut), (error: Error) => {
    assert.match(error.message, /^Cannot re-run this run from here: its record kept only the first 200,000 characters of input "text" \(longer texts are cut when a run is saved\), and a re-run would use the shortened text\. Run the chain again from the editor/);
    assert.doesNotMatch(error.message, /"lang"/);
    return true;
  });
  assert.deepEqual(rerunInputs(store.open('whole')), whole, 'an input of exactly 200,000 characters is whole');
  // A record saved before the store noted cut inputs: read by the shape it wrote.
  const path = join(store.directory, 'cut.json');
  const { cutInputs: _cutInputs, ...older } = JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
  writeFileSync(path, JSON.stringify(older));
  assert.equal(store.open('cut').cutInputs, undefined);
  assert.throws(() => rerunInputs(store.open('cut')), /input "text"/);
  // Saved again (re-read and re-saved), a record still knows what was cut.
  store.save({ ...cut, id: 'again' });
  assert.throws(() => rerunInputs(store.open('again')), /input "text"/);
  // A short text that merely ends like the note is the user's own.
  store.save({ ...base, id: 'note', inputs: { text: 'x\n… [5 more characters not kept in the run record]' } });
  assert.deepEqual(rerunInputs(store.open('note')).text, 'x\n… [5 more characters not kept in the run record]');
});
