/**
 * core/eval: bootstrap intervals against hand-computed cases, and the report's
 * aggregates on a small store written by hand.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapMean, pairedBootstrap, quantile, winsTiesLosses } from '../../core/eval/bootstrap';
import { createEvalConfig } from '../../core/eval/config';
import { formatReport, formatStoreComparison, reportWarnings } from '../../core/eval/format';
import { computeReport, compareStores } from '../../core/eval/report';
import { openEvalStore, readEvalStore } from '../../core/eval/store';
import type { EvalConfig, EvalResult, StepScore } from '../../core/eval/types';
import { tempDir } from '../helpers/tempDir';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

void describe('bootstrap intervals (hand-computed cases)', () => {
  const cases: readonly { name: string; values: number[]; expected: { mean: number; low: number; high: number; n: number } }[] = [
    // Every resample of constant data has the same mean.
    { name: 'constant values', values: [7, 7, 7], expected: { mean: 7, low: 7, high: 7, n: 3 } },
    { name: 'one value', values: [42], expected: { mean: 42, low: 42, high: 42, n: 1 } },
    // Resample means of {0, 100} are 0, 50, 100 with probabilities 1/4, 1/2, 1/4: both tails hold far more than 2.5 %.
    { name: 'two values', values: [0, 100], expected: { mean: 50, low: 0, high: 100, n: 2 } },
    // {0, 0, 0, 100}: the mean is 25·K, K ~ Binomial(4, 1/4); P(K = 0) = 0.316 > 2.5 %, P(K ≤ 2) = 0.949 < 97.5 % < P(K ≤ 3) = 0.996.
    { name: 'one hit in four', values: [0, 0, 0, 100], expected: { mean: 25, low: 0, high: 75, n: 4 } },
  ];
  for (const c of cases) {
    void test(c.name, () => {
      assert.deepEqual(bootstrapMean(c.values, { seed: 7 }), c.expected);
    });
  }

  void test('an empty sample has no mean', () => {
    const interval = bootstrapMean([]);
    assert.equal(interval.n, 0);
    assert.ok(Number.isNaN(interval.mean) && Number.isNaN(interval.low) && Number.isNaN(interval.high));
  });

  void test('quantiles interpolate linearly between ranks (numpy default)', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantile([1, 2, 3, 4], 0.25), 1.75);
    assert.equal(quantile([1, 2, 3, 4], 1), 4);
    assert.equal(quantile([5], 0.975), 5);
  });

  void test('the same seed gives the same interval; the interval holds the mean', () => {
    const values = Array.from({ length: 50 }, (_, i) => (i * 37) % 101);
    const a = bootstrapMean(values, { seed: 3 });
    assert.deepEqual(bootstrapMean(values, { seed: 3 }), a);
    assert.ok(a.low <= a.mean && a.mean <= a.high);
    assert.ok(a.high - a.low > 0 && a.high - a.low < 40);
    // More data, narrower interval (√n): four copies of the sample.
    const wider = bootstrapMean([...values, ...values, ...values, ...values], { seed: 3 });
    assert.ok(wider.high - wider.low < (a.high - a.low) * 0.7);
  });

  void test('paired differences: a constant shift has a zero-width interval; wins, ties and losses count items', () => {
    assert.deepEqual(pairedBootstrap([10, 20, 30], [15, 25, 35]), { mean: 5, low: 5, high: 5, n: 3 });
    assert.deepEqual(winsTiesLosses([10, 20, 30, 40], [15, 20, 25, 41]), { wins: 2, ties: 1, losses: 1 });
    assert.throws(() => pairedBootstrap([1], [1, 2]), /same length/);
  });
});

function step(index: number, rouge: number | undefined, category = 'summarization', contractValid = true): StepScore {
  return { id: `s${index + 1}`, index, category, ...(rouge !== undefined ? { reference: 'ref', output: 'out', rougeL: rouge, exact: rouge === 100 } : {}), contractValid, status: contractValid ? 'ok' : 'failed' };
}

function result(item: string, model: string, steps: StepScore[], extra: Partial<EvalResult> = {}): EvalResult {
  const last = steps[steps.length - 1];
  return {
    item,
    model,
    mode: 'stepwise',
    chainLength: steps.length,
    steps,
    final: last?.rougeL !== undefined ? { output: 'out', reference: 'ref', rougeL: last.rougeL, exact: last.rougeL === 100 } : {},
    splitFailed: false,
    tokensIn: 10,
    tokensOut: 5,
    latencyMs: 100,
    modelCalls: steps.length,
    cached: false,
    runId: `run-${item}-${model}`,
    ...extra,
  };
}

/** Two models, `base` and `tuned` unless other keys are given (GGUF paths: their spec too); `run` gives the store another template or settings. */
function smallStore(keys: { readonly base: string; readonly tuned: string } = { base: 'base', tuned: 'tuned' }, run: Pick<Partial<EvalConfig>, 'template' | 'settings'> = {}): { dir: string; config: EvalConfig } {
  const dir = join(tempDir(), 'store');
  const config = createEvalConfig({
    name: 'small',
    source: { kind: 'tests', files: ['/x/a.coi'] },
    models: [
      { key: keys.base, label: keys.base, ...(keys.base.endsWith('.gguf') ? { spec: keys.base } : {}), identity: { backend: 'openai', model: 'base@x' } },
      { key: keys.tuned, label: keys.tuned, ...(keys.tuned.endsWith('.gguf') ? { spec: keys.tuned } : {}), identity: { backend: 'openai', model: 'tuned@x' } },
    ],
    modes: ['stepwise'],
    template: run.template ?? 'chat',
    ...(run.settings !== undefined ? { settings: run.settings } : {}),
    items: [],
    toolVersion: 'test',
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  const store = openEvalStore(dir, { ...config, itemCount: 4 });
  const results = [
    result('i1', keys.base, [step(0, 40), step(1, 20, 'classification')]),
    result('i2', keys.base, [step(0, 60), step(1, 40, 'classification')]),
    result('i3', keys.base, [step(0, 80)]),
    result('i4', keys.base, [], { error: 'Step "s1": timed out' }),
    result('i1', keys.tuned, [step(0, 50), step(1, 30, 'classification')]),
    result('i2', keys.tuned, [step(0, 60), step(1, 40, 'classification')]),
    result('i3', keys.tuned, [step(0, 0, 'summarization', false)], { splitFailed: true }),
    result('i4', keys.tuned, [step(0, 90)], { cached: true, modelCalls: 0 }),
  ];
  for (const r of results) store.append(r);
  store.close();
  return { dir, config };
}

void describe('the report of a small store', () => {
  void test('means, failures, split failures and breakdowns by length, position and category', () => {
    const { dir } = smallStore();
    const report = computeReport(dir, { seed: 1 });
    assert.deepEqual(report.counts, { items: 4, expected: 8, results: 8, missing: 0, failures: 1, splitFailures: 1 });
    const [base, tuned] = report.groups;
    assert.equal(base!.n, 3);
    assert.equal(base!.failures, 1);
    // Final ROUGE-L: the last step of each scored item: 20, 40, 80.
    assert.equal(base!.metrics['final.rougeL']!.mean, (20 + 40 + 80) / 3);
    // Step ROUGE-L: the mean of each item's steps, then over items: 30, 50, 80.
    assert.equal(base!.metrics['step.rougeL']!.mean, (30 + 50 + 80) / 3);
    assert.deepEqual(base!.byLength.map((b) => [b.key, b.n, b.rougeL.mean]), [['1', 1, 80], ['2', 2, 30]]);
    assert.deepEqual(base!.byPosition.map((b) => [b.key, b.n, b.rougeL.mean]), [['1', 3, 60], ['2', 2, 30]]);
    assert.deepEqual(base!.byCategory.map((b) => [b.key, b.n, b.rougeL.mean]), [['classification', 2, 30], ['summarization', 3, 60]]);
    assert.equal(tuned!.splitFailures, 1);
    assert.equal(tuned!.cached, 1);
    assert.equal(tuned!.metrics['contractValid']!.mean, (100 + 100 + 0 + 100) / 4);
    // Latency leaves cached results out (they took no model time).
    assert.equal(tuned!.metrics['latencyMs']!.n, 3);
  });

  void test('paired comparison on the items scored by both models', () => {
    const { dir } = smallStore();
    const report = computeReport(dir, { seed: 1 });
    const final = report.comparisons.find((c) => c.metric === 'final.rougeL')!;
    // i1: 30 − 20, i2: 40 − 40, i3: 0 − 80 (i4 failed on base: unpaired).
    assert.equal(final.n, 3);
    assert.deepEqual([final.wins, final.ties, final.losses], [1, 1, 1]);
    assert.equal(final.difference.mean, (10 + 0 - 80) / 3);
    assert.deepEqual([final.a.model, final.b.model], ['base', 'tuned']);
  });

  void test('the same seed reproduces the report byte for byte; every format names the groups', () => {
    const { dir } = smallStore();
    assert.equal(JSON.stringify(computeReport(dir, { seed: 9 })), JSON.stringify(computeReport(dir, { seed: 9 })));
    const report = computeReport(dir);
    assert.match(formatReport(report, 'table'), /base · stepwise\s+3\s+46\.7 \[/);
    assert.match(formatReport(report, 'markdown'), /\| tuned · stepwise \| 4 \| 40\.0 \[/);
    assert.match(formatReport(report, 'csv'), /\nmetric,base,stepwise,final\.rougeL,,3,46\.666667,/);
    assert.deepEqual(JSON.parse(formatReport(report, 'json')), JSON.parse(JSON.stringify(report)));
  });

  void test("a stepwise run's whole-output score is shown with what it is made of (the markers always match); a composed one's is not", () => {
    const report = computeReport(smallStore().dir);
    const withWhole = (mode: 'stepwise' | 'composed'): typeof report => ({ ...report, groups: report.groups.map((g) => ({ ...g, mode, metrics: { ...g.metrics, 'whole.rougeL': { mean: 37, low: 30, high: 44, n: 3 } } })) });
    for (const format of ['table', 'markdown'] as const) {
      assert.match(formatReport(withWhole('stepwise'), format), /ROUGE-L whole of a stepwise run: its steps' outputs joined with the paper's "Task i output" markers, whose words always match/, format);
      assert.doesNotMatch(formatReport(withWhole('composed'), format), /whole of a stepwise run/, format);
      assert.doesNotMatch(formatReport(report, format), /whole of a stepwise run/, format);
    }
  });

  void test('a report of part of the items says which part', () => {
    const report = computeReport(smallStore().dir);
    const sampled = { ...report, source: { ...report.source, subset: { kind: 'sample', count: 4, seed: 7 } as const } };
    assert.match(formatReport(sampled, 'table'), /— 4 items \(drawn at random, seed 7\), 8\/8 results/);
    assert.match(formatReport(sampled, 'markdown'), /4 items \(drawn at random, seed 7\), 8\/8 results/);
    assert.match(formatReport(report, 'table'), /— 4 items, 8\/8 results/);
  });

  void test('the Markdown report shows what eval.json and results.jsonl say as text: no HTML, entity, link or line break gets through', () => {
    const report = computeReport(smallStore().dir);
    const markup = '<img src=x onerror=alert(1)> &lt;b&gt; [x](command:y)\n\n<script>';
    const hostile = {
      ...report,
      name: markup,
      seed: markup as unknown as number, // a report is plain data: its writer may not have checked
      store: `/ws/.coi-evals/s\n\n${markup}`,
      groups: report.groups.map((g) => ({ ...g, label: markup, byLength: g.byLength.map((b) => ({ ...b, key: markup })) })),
    };
    const markdown = formatReport(hostile, 'markdown');
    const outsideCodeSpan = markdown.replace(/^Store: `.*`$/m, '');
    assert.doesNotMatch(outsideCodeSpan, /(^|[^\\])[<&]/m, 'every < and & is escaped');
    assert.doesNotMatch(outsideCodeSpan, /(^|[^\\])\[(?![\d+-])/m, 'every [ but an interval\'s is escaped');
    assert.equal(markdown.split('\n').length, formatReport(report, 'markdown').split('\n').length, 'no line break gets through');
    assert.match(markdown, /^# Evaluation \\<img src=x onerror=alert\(1\)\\> \\&lt;b\\&gt; \\\[x\\\]\(command:y\)  \\<script\\>\n/);
    assert.match(markdown, /\(seed \\<img src=x onerror=alert\(1\)\\> /);
    assert.match(markdown, /\| model · mode \| \\<img src=x onerror=alert\(1\)\\> .* steps \|/);
    assert.match(markdown, /^Store: `\/ws\/\.coi-evals\/s  <img src=x onerror=alert\(1\)> &lt;b&gt; \[x\]\(command:y\)  <script>`$/m, 'the path, in one code span');
  });

  void test('the table lines up labels by the terminal columns they take, not their UTF-16 length', () => {
    const report = computeReport(smallStore().dir);
    // Each two columns wide: ASCII, a CJK ideograph, an emoji with a skin tone (4 units), letters with combining accents (4 units), a ZWJ family (8 units).
    const labels = ['ab', '模', '\u{1f44d}\u{1f3fd}', 'e\u0301e\u0301', '\u{1f468}\u200d\u{1f469}\u200d\u{1f467}'];
    const wide = { ...report, comparisons: [], groups: labels.map((label) => ({ ...report.groups[0]!, label, byLength: [], byPosition: [], byCategory: [] })) };
    const table = formatReport(wide, 'table');
    const rows = labels.map((label) => table.split('\n').find((l) => l.startsWith(`${label} · stepwise`))!);
    const afterLabel = rows.map((row, i) => row.slice(labels[i]!.length));
    assert.deepEqual(afterLabel, afterLabel.map(() => afterLabel[0]), table);
  });

  void test('compareStores pairs items across two stores', () => {
    const a = smallStore();
    const b = smallStore();
    const comparison = compareStores(a.dir, b.dir, { seed: 2 });
    assert.equal(comparison.commonItems, 4);
    const same = comparison.comparisons.find((c) => c.metric === 'final.rougeL' && c.a.model === 'base' && c.b.model === 'base')!;
    assert.deepEqual([same.n, same.difference.mean, same.ties], [3, 0, 3]);
    assert.deepEqual(comparison.labels, { base: 'base', tuned: 'tuned' });
  });

  void test('coi eval compare names a GGUF model by its file name, with the folders that tell two apart', () => {
    const a = smallStore({ base: '/models/run-1/model.gguf', tuned: '/models/base/tiny.gguf' });
    const b = smallStore({ base: '/models/run-2/model.gguf', tuned: '/models/base/tiny.gguf' });
    const comparison = compareStores(a.dir, b.dir, { seed: 2 });
    assert.deepEqual(comparison.labels, { '/models/run-1/model.gguf': 'run-1/model.gguf', '/models/base/tiny.gguf': 'tiny.gguf', '/models/run-2/model.gguf': 'run-2/model.gguf' });
    const table = formatStoreComparison(comparison, 'table');
    assert.match(table, /run-2\/model\.gguf · stepwise \(B\) vs run-1\/model\.gguf · stepwise \(A\)\s+final\.rougeL/);
    assert.doesNotMatch(table, /\/models\//);
  });

  void test('compare says when the stores ran with another template or output bound, in every format; concurrency and the like do not count', () => {
    const a = smallStore(undefined, { settings: { concurrency: 4 } });
    const b = smallStore(undefined, { template: 'alpaca', settings: { maxTokens: 64, concurrency: 1, noCache: true } });
    const comparison = compareStores(a.dir, b.dir, { seed: 2 });
    assert.deepEqual(comparison.differentSettings, [
      { setting: 'template', a: 'chat', b: 'alpaca' },
      { setting: 'maxTokens', a: null, b: 64 },
    ]);
    const said = 'A and B ran with other settings (template chat in A, alpaca in B; max tokens the default in A, 64 in B): the paired differences measure these too, not only the models.';
    assert.ok(formatStoreComparison(comparison, 'table').includes(`\n⚠ ${said}\n`), formatStoreComparison(comparison, 'table'));
    assert.ok(formatStoreComparison(comparison, 'markdown').includes(`> ⚠ ${said}`));
    const json = JSON.parse(formatStoreComparison(comparison, 'json')) as { differentSettings: unknown; warnings: string[] };
    assert.deepEqual(json.differentSettings, comparison.differentSettings);
    assert.ok(json.warnings.includes(said));
    // CSV keeps its table shape: the CLI writes reportWarnings to stderr.
    assert.ok(reportWarnings(comparison).includes(said));
    // Only concurrency differs: nothing is said.
    const same = compareStores(a.dir, smallStore(undefined, { settings: { concurrency: 16, threads: 2 } }).dir, { seed: 2 });
    assert.deepEqual(same.differentSettings, []);
    assert.doesNotMatch(formatStoreComparison(same, 'table'), /other settings/);
  });

  void test('a difference that rounds to zero is 0.0, neither +0.0 nor -0.0; CSV keeps its digits and has no -0', () => {
    const report = computeReport(smallStore().dir, { seed: 1 });
    const tiny = { ...report, comparisons: report.comparisons.map((c) => ({ ...c, difference: { mean: -0.01, low: -0.04, high: 0.03, n: c.n } })) };
    const table = formatReport(tiny, 'table');
    assert.match(table, /\s0\.0 \[0\.0, 0\.0\]\s/, table);
    assert.doesNotMatch(table, /[+-]0\.0\b/, table);
    assert.doesNotMatch(formatReport(tiny, 'markdown'), /[+-]0\.0\b/);
    assert.match(formatReport({ ...report, comparisons: report.comparisons.map((c) => ({ ...c, difference: { mean: 0.04, low: -1.26, high: 1.34, n: c.n } })) }, 'table'), /\s0\.0 \[-1\.3, \+1\.3\]\s/);
    const comparison = compareStores(smallStore().dir, smallStore().dir, { seed: 2 });
    const nearZero = { ...comparison, comparisons: comparison.comparisons.map((c) => ({ ...c, difference: { mean: -0.01, low: -1e-9, high: 0.03, n: c.n } })) };
    assert.doesNotMatch(formatStoreComparison(nearZero, 'table'), /[+-]0\.0\b/);
    const csv = formatStoreComparison(nearZero, 'csv');
    assert.match(csv, /,-0\.01,0,0\.03,/, 'full precision, and no negative zero');
    assert.doesNotMatch(csv, /(^|,)-0(,|$)/m);
  });

  void test('CSV: a label that starts a formula after spaces, or with a fullwidth = + - @, gets an apostrophe; negative numbers stay numbers', () => {
    const report = computeReport(smallStore().dir, { seed: 1 });
    const labels = [' =1+1', '  @SUM(A1)', '\u3000-2+3', '\u00a0+cmd', '＝1+1', '＋1', '－1', '＠SUM(A1)', '\n=1'];
    const hostile = { ...report, groups: labels.map((label) => ({ ...report.groups[0]!, label, byLength: [], byPosition: [], byCategory: [] })), comparisons: report.comparisons.map((c) => ({ ...c, difference: { mean: -4.25, low: -9.5, high: -0.5, n: c.n } })) };
    const csv = formatReport(hostile, 'csv');
    for (const label of labels) assert.ok(csv.includes(`'${label}`), `${JSON.stringify(label)} guarded:\n${csv}`);
    assert.match(csv, /,-4\.25,-9\.5,-0\.5,/, 'negative numbers unquoted');
    // Text that only looks alike is left as it is.
    const plain = formatReport({ ...report, groups: report.groups.map((g) => ({ ...g, label: 'a =1+1' })) }, 'csv');
    assert.ok(plain.includes(',a =1+1,') && !plain.includes("'a =1+1"));
  });
});

void describe('step outputs cut short', () => {
  /** A store like `smallStore`'s where base's outputs were cut: 2 at their token bound (i1's two steps), 1 by the content filter (i3), of its 5 step outputs; i4's failure is not counted. */
  function cutStore(): string {
    const { dir, config } = smallStore();
    const cutDir = join(tempDir(), 'cut');
    const store = openEvalStore(cutDir, { ...config, itemCount: 4 });
    const cut = (s: StepScore, finishReason: StepScore['finishReason']): StepScore => ({ ...s, finishReason });
    for (const r of readEvalStore(dir).results) {
      if (r.model !== 'base') store.append(r);
      else if (r.item === 'i1') store.append({ ...r, steps: r.steps.map((s) => cut(s, 'length')) });
      else if (r.item === 'i3') store.append({ ...r, steps: r.steps.map((s) => cut(s, 'content-filter')) });
      else if (r.item === 'i4') store.append({ ...r, steps: [cut(step(0, 10), 'length')] }); // failed: not scored, not counted
      else store.append(r);
    }
    store.close();
    return cutDir;
  }
  const lengthNote = "base · stepwise: 2 of 5 step outputs were cut at their token bound (finish reason: length): their scores count only what was generated; raise --max-tokens (or the step's max_tokens; for a local model, --context too) and evaluate again.";
  const filterNote = "base · stepwise: 1 of 5 step outputs was cut by the provider's content filter (finish reason: content_filter): its score counts only what came before the cut.";

  void test('the report counts them per model × mode and reason, and every format says so; nothing is said when none was cut', () => {
    const report = computeReport(cutStore(), { seed: 1 });
    const [base, tuned] = report.groups;
    assert.deepEqual(base!.cutOutputs, { stepOutputs: 5, byReason: { length: 2, 'content-filter': 1 } });
    assert.equal(tuned!.cutOutputs, undefined);
    const table = formatReport(report, 'table');
    assert.ok(table.includes(`\n⚠ ${lengthNote}\n⚠ ${filterNote}\n`), table);
    assert.doesNotMatch(table, /tuned · stepwise: .* cut/);
    const markdown = formatReport(report, 'markdown');
    assert.match(markdown, /> ⚠ base · stepwise: 2 of 5 step outputs were cut at their token bound /);
    assert.match(markdown, /> ⚠ base · stepwise: 1 of 5 step outputs was cut by the provider's content filter/);
    const csv = formatReport(report, 'csv');
    assert.match(csv, /\ncount,base,stepwise,stepOutputs,,5,/);
    assert.match(csv, /\ncount,base,stepwise,cutOutputs\.length,,2,/);
    assert.match(csv, /\ncount,base,stepwise,cutOutputs\.content-filter,,1,/);
    assert.deepEqual(reportWarnings(report), [lengthNote, filterNote], 'CSV leaves them to stderr');
    assert.deepEqual(JSON.parse(formatReport(report, 'json')).groups[0].cutOutputs, { stepOutputs: 5, byReason: { length: 2, 'content-filter': 1 } });

    const whole = computeReport(smallStore().dir, { seed: 1 });
    assert.ok(whole.groups.every((g) => g.cutOutputs === undefined));
    for (const format of ['table', 'markdown', 'csv', 'json'] as const) assert.doesNotMatch(formatReport(whole, format), /cut|⚠/, format);
    assert.deepEqual(reportWarnings(whole), []);
  });

  void test('a finish reason a later coi wrote is counted as cut under its own name, in the report and in compare, and said once', () => {
    const dir = cutStore();
    // The store as a later coi would have written it, had the content filter's cut been a reason of its own.
    const path = join(dir, 'results.jsonl');
    writeFileSync(path, readFileSync(path, 'utf8').replaceAll('"finishReason":"content-filter"', '"finishReason":"context-shift"'));
    const report = computeReport(dir, { seed: 1 });
    assert.deepEqual(report.storeProblems, []);
    assert.deepEqual(report.groups[0]!.cutOutputs, { stepOutputs: 5, byReason: { length: 2, 'context-shift': 1 } });
    const unknownNote = 'The store holds a finish reason this version of CoI Studio does not know (context-shift), written by a newer one: its outputs are counted as cut short, under its own name; update CoI Studio to learn what it means.';
    assert.deepEqual(reportWarnings(report), [lengthNote, 'base · stepwise: 1 of 5 step outputs was cut short (finish reason: context-shift): its score counts only what came before the cut.', unknownNote]);
    assert.ok(formatReport(report, 'markdown').includes(`> ⚠ ${unknownNote}`));

    const comparison = compareStores(smallStore().dir, dir, { seed: 2 });
    const warnings = reportWarnings(comparison);
    assert.ok(warnings.some((w) => w.startsWith('A and B differ in step outputs cut short: A has none of 11; B has 2 of 11 cut at their token bound (finish reason: length) and 1 short (finish reason: context-shift).')), warnings.join('\n'));
    assert.ok(warnings.includes(unknownNote.replace('The store holds', 'B holds')), warnings.join('\n'));
  });

  void test('compare says when the two stores differ in cut outputs, and not when they do not', () => {
    const cut = cutStore();
    const comparison = compareStores(smallStore().dir, cut, { seed: 2 });
    const said =
      "A and B differ in step outputs cut short: A has none of 11; B has 2 of 11 cut at their token bound (finish reason: length) and 1 by the provider's content filter (finish reason: content_filter). A cut output's scores count only what came before the cut, so the paired differences measure the cuts too, not only the models.";
    assert.ok(reportWarnings(comparison).includes(said), reportWarnings(comparison).join('\n'));
    assert.ok(formatStoreComparison(comparison, 'table').includes(`⚠ ${said}\n`));
    assert.deepEqual(JSON.parse(formatStoreComparison(comparison, 'json')).b.cutOutputs, { stepOutputs: 11, byReason: { length: 2, 'content-filter': 1 } });
    assert.ok(!reportWarnings(compareStores(cut, cut, { seed: 2 })).some((w) => w.includes('cut short')));
    assert.ok(!reportWarnings(compareStores(smallStore().dir, smallStore().dir, { seed: 2 })).some((w) => w.includes('cut short')));
  });
});
