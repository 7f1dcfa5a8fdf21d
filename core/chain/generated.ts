/**
 * Which steps a run generates, and so which chain inputs it needs: one rule for `coi run`,
 * the editor's runs, `coi test` and the check of a test's givens (COI403), an evaluation
 * dataset's columns, and the model profiles checked before a run; and which profile names a
 * run (runProfile): one rule for its record, `coi run`'s `Running … with` line and the editor's.
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

/** What decides the profile that names a run: its scope, its mode and its default profile. */
export interface RunNaming extends RunScope {
  /** Stepwise (one call per step, the default) or composed (one generation of the whole chain). */
  readonly mode?: 'stepwise' | 'composed' | undefined;
  /** The profile a step without `model NAME` runs on (`coi run --profile`, the editor's pick); none: the chain's first. */
  readonly defaultProfile?: string | undefined;
}

/**
 * The profile that names a run (undefined: its default profile): the one its record's `backend`
 * and `model` are of, that `coi run`'s `Running … with` line and the editor's notification and
 * model status bar item show. Stepwise: the profile of the first step it generates (stepsGenerated),
 * its own `model NAME` else the default, so that the name is always of a model the run calls
 * first and never of a default no step runs on; no step generated (all pinned): the default.
 * Composed: the one profile its generation runs on (composedProfileOf).
 */
export function runProfile(chain: Chain, run: RunNaming = {}): string | undefined {
  if (run.mode === 'composed') return composedProfileOf(stepsUpTo(chain, run.stopAfter), run.defaultProfile ?? chain.defaultProfile).profile;
  return stepsGenerated(chain, run)[0]?.profile;
}

/**
 * The profile of a composed run of these steps (undefined: the default, `fallback`): one generation
 * runs on one model, so the steps' profile when they all resolve to the same one (a step naming
 * none resolves to `fallback`), else the default; `disagree`: they resolve to different profiles
 * (the run says so in a record warning).
 */
export function composedProfileOf(steps: readonly ChainStep[], fallback: string | undefined): { readonly profile: string | undefined; readonly disagree: boolean } {
  // No step names a profile: the run's default (see ChainRun.backendFor).
  if (steps.every((step) => step.profile === undefined)) return { profile: undefined, disagree: false };
  const names = new Set(steps.map((step) => step.profile ?? fallback));
  if (names.size === 1) return { profile: steps[0]!.profile ?? fallback, disagree: false };
  return { profile: undefined, disagree: true };
}
