/**
 * How test expectations compare a step's output with an expected text. The checker
 * (COI408: can the expectation ever pass?) and the run-time evaluation
 * (core/expectations) both use these, so a check never calls impossible what a run
 * would pass. `equals` compares values by the target's contract (numbers as numbers,
 * true/false ignoring case, JSON as parsed values) and other outputs as trimmed texts;
 * `label` and `one_of` compare trimmed texts ignoring case.
 */
import type { Contract } from './model';

/**
 * `equals`: the output and the expected text are the same value for the target's contract.
 * A side that cannot be read as that contract's value (a pinned output, say) is compared as text.
 */
export function equalsMatches(actual: string, expected: string, kind: Contract['kind']): boolean {
  switch (kind) {
    case 'number': {
      const [a, e] = [numberValue(actual), numberValue(expected)];
      if (a !== undefined && e !== undefined) return a === e;
      break;
    }
    case 'boolean': {
      const [a, e] = [booleanValue(actual), booleanValue(expected)];
      if (a !== undefined && e !== undefined) return a === e;
      break;
    }
    case 'json': {
      const [a, e] = [jsonValue(actual), jsonValue(expected)];
      if (a.ok && e.ok) return sameJson(a.value, e.value);
      break;
    }
    default:
      break;
  }
  return actual.trim() === expected.trim();
}

/** `label` and `one_of`: the texts agree trimmed and ignoring case. */
export function labelMatches(actual: string, expected: string): boolean {
  return actual.trim().toLowerCase() === expected.trim().toLowerCase();
}

/** A text read as a number, as `equals` reads it on a `number` contract; undefined when it is none. */
export function numberValue(text: string): number | undefined {
  const trimmed = text.trim();
  const n = trimmed === '' ? NaN : Number(trimmed);
  return Number.isFinite(n) ? n : undefined;
}

/** A text read as true or false (any case), as `equals` reads it on a `boolean` contract. */
export function booleanValue(text: string): boolean | undefined {
  const word = text.trim().toLowerCase();
  return word === 'true' ? true : word === 'false' ? false : undefined;
}

/** A text read as JSON, as `equals` reads it on a `json` contract. */
export function jsonValue(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** Deep equality of parsed JSON: objects whatever their key order, arrays in order. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  }
  const aKeys = Object.keys(a);
  const bRecord = b as Record<string, unknown>;
  return aKeys.length === Object.keys(b).length && aKeys.every((key) => Object.hasOwn(bRecord, key) && sameJson((a as Record<string, unknown>)[key], bRecord[key]));
}
