/**
 * The record format of the Chain-of-Instructions data (Hayati et al., arXiv 2402.11532):
 * a JSON array (or JSONL) of `{instruction, input, output}` where `instruction` is the
 * sub-instructions joined by the literal `" and then "` and `output` holds every
 * step's output behind `Task i output and task i+1 input:` … `Task k output:` markers
 * (see ./markers.ts for the accepted spellings).
 *
 * Reading never throws: every problem is reported with the record's 0-based index in
 * the array (the numbering of the data's README) and the field at fault.
 *
 * Round trip: `writeRecord(imported.instructions, imported.input, imported.outputs,
 * imported.layout)` reproduces the record byte for byte; without the layout the output
 * is written with canonical markers, one step per line (`joinStepOutputs`), which equals
 * `normalizeMarkedOutput(record.output)`.
 */
import { findMarkers, joinStepOutputs, joinWithLayout, splitStepOutputs, type OutputLayout } from './markers';
import { arrayElementLines, parseJsonWithPosition } from './jsonPosition';

export interface PaperRecord {
  readonly instruction: string;
  readonly input: string;
  readonly output: string;
}

/** A record read and split into steps. */
export interface ImportedRecord {
  /** 0-based position in the file (array index, or line index for JSONL). */
  readonly index: number;
  readonly record: PaperRecord;
  /** The sub-instructions, one per step. */
  readonly instructions: readonly string[];
  readonly input: string;
  /** Each step's reference output (trimmed), one per step ('' for the steps in `unreferenced`). */
  readonly outputs: readonly string[];
  /**
   * 0-based steps whose reference the record does not hold: the intermediate steps of a
   * record whose output is only the final answer (unless a field names it, `stepFields`).
   */
  readonly unreferenced?: readonly number[];
  /** The markers and whitespace as written, to reproduce `record.output` exactly. */
  readonly layout: OutputLayout;
}

export type RecordField = 'instruction' | 'input' | 'output';

export interface RecordIssue {
  /** 0-based record index; absent for file-level problems (bad JSON, not an array). */
  readonly index?: number;
  readonly field?: RecordField;
  /** 1-based line of the problem in the file, when known (JSON syntax errors, JSONL lines, the first line of a JSON array's record). */
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/**
 * A message without the position it names (`at line 2, column 5`, `on line 2`, `at column 5`),
 * for a caller that prints the position first: a location is said once.
 */
export function withoutPosition(message: string): string {
  return message.replace(/ (?:at line \d+, column \d+|on line \d+|at column \d+)(?=[.:]|$)/g, '');
}

/** `line 2, column 5: Invalid JSON: …`: an issue with its position said once, first. */
export function describeIssue(issue: RecordIssue): string {
  if (issue.line === undefined) return issue.message;
  return `line ${issue.line}${issue.column !== undefined ? `, column ${issue.column}` : ''}: ${withoutPosition(issue.message)}`;
}

export interface ReadResult {
  readonly records: readonly ImportedRecord[];
  readonly issues: readonly RecordIssue[];
}

export type RecordsFormat = 'json' | 'jsonl';

export interface ReadOptions {
  /**
   * Fields holding the reference of an intermediate step, by 1-based step number, for
   * records whose output is only the final answer: `{ 1: 'eng_output' }` (the paper's
   * summarize-then-translate sets keep the English summary there).
   */
  readonly stepFields?: Readonly<Record<number, string>>;
}

export const STEP_SEPARATOR = ' and then ';

/** Reads a whole records file. Records with problems are left out and reported in `issues`. */
export function readRecords(text: string, format: RecordsFormat = 'json', options: ReadOptions = {}): ReadResult {
  return format === 'jsonl' ? readJsonl(text, options) : readJsonArray(text, options);
}

function readJsonArray(text: string, options: ReadOptions): ReadResult {
  const body = text.replace(/^\uFEFF/, '');
  const parsed = parseJsonWithPosition(body);
  if (!parsed.ok) {
    return { records: [], issues: [{ line: parsed.error.line, column: parsed.error.column, message: `Invalid JSON: ${parsed.error.message}.` }] };
  }
  if (!Array.isArray(parsed.value)) {
    return { records: [], issues: [{ message: `Expected a JSON array of {instruction, input, output} records, found ${describeType(parsed.value)}.` }] };
  }
  // The records' lines are found (one more pass over the file) only when a record has an issue to locate.
  let lines: number[] | undefined;
  return collect(
    parsed.value.map((value, index) => {
      const result = importRecord(value, index, options);
      if (!isIssue(result)) return result;
      lines ??= arrayElementLines(body);
      return { ...result, line: lines[index] ?? 1 };
    }),
  );
}

function readJsonl(text: string, options: ReadOptions): ReadResult {
  const results: (ImportedRecord | RecordIssue)[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let index = 0;
  for (const [lineIndex, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const parsed = parseJsonWithPosition(line);
    if (!parsed.ok) {
      results.push({ index, line: lineIndex + 1, column: parsed.error.column, message: `Invalid JSON on line ${lineIndex + 1}: ${parsed.error.message.replace(/ at line 1, column/, ' at column')}.` });
    } else {
      const result = importRecord(parsed.value, index, options);
      results.push(isIssue(result) ? { ...result, line: lineIndex + 1 } : result);
    }
    index++;
  }
  return collect(results);
}

function collect(results: readonly (ImportedRecord | RecordIssue)[]): ReadResult {
  const records: ImportedRecord[] = [];
  const issues: RecordIssue[] = [];
  for (const result of results) {
    if (isIssue(result)) issues.push(result);
    else records.push(result);
  }
  return { records, issues };
}

export function isIssue(value: ImportedRecord | RecordIssue): value is RecordIssue {
  return 'message' in value;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Validates one record's shape and splits it into steps. */
/** What is wrong with a record's instruction, if anything: one check for `coi eval --records`, `coi import` and `coi dataset`. */
export function instructionProblem(instruction: string, name = '"instruction"'): string | undefined {
  if (instruction.trim() === '') return `${name} is empty.`;
  // An empty step ("A. and then ", " and then ") would be a chain step with nothing to do, and a .coi step that fails COI209.
  const steps = instruction.split(STEP_SEPARATOR);
  const empty = steps.findIndex((step) => step.trim() === '');
  return empty < 0 ? undefined : `${name} joins ${steps.length} steps by " and then ", and step ${empty + 1} is empty.`;
}

export function importRecord(value: unknown, index: number, options: ReadOptions = {}): ImportedRecord | RecordIssue {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { index, message: `record ${index}: expected an object with instruction, input and output, found ${describeType(value)}.` };
  }
  const object = value as Record<string, unknown>;
  for (const field of ['instruction', 'input', 'output'] as const) {
    if (!(field in object)) return { index, field, message: `record ${index}: missing field "${field}".` };
    if (typeof object[field] !== 'string') {
      return { index, field, message: `record ${index}: field "${field}" must be a string, found ${describeType(object[field])}.` };
    }
  }
  const record: PaperRecord = { instruction: object['instruction'] as string, input: object['input'] as string, output: object['output'] as string };
  const empty = instructionProblem(record.instruction);
  if (empty !== undefined) return { index, field: 'instruction', message: `record ${index}: ${empty}` };
  if (stepCountFromMarkers(record.output) === 0) return finalAnswerRecord(record, index, object, options.stepFields ?? {});
  return splitRecord(record, index);
}

/**
 * A record whose output has no markers: a one-instruction record (the output is the
 * step's answer), or a multi-step one whose output is only the final answer; the
 * intermediate references come from the fields `stepFields` names, else are unknown.
 */
function finalAnswerRecord(record: PaperRecord, index: number, object: Record<string, unknown>, stepFields: Readonly<Record<number, string>>): ImportedRecord | RecordIssue {
  const instructions = finalAnswerInstructions(record.instruction);
  const last = instructions.length - 1;
  const outputs = instructions.map(() => '');
  const unreferenced: number[] = [];
  for (let step = 0; step < last; step++) {
    const field = stepFields[step + 1];
    if (field === undefined) {
      unreferenced.push(step);
      continue;
    }
    const value = object[field];
    if (typeof value !== 'string') {
      const found = field in object ? `found ${describeType(value)}` : 'it is missing';
      return { index, message: `record ${index}: field "${field}" (the reference of step ${step + 1}, --step-field ${step + 1}=${field}) must be a string; ${found}.` };
    }
    outputs[step] = value.trim();
  }
  for (const step of Object.keys(stepFields).map(Number)) {
    if (step > last) {
      return { index, field: 'instruction', message: `record ${index}: --step-field ${step}=${stepFields[step] ?? ''} names step ${step}, but "instruction" has ${instructions.length} step${instructions.length === 1 ? '' : 's'} (the output is the last one's answer).` };
    }
  }
  const answer = record.output.trim();
  outputs[last] = answer;
  const start = record.output.indexOf(answer);
  const around = (text: string): string[] => instructions.map((_, i) => (i === last ? text : ''));
  const layout: OutputLayout = {
    preamble: '',
    markers: around(''),
    leading: around(record.output.slice(0, start)),
    trailing: around(record.output.slice(start + answer.length)),
    finalAnswerOnly: true,
  };
  return { index, record, instructions, input: record.input, outputs, layout, ...(unreferenced.length > 0 ? { unreferenced } : {}) };
}

/**
 * The steps of a record whose output has no markers: its instruction split at every
 * `" and then "` (one step when there is none). The output is the last step's answer; the
 * intermediate steps' outputs are not in the record. `coi import` and `coi dataset` count
 * such a record's steps alike with it.
 */
export function finalAnswerInstructions(instruction: string): string[] {
  return instruction.split(STEP_SEPARATOR);
}

/** Splits a well-shaped record into per-step instructions and outputs. */
export function splitRecord(record: PaperRecord, index: number): ImportedRecord | RecordIssue {
  const stepCount = stepCountFromMarkers(record.output);
  if (stepCount === 0) {
    return {
      index,
      field: 'output',
      message: `record ${index}: no step markers in "output" (expected 'Task 1 output and task 2 input: …' then 'Task 2 output: …').`,
    };
  }
  const split = splitStepOutputs(record.output, stepCount);
  if (!split.ok) return { index, field: 'output', message: `record ${index}: ${split.error.message}` };
  const instructions = splitInstruction(record.instruction, stepCount);
  if (typeof instructions === 'string') return { index, field: 'instruction', message: `record ${index}: ${instructions}` };
  return { index, record, instructions, input: record.input, outputs: split.outputs, layout: split.layout };
}

/**
 * The number of steps the markers of an output describe: the highest task number any
 * marker names (`Task 1 output and task 2 input:` alone names 2). Gaps, duplicates and
 * disorder are then reported by `splitStepOutputs` against this count.
 */
export function stepCountFromMarkers(output: string): number {
  const markers = findMarkers(output);
  let count = markers.length;
  for (const marker of markers) count = Math.max(count, marker.step, marker.nextStep ?? 0);
  return count;
}

/**
 * Splits an instruction into `stepCount` sub-instructions.
 *
 * The literal `" and then "` joins the steps, but it also occurs inside some
 * instructions ("…enclosed in curly braces and then Answer…"). When a plain split
 * gives more parts than the output has steps, the split is retried only at sentence
 * ends (`". and then "`), since each released sub-instruction ends with its own period.
 * Returns a message when neither split matches the step count.
 */
export function splitInstruction(instruction: string, stepCount: number): readonly string[] | string {
  const plain = instruction.split(STEP_SEPARATOR);
  if (plain.length === stepCount) return plain;
  if (plain.length > stepCount) {
    const atSentenceEnds = instruction.split(/(?<=[.!?]) and then /);
    if (atSentenceEnds.length === stepCount) return atSentenceEnds;
  }
  const found = plain.length === 1 ? 'one instruction (no " and then ")' : `${plain.length} parts joined by " and then "`;
  return `"instruction" has ${found}, but "output" has markers for ${stepCount} steps.`;
}

/**
 * Writes a record from per-step instructions and outputs (canonical markers, or `layout`
 * when given). One step: the bare output. A `finalAnswerOnly` layout: the last output alone.
 */
export function writeRecord(instructions: readonly string[], input: string, outputs: readonly string[], layout?: OutputLayout): PaperRecord {
  return {
    instruction: instructions.join(STEP_SEPARATOR),
    input,
    output: layout === undefined ? joinStepOutputs(outputs) : joinWithLayout(outputs, layout),
  };
}

/** A JSON array, one record per line inside it (readable and diff-friendly). */
export function formatRecordsJson(records: readonly PaperRecord[]): string {
  if (records.length === 0) return '[]\n';
  return '[\n' + records.map((r) => '  ' + JSON.stringify(pick(r))).join(',\n') + '\n]\n';
}

/** JSON Lines: one record per line. */
export function formatRecordsJsonl(records: readonly PaperRecord[]): string {
  return records.map((r) => JSON.stringify(pick(r)) + '\n').join('');
}

function pick(record: PaperRecord): PaperRecord {
  return { instruction: record.instruction, input: record.input, output: record.output };
}
