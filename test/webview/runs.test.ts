import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterRuns, formatDuration, pairSteps } from '../../webview/model/runs';
import type { RunRow } from '../../webview/protocol';

const row = (id: string, chain: string, status: RunRow['status'], startedAt: string): RunRow => ({ id, chain, status, startedAt, mode: 'stepwise', model: 'tiny.gguf', durationMs: 10, origin: 'workspace' });
const rows = [row('a', 'summarize', 'ok', '2026-12-01T10:00:00Z'), row('b', 'translate', 'failed', '2026-12-02T10:00:00Z'), row('c', 'summarize', 'failed', '2026-12-03T10:00:00Z'), row('d', 'classify', 'cancelled', '2026-11-30T10:00:00Z')];

const filters: { name: string; filter: Parameters<typeof filterRuns>[1]; ids: string[] }[] = [
  { name: 'no filter: newest first', filter: {}, ids: ['c', 'b', 'a', 'd'] },
  { name: 'by chain', filter: { chain: 'summarize' }, ids: ['c', 'a'] },
  { name: 'empty chain means all', filter: { chain: '' }, ids: ['c', 'b', 'a', 'd'] },
  { name: 'by status', filter: { status: 'failed' }, ids: ['c', 'b'] },
  { name: 'by chain and status', filter: { chain: 'summarize', status: 'ok' }, ids: ['a'] },
  { name: 'nothing matches', filter: { chain: 'nope' }, ids: [] },
];

for (const f of filters) {
  void test(`filterRuns: ${f.name}`, () => {
    const list = filterRuns(rows, f.filter);
    assert.deepEqual(list.runs.map((r) => r.id), f.ids);
    assert.deepEqual(list.chains, ['classify', 'summarize', 'translate']);
    assert.equal(list.total, 4);
  });
}

void test('formatDuration', () => {
  assert.equal(formatDuration(850), '850 ms');
  assert.equal(formatDuration(1250), '1.3 s');
  assert.equal(formatDuration(125_000), '2 min 5 s');
});

void test('pairSteps matches steps by id, keeping steps only one run has', () => {
  const pairs = pairSteps([{ id: 's1' }, { id: 's2' }], [{ id: 's2' }, { id: 's3' }]);
  assert.deepEqual(pairs.map((p) => [p.id, p.a !== undefined, p.b !== undefined]), [['s1', true, false], ['s2', true, true], ['s3', false, true]]);
});
