// The accessible names that tell a list's rows apart (webview/model/names.ts and its users):
// a screen reader moving from row to row must hear which run or model each control is for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { namesApart } from '../../webview/model/names';
import { runNames } from '../../webview/model/runs';
import { resultNames } from '../../webview/model/evals';
import type { EvalResult } from '../../core/eval/types';
import type { RunRow } from '../../webview/protocol';

void test('namesApart: names that repeat get what tells them apart; the others stay as they are', () => {
  const items = [{ id: 'a', n: 'x' }, { id: 'b', n: 'y' }, { id: 'c', n: 'x' }];
  assert.deepEqual(
    namesApart(items, (i) => i.n, (i) => i.id),
    ['x (a)', 'y', 'x (c)'],
  );
  assert.deepEqual(namesApart([], String, String), []);
});

const run = (id: string, chain: string, startedAt: string): RunRow => ({ id, chain, startedAt, status: 'ok', mode: 'stepwise', model: 'tiny.gguf', durationMs: 10, origin: 'workspace' });
// Shown to the second, as the list shows start times.
const toSecond = (iso: string): string => iso.slice(0, 19);

void test('runNames: a run is named by its chain and start; two runs of a chain started in the same second also by their ids', () => {
  const runs = [run('r1', 'summarize', '2026-12-01T10:00:00.100Z'), run('r2', 'summarize', '2026-12-01T10:00:00.900Z'), run('r3', 'summarize', '2026-12-01T10:00:01.000Z'), run('r4', 'translate', '2026-12-01T10:00:00.100Z')];
  assert.deepEqual(Object.fromEntries(runNames(runs, toSecond)), {
    r1: 'run of summarize started 2026-12-01T10:00:00 (id r1)',
    r2: 'run of summarize started 2026-12-01T10:00:00 (id r2)',
    r3: 'run of summarize started 2026-12-01T10:00:01',
    r4: 'run of translate started 2026-12-01T10:00:00',
  });
});

const result = (item: string, model: string, mode: EvalResult['mode'], rougeL: number | undefined, failure: Partial<EvalResult> = {}): EvalResult => ({ item, model, mode, final: { rougeL }, splitFailed: false, ...failure }) as unknown as EvalResult;

void test('resultNames: each model\'s row of an item says the model (and the mode when both ran), the final ROUGE-L and a failure', () => {
  const labels: Record<string, string> = { 'm-base': 'base.gguf', 'm-tuned': 'tuned.gguf' };
  const results = [result('record 7', 'm-base', 'stepwise', 45.24), result('record 7', 'm-tuned', 'stepwise', 61), result('record 7', 'm-tuned', 'composed', undefined, { error: 'boom' }), result('record 8', 'm-tuned', 'composed', 12, { splitFailed: true })];
  assert.deepEqual(resultNames(results, (m) => labels[m] ?? m, true), [
    'record 7, base.gguf (stepwise), final ROUGE-L 45.2',
    'record 7, tuned.gguf (stepwise), final ROUGE-L 61.0',
    'record 7, tuned.gguf (composed), final ROUGE-L –, failed',
    'record 8, tuned.gguf (composed), final ROUGE-L 12.0, split failed',
  ]);
  assert.deepEqual(resultNames(results.slice(0, 2), (m) => labels[m] ?? m, false), ['record 7, base.gguf, final ROUGE-L 45.2', 'record 7, tuned.gguf, final ROUGE-L 61.0']);
  // Two models the store labels alike (the same file given two ways): told apart by their keys.
  assert.deepEqual(resultNames([result('r', 'k1', 'stepwise', 50), result('r', 'k2', 'stepwise', 50)], () => 'tiny.gguf', false), ['r, tiny.gguf, final ROUGE-L 50.0 (model k1)', 'r, tiny.gguf, final ROUGE-L 50.0 (model k2)']);
});
