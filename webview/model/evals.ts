/**
 * The Evaluations tab's view model: the report's breakdowns as chart series, the summary
 * table's cells, and paging. Pure (plain Node tests), no DOM and no chart library.
 */
import type { BreakdownRow, EvalReport, EvalResult, GroupReport, Interval, MetricName } from '../../core/eval/types';
import { cutOutputNotes, runWarningNotes, STEPWISE_WHOLE_NOTE } from '../../core/eval/format';
import { subsetNote } from '../../core/eval/subset';
import { namesApart } from './names';

export interface ChartSeries {
  /** The x axis: chain lengths or 1-based step positions, in numeric order. */
  readonly labels: readonly string[];
  /** One line per model (and mode, when the evaluation ran both). */
  readonly datasets: readonly { readonly label: string; readonly data: readonly (number | null)[] }[];
}

/** `tiny.gguf` or `tiny.gguf (composed)` when the report has both modes. */
export function groupLabel(report: EvalReport, group: GroupReport): string {
  const modes = new Set(report.groups.map((g) => g.mode));
  return modes.size > 1 ? `${group.label} (${group.mode})` : group.label;
}

function series(report: EvalReport, rowsOf: (group: GroupReport) => readonly BreakdownRow[]): ChartSeries {
  const keys = [...new Set(report.groups.flatMap((g) => rowsOf(g).map((r) => r.key)))].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
  const datasets = report.groups
    .filter((g) => rowsOf(g).length > 0)
    .map((g) => {
      const byKey = new Map(rowsOf(g).map((r) => [r.key, r.rougeL.mean]));
      return { label: groupLabel(report, g), data: keys.map((k) => byKey.get(k) ?? null) };
    });
  return { labels: keys, datasets };
}

/** Final-output ROUGE-L by chain length, one line per model: the paper's figure. */
export function lengthSeries(report: EvalReport): ChartSeries {
  return series(report, (g) => g.byLength);
}

/** Step ROUGE-L by step position, one line per model. */
export function positionSeries(report: EvalReport): ChartSeries {
  return series(report, (g) => g.byPosition);
}

/** The summary table's metric columns, in order, with their headers. */
/** Rates come from core/eval already in percent (exact 100/0 per result, pass rate ×100). */
export const summaryMetrics: readonly { readonly metric: MetricName; readonly header: string; readonly digits: number; readonly hint?: string }[] = [
  { metric: 'final.rougeL', header: 'ROUGE-L (final)', digits: 1 },
  { metric: 'step.rougeL', header: 'ROUGE-L (steps)', digits: 1 },
  {
    metric: 'whole.rougeL',
    header: 'ROUGE-L (whole)',
    digits: 1,
    hint: `The whole generated text against the whole reference record (the paper's Table 4 number). ${STEPWISE_WHOLE_NOTE}`,
  },
  { metric: 'final.exact', header: 'Exact %', digits: 1 },
  { metric: 'contractValid', header: 'Contract valid %', digits: 1 },
  { metric: 'expectations.passRate', header: 'Expectations passed %', digits: 1 },
  { metric: 'latencyMs', header: 'Latency (ms)', digits: 0 },
];

/** `45.2 [43.1, 47.3]`; `–` when not measured. */
export function intervalText(interval: Interval | undefined, digits: number): string {
  if (interval === undefined || interval.n === 0) return '–';
  // A value that rounds to zero (a paired difference of -0.01) is 0.0, not -0.0.
  const f = (x: number): string => {
    const text = x.toFixed(digits);
    return Number(text) === 0 ? text.replace(/^-/, '') : text;
  };
  return `${f(interval.mean)} [${f(interval.low)}, ${f(interval.high)}]`;
}

export interface SummaryRow {
  readonly label: string;
  readonly n: number;
  readonly failures: number;
  readonly cells: readonly string[];
}

export function summaryRows(report: EvalReport): SummaryRow[] {
  return report.groups.map((g) => ({
    label: groupLabel(report, g),
    n: g.n,
    failures: g.failures,
    cells: summaryMetrics.map((m) => intervalText(g.metrics[m.metric], m.digits)),
  }));
}

export interface PageInfo {
  /** `1–50 of 10,000`, or `no items`. */
  readonly text: string;
  readonly first: number;
  readonly last: number;
  readonly previousOffset?: number;
  readonly nextOffset?: number;
  readonly lastOffset: number;
}

export function pageInfo(total: number, offset: number, limit: number): PageInfo {
  const size = Math.max(1, limit);
  const lastOffset = total === 0 ? 0 : Math.floor((total - 1) / size) * size;
  const start = Math.min(Math.max(0, offset), lastOffset);
  const end = Math.min(total, start + size);
  const number = (n: number): string => n.toLocaleString('en-US');
  return {
    text: total === 0 ? 'no items' : `${number(start + 1)}–${number(end)} of ${number(total)}`,
    first: start + 1,
    last: end,
    ...(start > 0 ? { previousOffset: Math.max(0, start - size) } : {}),
    ...(end < total ? { nextOffset: start + size } : {}),
    lastOffset,
  };
}

/** The score a result is shown with in the table (final ROUGE-L, else the mean step ROUGE-L). */
export function scoreText(value: number | undefined): string {
  return value === undefined ? '–' : value.toFixed(1);
}

/**
 * What each result row of the item table is called to a screen reader (its button says it):
 * the item, the model (and mode, when the evaluation ran both), the final ROUGE-L and a failure:
 * `record 7, tuned.gguf (composed), final ROUGE-L 45.2, failed`. An item has a row per model, so
 * the item alone would be heard again on each. Labels the store shows alike (the same file given
 * two ways) get the model's key after them.
 */
export function resultNames(results: readonly EvalResult[], labelOf: (model: string) => string, showMode: boolean): string[] {
  const name = (r: EvalResult): string => {
    const status = r.error !== undefined ? ', failed' : r.splitFailed ? ', split failed' : '';
    return `${r.item}, ${labelOf(r.model)}${showMode ? ` (${r.mode})` : ''}, final ROUGE-L ${scoreText(r.final.rougeL)}${status}`;
  };
  return namesApart(results, name, (r) => `model ${r.model}`);
}

/**
 * The line above the summary: how much of the evaluation is in the store, of how many
 * items (and which part of the source, when only part of it was chosen), what failed.
 */
export function storeStatusText(report: EvalReport): string {
  const { counts, source } = report;
  const number = (n: number): string => n.toLocaleString('en-US');
  const items = `${number(counts.items)} items${source.subset !== undefined ? `, ${subsetNote(source.subset)}` : ''}`;
  return [
    `${report.name}: ${number(counts.results)} of ${number(counts.expected)} results (${items})`,
    counts.missing > 0 ? ` · ${number(counts.missing)} missing` : ' · complete',
    counts.failures > 0 ? ` · ${number(counts.failures)} failed` : '',
    counts.splitFailures > 0 ? ` · ${number(counts.splitFailures)} split failures` : '',
  ].join('');
}

/** Store problems shown above the summary: the first few (a hand-edited store can have many). */
const SHOWN_STORE_PROBLEMS = 5;

/**
 * The warnings shown above the summary, as the report's other formats say them: step outputs
 * cut short (per model and mode, by reason: `coi eval`'s `⚠` lines), the runs' warnings (a composed
 * run leaving the steps' sampling out, …: each once, with how many results gave it), then the first
 * store problems. Plain text: the tab puts them in text nodes.
 */
export function reportNotes(report: EvalReport): string[] {
  return [...cutOutputNotes(report), ...runWarningNotes(report), ...report.storeProblems.slice(0, SHOWN_STORE_PROBLEMS)].map((note) => `⚠ ${note}`);
}
