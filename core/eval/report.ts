/**
 * The report of an evaluation, computed from its store (never kept only in
 * memory): per model × mode, the mean of each metric with a seeded 95 %
 * bootstrap interval, broken down by chain length, step position and task
 * category; paired comparisons between models (and between the modes of one
 * model) with paired-bootstrap intervals and wins/ties/losses.
 */
import { bootstrapMean, pairedBootstrap, winsTiesLosses } from './bootstrap';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { readEvalStore, RESULTS_FILE, tripleKey, type StoreContents } from './store';
import { cutReasonsInOrder, type BreakdownRow, type Comparison, type CutOutputs, type CutReason, type EndpointThroughput, type EvalConfig, type EvalMode, type EvalReport, type EvalResult, type GroupReport, type MetricIntervals, type MetricName, type RunWarning, type StepScore, type UnknownCutReason } from './types';
import { displayLabels } from './labels';

export interface ReportOptions {
  /** Bootstrap seed (default: the evaluation's own). */
  readonly seed?: number;
  readonly resamples?: number;
}

/** The metric of one result, or undefined when the result has no such value. */
export function metricValue(result: EvalResult, metric: MetricName): number | undefined {
  switch (metric) {
    case 'final.rougeL':
      return result.final.rougeL;
    case 'step.rougeL': {
      const scored = result.steps.filter((s) => s.rougeL !== undefined);
      return scored.length === 0 ? undefined : scored.reduce((t, s) => t + s.rougeL!, 0) / scored.length;
    }
    case 'whole.rougeL':
      return result.whole?.rougeL;
    case 'final.exact':
      return result.final.exact === undefined ? undefined : result.final.exact ? 100 : 0;
    case 'expectations.passRate': {
      const counted = (result.expectations ?? []).filter((e) => e.status !== 'skipped');
      return counted.length === 0 ? undefined : (counted.filter((e) => e.status === 'passed').length / counted.length) * 100;
    }
    case 'contractValid':
      return result.steps.length === 0 ? undefined : (result.steps.filter((s) => s.contractValid).length / result.steps.length) * 100;
    case 'latencyMs':
      return result.cached ? undefined : result.latencyMs;
    case 'tokensIn':
      return result.tokensIn;
    case 'tokensOut':
      return result.tokensOut;
    case 'modelCalls':
      return result.modelCalls;
  }
}

const REPORTED: readonly MetricName[] = ['final.rougeL', 'step.rougeL', 'whole.rougeL', 'final.exact', 'expectations.passRate', 'contractValid', 'latencyMs', 'tokensIn', 'tokensOut', 'modelCalls'];
/** Metrics compared between models: the paper's scores. */
const COMPARED: readonly MetricName[] = ['final.rougeL', 'step.rougeL', 'whole.rougeL'];

function valuesOf(results: readonly EvalResult[], metric: MetricName): number[] {
  const values: number[] = [];
  for (const r of results) {
    const v = metricValue(r, metric);
    if (v !== undefined && Number.isFinite(v)) values.push(v);
  }
  return values;
}

function breakdown(rows: Map<string, number[]>, seed: number, resamples: number | undefined, order: (a: string, b: string) => number): BreakdownRow[] {
  return [...rows.entries()]
    .sort(([a], [b]) => order(a, b))
    .map(([key, values]) => ({ key, n: values.length, rougeL: bootstrapMean(values, { seed, ...(resamples !== undefined ? { resamples } : {}) }) }));
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

const numeric = (a: string, b: string): number => Number(a) - Number(b);
const alphabetic = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Counts step outputs and those cut short, by reason (`cutOutputs`). */
class CutCounter {
  private outputs = 0;
  /** By reason, in the order first met: a reason this version does not know (a later coi's) is counted under its own name too. */
  private readonly cut = new Map<CutReason | UnknownCutReason, number>();

  add(step: StepScore): void {
    if (step.status === 'skipped') return;
    this.outputs++;
    const reason = step.finishReason;
    if (reason === undefined) return;
    this.cut.set(reason, (this.cut.get(reason) ?? 0) + 1);
  }

  /** `cutOutputs`, only when some output was cut. */
  report(): { cutOutputs?: CutOutputs } {
    return this.cut.size > 0 ? { cutOutputs: this.counts() } : {};
  }

  counts(): CutOutputs {
    return { stepOutputs: this.outputs, byReason: Object.fromEntries(cutReasonsInOrder([...this.cut.keys()]).map((r) => [r, this.cut.get(r)])) };
  }
}

function groupReport(model: string, label: string, mode: EvalMode, all: readonly EvalResult[], seed: number, resamples: number | undefined): GroupReport {
  const scored = all.filter((r) => r.error === undefined);
  const options = { seed, ...(resamples !== undefined ? { resamples } : {}) };
  const metrics: MetricIntervals = {};
  for (const metric of REPORTED) {
    const values = valuesOf(scored, metric);
    if (values.length > 0) metrics[metric] = bootstrapMean(values, options);
  }
  const byLength = new Map<string, number[]>();
  const byPosition = new Map<string, number[]>();
  const byCategory = new Map<string, number[]>();
  const cut = new CutCounter();
  for (const r of scored) {
    if (r.final.rougeL !== undefined) push(byLength, String(r.chainLength), r.final.rougeL);
    for (const step of r.steps) {
      cut.add(step);
      if (step.rougeL === undefined) continue;
      push(byPosition, String(step.index + 1), step.rougeL);
      push(byCategory, step.category, step.rougeL);
    }
  }
  const expectations = scored.flatMap((r) => r.expectations ?? []).filter((e) => e.status !== 'skipped');
  return {
    model,
    label,
    mode,
    n: scored.length,
    failures: all.length - scored.length,
    splitFailures: scored.filter((r) => r.splitFailed).length,
    ...cut.report(),
    cached: scored.filter((r) => r.cached).length,
    expectations: { passed: expectations.filter((e) => e.status === 'passed').length, failed: expectations.filter((e) => e.status !== 'passed').length, total: expectations.length },
    metrics,
    byLength: breakdown(byLength, seed, resamples, numeric),
    byPosition: breakdown(byPosition, seed, resamples, numeric),
    byCategory: breakdown(byCategory, seed, resamples, alphabetic),
  };
}

interface Side {
  readonly model: string;
  readonly mode: EvalMode;
  readonly store?: string;
  readonly results: ReadonlyMap<string, EvalResult>;
}

/** Paired comparisons of b against a on the items scored in both. */
function compare(a: Side, b: Side, seed: number, resamples: number | undefined): Comparison[] {
  const comparisons: Comparison[] = [];
  for (const metric of COMPARED) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (const [item, ra] of a.results) {
      const rb = b.results.get(item);
      if (rb === undefined || ra.error !== undefined || rb.error !== undefined) continue;
      const x = metricValue(ra, metric);
      const y = metricValue(rb, metric);
      if (x === undefined || y === undefined) continue;
      xs.push(x);
      ys.push(y);
    }
    if (xs.length === 0) continue;
    comparisons.push({
      metric,
      mode: a.mode === b.mode ? a.mode : b.mode,
      a: { model: a.model, mode: a.mode, ...(a.store !== undefined ? { store: a.store } : {}) },
      b: { model: b.model, mode: b.mode, ...(b.store !== undefined ? { store: b.store } : {}) },
      n: xs.length,
      difference: pairedBootstrap(xs, ys, { seed, ...(resamples !== undefined ? { resamples } : {}) }),
      ...winsTiesLosses(xs, ys),
    });
  }
  return comparisons;
}

function byItem(results: readonly EvalResult[], model: string, mode: EvalMode): Map<string, EvalResult> {
  return new Map(results.filter((r) => r.model === model && r.mode === mode).map((r) => [r.item, r]));
}

/** Results in a stable order (items as first written, then model and mode order of the configuration). */
function ordered(config: EvalConfig, results: readonly EvalResult[]): EvalResult[] {
  const models = new Map(config.models.map((m, i) => [m.key, i]));
  const modes = new Map(config.modes.map((m, i) => [m, i]));
  return [...results].sort((x, y) => (x.item < y.item ? -1 : x.item > y.item ? 1 : 0) || (models.get(x.model) ?? 0) - (models.get(y.model) ?? 0) || (modes.get(x.mode) ?? 0) - (modes.get(y.mode) ?? 0));
}

/** What the reports say about a store's results.jsonl: its unreadable lines, and a torn last line (a kill mid-write). */
export function storeProblemsOf(contents: StoreContents): string[] {
  return [...contents.problems, ...(contents.tornLine ? [`${RESULTS_FILE}: its last line was cut short (a kill mid-write); it is ignored and its triple runs again on --resume.`] : [])];
}

/** The report of a store (a folder, or contents already read). */
export function computeReport(store: string | StoreContents, options: ReportOptions = {}): EvalReport {
  const contents = typeof store === 'string' ? readEvalStore(store) : store;
  const { config } = contents;
  const results = ordered(config, contents.results);
  const seed = options.seed ?? config.seed;
  const groups: GroupReport[] = [];
  const labels = displayLabels(config.models);
  for (const model of config.models) {
    for (const mode of config.modes) {
      groups.push(groupReport(model.key, labels.get(model.key) ?? model.label, mode, results.filter((r) => r.model === model.key && r.mode === mode), seed, options.resamples));
    }
  }
  const comparisons: Comparison[] = [];
  for (const mode of config.modes) {
    config.models.forEach((a, i) => {
      for (const b of config.models.slice(i + 1)) {
        comparisons.push(...compare({ model: a.key, mode, results: byItem(results, a.key, mode) }, { model: b.key, mode, results: byItem(results, b.key, mode) }, seed, options.resamples));
      }
    });
  }
  if (config.modes.length === 2) {
    for (const model of config.models) {
      comparisons.push(...compare({ model: model.key, mode: 'stepwise', results: byItem(results, model.key, 'stepwise') }, { model: model.key, mode: 'composed', results: byItem(results, model.key, 'composed') }, seed, options.resamples));
    }
  }
  const flagged = new Map<string, string>();
  for (const r of results) if (r.composability !== undefined) flagged.set(r.item, r.composability);
  const expected = config.itemCount * config.models.length * config.modes.length;
  return {
    version: 1,
    name: config.name,
    store: contents.dir,
    seed,
    source: config.source,
    counts: {
      items: config.itemCount,
      expected,
      results: results.length,
      missing: Math.max(0, expected - results.length),
      failures: results.filter((r) => r.error !== undefined).length,
      splitFailures: results.filter((r) => r.splitFailed).length,
    },
    groups,
    comparisons,
    flagged: [...flagged.entries()].map(([item, diagnostic]) => ({ item, diagnostic })),
    storeProblems: storeProblemsOf(contents),
    ...endpointsOf(results),
    warnings: runWarningsOf(config, results),
  };
}

/** The results' warnings, each distinct one once (in the order first met), with its count and its model × mode groups in the configuration's order. */
function runWarningsOf(config: EvalConfig, results: readonly EvalResult[]): RunWarning[] {
  const met = new Map<string, { results: number; groups: Set<string> }>();
  for (const result of results) {
    for (const message of new Set(result.warnings ?? [])) {
      let entry = met.get(message);
      if (entry === undefined) met.set(message, (entry = { results: 0, groups: new Set() }));
      entry.results++;
      entry.groups.add(tripleKey('', result.model, result.mode));
    }
  }
  const groups = config.models.flatMap((m) => config.modes.map((mode) => ({ model: m.key, mode })));
  return [...met].map(([message, entry]) => ({ message, results: entry.results, groups: groups.filter((g) => entry.groups.has(tripleKey('', g.model, g.mode))) }));
}

/** A result that failed to run (not scored), as `coi eval` lists it. */
export interface FailedItem {
  readonly item: string;
  /** The model's key (its spec or `profile:NAME`) and its short label. */
  readonly model: string;
  readonly label: string;
  readonly mode: EvalMode;
  /** Why it failed, as recorded in results.jsonl. */
  readonly error: string;
}

/** The store's failed results, in the report's order (items as first written, then the configuration's model and mode order). */
export function failedItems(contents: StoreContents): FailedItem[] {
  const labels = displayLabels(contents.config.models);
  return ordered(contents.config, contents.results)
    .filter((r) => r.error !== undefined)
    .map((r) => ({ item: r.item, model: r.model, label: labels.get(r.model) ?? r.model, mode: r.mode, error: r.error ?? '' }));
}

/** Per endpoint of pooled models: items served, items per second, mean latency, failed tries. */
function endpointsOf(results: readonly EvalResult[]): { endpoints?: EndpointThroughput[] } {
  const byUrl = new Map<string, { items: number; first: number; last: number; latency: number; failedTries: number }>();
  const entry = (url: string): { items: number; first: number; last: number; latency: number; failedTries: number } => {
    let e = byUrl.get(url);
    if (e === undefined) byUrl.set(url, (e = { items: 0, first: Infinity, last: -Infinity, latency: 0, failedTries: 0 }));
    return e;
  };
  for (const r of results) {
    if (r.endpoint === undefined) continue;
    const e = entry(r.endpoint.url);
    e.items++;
    e.first = Math.min(e.first, r.endpoint.startedAt);
    e.last = Math.max(e.last, r.endpoint.finishedAt);
    e.latency += r.latencyMs;
    for (const tried of r.endpoint.failedTries ?? []) entry(tried.url).failedTries++;
  }
  if (byUrl.size === 0) return {};
  return {
    endpoints: [...byUrl.entries()].map(([url, e]) => ({
      url,
      items: e.items,
      itemsPerSecond: e.items === 0 || e.last <= e.first ? 0 : e.items / ((e.last - e.first) / 1000),
      meanLatencyMs: e.items === 0 ? 0 : e.latency / e.items,
      failedTries: e.failedTries,
    })),
  };
}

/** One store of a comparison. */
export interface ComparedStore {
  readonly store: string;
  readonly name: string;
  /** Lines of its results.jsonl that could not be read (as the report's `storeProblems`). */
  readonly problems: readonly string[];
  /** The modes it ran: runs are compared only in a mode both stores ran. */
  readonly modes: readonly EvalMode[];
  /** Its step outputs cut short, over its scored results in the modes both stores ran (`byReason` empty: none). */
  readonly cutOutputs?: CutOutputs;
}

/** How the items of two stores were paired: by content, never by id alone. */
export interface ItemPairing {
  /** `fingerprints`: by each item's inputs and references (eval.json); `references`: a store predates fingerprints, so same-id items are paired when the references their results recorded agree. */
  readonly by: 'fingerprints' | 'references';
  /** Items paired (the comparisons' items). */
  readonly paired: number;
  /** Of them, paired under another id (rows inserted, removed or reordered). */
  readonly moved: number;
  /** Items with the same id in both stores whose content differs, and that found no item of the same content: not compared. */
  readonly differing: number;
  /** A few of their ids (A's). */
  readonly differingExamples: readonly string[];
}

/**
 * A setting that changes what a store's results mean, other in A than in B: the prompt template
 * (`--template`), the output bound (`--max-tokens`; null: the default). Settings that only
 * change how a run goes (concurrency, threads, timeouts, the cache) are not compared.
 */
export interface SettingDifference {
  readonly setting: 'template' | 'maxTokens';
  readonly a: string | number | null;
  readonly b: string | number | null;
}

export interface StoreComparison {
  readonly a: ComparedStore;
  readonly b: ComparedStore;
  /** Items paired between the stores (same content; see `pairing`). */
  readonly commonItems: number;
  /** Whether the two stores evaluated the same data (same data hash). */
  readonly sameData: boolean;
  /** Settings the two stores ran with that differ (empty: the same): a paired difference then measures them too. */
  readonly differentSettings: readonly SettingDifference[];
  /** Both sides are the one store: every difference is zero. */
  readonly sameStore: boolean;
  readonly pairing: ItemPairing;
  readonly seed: number;
  /** Short, distinct names of the models of both stores, by model key (a GGUF path by its file name). */
  readonly labels: Readonly<Record<string, string>>;
  readonly comparisons: readonly Comparison[];
}

/** The items of a store (those with results), each with its content key, in the order first written. */
function contentKeys(store: StoreContents, by: ItemPairing['by']): Map<string, string> {
  const keys = new Map<string, string>();
  for (const r of store.results) {
    if (keys.has(r.item) && !(by === 'references' && r.error === undefined)) continue;
    const fingerprint = store.config.itemFingerprints?.[r.item];
    // A failed result may have recorded no references: a scored one of the item says them.
    keys.set(r.item, by === 'fingerprints' && fingerprint !== undefined ? fingerprint : JSON.stringify([r.steps.map((step) => [step.id, step.reference ?? null]), r.final.reference ?? null]));
  }
  return keys;
}

/**
 * Pairs A's items with B's: same id and same content first; then, by fingerprints, items of
 * the same content under other ids (one each, in order). Same-id items whose content differs
 * are not paired.
 */
function pairItems(a: StoreContents, b: StoreContents): { pairs: Map<string, string>; pairing: ItemPairing } {
  const by: ItemPairing['by'] = a.config.itemFingerprints !== undefined && b.config.itemFingerprints !== undefined ? 'fingerprints' : 'references';
  const keysA = contentKeys(a, by);
  const keysB = contentKeys(b, by);
  const pairs = new Map<string, string>();
  const takenB = new Set<string>();
  for (const [item, key] of keysA) {
    if (keysB.get(item) === key) {
      pairs.set(item, item);
      takenB.add(item);
    }
  }
  let moved = 0;
  if (by === 'fingerprints') {
    const freeB = new Map<string, string[]>();
    for (const [item, key] of keysB) if (!takenB.has(item)) freeB.set(key, [...(freeB.get(key) ?? []), item]);
    for (const [item, key] of keysA) {
      if (pairs.has(item)) continue;
      const other = freeB.get(key)?.shift();
      if (other === undefined) continue;
      pairs.set(item, other);
      moved++;
    }
  }
  const differing = [...keysA.keys()].filter((item) => !pairs.has(item) && keysB.has(item));
  return { pairs, pairing: { by, paired: pairs.size, moved, differing: differing.length, differingExamples: differing.slice(0, 5) } };
}

/**
 * Compares two stores item by item: every model × mode of `b` against every model of `a` in
 * the same mode, on the items of the same content (`pairItems`).
 */
export function compareStores(storeA: string | StoreContents, storeB: string | StoreContents, options: ReportOptions = {}): StoreComparison {
  const a = typeof storeA === 'string' ? readEvalStore(storeA) : storeA;
  const b = typeof storeB === 'string' ? readEvalStore(storeB) : storeB;
  const seed = options.seed ?? a.config.seed;
  const { pairs, pairing } = pairItems(a, b);
  // B's results under the ids of the A items they are paired with.
  const pairedB = (model: string, mode: EvalMode): Map<string, EvalResult> => {
    const results = byItem(b.results, model, mode);
    const rekeyed = new Map<string, EvalResult>();
    for (const [itemA, itemB] of pairs) {
      const result = results.get(itemB);
      if (result !== undefined) rekeyed.set(itemA, result);
    }
    return rekeyed;
  };
  const comparisons: Comparison[] = [];
  for (const mode of a.config.modes.filter((m) => b.config.modes.includes(m))) {
    for (const ma of a.config.models) {
      for (const mb of b.config.models) {
        comparisons.push(...compare({ model: ma.key, mode, store: a.dir, results: byItem(a.results, ma.key, mode) }, { model: mb.key, mode, store: b.dir, results: pairedB(mb.key, mode) }, seed, options.resamples));
      }
    }
  }
  const models = [...a.config.models, ...b.config.models.filter((m) => !a.config.models.some((other) => other.key === m.key))];
  const modes = a.config.modes.filter((m) => b.config.modes.includes(m));
  return {
    a: { store: a.dir, name: a.config.name, problems: storeProblemsOf(a), modes: a.config.modes, cutOutputs: cutOutputsOf(a.results, modes) },
    b: { store: b.dir, name: b.config.name, problems: storeProblemsOf(b), modes: b.config.modes, cutOutputs: cutOutputsOf(b.results, modes) },
    commonItems: pairs.size,
    sameData: a.config.dataHash === b.config.dataHash,
    differentSettings: settingDifferences(a.config, b.config),
    sameStore: sameFolder(a.dir, b.dir),
    pairing,
    seed,
    labels: Object.fromEntries(displayLabels(models)),
    comparisons,
  };
}

/** The step outputs of a store's scored results in `modes`, and those cut short. */
function cutOutputsOf(results: readonly EvalResult[], modes: readonly EvalMode[]): CutOutputs {
  const counter = new CutCounter();
  for (const r of results) if (r.error === undefined && modes.includes(r.mode)) for (const step of r.steps) counter.add(step);
  return counter.counts();
}

function settingDifferences(a: EvalConfig, b: EvalConfig): SettingDifference[] {
  const differences: SettingDifference[] = [];
  if (a.template !== b.template) differences.push({ setting: 'template', a: a.template ?? null, b: b.template ?? null });
  const maxTokens = (config: EvalConfig): number | null => config.settings?.maxTokens ?? null;
  if (maxTokens(a) !== maxTokens(b)) differences.push({ setting: 'maxTokens', a: maxTokens(a), b: maxTokens(b) });
  return differences;
}

function sameFolder(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}
