/**
 * What a `coi` subcommand is. Each command lives in `cli/commands/<name>.ts` and
 * exports it as `command`; `cli/commands/index.ts` lists them (one line each).
 */
import type { OptionSpec, ParsedArgs } from './args';
import type { CliIO } from './io';

export interface CommandContext {
  readonly args: ParsedArgs;
  readonly io: CliIO;
}

export interface Command {
  readonly name: string;
  /** `coi check [options] FILES...` */
  readonly usage: string;
  /** A paragraph for `--help`, after the summary. */
  readonly description?: string;
  /** The options, without `--help` (every command has it). */
  readonly options: readonly OptionSpec[];
  readonly examples?: readonly string[];
  /** A shorter `--help` for `coi COMMAND WORD --help` (a subcommand's), or undefined for the command's whole help. */
  helpFor?(word: string, entry: CommandEntry): string | undefined;
  /** Runs the command; resolves to the exit code. Throw a `CliError` to stop with a message. */
  run(context: CommandContext): Promise<number>;
}

/** A registry entry: cheap to list (for `coi --help`), loaded only when run. */
export interface CommandEntry {
  readonly name: string;
  /** One line for `coi --help`. */
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

export const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', kind: 'flag', description: 'Show this help.' };

/** The `--help` text of a command. */
export function commandHelp(entry: CommandEntry, command: Command): string {
  const lines = [`coi ${entry.name} — ${entry.summary}`, '', `Usage: ${command.usage}`];
  if (command.description !== undefined) lines.push('', ...wrap(command.description, 78));
  lines.push('', 'Options:', ...optionLines([...command.options, HELP_OPTION]));
  if (command.examples !== undefined && command.examples.length > 0) {
    lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  }
  return lines.join('\n') + '\n';
}

function optionLines(options: readonly OptionSpec[]): string[] {
  const heads = options.map((o) => {
    const value = o.kind === 'value' ? ` ${o.choices?.join('|') ?? o.valueName ?? 'VALUE'}` : '';
    return `${o.short === undefined ? '    ' : `-${o.short}, `}--${o.name}${value}`;
  });
  const width = Math.min(32, Math.max(...heads.map((h) => h.length)) + 2);
  return options.flatMap((o, i) => {
    const head = heads[i] ?? '';
    const text = o.description + (o.defaultValue === undefined ? '' : ` (default: ${o.defaultValue})`);
    const body = wrap(text, 78 - 2 - width);
    const first = head.length + 2 <= width ? `  ${head.padEnd(width)}${body[0] ?? ''}` : `  ${head}\n  ${' '.repeat(width)}${body[0] ?? ''}`;
    return [first, ...body.slice(1).map((l) => `  ${' '.repeat(width)}${l}`)];
  });
}

/** Greedy word wrap; keeps blank lines between paragraphs. */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter((w) => w !== '')) {
      if (line !== '' && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    out.push(line);
  }
  return out;
}
