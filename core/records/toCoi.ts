/**
 * Paper records → `.coi` source.
 *
 * One record becomes one chain: one `text` input, a step per sub-instruction, and a
 * `test` block holding the record's input and each step's reference output as a
 * ROUGE-L expectation:
 *
 *     chain complete-the-story-0000
 *     description "Imported from coi2_test.json, record 0."
 *
 *     input source: text
 *
 *     step step1 {
 *       instruction "Complete the story by predicting the appropriate last sentence."
 *     }
 *     ...
 *     test "record 0" {
 *       given source = "Sentence1: Danny bought a boat. ..."
 *       expect step1 rouge_l >= 0.5 "They prepared for the start of the race."
 *       expect step2 rouge_l >= 0.5 "The input is not ironic"
 *     }
 *
 * Steps declare no output contract on purpose: a declaration would override the
 * composability analysis' inference from the instruction text.
 */
import { FINAL_OUTPUT } from '../chain/tests';
import { isIdentifier } from '../syntax/lexer';
import { INDENT, numberLiteral, slugify, stringLiteral } from './coiText';
import type { ImportedRecord } from './paperRecords';

export interface ToCoiOptions {
  /** Minimum ROUGE-L F-measure of each expectation, in [0, 1]. Default 0.5. */
  readonly threshold?: number;
  /** Name of the chain input. Default `source`. */
  readonly inputName?: string;
  /** The records file name, quoted in the description (`coi2_test.json`). */
  readonly sourceName?: string;
  /**
   * How many records the file holds: file names are padded to the width of the
   * largest index, so that they sort in record order (`09999-`, `10000-`). Default: 4 digits.
   */
  readonly recordCount?: number;
}

export interface CoiDocument {
  /** Suggested file name: `0000-complete-the-story.coi`. */
  readonly fileName: string;
  readonly chainName: string;
  readonly text: string;
}

export const DEFAULT_THRESHOLD = 0.5;
export const DEFAULT_INPUT_NAME = 'source';

/** The step id of step `index` (0-based): `step1`, `step2`, ... */
export function stepId(index: number): string {
  return `step${index + 1}`;
}

/** `0000`, `0042`; with 10,012 records `00042`, `10011`. */
export function paddedIndex(index: number, recordCount = 0): string {
  return String(index).padStart(Math.max(4, String(Math.max(0, recordCount - 1)).length), '0');
}

function baseSlug(instructions: readonly string[]): string {
  const slug = slugify(instructions[0] ?? '', 3);
  return slug === '' ? 'chain' : /^[a-z]/.test(slug) ? slug : `chain-${slug}`;
}

function checkedThreshold(options: ToCoiOptions): number {
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError(`The ROUGE-L threshold must be between 0 and 1 (got ${threshold}).`);
  return threshold;
}

/** The ids stepId gives: `step1`, `step2`, ... (`step0` and `step01` are never given). */
const GENERATED_STEP_ID = /^step[1-9][0-9]*$/;

/**
 * Why `name` cannot be the imported chains' input, or undefined when it can: it must be an
 * identifier that neither is reserved (COI204) nor collides with a step id the import
 * generates (COI203) — otherwise every imported chain fails `coi check`.
 */
export function inputNameProblem(name: string): string | undefined {
  if (!isIdentifier(name)) return `must be an identifier (got '${name}')`;
  if (name === FINAL_OUTPUT) return `cannot be '${FINAL_OUTPUT}': it is reserved for the chain's final output in expectations`;
  if (GENERATED_STEP_ID.test(name)) return `cannot be '${name}': the imported steps are named step1, step2, ...`;
  return undefined;
}

function inputNameOf(options: ToCoiOptions): string {
  const name = options.inputName ?? DEFAULT_INPUT_NAME;
  const problem = inputNameProblem(name);
  if (problem !== undefined) throw new RangeError(`The input name ${problem}.`);
  return name;
}

/** The `.coi` text of one record. */
export function recordToCoi(record: ImportedRecord, options: ToCoiOptions = {}): CoiDocument {
  const slug = baseSlug(record.instructions);
  const number = paddedIndex(record.index, options.recordCount);
  const chainName = `${slug}-${number}`;
  const from = options.sourceName === undefined ? '' : ` from ${options.sourceName}`;
  const description = `Imported${from}, record ${record.index}.`;
  const text = chainText(chainName, description, record.instructions, [record], options);
  return { fileName: `${number}-${slug}.coi`, chainName, text };
}

export type TestSetResult = { readonly ok: true; readonly document: CoiDocument } | { readonly ok: false; readonly message: string };

/** One chain with one test per record; all records must have the same instructions. */
export function recordsToTestSet(records: readonly ImportedRecord[], options: ToCoiOptions = {}): TestSetResult {
  const first = records[0];
  if (first === undefined) return { ok: false, message: 'No records to import.' };
  for (const record of records) {
    if (record.record.instruction !== first.record.instruction) {
      return {
        ok: false,
        message:
          `Records ${first.index} and ${record.index} have different instructions, so they are not one chain ` +
          `(${JSON.stringify(truncate(first.record.instruction))} vs ${JSON.stringify(truncate(record.record.instruction))}). ` +
          'Import them one file per record with --out DIR.',
      };
    }
  }
  const slug = baseSlug(first.instructions);
  const from = options.sourceName === undefined ? '' : ` from ${options.sourceName}`;
  const count = `${records.length} record${records.length === 1 ? '' : 's'}`;
  const text = chainText(slug, `Test set imported${from} (${count}).`, first.instructions, records, options);
  return { ok: true, document: { fileName: `${slug}.coi`, chainName: slug, text } };
}

function truncate(text: string): string {
  return text.length <= 60 ? text : text.slice(0, 59) + '…';
}

function chainText(chainName: string, description: string, instructions: readonly string[], tests: readonly ImportedRecord[], options: ToCoiOptions): string {
  const threshold = numberLiteral(checkedThreshold(options));
  const inputName = inputNameOf(options);
  const lines: string[] = [];
  lines.push(`chain ${chainName}`);
  lines.push(`description ${stringLiteral(description, { indent: '' })}`);
  lines.push('');
  lines.push(`input ${inputName}: text`);
  for (const [i, instruction] of instructions.entries()) {
    lines.push('');
    lines.push(`step ${stepId(i)} {`);
    lines.push(`${INDENT}instruction ${stringLiteral(instruction, { indent: INDENT })}`);
    lines.push('}');
  }
  for (const record of tests) {
    lines.push('');
    lines.push(`test "record ${record.index}" {`);
    lines.push(`${INDENT}given ${inputName} = ${stringLiteral(record.input, { indent: INDENT })}`);
    for (const [i, output] of record.outputs.entries()) {
      // A record that gives only the final answer has no reference for the steps before it.
      if (record.unreferenced?.includes(i) === true) continue;
      lines.push(`${INDENT}expect ${stepId(i)} rouge_l >= ${threshold} ${stringLiteral(output, { indent: INDENT })}`);
    }
    lines.push('}');
  }
  return lines.join('\n') + '\n';
}
