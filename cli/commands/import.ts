/**
 * `coi import --from coi-json INPUT.json --out DIR` — one `.coi` chain per record of
 * the paper's data, each with a test holding the record's input and the per-step
 * reference outputs as ROUGE-L expectations; or `--test-set OUT.coi` for one chain
 * with one test per record when all records share the chain.
 */
import { existsSync, lstatSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { numberOption } from '../args';
import type { Command } from '../command';
import { CliError, describeFsError, EXIT_OK, FileError, UsageError } from '../errors';
import { decodeText, entryExists, MAX_TEXT_BYTES, outputNamingAnInput, readTextBytes, refuseNonUtf8Source, writeAllOrNothingCancellable, yieldToEventLoop } from '../files';
import { cancellationSubject, reportCancelled, WHILE_READING_STDIN, withInterrupt } from './runSupport';
import { displayPath } from '../../core/syntax';
import { readRecords, type ImportedRecord, type RecordIssue, type RecordsFormat, DEFAULT_INPUT_NAME, DEFAULT_THRESHOLD, inputNameProblem, recordsToTestSet, recordToCoi, type ToCoiOptions, withoutPosition } from '../../core/records';
import type { CliIO } from '../io';

const MAX_ISSUES_SHOWN = 20;
const FORMATS: Record<string, RecordsFormat> = { 'coi-json': 'json', 'coi-jsonl': 'jsonl', jsonl: 'jsonl' };

export const command: Command = {
  name: 'import',
  usage: 'coi import [--from coi-json|coi-jsonl] INPUT (--out DIR | --test-set OUT.coi) [options]',
  description:
    "Reads the paper's records ({instruction, input, output}: steps joined by \" and then \", outputs behind 'Task 1 output and task 2 input:' ... 'Task k output:' markers) and writes .coi chains. " +
    'An output without markers is the answer of the last step: a one-instruction record is a chain of one step; a multi-step record then gives a reference for its last step only (and for others named by --step-field). ' +
    'With --out DIR, one file per record, named NNNN-slug.coi after the record index (0-based; more digits when the file holds more than 10,000 records, so that names sort in record order). With --test-set, one chain with one test per record; all records must have the same instruction. ' +
    'Nothing is written when INPUT is not UTF-8 text, a record is invalid (unless --skip-invalid) or a file exists (unless --force). INPUT may be - for standard input.',
  options: [
    { name: 'from', kind: 'value', choices: Object.keys(FORMATS), description: 'Input format: a JSON array (coi-json) or JSON Lines (coi-jsonl, or jsonl).', defaultValue: 'by extension: .jsonl is coi-jsonl, else coi-json' },
    { name: 'out', short: 'o', kind: 'value', valueName: 'DIR', description: 'Write one .coi file per record into DIR (created if missing).' },
    { name: 'test-set', kind: 'value', valueName: 'OUT.coi', description: 'Write one chain with one test per record into OUT.coi.' },
    { name: 'threshold', kind: 'value', valueName: 'F', description: 'Minimum ROUGE-L F-measure of each expectation, from 0 to 1.', defaultValue: String(DEFAULT_THRESHOLD) },
    { name: 'input-name', kind: 'value', valueName: 'NAME', description: 'Name of the chain input.', defaultValue: DEFAULT_INPUT_NAME },
    { name: 'force', short: 'f', kind: 'flag', description: 'Overwrite existing files.' },
    {
      name: 'step-field',
      kind: 'value',
      valueName: 'STEP=FIELD',
      description:
        'For records whose output is only the final answer: the field holding the reference of intermediate step STEP (1-based), e.g. --step-field 1=eng_output. Repeatable. Without it such steps get no expectation.',
    },
    { name: 'skip-invalid', kind: 'flag', description: 'Import the valid records and report the others, instead of writing nothing.' },
  ],
  examples: [
    'coi import --from coi-json ../data/coi2_test.json --out chains/',
    'coi import --from coi-json records.json --test-set chains/irony.coi --threshold 0.4',
  ],

  async run({ args, io }) {
    const [input, ...extra] = args.positionals;
    if (input === undefined) throw new UsageError('No input file given.', 'import');
    if (extra.length > 0) throw new UsageError(`One input file at a time (got ${args.positionals.length}).`, 'import');
    const outDir = args.value('out');
    const testSet = args.value('test-set');
    if ((outDir === undefined) === (testSet === undefined)) throw new UsageError('Give exactly one of --out DIR or --test-set OUT.coi.', 'import');
    const threshold = numberOption(args, 'threshold', 'import', { min: 0, max: 1 });
    const inputName = args.value('input-name');
    const inputNameRefusal = inputName === undefined ? undefined : inputNameProblem(inputName);
    if (inputNameRefusal !== undefined) throw new UsageError(`--input-name ${inputNameRefusal}.`, 'import');
    const inputPath = input === '-' ? undefined : resolve(io.cwd, input);
    if (testSet !== undefined) refuseOverwritingTheInput('--test-set', testSet, [resolve(io.cwd, testSet)], inputPath);
    const format = FORMATS[args.value('from') ?? (extname(input).toLowerCase() === '.jsonl' ? 'coi-jsonl' : 'coi-json')] as RecordsFormat;

    const shownInput = input === '-' ? '<stdin>' : displayPath(resolve(io.cwd, input), io.cwd);
    const stepFields = parseStepFields(args.values('step-field'));
    // From here on Ctrl-C (or SIGTERM) cancels until the files take their names: nothing is left written.
    return withInterrupt(io, async (signal) => {
      let reading = true;
      try {
        const text = await readInput(input, shownInput, io, signal);
        reading = false;
        const records = readValidRecords(text, format, shownInput, args.has('skip-invalid'), io, stepFields);
        const options: ToCoiOptions = {
          sourceName: input === '-' ? 'standard input' : basename(input),
          ...(threshold === undefined ? {} : { threshold }),
          ...(inputName === undefined ? {} : { inputName }),
        };
        const force = args.has('force');
        const done =
          outDir !== undefined
            ? await writeOneFilePerRecord(records, resolve(io.cwd, outDir), options, force, io, (targets) => refuseOverwritingTheInput('--out', outDir, targets, inputPath), signal)
            : await writeTestSet(records, resolve(io.cwd, testSet as string), options, force, io, signal);
        // A signal that came while the files took their names finds the import complete: said, not dropped.
        await yieldToEventLoop();
        if (signal.aborted) io.stderr(`coi import: ${cancellationSubject(signal)} came after the files were written: ${done}\n`);
        return EXIT_OK;
      } catch (error) {
        if (!signal.aborted) throw error;
        return reportCancelled(io, 'import', signal, { ...(reading && input === '-' ? { while: WHILE_READING_STDIN } : {}), left: 'nothing written' });
      }
    });
  },
};


/**
 * The text of the input file, or of standard input (`-`), whose reading Ctrl-C (`signal`) stops.
 * Bytes that are not UTF-8 are refused at the first one (exit 2, nothing written), as `coi dataset
 * build` refuses them: read as U+FFFD, they would be written into the chains, valid UTF-8 that
 * `coi check` then reads without a word.
 */
async function readInput(input: string, shownInput: string, io: CliIO, signal: AbortSignal): Promise<string> {
  let bytes: Buffer;
  let text: string;
  try {
    bytes = input === '-' ? await io.readStdin(MAX_TEXT_BYTES, signal) : readTextBytes(resolve(io.cwd, input));
    text = decodeText(bytes);
  } catch (err) {
    if (signal.aborted) throw err;
    throw new FileError(`Cannot read ${input === '-' ? 'standard input' : `'${input}'`}: ${describeFsError(err)}.`);
  }
  refuseNonUtf8Source(bytes, shownInput, 'the imported chains');
  return text;
}

function issueLine(shownInput: string, issue: RecordIssue): string {
  if (issue.line === undefined) return `${shownInput}: ${issue.message}\n`;
  // The position leads the line, as compilers print it; the message need not repeat it.
  return `${shownInput}:${issue.line}${issue.column === undefined ? '' : ':' + issue.column}: ${withoutPosition(issue.message)}\n`;
}

/** `--step-field 1=eng_output` (repeatable) as `{ 1: 'eng_output' }`. */
function parseStepFields(given: readonly string[]): Record<number, string> {
  const fields: Record<number, string> = {};
  for (const arg of given) {
    const match = /^(\d+)=(.+)$/.exec(arg);
    const step = match !== null ? Number(match[1]) : 0;
    if (match === null || step < 1) throw new UsageError(`--step-field '${arg}': expected STEP=FIELD with a step number from 1, e.g. --step-field 1=eng_output.`, 'import');
    if (fields[step] !== undefined) throw new UsageError(`--step-field: step ${step} is given twice.`, 'import');
    fields[step] = match[2] ?? '';
  }
  return fields;
}

function readValidRecords(text: string, format: RecordsFormat, shownInput: string, skipInvalid: boolean, io: CliIO, stepFields: Record<number, string>): readonly ImportedRecord[] {
  const { records, issues } = readRecords(text, format, { stepFields });
  const fileLevel = issues.find((i) => i.index === undefined);
  if (fileLevel !== undefined) throw new CliError(issueLine(shownInput, fileLevel).trimEnd());
  const shown = issues.slice(0, MAX_ISSUES_SHOWN);
  for (const issue of shown) io.stderr(issueLine(shownInput, issue));
  if (issues.length > shown.length) io.stderr(`... and ${issues.length - shown.length} more invalid records.\n`);
  if (records.length === 0 && issues.length > 0) {
    const what = issues.length === 1 ? `The only record in ${shownInput} is invalid` : `All ${issues.length} records in ${shownInput} are invalid`;
    throw new CliError(`${what}: nothing to import.`);
  }
  if (issues.length > 0 && !skipInvalid) {
    throw new CliError(`${issues.length} invalid record${issues.length === 1 ? '' : 's'} in ${shownInput}: nothing written (--skip-invalid imports the others).`);
  }
  if (records.length === 0) throw new CliError(`No records to import in ${shownInput}.`);
  if (issues.length > 0) io.stderr(`Skipped ${issues.length} invalid record${issues.length === 1 ? '' : 's'}.\n`);
  return records;
}

/**
 * `coi import x.json --test-set x.json` would replace the records with the chain, even with
 * --force: refuse (exit code 2), as `coi export --out` naming an input is refused.
 */
function refuseOverwritingTheInput(option: string, given: string, targets: readonly string[], input: string | undefined): void {
  if (input === undefined || outputNamingAnInput(targets, [input]) === undefined) return;
  throw new UsageError(`${option} '${given}' would overwrite the input file: name another ${option === '--out' ? 'folder' : 'file'}.`, 'import');
}

type TargetCheck = (targets: readonly string[]) => void;

/** Writes the files (cancelled by `signal`: nothing is left) and says what was imported; returns what it wrote, in words. */
async function writeOneFilePerRecord(records: readonly ImportedRecord[], dir: string, options: ToCoiOptions, force: boolean, io: CliIO, checkTargets: TargetCheck, signal: AbortSignal): Promise<string> {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new FileError(`--out '${displayPath(dir, io.cwd)}' is not a directory.`);
  const recordCount = records.reduce((most, r) => Math.max(most, r.index + 1), 0);
  const documents = records.map((r) => recordToCoi(r, { ...options, recordCount }));
  checkTargets(documents.map((d) => join(dir, d.fileName)));
  // lstat: a symbolic link there is an existing file, even when its target is missing (it is replaced, never written through).
  const existing = documents.filter((d) => entryExists(join(dir, d.fileName)));
  const folder = existing.find((d) => lstatSync(join(dir, d.fileName)).isDirectory());
  if (folder !== undefined) throw new FileError(`'${displayPath(join(dir, folder.fileName), io.cwd)}' is a directory: nothing written.`);
  if (!force && existing.length > 0) {
    const first = displayPath(join(dir, existing[0]?.fileName ?? ''), io.cwd);
    throw new CliError(`${existing.length === 1 ? `'${first}' already exists` : `${existing.length} files already exist (first: '${first}')`}: nothing written (--force overwrites).`);
  }
  try {
    await writeAllOrNothingCancellable(dir, documents.map((d) => ({ name: d.fileName, text: d.text })), signal);
  } catch (err) {
    if (signal.aborted) throw err;
    throw new FileError(`Cannot write into '${displayPath(dir, io.cwd)}': ${describeFsError(err)}.`);
  }
  const done = `${documents.length} file${documents.length === 1 ? '' : 's'} in ${displayPath(dir, io.cwd)}/.`;
  io.stderr(`Imported ${documents.length} record${documents.length === 1 ? '' : 's'} into ${done}\n`);
  return done;
}

async function writeTestSet(records: readonly ImportedRecord[], file: string, options: ToCoiOptions, force: boolean, io: CliIO, signal: AbortSignal): Promise<string> {
  const result = recordsToTestSet(records, options);
  if (!result.ok) throw new CliError(result.message);
  const shown = displayPath(file, io.cwd);
  if (existsSync(file) && statSync(file).isDirectory()) throw new FileError(`--test-set '${shown}' is a directory: name the .coi file to write.`);
  if (!force && entryExists(file)) throw new CliError(`'${shown}' already exists: nothing written (--force overwrites).`);
  try {
    await writeAllOrNothingCancellable(dirname(file), [{ name: basename(file), text: result.document.text }], signal);
  } catch (err) {
    if (signal.aborted) throw err;
    throw new FileError(`Cannot write '${shown}': ${describeFsError(err)}.`);
  }
  io.stderr(`Imported ${records.length} record${records.length === 1 ? '' : 's'} as ${records.length} test${records.length === 1 ? '' : 's'} of chain '${result.document.chainName}' in ${shown}.\n`);
  return `${shown}.`;
}
