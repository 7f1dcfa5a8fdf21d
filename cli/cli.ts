/**
 * The `coi` dispatcher: `coi [--help|--version]`, `coi help COMMAND`,
 * `coi COMMAND [options] [arguments]`. Returns the exit code; never throws.
 */
import { closest } from '../core/diagnostics';
import { visibleLines } from '../core/records';
import { parseArgs } from './args';
import { commandHelp, HELP_OPTION, type CommandEntry } from './command';
import { commands } from './commands/index';
import { CliError, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, UsageError } from './errors';
import { shownOnTerminal, STDOUT_STOP_EXIT_CODES, stdoutStop, stdoutStopLine, type CliIO } from './io';
import { endingProgressLines } from './statusLine';
import { packageVersion } from './version';

export function mainHelp(registry: readonly CommandEntry[] = commands): string {
  const width = Math.max(...registry.map((c) => c.name.length)) + 2;
  return [
    'coi — author, check and run chains of instructions (.coi files)',
    '',
    'Usage: coi COMMAND [options] [arguments]',
    '',
    'Commands:',
    ...registry.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Options:',
    '  -h, --help     Show this help (or `coi COMMAND --help` for a command).',
    '  --version      Print the version.',
    '',
    'Documentation: docs/cli.md. Set COI_DEBUG=1 to see stack traces of internal errors.',
    '',
  ].join('\n');
}

function findCommand(name: string, registry: readonly CommandEntry[]): CommandEntry {
  const entry = registry.find((c) => c.name === name);
  if (entry !== undefined) return entry;
  const suggestion = closest(name, registry.map((c) => c.name));
  throw new UsageError(`Unknown command '${name}'${suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`}. Run 'coi --help' for the list.`);
}

/**
 * Runs `coi` with `argv` (without `node` and the script). `registry` is for tests. When standard
 * output stopped before the end (`io.stdoutStopped`: its reader went away, `| head`; or a write
 * failed, a full disk), the command has stopped as after a cancel, keeping what finished; a failed
 * write is said in one line when it happens; and the exit code is the stop's, 141 or 74 (but for
 * an internal error).
 */
export async function runCli(argv: readonly string[], given: CliIO, registry: readonly CommandEntry[] = commands): Promise<number> {
  // On a terminal every command's text is shown, not obeyed (a model's reply, a log, a file's strings).
  // A progress line left open on the terminal is ended before an error or any other message.
  const io = endingProgressLines(shownOnTerminal(given));
  const sayStop = (): void => io.stderr(stdoutStopLine(stdoutStop(given)));
  given.stdoutStopped?.addEventListener('abort', sayStop, { once: true });
  try {
    const code = await runCommand(argv, io, registry);
    const stop = stdoutStop(given);
    return stop !== undefined && code !== EXIT_INTERNAL ? STDOUT_STOP_EXIT_CODES[stop.kind] : code;
  } finally {
    given.stdoutStopped?.removeEventListener('abort', sayStop);
  }
}

async function runCommand(argv: readonly string[], io: CliIO, registry: readonly CommandEntry[]): Promise<number> {
  let commandName: string | undefined;
  try {
    const [first, ...rest] = argv;
    if (first === undefined) {
      io.stderr(mainHelp(registry));
      return EXIT_USAGE;
    }
    if (first === '--help' || first === '-h') {
      io.stdout(mainHelp(registry));
      return EXIT_OK;
    }
    if (first === '--version' || first === '-v') {
      io.stdout(`${packageVersion()}\n`);
      return EXIT_OK;
    }
    if (first === 'help') {
      if (rest[0] === undefined || rest[0] === '--help' || rest[0] === '-h') {
        io.stdout(mainHelp(registry));
        return EXIT_OK;
      }
      const entry = findCommand(rest[0], registry);
      io.stdout(commandHelp(entry, await entry.load()));
      return EXIT_OK;
    }
    if (first.startsWith('-')) throw new UsageError(`Unknown option '${first}' before the command. Run 'coi --help'.`);
    const entry = findCommand(first, registry);
    commandName = entry.name;
    const command = await entry.load();
    const options = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
    if (options.includes('--help') || options.includes('-h')) {
      // The first word that is not an option's value (`coi dataset --format paper build --help`: build).
      const takesValue = (o: string | undefined): boolean => o !== undefined && !o.includes('=') && command.options.some((spec) => spec.kind === 'value' && (o === `--${spec.name}` || (spec.short !== undefined && o === `-${spec.short}`)));
      const word = options.find((o, i) => !o.startsWith('-') && !takesValue(options[i - 1]));
      io.stdout((word === undefined ? undefined : command.helpFor?.(word, entry)) ?? commandHelp(entry, command));
      return EXIT_OK;
    }
    const args = parseArgs(rest, [...command.options, HELP_OPTION], entry.name);
    return await command.run({ args, io });
  } catch (err) {
    return reportError(err, io, commandName);
  }
}

function reportError(err: unknown, io: CliIO, commandName: string | undefined): number {
  if (err instanceof UsageError) {
    const command = err.command ?? commandName;
    io.stderr(`coi${command === undefined ? '' : ' ' + command}: ${visibleLines(err.message)}\n`);
    if (command !== undefined) io.stderr(`Run 'coi ${command} --help' for usage.\n`);
    return err.exitCode;
  }
  if (err instanceof CliError) {
    io.stderr(`coi${commandName === undefined ? '' : ' ' + commandName}: ${visibleLines(err.message)}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  io.stderr(`coi: internal error: ${visibleLines(message)}\n`);
  if (io.env['COI_DEBUG'] === '1' && err instanceof Error && err.stack !== undefined) io.stderr(`${err.stack}\n`);
  else io.stderr('This is a bug in coi; set COI_DEBUG=1 to see the stack trace.\n');
  return EXIT_INTERNAL;
}
