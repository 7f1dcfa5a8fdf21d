/**
 * A report as text: a terminal table, JSON, CSV (one row per model × mode ×
 * metric, then the breakdowns and comparisons) or Markdown (for a preview).
 * Model output never reaches these formats, only scores and ids.
 */
import type { ComparedStore, FailedItem, SettingDifference, StoreComparison } from './report';
import { cutReasonsInOrder, isKnownCutReason, type BreakdownRow, type Comparison, type CutOutputs, type CutReason, type EndpointThroughput, type EvalMode, type EvalReport, type GroupReport, type Interval, type MetricName, type ReportFormat, type UnknownCutReason } from './types';
import { subsetNote } from './subset';
import { displayWidth, visibleLines, visibleText } from '../records/visible';
// Names and paths come from eval.json and results.jsonl, files like any other: shown as written.
import { markdownEscape } from '../records/markdown';
import { firstLine } from '../syntax/characters';

const TABLE_METRICS: readonly { metric: MetricName; title: string }[] = [
  { metric: 'final.rougeL', title: 'ROUGE-L final' },
  { metric: 'step.rougeL', title: 'ROUGE-L steps' },
  { metric: 'whole.rougeL', title: 'ROUGE-L whole' },
  { metric: 'final.exact', title: 'exact %' },
  { metric: 'expectations.passRate', title: 'expect. %' },
  { metric: 'contractValid', title: 'contract %' },
];

/** `value` to `digits` decimals; one that rounds to zero is `0.0`, never `-0.0`. */
function fixed(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return '–';
  const text = value.toFixed(digits);
  return Number(text) === 0 ? text.replace(/^-/, '') : text;
}

/** `41.2 [38.0, 44.5]`. */
export function formatInterval(interval: Interval | undefined, digits = 1): string {
  if (interval === undefined || interval.n === 0) return '–';
  return `${fixed(interval.mean, digits)} [${fixed(interval.low, digits)}, ${fixed(interval.high, digits)}]`;
}

function signed(interval: Interval): string {
  // A difference that rounds to zero has no sign: `0.0`, not `+0.0` or `-0.0`.
  const sign = (v: number): string => (Number(fixed(v)) > 0 ? '+' : '') + fixed(v);
  return `${sign(interval.mean)} [${sign(interval.low)}, ${sign(interval.high)}]`;
}

/** Columns lined up by the terminal columns their cells take (`displayWidth`: `模型` and `😀` take two each), the first to the left, the others to the right. */
function padTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => displayWidth(r[c] ?? ''))));
  const pad = (cell: string, c: number): string => {
    const fill = ' '.repeat(Math.max(0, widths[c]! - displayWidth(cell)));
    return c === 0 ? cell + fill : fill + cell;
  };
  return rows.map((r) => r.map(pad).join('  ').trimEnd()).join('\n') + '\n';
}

/** A model's label and mode; labels come from the command line and eval.json, so their control characters are shown as escapes. */
function groupName(group: Pick<GroupReport, 'label' | 'mode'>): string {
  return `${visibleText(group.label)} · ${group.mode}`;
}

function usedMetrics(report: EvalReport): typeof TABLE_METRICS {
  return TABLE_METRICS.filter(({ metric }) => report.groups.some((g) => g.metrics[metric] !== undefined));
}

function countsLine(report: EvalReport): string {
  const c = report.counts;
  const missing = c.missing > 0 ? `, ${c.missing} not run yet (resume with --resume)` : '';
  const subset = report.source.subset !== undefined ? ` (${subsetNote(report.source.subset)})` : '';
  return `${c.items} item${c.items === 1 ? '' : 's'}${subset}, ${c.results}/${c.expected} results${missing}, ${c.failures} failure${c.failures === 1 ? '' : 's'}, ${c.splitFailures} split failure${c.splitFailures === 1 ? '' : 's'}.`;
}

function comparisonName(c: Comparison, labels: ReadonlyMap<string, string>): string {
  const name = (side: Comparison['a']): string => `${visibleText(labels.get(side.model) ?? side.model)} · ${side.mode}`;
  return `${name(c.b)} vs ${name(c.a)}`;
}

/**
 * Read beside a stepwise run's whole-output score: it is the steps' outputs joined with the
 * paper's markers, so the markers' own words always match (37 on average over CoI2's 588
 * records when every step is wrong), where a composed run earns them only by writing them.
 */
export const STEPWISE_WHOLE_NOTE = "ROUGE-L whole of a stepwise run: its steps' outputs joined with the paper's \"Task i output\" markers, whose words always match; compare it between models in the same mode.";

function stepwiseWholeNote(report: EvalReport): string | undefined {
  return report.groups.some((g) => g.mode === 'stepwise' && g.metrics['whole.rougeL'] !== undefined) ? STEPWISE_WHOLE_NOTE : undefined;
}

/** `1,176`. */
const count = (n: number): string => n.toLocaleString('en-US');

/** How outputs were cut, as the run's step warnings name it (docs/backends.md, "Stop reasons"). */
const CUT_HOW: Readonly<Record<CutReason, string>> = {
  length: 'at their token bound (finish reason: length)',
  'content-filter': "by the provider's content filter (finish reason: content_filter)",
  'provider-error': "short by an error on the provider's side (finish reason: error)",
};

/** How outputs were cut, by any reason: one this version does not know (a later coi's) is named as written. */
function cutHow(reason: CutReason | UnknownCutReason): string {
  return isKnownCutReason(reason) ? CUT_HOW[reason] : `short (finish reason: ${reason})`;
}

/** The reasons that cut any of `cut`'s outputs, in the order reports list them. */
function cutReasonsOf(cut: CutOutputs): (CutReason | UnknownCutReason)[] {
  return cutReasonsInOrder((Object.keys(cut.byReason) as (CutReason | UnknownCutReason)[]).filter((r) => (cut.byReason[r] ?? 0) > 0));
}

/** How many of `cut`'s outputs `reason` cut: its own count only (a later coi's reason could be named `constructor`). */
function cutCount(cut: CutOutputs, reason: CutReason | UnknownCutReason): number {
  return Object.hasOwn(cut.byReason, reason) ? (cut.byReason[reason] ?? 0) : 0;
}

/**
 * What a report says once when its outputs were cut for reasons this version does not know
 * (a later coi wrote them): which, and that they are counted as cut; undefined when none.
 */
function unknownReasonsNote(holder: string, cuts: readonly (CutOutputs | undefined)[]): string | undefined {
  const unknown = [...new Set(cuts.flatMap((cut) => (cut === undefined ? [] : cutReasonsOf(cut).filter((r) => !isKnownCutReason(r)))))];
  if (unknown.length === 0) return undefined;
  const one = unknown.length === 1;
  const what = one ? `a finish reason this version of CoI Studio does not know (${unknown[0]!})` : `finish reasons this version of CoI Studio does not know (${unknown.join(', ')})`;
  return `${holder} ${what}, written by a newer one: ${one ? 'its' : 'their'} outputs are counted as cut short, under ${one ? 'its own name' : 'their own names'}; update CoI Studio to learn what ${one ? 'it means' : 'they mean'}.`;
}

/** What `n` cut outputs' scores mean and what to do, by reason and mode. */
function cutAdvice(reason: CutReason | UnknownCutReason, mode: EvalMode, n: number): string {
  const scores = n === 1 ? 'its score counts' : 'their scores count';
  if (!isKnownCutReason(reason)) return `${scores} only what came before the cut.`;
  switch (reason) {
    case 'length':
      return `${scores} only what was generated; raise --max-tokens (or the ${mode === 'composed' ? "profile's" : "step's"} max_tokens; for a local model, --context too) and evaluate again.`;
    case 'content-filter':
      return `${scores} only what came before the cut.`;
    case 'provider-error':
      return `${scores} only what came before the error; a new evaluation asks for ${n === 1 ? 'it' : 'them'} again (the step cache does not keep ${n === 1 ? 'it' : 'them'}).`;
  }
}

/**
 * A note per model × mode and reason whose step outputs were cut short (`cutOutputs`): `openai:x ·
 * stepwise: 37 of 1,176 step outputs were cut at their token bound (finish reason: length): …`.
 * None when no output was cut.
 */
export function cutOutputNotes(report: Pick<EvalReport, 'groups'>): string[] {
  const notes: string[] = [];
  for (const g of report.groups) {
    const cut = g.cutOutputs;
    if (cut === undefined) continue;
    for (const reason of cutReasonsOf(cut)) {
      const n = cut.byReason[reason] ?? 0;
      notes.push(`${g.label} · ${g.mode}: ${count(n)} of ${count(cut.stepOutputs)} step outputs ${n === 1 ? 'was' : 'were'} cut ${cutHow(reason)}: ${cutAdvice(reason, g.mode, n)}`);
    }
  }
  const unknown = unknownReasonsNote('The store holds', report.groups.map((g) => g.cutOutputs));
  return unknown !== undefined ? [...notes, unknown] : notes;
}

/**
 * The runs' warnings (`report.warnings`), a line each: the message, then how many results gave
 * it and in which model × mode (`… (3 results: openai:x · composed)`).
 */
export function runWarningNotes(report: Pick<EvalReport, 'groups' | 'warnings'>): string[] {
  const labels = new Map(report.groups.map((g) => [g.model, g.label]));
  return report.warnings.map((w) => {
    const where = w.groups.map((g) => `${labels.get(g.model) ?? g.model} · ${g.mode}`).join(', ');
    return `${w.message} (${count(w.results)} result${w.results === 1 ? '' : 's'}${where !== '' ? `: ${where}` : ''})`;
  });
}

/** The table's part for the runs' warnings (none: nothing). */
function tableRunWarnings(report: EvalReport): string {
  const notes = runWarningNotes(report);
  return notes.length === 0 ? '' : `\nWarnings of the runs:\n${notes.map((n) => `⚠ ${visibleText(n)}\n`).join('')}`;
}

/** The Markdown report's part for the runs' warnings (none: nothing). */
function markdownRunWarnings(report: EvalReport): string {
  const notes = runWarningNotes(report);
  return notes.length === 0 ? '' : `\n## Warnings of the runs\n\n${notes.map((n) => `- ⚠ ${markdownEscape(n)}\n`).join('')}`;
}

/** A store's cut outputs in a comparison's note: `37 of 1,176 cut at their token bound (finish reason: length)`, `none of 1,176`. */
function cutSummary(cut: CutOutputs): string {
  const parts = cutReasonsOf(cut).map((r, i) => `${count(cut.byReason[r]!)}${i === 0 ? ` of ${count(cut.stepOutputs)} cut` : ''} ${cutHow(r)}`);
  return parts.length === 0 ? `none of ${count(cut.stepOutputs)}` : parts.join(' and ');
}

/** What a comparison says when its stores' step outputs were cut short differently, or undefined when they were not. */
function cutOutputsNote(c: StoreComparison): string | undefined {
  const a = c.a.cutOutputs;
  const b = c.b.cutOutputs;
  if (a === undefined || b === undefined || [...cutReasonsOf(a), ...cutReasonsOf(b)].every((r) => cutCount(a, r) === cutCount(b, r))) return undefined;
  return `A and B differ in step outputs cut short: A has ${cutSummary(a)}; B has ${cutSummary(b)}. A cut output's scores count only what came before the cut, so the paired differences measure the cuts too, not only the models.`;
}

function labelsOf(report: EvalReport): Map<string, string> {
  return new Map(report.groups.map((g) => [g.model, g.label]));
}

function tableReport(report: EvalReport): string {
  const metrics = usedMetrics(report);
  const parts: string[] = [`Evaluation ${visibleText(report.name)} — ${countsLine(report)} 95 % bootstrap intervals (seed ${report.seed}).\n`];
  const header = ['model · mode', 'n', ...metrics.map((m) => m.title), 'fail', 'split'];
  const rows = report.groups.map((g) => [groupName(g), String(g.n), ...metrics.map((m) => formatInterval(g.metrics[m.metric])), String(g.failures), String(g.splitFailures)]);
  parts.push(padTable([header, ...rows]));
  const wholeNote = stepwiseWholeNote(report);
  if (wholeNote !== undefined) parts.push(`${wholeNote}\n`);
  for (const note of cutOutputNotes(report)) parts.push(`⚠ ${visibleText(note)}\n`);
  parts.push(tableRunWarnings(report));
  for (const breakdown of breakdowns(report, visibleText)) parts.push(`\n${breakdown.title}:\n`, padTable(breakdown.rows));
  const labels = labelsOf(report);
  const main = report.comparisons.filter((c) => c.metric === 'final.rougeL');
  if (main.length > 0) {
    parts.push('\nPaired differences of final ROUGE-L (b − a, paired bootstrap):\n');
    parts.push(padTable([['b vs a', 'n', 'difference', 'wins', 'ties', 'losses'], ...main.map((c) => [comparisonName(c, labels), String(c.n), signed(c.difference), String(c.wins), String(c.ties), String(c.losses)])]));
  }
  if (report.endpoints !== undefined) {
    parts.push('\nEndpoints:\n');
    parts.push(padTable([['endpoint', 'items', 'items/s', 'mean latency', 'failed tries'], ...report.endpoints.map(endpointCells)]));
  }
  if (report.flagged.length > 0) parts.push(`\n${report.flagged.length} item${report.flagged.length === 1 ? '' : 's'} the composability check rejects (evaluated anyway), e.g. ${visibleText(`${report.flagged[0]!.item}: ${report.flagged[0]!.diagnostic}`)}\n`);
  for (const problem of report.storeProblems) parts.push(`⚠ ${visibleText(problem)}\n`);
  parts.push(`Store: ${visibleText(report.store)}\n`);
  return parts.join('');
}

function endpointCells(e: EndpointThroughput): string[] {
  return [visibleText(e.url), String(e.items), e.itemsPerSecond.toFixed(1), `${Math.round(e.meanLatencyMs)} ms`, String(e.failedTries)];
}

/** The keys of one breakdown over every group, in order: numbers (lengths, positions) as numbers, categories by name. */
function breakdownKeys(report: EvalReport, of: (g: GroupReport) => readonly BreakdownRow[], numeric: boolean): string[] {
  const keys = [...new Set(report.groups.flatMap((g) => of(g).map((b) => b.key)))];
  return numeric ? keys.sort((a, b) => Number(a) - Number(b)) : keys.sort();
}

/**
 * The report's three breakdowns as tables, header first (those with no row left out): final
 * ROUGE-L by chain length and step ROUGE-L by step position (a row per model · mode), step
 * ROUGE-L by task category (a row per category: there are more of them). `text` makes a name
 * safe for the format (the table's escapes, Markdown's).
 */
function breakdowns(report: EvalReport, text: (name: string) => string): { title: string; rows: string[][] }[] {
  const byGroup = (of: (g: GroupReport) => readonly BreakdownRow[], heading: (key: string) => string): string[][] | undefined => {
    const keys = breakdownKeys(report, of, true);
    return keys.length === 0 ? undefined : [['model · mode', ...keys.map((k) => text(heading(k)))], ...report.groups.map((g) => [text(groupName(g)), ...keys.map((k) => cellOf(of(g), k))])];
  };
  const categories = breakdownKeys(report, (g) => g.byCategory, false);
  const tables = [
    { title: 'Final ROUGE-L by chain length', rows: byGroup((g) => g.byLength, (k) => `${k} step${k === '1' ? '' : 's'}`) },
    { title: 'Step ROUGE-L by step position', rows: byGroup((g) => g.byPosition, (k) => `step ${k}`) },
    { title: 'Step ROUGE-L by task category', rows: categories.length === 0 ? undefined : [['category', ...report.groups.map((g) => text(groupName(g)))], ...categories.map((c) => [text(c), ...report.groups.map((g) => cellOf(g.byCategory, c))])] },
  ];
  return tables.filter((t): t is { title: string; rows: string[][] } => t.rows !== undefined);
}

function cellOf(rows: readonly BreakdownRow[], key: string): string {
  const row = rows.find((r) => r.key === key);
  return row === undefined ? '–' : `${formatInterval(row.rougeL)} (n=${row.n})`;
}

/**
 * A text a spreadsheet would take for a formula: it starts with = + - @ (or their fullwidth
 * forms ＝＋－＠, which some spreadsheets read as them), after any spaces or other white space
 * (Excel and LibreOffice trim them, then evaluate), or with a tab or a carriage return.
 */
const FORMULA_START = /^[\t\r]|^\s*[=+\-@\uff1d\uff0b\uff0d\uff20]/;

/**
 * One CSV field. A text field a spreadsheet would take for a formula (`FORMULA_START`: a model
 * label `./=2+5*cmd.gguf`, ` =1+1`, a store or step name) gets a leading `'`, as OWASP advises;
 * numbers (`-4.2`) are written as numbers, to 6 decimals (`String(-0)` is `0`: no negative zero).
 */
function csvCell(value: string | number | undefined): string {
  if (value === undefined) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(Math.round(value * 1e6) / 1e6) : '') : FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

type CsvCell = string | number | undefined;

/**
 * CSV under `header`: every row has as many fields as the header, empty where nothing
 * applies, so a reader that checks field counts (or maps fields by column) never trips.
 */
function csvTable(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  const padded = (cells: readonly CsvCell[]): CsvCell[] => [...cells, ...Array<undefined>(Math.max(0, header.length - cells.length)).fill(undefined)];
  return [header, ...rows.map(padded)].map((cells) => cells.map(csvCell).join(',')).join('\n') + '\n';
}

/** A paired comparison's numbers for CSV, in the columns `n, difference (mean), low, high, wins, ties, losses`. */
function comparisonCsvNumbers(c: Comparison): CsvCell[] {
  return [c.n, c.difference.mean, c.difference.low, c.difference.high, c.wins, c.ties, c.losses];
}

function comparisonCsvMode(c: Comparison): string {
  return c.a.mode === c.b.mode ? c.mode : `${c.b.mode} vs ${c.a.mode}`;
}

function csvReport(report: EvalReport): string {
  const lines: CsvCell[][] = [];
  const row = (cells: CsvCell[]): number => lines.push(cells);
  for (const g of report.groups) {
    for (const [metric, interval] of Object.entries(g.metrics)) row(['metric', g.label, g.mode, metric, '', interval.n, interval.mean, interval.low, interval.high]);
    row(['count', g.label, g.mode, 'failures', '', g.failures]);
    row(['count', g.label, g.mode, 'splitFailures', '', g.splitFailures]);
    if (g.cutOutputs !== undefined) {
      row(['count', g.label, g.mode, 'stepOutputs', '', g.cutOutputs.stepOutputs]);
      for (const reason of cutReasonsOf(g.cutOutputs)) row(['count', g.label, g.mode, `cutOutputs.${reason}`, '', g.cutOutputs.byReason[reason]]);
    }
    for (const b of g.byLength) row(['by-length', g.label, g.mode, 'final.rougeL', b.key, b.n, b.rougeL.mean, b.rougeL.low, b.rougeL.high]);
    for (const b of g.byPosition) row(['by-position', g.label, g.mode, 'step.rougeL', b.key, b.n, b.rougeL.mean, b.rougeL.low, b.rougeL.high]);
    for (const b of g.byCategory) row(['by-category', g.label, g.mode, 'step.rougeL', b.key, b.n, b.rougeL.mean, b.rougeL.low, b.rougeL.high]);
  }
  const labels = labelsOf(report);
  for (const e of report.endpoints ?? []) {
    row(['endpoint', e.url, '', 'items', '', e.items]);
    row(['endpoint', e.url, '', 'itemsPerSecond', '', '', e.itemsPerSecond]);
    row(['endpoint', e.url, '', 'meanLatencyMs', '', '', e.meanLatencyMs]);
    row(['endpoint', e.url, '', 'failedTries', '', e.failedTries]);
  }
  for (const c of report.comparisons) row(['comparison', `${labels.get(c.b.model) ?? c.b.model} vs ${labels.get(c.a.model) ?? c.a.model}`, comparisonCsvMode(c), c.metric, '', ...comparisonCsvNumbers(c)]);
  return csvTable(['section', 'model', 'mode', 'metric', 'key', 'n', 'mean', 'low', 'high', 'wins', 'ties', 'losses'], lines);
}

/** A store's problems as Markdown: a warning line each. */
function markdownWarnings(problems: readonly string[]): string {
  return problems.map((p) => `\n> ⚠ ${markdownEscape(p)}\n`).join('');
}

function markdownTable(rows: readonly (readonly string[])[]): string {
  const [header, ...body] = rows;
  if (header === undefined) return '';
  return [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n') + '\n';
}

function markdownReport(report: EvalReport): string {
  const metrics = usedMetrics(report);
  const parts = [`# Evaluation ${markdownEscape(report.name)}\n\n${markdownEscape(countsLine(report))} Means with 95 % bootstrap intervals (seed ${markdownEscape(String(report.seed))}).\n\n`];
  parts.push(markdownTable([['model · mode', 'n', ...metrics.map((m) => m.title), 'failures', 'split failures'], ...report.groups.map((g) => [markdownEscape(groupName(g)), String(g.n), ...metrics.map((m) => formatInterval(g.metrics[m.metric])), String(g.failures), String(g.splitFailures)])]));
  const wholeNote = stepwiseWholeNote(report);
  if (wholeNote !== undefined) parts.push(`\n${markdownEscape(wholeNote)}\n`);
  parts.push(markdownWarnings(cutOutputNotes(report)));
  parts.push(markdownRunWarnings(report));
  for (const breakdown of breakdowns(report, markdownEscape)) parts.push(`\n## ${breakdown.title}\n\n`, markdownTable(breakdown.rows));
  if (report.comparisons.length > 0) {
    const labels = labelsOf(report);
    parts.push('\n## Paired comparisons (b − a)\n\n');
    parts.push(markdownTable([['b vs a', 'metric', 'n', 'difference', 'wins', 'ties', 'losses'], ...report.comparisons.map((c) => [markdownEscape(comparisonName(c, labels)), c.metric, String(c.n), signed(c.difference), String(c.wins), String(c.ties), String(c.losses)])]));
  }
  if (report.endpoints !== undefined) {
    parts.push('\n## Endpoints\n\n');
    parts.push(markdownTable([['endpoint', 'items', 'items/s', 'mean latency', 'failed tries'], ...report.endpoints.map((e) => endpointCells(e).map((cell, i) => (i === 0 ? markdownEscape(cell) : cell)))]));
  }
  if (report.flagged.length > 0) {
    parts.push(`\n## Flagged by the composability check (${report.flagged.length})\n\n`);
    parts.push(report.flagged.map((f) => `- ${markdownEscape(f.item)}: ${markdownEscape(f.diagnostic)}`).join('\n') + '\n');
  }
  parts.push(markdownWarnings(report.storeProblems));
  // A code span shows its text as written; a line break in the path would end it (a blank line, the paragraph).
  parts.push(`\nStore: \`${visibleText(report.store.replace(/`/g, '').replace(/\r\n|\r|\n/g, ' '))}\`\n`);
  return parts.join('');
}

export function formatReport(report: EvalReport, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2) + '\n';
    case 'csv':
      return csvReport(report);
    case 'markdown':
      return markdownReport(report);
    case 'table':
      return tableReport(report);
  }
}

/**
 * What a report or comparison has to say beside its numbers: step outputs cut short, the runs'
 * warnings, the stores' unreadable lines and, for a comparison, the items it could not pair. The
 * table, Markdown and JSON carry them; CSV, whose shape must stay a table, leaves them to the
 * caller (stderr).
 */
export function reportWarnings(report: EvalReport | StoreComparison): string[] {
  if ('storeProblems' in report) return [...cutOutputNotes(report), ...runWarningNotes(report), ...report.storeProblems];
  const c = report;
  const warnings: string[] = [];
  if (c.sameStore) warnings.push('A and B are the same store: every difference is zero.');
  if (c.pairing.differing > 0) {
    warnings.push(
      `${c.pairing.differing} item${c.pairing.differing === 1 ? ' has' : 's have'} the same id in both stores but other ${c.pairing.by === 'fingerprints' ? 'inputs or references' : 'references'} (e.g. ${c.pairing.differingExamples.map((id) => `"${id}"`).join(', ')}): not paired, not compared.`,
    );
  }
  if (c.pairing.moved > 0) warnings.push(`${c.pairing.moved} item${c.pairing.moved === 1 ? ' was' : 's were'} paired with the item of the same content under another id (rows inserted, removed or reordered).`);
  const modes = modesNote(c);
  if (modes !== undefined) warnings.push(modes);
  const settings = settingsNote(c);
  if (settings !== undefined) warnings.push(settings);
  const cut = cutOutputsNote(c);
  if (cut !== undefined) warnings.push(cut);
  for (const [side, store] of [['A', c.a], ['B', c.b]] as const) {
    const unknown = unknownReasonsNote(`${side} holds`, [store.cutOutputs]);
    if (unknown !== undefined) warnings.push(unknown);
  }
  if (c.pairing.by === 'references') warnings.push("A store predates item fingerprints: items are paired by id where the references their results recorded agree (their inputs are not checked).");
  for (const [side, store] of [['A', c.a], ['B', c.b]] as const) for (const problem of store.problems) warnings.push(`${side}: ${problem}`);
  return warnings;
}

/** The modes both stores ran: the only ones compared (none: nothing is). */
function commonModes(c: StoreComparison): EvalMode[] {
  return c.a.modes.filter((m) => c.b.modes.includes(m));
}

/** What a comparison leaves out for the stores' modes (a stepwise store against a composed one), or undefined when both ran the same. */
function modesNote(c: StoreComparison): string | undefined {
  const common = commonModes(c);
  const only = (side: ComparedStore, other: ComparedStore): EvalMode[] => side.modes.filter((m) => !other.modes.includes(m));
  const onlyA = only(c.a, c.b);
  const onlyB = only(c.b, c.a);
  if (onlyA.length === 0 && onlyB.length === 0) return undefined;
  if (common.length === 0) return `A ran ${c.a.modes.join(' and ')}, B ${c.b.modes.join(' and ')}: runs are compared only in the same mode, so nothing is compared.`;
  const also = [...(onlyA.length > 0 ? [`A also ran ${onlyA.join(' and ')}`] : []), ...(onlyB.length > 0 ? [`B also ran ${onlyB.join(' and ')}`] : [])];
  return `Compared in ${common.join(' and ')} only (${also.join('; ')}): runs are compared only in the same mode.`;
}

/** What differs between the stores' settings that changes their results (`--template`, `--max-tokens`), or undefined when nothing does. */
function settingsNote(c: StoreComparison): string | undefined {
  if (c.differentSettings.length === 0) return undefined;
  const shown = (d: SettingDifference, value: string | number | null): string => (value === null ? (d.setting === 'maxTokens' ? 'the default' : 'none') : String(value));
  const name = (d: SettingDifference): string => (d.setting === 'template' ? 'template' : 'max tokens');
  const list = c.differentSettings.map((d) => `${name(d)} ${shown(d, d.a)} in A, ${shown(d, d.b)} in B`).join('; ');
  return `A and B ran with other settings (${list}): the paired differences measure these too, not only the models.`;
}

/** `coi eval compare A B` as a table (or JSON/CSV/Markdown). */
export function formatStoreComparison(comparison: StoreComparison, format: ReportFormat): string {
  if (format === 'json') return JSON.stringify({ ...comparison, warnings: reportWarnings(comparison) }, null, 2) + '\n';
  const label = (side: Comparison['a']): string => comparison.labels[side.model] ?? side.model;
  if (format === 'csv') {
    // Numbers as numbers, as in the report's CSV: the text forms below round them and join them into one cell.
    const csvRows = comparison.comparisons.map((c) => [label(c.b), label(c.a), comparisonCsvMode(c), c.metric, ...comparisonCsvNumbers(c)]);
    return csvTable(['b', 'a', 'mode', 'metric', 'n', 'difference', 'low', 'high', 'wins', 'ties', 'losses'], csvRows);
  }
  const name = (side: Comparison['a']): string => `${visibleText(label(side))} · ${side.mode}`;
  const rows = comparison.comparisons.map((c) => [`${name(c.b)} (B) vs ${name(c.a)} (A)`, c.metric, String(c.n), signed(c.difference), String(c.wins), String(c.ties), String(c.losses)]);
  const header = ['B vs A', 'metric', 'n', 'difference', 'wins', 'ties', 'losses'];
  const introLines = [
    `A: ${comparison.a.store} (${comparison.a.name})`,
    `B: ${comparison.b.store} (${comparison.b.name})`,
    `${comparison.sameData ? '' : 'The two stores evaluated different data: '}${comparison.commonItems} item${comparison.commonItems === 1 ? '' : 's'} paired (same inputs and references); paired bootstrap, seed ${comparison.seed}.`,
  ];
  const warnings = reportWarnings(comparison);
  // With no mode in common, the warning has said why nothing is compared.
  const nothing = commonModes(comparison).length === 0 ? '' : 'No item was scored in both stores.\n';
  if (format === 'markdown') return `${introLines.map(markdownEscape).join('\n\n')}\n${markdownWarnings(warnings)}\n\n${rows.length === 0 ? nothing : markdownTable([header, ...rows.map((r) => r.map(markdownEscape))])}`;
  const intro = introLines.map(visibleText).join('\n') + '\n' + warnings.map((w) => `⚠ ${visibleText(w)}\n`).join('');
  if (rows.length === 0) return `${intro}${nothing}`;
  return `${intro}\n${padTable([header, ...rows])}`;
}

/** Failed items a summary shows before pointing at the full list. */
export const SHOWN_FAILURES = 5;

/** The longest first line of an error a summary shows (an HTML error page can be one long line). */
const SHOWN_ERROR_CHARS = 200;


/**
 * The failed items after an evaluation's summary (stderr): up to `SHOWN_FAILURES`, each its item
 * id (with its model and mode when the store has several) and the first line of its error, then
 * how many more and `listAll`, the command that lists every one. Empty without failures. Item
 * ids and errors come from data files and servers: their control characters are shown as escapes.
 */
export function failedItemsSummary(failures: readonly FailedItem[], options: { readonly models: number; readonly modes: number; readonly listAll: string }): string {
  if (failures.length === 0) return '';
  const where = (f: FailedItem): string => {
    const parts = [...(options.models > 1 ? [f.label] : []), ...(options.modes > 1 ? [f.mode] : [])];
    return parts.length === 0 ? '' : ` (${parts.join(' · ')})`;
  };
  const lines = failures.slice(0, SHOWN_FAILURES).map((f) => `  ${visibleText(f.item)}${visibleText(where(f))}: ${visibleText(firstLine(f.error, SHOWN_ERROR_CHARS))}`);
  const more = failures.length - SHOWN_FAILURES;
  const tail = more > 0 ? `  … and ${more} more: ${options.listAll} lists them all.` : `  With ${failures.length === 1 ? 'its whole error' : 'their whole errors'}: ${options.listAll}`;
  return `Failed item${failures.length === 1 ? '' : 's'} (${failures.length}):\n${lines.join('\n')}\n${tail}\n`;
}

/**
 * Every failed item of a store (`coi eval report DIR --failures`) in `format`: the table, an
 * item a block (`ITEM · model · mode`, then its whole error indented); JSON, an array of
 * `{item, model, label, mode, error}`; CSV, a row each (`item,model,mode,error`); Markdown, a list.
 */
export function formatFailedItems(failures: readonly FailedItem[], format: ReportFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(failures, null, 2) + '\n';
    case 'csv':
      return csvTable(['item', 'model', 'mode', 'error'], failures.map((f) => [f.item, f.label, f.mode, f.error]));
    case 'markdown':
      return failures.length === 0 ? 'No failed items.\n' : `# Failed items (${failures.length})\n\n${failures.map((f) => `- ${markdownEscape(f.item)} (${markdownEscape(`${f.label} · ${f.mode}`)}): ${markdownEscape(f.error.replace(/\s*(\r\n|\r|\n)\s*/g, ' '))}`).join('\n')}\n`;
    case 'table':
      return failures.length === 0 ? 'No failed items.\n' : failures.map((f) => `${visibleText(f.item)} · ${visibleText(f.label)} · ${f.mode}\n${visibleLines(f.error).replace(/^/gm, '  ')}\n`).join('');
  }
}
