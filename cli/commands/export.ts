/**
 * `coi export --to coi-json FILES|DIRS... [--out FILE]` — writes the tests of `.coi`
 * chains as the paper's records (see core/records/fromChain.ts for what becomes a
 * record). Standard output by default.
 */
import { resolve } from 'node:path';
import type { Command } from '../command';
import { checkText, diagnosticText } from '../diagnose';
import { CliError, describeFsError, EXIT_OK, EXIT_USAGE, FileError, UsageError } from '../errors';
import { expandPaths, outputNamingAnInput, inRecordOrder, readFoundFiles, skippedLinkWarner, type FoundFile } from '../files';
import { displayPath } from '../../core/syntax';
import { LineMap, parse, type Diagnostic } from '../../core/syntax';
import { readThenWrite, stdoutCutBy } from './outputFile';
import { chainToRecords, formatRecordsJson, formatRecordsJsonl, type PaperRecord } from '../../core/records';

export const command: Command = {
  name: 'export',
  usage: 'coi export [--to coi-json|coi-jsonl] FILES|DIRS... [--out FILE]',
  description:
    "Writes every test of the chains that gives a reference output for each step (a rouge_l or equals expectation) as one record of the paper's format: the instructions joined by \" and then \", the test's input, and the references behind 'Task i output ...' markers, one step per line. " +
    'Tests without a reference for every step, and chains without tests, export nothing; each case is noted on standard error. Files with syntax errors stop the export (nothing is written).',
  options: [
    { name: 'to', kind: 'value', choices: ['coi-json', 'coi-jsonl', 'jsonl'], defaultValue: 'coi-json', description: 'coi-json: a JSON array, one record per line. coi-jsonl (or jsonl): JSON Lines.' },
    { name: 'out', short: 'o', kind: 'value', valueName: 'FILE', description: 'Write to FILE (replaced if it exists) instead of standard output.' },
    { name: 'quiet', short: 'q', kind: 'flag', description: 'Do not print notes and the summary on standard error.' },
  ],
  examples: ['coi export --to coi-json chains/ --out records.json', 'coi export --to coi-jsonl examples/summarize-translate.coi'],

  async run({ args, io }) {
    if (args.positionals.length === 0) throw new UsageError('No files given: name .coi files or directories.', 'export');
    const files = inRecordOrder(expandPaths(args.positionals, { extension: '.coi', cwd: io.cwd, onSkippedLink: skippedLinkWarner(io, 'export') }));
    const out = args.value('out');
    if (out !== undefined) refuseOverwritingAnInput(out, files, io.cwd);
    const quiet = args.has('quiet');
    // From the first file read to the output written, Ctrl-C (or SIGTERM) cancels: nothing is written.
    let exported = undefined as number | undefined;
    const code = await readThenWrite(io, 'export', async ({ checkpoint, writeOutputFile }) => {
      const records: PaperRecord[] = [];
      const failures: string[] = [];
      const { texts, unreadable } = readFoundFiles(files, io, 'export');
      for (const { file, text } of texts) {
        await checkpoint();
        const parsed = parse(text);
        await checkpoint();
        const errors = parsed.diagnostics.filter((d) => d.severity === 'error').sort((a, b) => a.span.start - b.span.start);
        const syntaxErrors = errors.length + parsed.leftOut.error;
        const chain = syntaxErrors === 0 ? checkText(text, file.path, { parsed }).chain : undefined;
        if (chain === undefined) {
          failures.push(syntaxErrorLine(file.display, text, errors[0], syntaxErrors));
          continue;
        }
        await checkpoint();
        const exported = chainToRecords(chain);
        records.push(...exported.records);
        if (!quiet) for (const note of exported.notes) io.stderr(`${file.display}: note: ${note}\n`);
      }
      await checkpoint();
      if (unreadable > 0) return EXIT_USAGE;
      if (failures.length > 0) {
        const shown = failures.slice(0, 20);
        const more = failures.length > shown.length ? `\n  ... and ${failures.length - shown.length} more files with errors.` : '';
        // One line per file, each with the place of its first error.
        if (failures.length === 1) throw new CliError(`${failures[0]!} Nothing exported.`);
        throw new CliError(`Nothing exported: ${failures.length} files have syntax errors:\n  ${shown.join('\n  ')}${more}`);
      }
      const to = args.value('to') ?? 'coi-json';
      const text = to === 'coi-json' ? formatRecordsJson(records) : formatRecordsJsonl(records);
      await checkpoint();
      if (out === undefined) io.stdout(text);
      else {
        // Ctrl-C (or SIGTERM) while the file is written: no temporary left, a previous file as it was.
        const cancelled = await writeOutputFile(resolve(io.cwd, out), text, { makeFolders: true, failure: (err) => new FileError(`Cannot write '${out}': ${describeFsError(err)}.`) });
        if (cancelled !== undefined) return cancelled;
      }
      exported = records.length;
      return EXIT_OK;
    });
    if (exported === undefined || quiet) return code;
    // On standard output, what is said waits until the text has gone out: a reader that went away (`| head`) took only part of it.
    const cut = out === undefined ? await stdoutCutBy(io) : undefined;
    const what = `${exported} record${exported === 1 ? '' : 's'}`;
    const from = `from ${files.length} file${files.length === 1 ? '' : 's'}`;
    if (cut !== undefined) io.stderr(`Stopped, ${cut}: ${what} exported ${from}, not all written.\n`);
    else io.stderr(`Exported ${what} ${from}${out === undefined ? '' : ` to ${displayPath(resolve(io.cwd, out), io.cwd)}`}.\n`);
    return code;
  },
};

/**
 * A file that cannot be exported, on one line: its first syntax error as `coi check` prints it
 * (`FILE:LINE:COLUMN: error CODE: message`), and how many it has.
 */
function syntaxErrorLine(display: string, text: string, first: Diagnostic | undefined, count: number): string {
  if (first === undefined) return `${display}: no chain could be read (coi check ${display}).`;
  const more = count > 1 ? ` (${count} syntax errors: coi check ${display})` : '';
  return `${diagnosticText(display, new LineMap(text), first).replace(/\.$/, '')}${more}.`;
}

/** `coi export a.coi --out a.coi` would replace the chain with its records: refuse before reading anything. */
function refuseOverwritingAnInput(out: string, files: readonly FoundFile[], cwd: string): void {
  if (outputNamingAnInput([resolve(cwd, out)], files.map((file) => file.path)) !== undefined) {
    throw new UsageError(`--out '${out}' is one of the files being exported: name another file.`, 'export');
  }
}
