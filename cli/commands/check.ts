/**
 * `coi check [--format text|json] FILES...` (`-` for standard input) — reports syntax, structure and
 * composability diagnostics, one line each (`path:line:col: severity code: message`,
 * 1-based) or as a JSON array with 0-based LSP ranges. At most 1,000 per file are listed (core's
 * cap), then a COI000 note; the summary and the exit code count them all. Exit code 0 without
 * errors, 1 with errors (or more warnings than --max-warnings), 2 on usage errors and
 * unreadable files.
 */
import { resolve } from 'node:path';
import { numberOption, type ParsedArgs } from '../args';
import type { Command } from '../command';
import { checkText, diagnosticLine } from '../diagnose';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, UsageError } from '../errors';
import { expandPaths, readFoundFiles, readStdinFile, reportUnreadable, skippedLinkWarner, STDIN_DISPLAY, type FileText, type FoundFile } from '../files';
import { displayPath } from '../../core/syntax';
import type { CliIO } from '../io';
import { plural } from '../plural';
import { stdoutCutBy } from './outputFile';
import { reportCancelled, WHILE_READING_STDIN, withInterrupt } from './runSupport';
import { LEFT_OUT_CODE, MAX_DIAGNOSTICS_PER_DOCUMENT, totalOf, type SeverityCounts } from '../../core/diagnostics';
import { LineMap, type Range, type Diagnostic, type Severity } from '../../core/syntax';

export interface JsonDiagnostic {
  readonly file: string;
  readonly range: Range;
  readonly severity: Severity;
  readonly code: string;
  readonly message: string;
  /** The COI000 note only: how many problems of the file are not listed, and how many it has in all. */
  readonly omitted?: number;
  readonly total?: number;
}

interface FileReport {
  readonly file: FoundFile;
  readonly lineMap: LineMap;
  /** What is listed: the file's first problems, then the COI000 note when some are left out. */
  readonly diagnostics: readonly Diagnostic[];
  /** Every problem of the file, listed or not, by severity. */
  readonly counts: SeverityCounts;
  readonly leftOut: number;
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2, hint: 3 };

export const command: Command = {
  name: 'check',
  usage: 'coi check [options] FILES...',
  description:
    'Checks .coi files for syntax errors, structural problems (unknown or duplicate ids, forward references, bad contracts, schemas and model profiles, ...) and composability problems between steps. ' +
    'FILES are files, directories (searched recursively for *.coi, skipping node_modules and hidden folders) or quoted glob patterns ("examples/**/*.coi"). ' +
    'A - reads one document from standard input (for editors and hooks), reported as <stdin> or under the name --stdin-filename gives; it is checked first, then the files in path order.',
  options: [
    { name: 'format', kind: 'value', choices: ['text', 'json'], defaultValue: 'text', description: 'text: one line per diagnostic, path:line:col: severity code: message (1-based). json: an array of {file, range, severity, code, message} with 0-based LSP ranges.' },
    { name: 'min-severity', kind: 'value', choices: ['error', 'warning', 'info', 'hint'], defaultValue: 'hint', description: 'Report only diagnostics of this severity or a more serious one.' },
    { name: 'no-warnings', kind: 'flag', description: 'Report errors only: the same as --min-severity error.' },
    { name: 'max-warnings', kind: 'value', valueName: 'N', description: 'Exit with code 1 when there are more than N warnings.' },
    { name: 'quiet', short: 'q', kind: 'flag', description: 'Do not print the summary line on standard error.' },
    { name: 'stdin-filename', kind: 'value', valueName: 'PATH', description: 'With -: the name standard input is reported under, and the file schema_file paths resolve against (the file need not exist). Default: <stdin>, resolving against the working directory.' },
  ],
  examples: [
    'coi check examples/',
    'coi check --format json "chains/**/*.coi" > report.json',
    'coi check --min-severity warning --max-warnings 0 my-chain.coi',
    'git show :chains/a.coi | coi check --stdin-filename chains/a.coi -',
  ],

  async run({ args, io }) {
    if (args.positionals.length === 0) throw new UsageError('No files given: name .coi files, directories or glob patterns (or - for standard input).', 'check');
    const maxWarnings = numberOption(args, 'max-warnings', 'check', { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });
    const stdinFile = stdinArgument(args, io);
    const paths = args.positionals.filter((p) => p !== STDIN_ARG);
    let unreadableFolders = 0;
    const onUnreadableFolder = (display: string, err: unknown): void => {
      reportUnreadable(io, 'check', `'${display}'`, err);
      unreadableFolders++;
    };
    const files = paths.length === 0 ? [] : expandPaths(paths, { extension: '.coi', cwd: io.cwd, onUnreadableFolder, onSkippedLink: skippedLinkWarner(io, 'check') });
    const minSeverity: Severity = args.has('no-warnings') ? 'error' : ((args.value('min-severity') ?? 'hint') as Severity);
    const fromStdin = stdinFile === undefined ? { texts: [], unreadable: 0 } : await readStdin(stdinFile, io);
    if (typeof fromStdin === 'number') return fromStdin;
    const fromFiles = readFoundFiles(files, io, 'check');
    const texts = [...fromStdin.texts, ...fromFiles.texts];
    const unreadable = unreadableFolders + fromStdin.unreadable + fromFiles.unreadable;
    const reports = texts.map(({ file, text }): FileReport => {
      const checked = checkText(text, file.path, { minSeverity });
      return { file, lineMap: new LineMap(text), diagnostics: [...checked.diagnostics].sort(byPosition), counts: checked.counts, leftOut: totalOf(checked.leftOut) };
    });
    if (args.value('format') === 'json') io.stdout(JSON.stringify(reports.flatMap(toJson), null, 2) + '\n');
    else io.stdout(reports.flatMap(toLines).join(''));

    const count = (severity: Severity): number => reports.reduce((n, r) => n + r.counts[severity], 0);
    const errors = count('error');
    const warnings = count('warning');
    if (!args.has('quiet')) {
      // The summary waits until the report has gone out (a pipe takes it as its reader reads): when
      // standard output stopped first (`| head`, a full disk), it says so, as `coi export` does.
      io.stderr(summary(reports, errors, warnings, count('info') + count('hint'), unreadable, await stdoutCutBy(io)));
    }
    if (unreadable > 0) return EXIT_USAGE;
    if (errors > 0 || (maxWarnings !== undefined && warnings > maxWarnings)) return EXIT_ERRORS;
    return EXIT_OK;
  },
};

/** The argument that stands for standard input. */
const STDIN_ARG = '-';

/** Standard input as a file, when `-` is among FILES; usage errors for `-` twice or --stdin-filename without `-`. */
function stdinArgument(args: ParsedArgs, io: CliIO): FoundFile | undefined {
  const dashes = args.positionals.filter((p) => p === STDIN_ARG).length;
  const name = args.value('stdin-filename');
  if (dashes > 1) throw new UsageError("Standard input ('-') can be given only once.", 'check');
  if (dashes === 0) {
    if (name !== undefined) throw new UsageError("--stdin-filename names standard input: give '-' among the files too.", 'check');
    return undefined;
  }
  if (name === undefined) return { path: resolve(io.cwd, STDIN_DISPLAY), display: STDIN_DISPLAY };
  if (name.trim() === '') throw new UsageError('--stdin-filename needs a file name (got an empty value).', 'check');
  const path = resolve(io.cwd, name);
  return { path, display: displayPath(path, io.cwd) };
}

/**
 * Standard input as a text to check; Ctrl-C (or SIGTERM) while it is read says
 * `coi check: cancelled while reading standard input.` and gives the exit code (130, 143).
 */
async function readStdin(file: FoundFile, io: CliIO): Promise<{ texts: FileText[]; unreadable: number } | number> {
  return withInterrupt(io, async (signal) => {
    try {
      const read = await readStdinFile(file, io, 'check', signal);
      return read === undefined ? { texts: [], unreadable: 1 } : { texts: [read], unreadable: 0 };
    } catch (error) {
      if (!signal.aborted) throw error;
      return reportCancelled(io, 'check', signal, { while: WHILE_READING_STDIN });
    }
  });
}

/** File order, the COI000 note last (it sits at the last listed problem's position). */
function byPosition(a: Diagnostic, b: Diagnostic): number {
  return Number(a.code === LEFT_OUT_CODE) - Number(b.code === LEFT_OUT_CODE) || a.span.start - b.span.start || a.span.end - b.span.end || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
}

function toLines(report: FileReport): string[] {
  return report.diagnostics.map((d) => diagnosticLine(report.file.display, report.lineMap, d));
}

function toJson(report: FileReport): JsonDiagnostic[] {
  return report.diagnostics.map((d) => ({
    file: report.file.display,
    range: report.lineMap.rangeOf(d.span),
    severity: d.severity,
    code: d.code,
    message: d.message,
    ...(d.code === LEFT_OUT_CODE ? { omitted: report.leftOut, total: totalOf(report.counts) } : {}),
  }));
}

/**
 * The summary line: `2 errors, 1 warning in 1 file (3 files checked).`; when standard output
 * stopped before the report had all gone out (`cut`: how the stop is named), `Stopped, standard
 * output closed: 2 errors, 1 warning in 1 file (3 files checked), not all written.`
 */
function summary(reports: readonly FileReport[], errors: number, warnings: number, others: number, unreadable: number, cut: string | undefined): string {
  const said = (text: string): string => (cut === undefined ? `${text}.\n` : `Stopped, ${cut}: ${text}, not all written.\n`);
  const checked = plural(reports.length, 'file') + ' checked';
  const unread = unreadable > 0 ? `, ${plural(unreadable, 'file')} unreadable` : '';
  if (errors + warnings + others === 0) return said(`${checked}${cut === undefined ? ':' : ','} no problems${unread}`);
  const withProblems = reports.filter((r) => totalOf(r.counts) > 0).length;
  const parts = [plural(errors, 'error'), plural(warnings, 'warning')];
  if (others > 0) parts.push(`${others} info/hint${others === 1 ? '' : 's'}`);
  const leftOut = reports.reduce((n, r) => n + r.leftOut, 0);
  const unlisted = leftOut > 0 ? `; ${plural(leftOut, 'problem')} not listed, at most ${MAX_DIAGNOSTICS_PER_DOCUMENT} per file` : '';
  return said(`${parts.join(', ')} in ${plural(withProblems, 'file')} (${checked}${unread}${unlisted})`);
}
