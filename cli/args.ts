/**
 * Hand-written command-line parsing: `--name value`, `--name=value`, `-x value`,
 * flags, repeated options, and `--` to end options. A value that starts with '-' goes after
 * '=' (`--sbatch-arg=--qos=high`), unless it is a negative number (`--max-steps -1`). Unknown options and missing
 * values are usage errors that name the option.
 */
import { closest } from '../core/diagnostics';
import { UsageError } from './errors';

export interface OptionSpec {
  /** Long name without the dashes: `format` for `--format`. */
  readonly name: string;
  /** One-letter alias without the dash: `o` for `-o`. */
  readonly short?: string;
  /** A flag takes no value; a value option takes one. */
  readonly kind: 'flag' | 'value';
  /** Shown in help: `--format FORMAT`. A path's (see PATH_VALUE_NAMES) may not be empty. */
  readonly valueName?: string;
  /** The allowed values, when closed. */
  readonly choices?: readonly string[];
  readonly description: string;
  /** Shown in help as "(default: ...)". */
  readonly defaultValue?: string;
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  /** Whether a flag (or a value option) was given. */
  has(name: string): boolean;
  /** The last value given for an option. */
  value(name: string): string | undefined;
  /** Every value given for an option, in order. */
  values(name: string): readonly string[];
}

/**
 * The value names of options that take a path. An empty one (`--out=`, `--test-set ''`) is a
 * usage error naming the option: taken as is it would mean the working directory, or a
 * message about something else ("is a directory").
 */
export const PATH_VALUE_NAMES: ReadonlySet<string> = new Set(['FILE', 'DIR', 'PATH', 'OUT.coi', 'GGUF', 'STORE']);

export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[], command: string): ParsedArgs {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short !== undefined).map((s) => [s.short as string, s]));
  const seen = new Map<string, string[]>();
  const positionals: string[] = [];
  const record = (spec: OptionSpec, value: string): void => {
    if (spec.choices !== undefined && !spec.choices.includes(value)) {
      throw new UsageError(`--${spec.name} must be one of ${spec.choices.join(', ')} (got '${value}').`, command);
    }
    if (value === '' && PATH_VALUE_NAMES.has(spec.valueName ?? '')) {
      throw new UsageError(`--${spec.name} needs a path (${spec.valueName}), not an empty value.`, command);
    }
    seen.set(spec.name, [...(seen.get(spec.name) ?? []), value]);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const eq = long ? arg.indexOf('=') : -1;
    const name = long ? arg.slice(2, eq >= 0 ? eq : undefined) : arg.slice(1);
    const spec = long ? byLong.get(name) : byShort.get(name);
    if (spec === undefined) {
      const suggestion = long ? closest(name, [...byLong.keys()]) : undefined;
      throw new UsageError(`Unknown option '${long ? '--' + name : arg}'${suggestion === undefined ? '' : ` (did you mean --${suggestion}?)`}.`, command);
    }
    if (spec.kind === 'flag') {
      if (eq >= 0) throw new UsageError(`Option --${spec.name} takes no value.`, command);
      record(spec, 'true');
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || (value.startsWith('-') && value !== '-' && !isNegativeNumber(value, byShort))) {
        const isOption = value === undefined || byLong.has(value.slice(2).split('=')[0] ?? '') || byShort.has(value.slice(1));
        const example = /\s/.test(value ?? '') ? `"--${spec.name}=${value}"` : `--${spec.name}=${value}`;
        const dash = isOption ? '' : ` A value that starts with '-' goes after '=': ${example}.`;
        throw new UsageError(`Option --${spec.name} needs a value${spec.valueName === undefined ? '' : ` (${spec.valueName})`}.${dash}`, command);
      }
      i++;
    }
    record(spec, value);
  }
  return {
    positionals,
    has: (name) => seen.has(name),
    value: (name) => singleValue(name, seen.get(name), command),
    values: (name) => seen.get(name) ?? [],
  };
}

/**
 * A negative number (`-1`, `-0.5`, `-.5`, `-2e-4`) after an option that takes a value is its
 * value: `--max-steps -1` is checked as `--max-steps=-1` is (and refused with its range), not
 * taken for an option. It cannot be one: short options are letters (one that were a digit would
 * keep `-1` an option). Any other word starting with '-' still goes after '=' (`--sbatch-arg=--qos=high`).
 */
function isNegativeNumber(word: string, byShort: ReadonlyMap<string, OptionSpec>): boolean {
  return word.startsWith('-') && DECIMAL_NUMBER.test(word) && !byShort.has(word.slice(1, 2));
}

/**
 * An option read as one value (not a repeatable one, read with `values`) given several
 * times with different values is a usage error: `--mode stepwise --mode composed` is not
 * silently the last one. The same value twice is harmless.
 */
function singleValue(name: string, given: readonly string[] | undefined, command: string): string | undefined {
  if (given !== undefined && new Set(given).size > 1) {
    throw new UsageError(`--${name} is given ${given.length} times with different values (${given.map((v) => `'${v}'`).join(', ')}): give it once.`, command);
  }
  return given?.at(-1);
}


/**
 * A number as written in decimal: digits with an optional sign, decimal point and exponent
 * (`3`, `-1`, `0.5`, `.5`, `2e-4`). Not what else Number() reads (`0x10`, `0b10`, `0o10`,
 * `Infinity`, blanks around it), which would silently mean something else (`--epochs 0x10`: 16).
 */
const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/**
 * Parses a number option, or throws a usage error naming it and its range. `exclusiveMin`:
 * the minimum itself is refused (an epoch count or a learning rate of 0 trains nothing).
 */
export function numberOption(args: ParsedArgs, name: string, command: string, range: { min: number; max: number; integer?: boolean; exclusiveMin?: boolean }): number | undefined {
  const raw = args.value(name);
  if (raw === undefined) return undefined;
  const decimal = DECIMAL_NUMBER.test(raw);
  const value = decimal ? Number(raw) : NaN;
  const belowMin = range.exclusiveMin === true ? value <= range.min : value < range.min;
  if (!Number.isFinite(value) || belowMin || value > range.max || (range.integer === true && !Number.isInteger(value))) {
    const what = range.integer === true ? 'a whole number' : 'a number';
    const unbounded = range.max >= Number.MAX_SAFE_INTEGER;
    const upTo = range.exclusiveMin === true ? ` greater than ${range.min}${unbounded ? '' : ` and at most ${range.max}`}` : unbounded ? ` of at least ${range.min}` : ` from ${range.min} to ${range.max}`;
    // "at least 0" does not say what is wrong with 1e99: say it. Nor does a range say what is wrong with 0x10.
    const why = !decimal && raw.trim() !== '' && !Number.isNaN(Number(raw)) ? ', not a decimal number' : unbounded && !Number.isNaN(value) && value > range.max ? ', too large' : '';
    throw new UsageError(`--${name} must be ${what}${upTo} (got '${raw}'${why}).`, command);
  }
  return value;
}
