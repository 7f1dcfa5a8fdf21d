/**
 * Which steps a run generates, and so which chain inputs it needs: one rule for `coi run`,
 * the editor's runs, `coi test` and the check of a test's givens (COI403), an evaluation
 * dataset's columns, and the model profiles checked before a run.
 */
import type { Chain, ChainInput, ChainStep } from './model';

/** What decides the steps a run generates (the fields of the runner's RunOptions of that name). */
export interface RunScope {
  /** The last step it runs ("run to here", `coi run --to`); none: every step. */
  readonly stopAfter?: string | undefined;
  /** The steps given instead of generated (their outputs, by step id). */
  readonly pinned?: Readonly<Record<string, string>> | undefined;
}

/**
 * The steps a run up to `stopAfter` reaches (every step without it), for the checks made
 * before a run; an unknown `stopAfter` counts every step (the run itself refuses it).
 */
export function stepsUpTo(chain: Chain, stopAfter: string | undefined): readonly ChainStep[] {
  const last = stopAfter === undefined ? -1 : chain.steps.findIndex((s) => s.id === stopAfter);
  return last < 0 ? chain.steps : chain.steps.slice(0, last + 1);
}

/**
 * The steps a run generates: those up to `stopAfter` (stepsUpTo) less the `pinned` ones (given,
 * not generated; a composed run takes no pins). A step before `rerunFrom` is not pinned: it comes
 * from the step cache, whose key holds its prompt and its model, or is generated when it is not
 * there, so it counts.
 */
export function stepsGenerated(chain: Chain, run: RunScope = {}): readonly ChainStep[] {
  return stepsUpTo(chain, run.stopAfter).filter((step) => run.pinned?.[step.id] === undefined);
}

/**
 * The chain inputs a run needs: the ones read (their `from`, or the first input by default) by the
 * steps it generates (stepsGenerated), in the chain's order. An input that no step reads is not
 * needed (the checker warns of it, COI207), nor one that only pinned steps or steps after
 * `stopAfter` read. Without a scope: the inputs a whole run needs, which a `test` block must give
 * (COI403) and an evaluation dataset's rows must hold.
 */
export function inputsNeeded(chain: Chain, run: RunScope = {}): readonly ChainInput[] {
  const read = new Set(stepsGenerated(chain, run).flatMap((step) => step.sources.flatMap((source) => (source.kind === 'input' ? [source.name] : []))));
  return chain.inputs.filter((input) => read.has(input.name));
}
