/**
 * How test expectations compare a step's output with an expected text. The checker
 * (COI408: can the expectation ever pass?) and the run-time evaluation
 * (core/expectations) both use these, so a check never calls impossible what a run
 * would pass: `equals` compares trimmed texts; `label` and `one_of` also ignore case.
 */

/** `equals`: the texts agree once surrounding whitespace is trimmed. */
export function equalsMatches(actual: string, expected: string): boolean {
  return actual.trim() === expected.trim();
}

/** `label` and `one_of`: the texts agree trimmed and ignoring case. */
export function labelMatches(actual: string, expected: string): boolean {
  return actual.trim().toLowerCase() === expected.trim().toLowerCase();
}
