/**
 * The items of an evaluation, from its three sources: the `test` blocks of
 * `.coi` chains; a dataset (JSONL, JSON array or CSV) bound to one chain; the
 * paper's records, each its own chain through the same conversion as `coi import`.
 * Bad input is an EvalInputError listing every problem with its location.
 */
import { checkDocument, composabilityErrors } from '../check/index';
import type { Chain, ChainTest } from '../chain/model';
import { inputsNeeded } from '../chain/generated';
import { profileSteps } from '../composability/index';
import { describeIssue, readRecords, withoutPosition, type RecordsFormat } from '../records/paperRecords';
import { parseJsonWithPosition } from '../records/jsonPosition';
import { recordToCoi } from '../records/toCoi';
import { detectFormat, readDataset, writeDataset } from '../dataset/index';
import type { EvalItem } from './types';

const MAX_PROBLEMS_SHOWN = 20;

/** Input the evaluation cannot use; `problems` each name their place (line, row, record). */
export class EvalInputError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => `  ${source}: ${p}`);
    const more = problems.length > MAX_PROBLEMS_SHOWN ? [`  ... and ${problems.length - MAX_PROBLEMS_SHOWN} more`] : [];
    super(problems.length === 1 ? `${source}: ${problems[0]!}` : [`${source}: ${problems.length} problems:`, ...shown, ...more].join('\n'));
    this.name = 'EvalInputError';
  }
}

/** Task category of each step, as the composability analysis infers or the file declares it. */
export function stepCategories(chain: Chain): string[] {
  return profileSteps(chain).map((p) => p.endpoint.category);
}

/** The reference a test gives a target: its first `rouge_l` or `equals` expectation's text. */
function referenceOf(test: ChainTest, target: string): string | undefined {
  const expectation = test.expectations.find((e) => e.target === target && !e.negated && (e.matcher === 'rouge_l' || e.matcher === 'equals') && e.value !== undefined);
  return expectation?.value;
}

export interface ChainFileInfo {
  /** The path shown in item ids (relative to the working folder). */
  readonly display: string;
  readonly file?: string;
  readonly baseDir?: string;
  /** The composability analysis' error about the chain (`COI301: …`): its items are evaluated and flagged, as records are. */
  readonly composability?: string;
}

/** One item per `test` block of a chain: its inputs, references from its `rouge_l`/`equals` expectations. */
export function itemsFromTests(chain: Chain, info: ChainFileInfo): EvalItem[] {
  const categories = stepCategories(chain);
  const seen = new Map<string, number>();
  return chain.tests.map((test) => {
    const base = `${info.display}#${test.name}`;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    const references: Record<string, string> = {};
    for (const step of chain.steps) {
      const reference = referenceOf(test, step.id);
      if (reference !== undefined) references[step.id] = reference;
    }
    const finalReference = referenceOf(test, 'output');
    return {
      id: count === 1 ? base : `${base} (${count})`,
      chain,
      inputs: test.inputs,
      references,
      ...(finalReference !== undefined ? { finalReference } : {}),
      test,
      ...(info.baseDir !== undefined ? { baseDir: info.baseDir } : {}),
      ...(info.file !== undefined ? { file: info.file } : {}),
      ...(info.composability !== undefined ? { composability: info.composability } : {}),
      categories,
    };
  });
}

export type DatasetFormat = 'jsonl' | 'json' | 'csv';

/** The format a dataset file name implies (`.jsonl`, `.csv`, else JSON). */
export function datasetFormatOf(path: string): DatasetFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  return 'json';
}

interface Row {
  /** 1-based row number (data rows, the CSV header not counted). */
  readonly row: number;
  /** 1-based line of the file where the row starts. */
  readonly line: number;
  readonly values: Readonly<Record<string, unknown>>;
}

/** Reads a dataset bound to `chain`: columns named after its inputs (those its steps read are required), optional `expected.<step>` and `expected.output`. */
export function itemsFromDataset(chain: Chain, text: string, format: DatasetFormat, info: ChainFileInfo & { readonly source: string; readonly onNote?: (note: string) => void }): EvalItem[] {
  const problems: string[] = [];
  const rows = format === 'csv' ? csvRows(text, chain, problems) : format === 'jsonl' ? jsonlRows(text, problems) : jsonArrayRows(text, problems);
  if (problems.length > 0) throw new EvalInputError(info.source, problems);
  if (rows.length === 0) throw new EvalInputError(info.source, ['the dataset is empty: it has no rows to evaluate.']);
  const categories = stepCategories(chain);
  const stepIds = new Set(chain.steps.map((s) => s.id));
  // A row needs the inputs the chain's steps read (the run's rule, inputsNeeded), not one no step
  // reads (COI207); a value it gives for one is passed on, as a test's given is.
  const needed = new Set(inputsNeeded(chain).map((input) => input.name));
  const items: EvalItem[] = [];
  for (const row of rows) {
    const where = format === 'csv' ? `row ${row.row} (line ${row.line})` : format === 'jsonl' ? `line ${row.line}` : `row ${row.row}`;
    const inputs: Record<string, string> = {};
    for (const input of chain.inputs) {
      const value = row.values[input.name];
      const absent = value === undefined || value === null || value === '';
      if (absent && needed.has(input.name)) problems.push(`${where}: no value for the chain input '${input.name}'.`);
      else if (!absent) inputs[input.name] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    const references: Record<string, string> = {};
    let finalReference: string | undefined;
    for (const [column, value] of Object.entries(row.values)) {
      const match = /^expected(?:\.(.+))?$/.exec(column);
      if (match === null || value === undefined || value === null || value === '') continue;
      const target = match[1] ?? 'output';
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      if (target === 'output') finalReference = text;
      else if (stepIds.has(target)) references[target] = text;
      else problems.push(`${where}: column '${column}' names no step of the chain (steps: ${[...stepIds].join(', ')}).`);
    }
    items.push({
      id: `row ${row.row}`,
      chain,
      inputs,
      references,
      ...(finalReference !== undefined ? { finalReference } : {}),
      ...(info.baseDir !== undefined ? { baseDir: info.baseDir } : {}),
      ...(info.file !== undefined ? { file: info.file } : {}),
      ...(info.composability !== undefined ? { composability: info.composability } : {}),
      categories,
    });
  }
  if (problems.length > 0) throw new EvalInputError(info.source, problems);
  const note = referencesNote(items, rows, chain, info.source);
  if (note !== undefined) info.onNote?.(note);
  return items;
}

/**
 * When no row gives a reference, nothing is scored against one: said before the model calls,
 * with the columns that look like misnamed references (`expected_output`), which are not read.
 */
function referencesNote(items: readonly EvalItem[], rows: readonly Row[], chain: Chain, source: string): string | undefined {
  if (items.some((item) => item.finalReference !== undefined || Object.keys(item.references).length > 0)) return undefined;
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row.values)))];
  const lookalikes = columns.filter((c) => /^expected/i.test(c) && !/^expected(?:\.(.+))?$/.test(c));
  const steps = chain.steps.map((s) => `expected.${s.id}`).join(', ');
  return (
    `${source}: no row gives a reference (a column expected.output${steps === '' ? '' : ` or ${steps}`}), so no output is scored against one (ROUGE-L, exact match).` +
    (lookalikes.length > 0 ? ` The column${lookalikes.length === 1 ? '' : 's'} ${lookalikes.map((c) => `'${c}'`).join(', ')} ${lookalikes.length === 1 ? 'is' : 'are'} not read: rename ${lookalikes.length === 1 ? 'it' : 'them'} expected.output or expected.STEP.` : '')
  );
}

function objectRow(value: unknown, row: number, line: number, where: string, problems: string[]): Row | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${where}: expected an object with a field per chain input, found ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}.`);
    return undefined;
  }
  return { row, line, values: value as Record<string, unknown> };
}

function jsonlRows(text: string, problems: string[]): Row[] {
  const rows: Row[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((line, index) => {
      if (line.trim() === '') return;
      const parsed = parseJsonWithPosition(line);
      if (!parsed.ok) {
        problems.push(`line ${index + 1}, column ${parsed.error.column}: invalid JSON: ${withoutPosition(parsed.error.message)}.`);
        return;
      }
      const row = objectRow(parsed.value, rows.length + 1, index + 1, `line ${index + 1}`, problems);
      if (row !== undefined) rows.push(row);
    });
  return rows;
}

function jsonArrayRows(text: string, problems: string[]): Row[] {
  const parsed = parseJsonWithPosition(text.replace(/^\uFEFF/, ''));
  if (!parsed.ok) {
    problems.push(`line ${parsed.error.line}, column ${parsed.error.column}: invalid JSON: ${withoutPosition(parsed.error.message)}.`);
    return [];
  }
  if (!Array.isArray(parsed.value)) {
    problems.push('expected a JSON array of rows (objects with a field per chain input), or JSON Lines (.jsonl).');
    return [];
  }
  const rows: Row[] = [];
  parsed.value.forEach((value: unknown, index) => {
    const row = objectRow(value, index + 1, 0, `row ${index + 1}`, problems);
    if (row !== undefined) rows.push(row);
  });
  return rows;
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. Each record with its first line. */
export function parseCsv(text: string): { records: { line: number; fields: string[] }[]; problem?: string } {
  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let fieldStarted = false;
  const source = text.replace(/^\uFEFF/, '');
  const endRecord = (): void => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && !fieldStarted)) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (quoted) {
      if (c === '"') {
        if (source[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      fieldStarted = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && source[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) return { records, problem: `line ${recordLine}: a quoted field is not closed (a '"' is missing).` };
  if (field !== '' || fields.length > 0 || fieldStarted) endRecord();
  return { records };
}

function csvRows(text: string, chain: Chain, problems: string[]): Row[] {
  const parsed = parseCsv(text);
  if (parsed.problem !== undefined) {
    problems.push(parsed.problem);
    return [];
  }
  const [header, ...data] = parsed.records;
  if (header === undefined) return [];
  const columns = header.fields.map((f) => f.trim());
  const twice = columns.find((c, i) => columns.indexOf(c) !== i);
  if (twice !== undefined) {
    // A row would keep only the last of the two values, silently.
    problems.push(`line ${header.line}: the header names the column '${twice}' twice: name each column once.`);
    return [];
  }
  // A column for each input the chain's steps read (inputsNeeded); one no step reads may be left out.
  const missing = inputsNeeded(chain).map((i) => i.name).filter((name) => !columns.includes(name));
  if (missing.length > 0) {
    problems.push(`line ${header.line}: the header has no column ${missing.map((m) => `'${m}'`).join(', ')} for the chain input${missing.length > 1 ? 's' : ''} (columns: ${columns.join(', ')}).`);
    return [];
  }
  return data.flatMap((record, index) => {
    if (record.fields.length !== columns.length) {
      problems.push(`row ${index + 1} (line ${record.line}): ${record.fields.length} fields, but the header has ${columns.length} columns.`);
      return [];
    }
    return [{ row: index + 1, line: record.line, values: Object.fromEntries(columns.map((c, i) => [c, record.fields[i]])) }];
  });
}

/**
 * A training file in another format `coi dataset` writes (TRL prompt-completion or chat,
 * OpenAI chat) as the paper's records, so a dataset's validation split is evaluated as it
 * is; undefined for the paper's own formats (JSON array, Alpaca JSONL), read as they are.
 */
function asPaperRecords(text: string, source: string): string | undefined {
  const format = detectFormat(text.replace(/^\uFEFF/, ''));
  if (format === 'paper' || format === 'alpaca-jsonl') return undefined;
  const read = readDataset(text, { format });
  if (read.issues.length > 0) throw new EvalInputError(source, read.issues.map(describeIssue));
  return writeDataset(read.examples, 'paper');
}

/**
 * The paper's records, one chain each (as `coi import` writes it): the per-step
 * outputs are the references, the whole output string the whole reference. A
 * record whose chain the composability check rejects is kept, with its diagnostic.
 */
export function itemsFromRecords(text: string, format: RecordsFormat, info: { readonly source: string; readonly sourceName?: string; readonly baseDir?: string }): EvalItem[] {
  const paper = asPaperRecords(text, info.source);
  const read = paper === undefined ? readRecords(text, format) : readRecords(paper, 'json');
  if (read.issues.length > 0) {
    const notPaper = read.records.length === 0 ? ["this is not the paper's record format: a JSON array (or JSONL) of {instruction, input, output} with 'Task i output' markers."] : [];
    throw new EvalInputError(info.source, [
      ...read.issues.map(describeIssue),
      ...notPaper,
    ]);
  }
  if (read.records.length === 0) throw new EvalInputError(info.source, ['the file holds no records to evaluate.']);
  return read.records.map((record) => {
    const document = recordToCoi(record, info.sourceName !== undefined ? { sourceName: info.sourceName } : {});
    const checked = checkDocument(document.text);
    const rejected = composabilityErrors(checked.diagnostics)[0];
    const chain = checked.chain;
    const references: Record<string, string> = {};
    chain.steps.forEach((step, i) => {
      const output = record.outputs[i];
      // A final-answer record has no reference for its middle steps: those are not scored.
      if (output !== undefined && !(record.unreferenced ?? []).includes(i)) references[step.id] = output;
    });
    return {
      id: `record ${record.index}`,
      chain,
      inputs: chain.inputs[0] !== undefined ? { [chain.inputs[0].name]: record.input } : {},
      references,
      ...(record.outputs.length > 0 ? { finalReference: record.outputs[record.outputs.length - 1]! } : {}),
      wholeReference: record.record.output,
      ...(info.baseDir !== undefined ? { baseDir: info.baseDir } : {}),
      ...(rejected !== undefined ? { composability: `${rejected.code}: ${rejected.message}` } : {}),
      categories: stepCategories(chain),
    };
  });
}
