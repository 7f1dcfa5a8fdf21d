/** Reading syntax-tree values (`Value`) as the checker and chain builder need them. */
import type { Value } from '../syntax/ast';
import type { DiagnosticSink } from '../syntax/diagnosticCap';
import { textOf } from '../syntax/visit';
import { diagnostic, type CheckCode } from '../diagnostics/codes';

/** The text of a scalar value (string, word, number, boolean); undefined for lists. */
export function scalarText(value: Value): string | undefined {
  switch (value.kind) {
    case 'string':
    case 'word':
      return value.value;
    case 'number':
      return value.raw;
    case 'boolean':
      return String(value.value);
    case 'list':
      return undefined;
  }
}

/** How a message names a value: `"abc"`, `3`, `true`, `fr`, `a list`. */
export function describeValue(value: Value): string {
  switch (value.kind) {
    case 'string':
      return JSON.stringify(value.value.length > 40 ? `${value.value.slice(0, 40)}…` : value.value);
    case 'word':
      return `'${value.value}'`;
    case 'number':
      return value.raw;
    case 'boolean':
      return String(value.value);
    case 'list':
      return 'a list';
  }
}

export interface NumberRule {
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** Exclusive lower bound. */
  readonly above?: number;
}

function describeRule(rule: NumberRule): string {
  const kind = rule.integer ? 'an integer' : 'a number';
  if (rule.above !== undefined && rule.max !== undefined) return `${kind} greater than ${rule.above} and at most ${rule.max}`;
  if (rule.min !== undefined && rule.max !== undefined) return `${kind} from ${rule.min} to ${rule.max}`;
  if (rule.min !== undefined) return `${kind} of at least ${rule.min}`;
  if (rule.above !== undefined) return `${kind} greater than ${rule.above}`;
  return kind;
}

/**
 * The number of `value` when it satisfies `rule`; otherwise reports `code` on
 * the value ("'max_words' must be an integer of at least 1, not -3.") and
 * returns undefined.
 */
export function readNumber(value: Value, rule: NumberRule, what: string, code: CheckCode, out: DiagnosticSink): number | undefined {
  const ok =
    value.kind === 'number' &&
    (!rule.integer || Number.isInteger(value.value)) &&
    (rule.min === undefined || value.value >= rule.min) &&
    (rule.max === undefined || value.value <= rule.max) &&
    (rule.above === undefined || value.value > rule.above);
  if (ok) return value.value;
  out.push(diagnostic(code, value.span, `${what} must be ${describeRule(rule)}, not ${describeValue(value)}.`));
  return undefined;
}

/** A boolean value, or a report. */
export function readBoolean(value: Value, what: string, code: CheckCode, out: DiagnosticSink): boolean | undefined {
  if (value.kind === 'boolean') return value.value;
  out.push(diagnostic(code, value.span, `${what} must be true or false, not ${describeValue(value)}.`));
  return undefined;
}

/** A string or bare word, or a report. */
export function readText(value: Value, what: string, code: CheckCode, out: DiagnosticSink): string | undefined {
  const text = textOf(value);
  if (text !== undefined) return text;
  out.push(diagnostic(code, value.span, `${what} must be a string, not ${describeValue(value)}.`));
  return undefined;
}

/** One of `choices` (a word or string), or a report naming the choices. */
export function readChoice<T extends string>(value: Value, choices: readonly T[], what: string, code: CheckCode, out: DiagnosticSink): T | undefined {
  const text = textOf(value);
  if (text !== undefined && (choices as readonly string[]).includes(text)) return text as T;
  out.push(diagnostic(code, value.span, `${what} must be one of ${choices.join(', ')}, not ${describeValue(value)}.`, { data: { choices } }));
  return undefined;
}
