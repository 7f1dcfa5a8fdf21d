/**
 * `coi export --to coi-json FILES|DIRS... [--out FILE]` — writes the tests of `.coi`
 * chains as the paper's records (see core/records/fromChain.ts for what becomes a
 * record). Standard output by default.
 */
import { dirname, resolve } from 'node:path';
import type { Command } from '../command';
import { checkText } from '../diagnose';
import { CliError, describeFsError, EXIT_OK, EXIT_USAGE, FileError, UsageError } from '../errors';
import { expandPaths, outputNamingAnInput, inRecordOrder, readFoundFiles, replaceFile, skippedLinkWarner, type FoundFile } from '../files';
import { displayPath } from '../../core/syntax';
import { makeDirectories, parse } from '../../core/syntax';
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
    const records: PaperRecord[] = [];
    const failures: string[] = [];
    const { texts, unreadable } = readFoundFiles(files, io, 'export');
    for (const { file, text } of texts) {
      const parsed = parse(text);
      const syntaxErrors = parsed.diagnostics.filter((d) => d.severity === 'error').length + parsed.leftOut.error;
      const chain = syntaxErrors === 0 ? checkText(text, file.path, { parsed }).chain : undefined;
      if (chain === undefined) {
        failures.push(`${file.display}: ${syntaxErrors > 0 ? `${syntaxErrors} syntax error${syntaxErrors === 1 ? '' : 's'}` : 'no chain could be read'} (run 'coi check ${file.display}').`);
        continue;
      }
      const exported = chainToRecords(chain);
      records.push(...exported.records);
      if (!quiet) for (const note of exported.notes) io.stderr(`${file.display}: note: ${note}\n`);
    }
    if (unreadable > 0) return EXIT_USAGE;
    if (failures.length > 0) {
      const shown = failures.slice(0, 20);
      const more = failures.length > shown.length ? `\n  ... and ${failures.length - shown.length} more files with errors.` : '';
      throw new CliError(`Nothing exported:\n  ${shown.join('\n  ')}${more}`);
    }
    const to = args.value('to') ?? 'coi-json';
    const text = to === 'coi-json' ? formatRecordsJson(records) : formatRecordsJsonl(records);
    if (out === undefined) io.stdout(text);
    else {
      try {
        makeDirectories(dirname(resolve(io.cwd, out)));
        replaceFile(resolve(io.cwd, out), text);
      } catch (err) {
        throw new FileError(`Cannot write '${out}': ${describeFsError(err)}.`);
      }
    }
    if (!quiet) {
      const where = out === undefined ? '' : ` to ${displayPath(resolve(io.cwd, out), io.cwd)}`;
      io.stderr(`Exported ${records.length} record${records.length === 1 ? '' : 's'} from ${files.length} file${files.length === 1 ? '' : 's'}${where}.\n`);
    }
    return EXIT_OK;
  },
};

/** `coi export a.coi --out a.coi` would replace the chain with its records: refuse before reading anything. */
function refuseOverwritingAnInput(out: string, files: readonly FoundFile[], cwd: string): void {
  if (outputNamingAnInput([resolve(cwd, out)], files.map((file) => file.path)) !== undefined) {
    throw new UsageError(`--out '${out}' is one of the files being exported: name another file.`, 'export');
  }
}
