/**
 * Chains → paper records (the reverse of ./toCoi.ts).
 *
 * Each `test` of a chain that gives a reference for every step becomes one record:
 * - `instruction`: the steps' instructions joined by `" and then "`;
 * - `input`: the test's value of the chain input. A chain with several inputs has no
 *   exact equivalent in the record format (one input per record): the values are
 *   written one per line as `name: value`, in declaration order;
 * - `output`: each step's reference behind the canonical markers, one step per line.
 *
 * A step's reference is the value of the first non-negated `rouge_l` or `equals`
 * expectation targeting it (the last step may also be targeted as `output`).
 * A test with a reference for the last step only becomes a record whose output is that
 * final answer, without markers (the shape of the paper's summarize-then-translate and
 * one-instruction sets). Other tests without a reference for every step, and chains
 * without tests, export nothing; each case is reported in `notes` so the CLI can tell the user.
 */
import type { Chain, ChainTest, Expectation } from '../chain/model';
import { inputsNeeded } from '../chain/generated';
import { importRecord, isIssue, STEP_SEPARATOR, writeRecord, type PaperRecord } from './paperRecords';

export interface ChainExport {
  readonly records: readonly PaperRecord[];
  /** Why some tests (or the whole chain) produced no record. */
  readonly notes: readonly string[];
}

const REFERENCE_MATCHERS: ReadonlySet<Expectation['matcher']> = new Set(['rouge_l', 'equals']);

export function chainToRecords(chain: Chain): ChainExport {
  if (chain.steps.length === 0) return { records: [], notes: [`Chain '${chain.name}' has no steps: nothing exported.`] };
  if (chain.tests.length === 0) return { records: [], notes: [`Chain '${chain.name}' has no tests: nothing exported (a record needs an input and a reference output per step).`] };
  const records: PaperRecord[] = [];
  const notes: string[] = [];
  for (const test of chain.tests) {
    const result = testToRecord(chain, test);
    if (typeof result === 'string') notes.push(`Chain '${chain.name}', test '${test.name}': ${result}`);
    else {
      records.push(result);
      noteReadBackProblem(notes, chain, test, result);
    }
  }
  return { records, notes };
}

/**
 * Adds to `notes` (`coi export`'s, `coi dataset build`'s) why `record` does not import back as
 * this chain and test, if it does not, unless the note is there already: the " and then " one
 * is about the chain, the same for each of its tests, so it is said once.
 */
export function noteReadBackProblem(notes: string[], chain: Chain, test: ChainTest, record: PaperRecord): void {
  const unlike = recordReadBackProblem(chain, test, record);
  if (unlike !== undefined && !notes.includes(unlike)) notes.push(unlike);
}

/**
 * The paper's format has no escape for its step separator or its markers: a step instruction
 * holding `" and then "` is split there again when the record is read (`coi import`,
 * `coi dataset`), unless the split at sentence ends puts it back; a reference holding
 * `Task 2 output:` is cut there. Such a record is exported all the same (its text is whole),
 * but said: it does not import back as this chain and this test.
 */
function recordReadBackProblem(chain: Chain, test: ChainTest, record: PaperRecord): string | undefined {
  const read = importRecord(record, 0);
  if (isIssue(read) && read.field !== 'instruction') return `Chain '${chain.name}', test '${test.name}': its record does not import back: ${read.message.replace(/^record 0: /, '')}`;
  const steps = chain.steps.map((s) => s.instruction);
  if (isIssue(read) || read.instructions.length !== steps.length || read.instructions.some((instruction, i) => instruction !== steps[i])) {
    const step = chain.steps.find((s) => s.instruction.includes(STEP_SEPARATOR));
    const which = step === undefined ? 'a step instruction' : `the instruction of step '${step.id}'`;
    return `Chain '${chain.name}': ${which} holds " and then ", which joins the steps of a record: its records do not import back as this chain's ${steps.length} step${steps.length === 1 ? '' : 's'}.`;
  }
  const references = stepReferences(chain, test);
  const unreferenced = new Set(read.unreferenced ?? []);
  if (read.outputs.some((output, i) => !unreferenced.has(i) && output !== (references[i] ?? '').trim())) {
    return `Chain '${chain.name}', test '${test.name}': a reference holds text that reads as a step marker ('Task 1 output:'): its record does not import back with the same references.`;
  }
  return undefined;
}

export interface TestToRecordOptions {
  /**
   * Only a test with a reference for every step makes a record (a training example needs every
   * step's output behind its marker): a test with the final answer only gives none.
   */
  readonly everyStep?: boolean;
}

/** The record of one test, or why there is none. */
export function testToRecord(chain: Chain, test: ChainTest, options: TestToRecordOptions = {}): PaperRecord | string {
  const references = stepReferences(chain, test);
  const missing = references.findIndex((r) => r === undefined);
  const finalAnswerOnly = options.everyStep !== true && references.length > 1 && references.every((r, i) => (i === references.length - 1) !== (r === undefined));
  if (missing >= 0 && !finalAnswerOnly) return `no reference for step '${chain.steps[missing]?.id ?? ''}' (a rouge_l or equals expectation): not exported.`;
  const input = recordInput(chain, test);
  if (typeof input !== 'string') return input.missing;
  if (finalAnswerOnly) return { instruction: chain.steps.map((s) => s.instruction).join(STEP_SEPARATOR), input, output: references.at(-1) ?? '' };
  return chainRecord(chain, input, references.map((r) => r ?? ''));
}

/** Each step's reference in a test (undefined for a step without one). */
function stepReferences(chain: Chain, test: ChainTest): (string | undefined)[] {
  return chain.steps.map((step, i) => {
    const isLast = i === chain.steps.length - 1;
    return test.expectations.find((e) => !e.negated && REFERENCE_MATCHERS.has(e.matcher) && e.value !== undefined && (e.target === step.id || (isLast && e.target === 'output')))?.value;
  });
}

/**
 * The record's input: the test's value of a chain's one input, else `name: value` lines. An input
 * no step reads may be left out of a test (as of a run: inputsNeeded); it is then no line.
 */
function recordInput(chain: Chain, test: ChainTest): string | { missing: string } {
  const missing = inputsNeeded(chain).filter((i) => test.inputs[i.name] === undefined).map((i) => i.name);
  if (missing.length > 0) return { missing: `no value for input${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}: not exported.` };
  if (chain.inputs.length === 1) return test.inputs[chain.inputs[0]?.name ?? ''] ?? '';
  return chain.inputs.flatMap((i) => (test.inputs[i.name] !== undefined ? [`${i.name}: ${test.inputs[i.name]}`] : [])).join('\n');
}

/** A record of a chain run: its instructions, the input, and each step's output (e.g. test results). */
export function chainRecord(chain: Chain, input: string, stepOutputs: readonly string[]): PaperRecord {
  return writeRecord(
    chain.steps.map((s) => s.instruction),
    input,
    stepOutputs,
  );
}
