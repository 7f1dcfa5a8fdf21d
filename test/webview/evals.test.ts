import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeReport } from '../../core/eval/report';
import { queryResults } from '../../core/eval/store';
import { intervalText, lengthSeries, pageInfo, positionSeries, reportNotes, storeStatusText, summaryMetrics, summaryRows } from '../../webview/model/evals';
import { generatedStore } from '../helpers/evalStore';

const store = generatedStore('/nowhere/.coi-evals/generated', { items: 300, models: ['base.gguf', 'tuned.gguf'] });
const report = computeReport(store, { resamples: 200 });

void test('lengthSeries: one line per model over the chain lengths, with the means of the report', () => {
  const series = lengthSeries(report);
  assert.deepEqual(series.labels, ['1', '2', '3']);
  assert.deepEqual(series.datasets.map((d) => d.label), ['base.gguf', 'tuned.gguf']);
  for (const [i, group] of report.groups.entries()) {
    assert.deepEqual(series.datasets[i]?.data, group.byLength.map((row) => row.rougeL.mean));
  }
  // The generated data is built like the paper's figure: the tuned model is better at every length, and longer chains score lower.
  const [base, tuned] = series.datasets;
  for (let k = 0; k < 3; k++) assert.ok((tuned?.data[k] ?? 0) > (base?.data[k] ?? 0), `length ${k + 1}`);
  assert.ok((base?.data[0] ?? 0) > (base?.data[2] ?? 0));
});

void test('positionSeries: step positions in numeric order, null where a model has no step there', () => {
  const partial = computeReport({ ...store, results: store.results.filter((r) => r.model === 'base.gguf' || r.chainLength === 1) }, { resamples: 50 });
  const series = positionSeries(partial);
  assert.deepEqual(series.labels, ['1', '2', '3']);
  assert.equal(series.datasets[1]?.data[0] !== null, true);
  assert.deepEqual(series.datasets[1]?.data.slice(1), [null, null]);
});

void test('series of a report with ten or more lengths sort numerically, not as text', () => {
  const rows = (keys: string[]) => keys.map((key) => ({ key, n: 1, rougeL: { mean: Number(key), low: 0, high: 0, n: 1 } }));
  const group = report.groups[0];
  assert.ok(group !== undefined);
  const custom = { ...report, groups: [{ ...group, byLength: rows(['10', '2', '1']) }] };
  assert.deepEqual(lengthSeries(custom).labels, ['1', '2', '10']);
});

void test('a model with no scored results draws no line', () => {
  const empty = computeReport({ ...store, results: store.results.filter((r) => r.model === 'tuned.gguf') }, { resamples: 50 });
  assert.deepEqual(lengthSeries(empty).datasets.map((d) => d.label), ['tuned.gguf']);
});

void test('summaryRows: a row per model with every metric as mean [low, high]', () => {
  const rows = summaryRows(report);
  assert.equal(rows.length, 2);
  assert.equal(rows[0]?.n, 300);
  assert.equal(rows[0]?.cells.length, summaryMetrics.length);
  assert.match(rows[0]?.cells[0] ?? '', /^\d+\.\d \[\d+\.\d, \d+\.\d\]$/);
  // Exact matches are a percentage (core/eval scores each result 100 or 0).
  const exact = rows[1]?.cells[summaryMetrics.findIndex((m) => m.metric === 'final.exact')] ?? '';
  assert.ok(Number(exact.split(' ')[0]) >= 0 && Number(exact.split(' ')[0]) <= 100, exact);
  // Expectations were not evaluated: shown as a dash, not as 0.
  assert.equal(rows[0]?.cells[summaryMetrics.findIndex((m) => m.metric === 'expectations.passRate')], '–');
});

void test('intervalText: mean [low, high] at the given digits, absent or empty as a dash', () => {
  assert.equal(intervalText({ mean: 412.4, low: 398.2, high: 430.6, n: 4 }, 0), '412 [398, 431]');
  assert.equal(intervalText({ mean: 1, low: 1, high: 1, n: 0 }, 1), '–');
  assert.equal(intervalText({ mean: 42.04, low: 40, high: 44.46, n: 4 }, 1), '42.0 [40.0, 44.5]');
  assert.equal(intervalText(undefined, 1), '–');
  assert.equal(intervalText({ mean: -0.01, low: -0.04, high: 0.03, n: 4 }, 1), '0.0 [0.0, 0.0]', 'no negative zero');
});

const pages: { name: string; total: number; offset: number; limit: number; text: string; previous?: number; next?: number; last: number }[] = [
  { name: 'first page', total: 10_000, offset: 0, limit: 50, text: '1–50 of 10,000', next: 50, last: 9950 },
  { name: 'a middle page', total: 10_000, offset: 500, limit: 50, text: '501–550 of 10,000', previous: 450, next: 550, last: 9950 },
  { name: 'the last, short page', total: 120, offset: 100, limit: 50, text: '101–120 of 120', previous: 50, last: 100 },
  { name: 'an offset past the end lands on the last page', total: 120, offset: 5000, limit: 50, text: '101–120 of 120', previous: 50, last: 100 },
  { name: 'no items', total: 0, offset: 0, limit: 50, text: 'no items', last: 0 },
];
for (const p of pages) {
  void test(`pageInfo: ${p.name}`, () => {
    const info = pageInfo(p.total, p.offset, p.limit);
    assert.equal(info.text, p.text);
    assert.equal(info.previousOffset, p.previous);
    assert.equal(info.nextOffset, p.next);
    assert.equal(info.lastOffset, p.last);
  });
}

void test('paging 10,000 results: pages cover every result once, sorted by score', () => {
  const big = generatedStore('/nowhere', { items: 5000, models: ['base.gguf', 'tuned.gguf'] });
  const seen = new Set<string>();
  let previous = Infinity;
  for (let offset = 0; offset < 10_000; offset += 200) {
    const page = queryResults(big.results, { sortBy: 'final.rougeL', descending: true, offset, limit: 200 });
    assert.equal(page.total, 10_000);
    for (const r of page.results) {
      seen.add(`${r.item}/${r.model}`);
      assert.ok((r.final.rougeL ?? -1) <= previous);
      previous = r.final.rougeL ?? -1;
    }
  }
  assert.equal(seen.size, 10_000);
});

void test('storeStatusText: results of expected, the items and which part of the source, what is missing or failed', () => {
  const { counts } = report;
  assert.equal(storeStatusText(report), `generated: ${counts.results} of ${counts.expected} results (300 items) · complete`);
  const part = { ...report, source: { ...report.source, subset: { kind: 'sample' as const, count: 300, seed: 7 } } };
  assert.equal(storeStatusText(part), `generated: ${counts.results} of ${counts.expected} results (300 items, drawn at random, seed 7) · complete`);
  const first = { ...report, source: { ...report.source, subset: { kind: 'first' as const, count: 300 } }, counts: { ...counts, results: 1180, expected: 1200, missing: 20, failures: 3, splitFailures: 2 } };
  assert.equal(storeStatusText(first), "generated: 1,180 of 1,200 results (300 items, the source's first 300) · 20 missing · 3 failed · 2 split failures");
});

void test('reportNotes: step outputs cut short per model and reason, as the report says them, then the first store problems; nothing for a whole store', () => {
  assert.deepEqual(reportNotes(report), []);
  // The first step of tuned.gguf's first three scored results: two cut at their bound, one by a provider error.
  let cut = 0;
  const results = store.results.map((r) => {
    if (r.model !== 'tuned.gguf' || r.error !== undefined || cut >= 3) return r;
    cut++;
    return { ...r, steps: r.steps.map((s, i) => (i === 0 ? { ...s, finishReason: cut === 3 ? ('provider-error' as const) : ('length' as const) } : s)) };
  });
  const problems = Array.from({ length: 7 }, (_, i) => `results.jsonl line ${i + 1}: not valid JSON; the line is ignored and its triple runs again on --resume.`);
  const withCuts = computeReport({ ...store, results, problems }, { resamples: 20 });
  const outputs = withCuts.groups[1]!.cutOutputs!.stepOutputs.toLocaleString('en-US');
  assert.deepEqual(reportNotes(withCuts), [
    `⚠ tuned.gguf · stepwise: 2 of ${outputs} step outputs were cut at their token bound (finish reason: length): their scores count only what was generated; raise --max-tokens (or the step's max_tokens; for a local model, --context too) and evaluate again.`,
    `⚠ tuned.gguf · stepwise: 1 of ${outputs} step outputs was cut short by an error on the provider's side (finish reason: error): its score counts only what came before the error; a new evaluation asks for it again (the step cache does not keep it).`,
    ...problems.slice(0, 5).map((p) => `⚠ ${p}`),
  ]);
});

void test("reportNotes: the runs' warnings, each once with how many results gave it, between the cut outputs and the store problems", () => {
  const warning = 'The composed generation leaves the steps’ own sampling out (step b: temperature).';
  let warned = 0;
  const results = store.results.map((r) => (r.model === 'base.gguf' && r.error === undefined && warned++ < 4 ? { ...r, warnings: [warning] } : r));
  const problems = ['results.jsonl line 9: not valid JSON; the line is ignored and its triple runs again on --resume.'];
  const notes = reportNotes(computeReport({ ...store, results, problems }, { resamples: 20 }));
  assert.deepEqual(notes, [`⚠ ${warning} (4 results: base.gguf · stepwise)`, `⚠ ${problems[0]}`]);
});
