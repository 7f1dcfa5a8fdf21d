/**
 * Options that belong to one subcommand of a command (`coi dataset build --format`) and would
 * be silently ignored by another (`coi dataset stats --format`): such an option is refused
 * (a usage error, exit 2) with where it goes, never ignored — the user meant something by it.
 */
import type { ParsedArgs } from './args';
import { UsageError } from './errors';

/** The subcommand '' is the command itself, run without one (`coi eval FILES`). */
export interface SubcommandOptions<Sub extends string> {
  /** The command: `dataset` for `coi dataset build|stats|convert`. */
  readonly command: string;
  /** The subcommands each option goes with; an option not listed goes with every one. */
  readonly goesWith: Readonly<Record<string, readonly Sub[]>>;
  /** Words added to the refusal of `option` given to `sub`: why, or what `sub` takes instead. */
  readonly hint?: (sub: Sub, option: string) => string | undefined;
}

/** Throws a usage error with one line per option given to `sub` that goes with other subcommands only. */
export function refuseOptionsOfOtherSubcommands<Sub extends string>(sub: Sub, args: ParsedArgs, table: SubcommandOptions<Sub>): void {
  const misplaced = Object.entries(table.goesWith).filter(([option, subs]) => args.has(option) && !subs.includes(sub));
  if (misplaced.length === 0) return;
  throw new UsageError(misplaced.map(([option, subs]) => misplacedOptionLine(sub, option, subs, table)).join('\n'), table.command);
}

/** `--out goes with 'coi dataset build' and 'coi dataset convert', not with 'coi dataset stats'.` */
function misplacedOptionLine<Sub extends string>(sub: Sub, option: string, subs: readonly Sub[], table: SubcommandOptions<Sub>): string {
  const hint = table.hint?.(sub, option);
  const takers = listed(subs.map((s) => subcommandName(table.command, s)));
  return `--${option} goes with ${takers}, not with ${subcommandName(table.command, sub)}${hint === undefined ? '' : ` (${hint})`}.`;
}

function subcommandName(command: string, sub: string): string {
  return `'coi ${command}${sub === '' ? '' : ` ${sub}`}'`;
}

/** `a`, `a and b`, `a, b and c`. */
function listed(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)!}`;
}
