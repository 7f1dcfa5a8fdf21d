/**
 * "Can this chain run?" — the one decision `coi run`, `coi test`, *Run Chain* and the
 * Testing view share. A chain runs when its full check has no errors, composability
 * included: a label fed into a step that needs a passage (COI301) is an error whether
 * or not the editor shows composability findings, so the editor never runs what the
 * CLI refuses.
 */
import type { Diagnostic } from '../syntax/ast';
import { checkDocument, type CheckOptions, type CheckResult } from './index';

export interface RunnableCheck extends CheckResult {
  /** The errors that stop the chain from running, in file order (empty: it can run). */
  readonly blocking: readonly Diagnostic[];
}

/** Checks `text` as a run needs it: every check on, whatever the editor's composability settings. */
export function checkForRun(text: string, options: Omit<CheckOptions, 'composability'> = {}): RunnableCheck {
  const result = checkDocument(text, options);
  return { ...result, blocking: runBlockers(result.diagnostics) };
}

/** The diagnostics that stop a run: the errors (warnings never do). */
export function runBlockers(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return diagnostics.filter((d) => d.severity === 'error');
}

/**
 * The composability analysis' errors (COI3xx, e.g. COI301: a label fed to a step that needs a
 * passage): findings about what the chain asks of its steps, not a broken file. `coi run` refuses
 * them; an evaluation or a training set takes such a chain as the paper's data has a few, and
 * flags it (`coi eval`, `coi dataset build`).
 */
export function composabilityErrors(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return diagnostics.filter((d) => d.severity === 'error' && d.code.startsWith('COI3'));
}
