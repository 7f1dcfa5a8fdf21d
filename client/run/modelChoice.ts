/**
 * The model a `.coi` file's runs are named by in the editor (the `Running X with …`
 * notification, the model status bar item): pure, without `vscode`, so that it is unit-tested.
 * One rule with the run record and `coi run`'s line: core's runProfile.
 */
import type { Chain } from '../../core/chain';
import { runProfile, stepsGenerated, type RunNaming } from '../../core/runner';

/** A profile of the file, or a model spec (GGUF path, hf: URI, openai:MODEL_ID) for every step. */
export type ModelChoice = { readonly kind: 'profile'; readonly name: string } | { readonly kind: 'spec'; readonly spec: string };

/** A spec's file name, cut to 40 characters: what the status bar and the notification show. */
export function shortName(spec: string): string {
  const last = spec.split(/[\\/]/).pop() ?? spec;
  return last.length > 40 ? `${last.slice(0, 37)}...` : last;
}

/** How a choice is shown: its profile's name, a spec's short name, or `no model`. */
export function choiceLabel(choice: ModelChoice | undefined): string {
  if (choice === undefined) return 'no model';
  return choice.kind === 'profile' ? choice.name : shortName(choice.spec);
}

/**
 * The model a run with `choice` as its default is named by: a spec runs every step, so the
 * spec; a profile is the run's default, and the run is named by runProfile (a stepwise run, its
 * first generated step's profile: the default only when that step names none).
 */
export function runChoice(chain: Chain, choice: ModelChoice | undefined, run: Omit<RunNaming, 'defaultProfile'> = {}): ModelChoice | undefined {
  if (choice?.kind !== 'profile') return choice;
  const name = runProfile(chain, { ...run, defaultProfile: choice.name }) ?? choice.name;
  return name === choice.name ? choice : { kind: 'profile', name };
}

/**
 * The models a whole stepwise run of the file with `chosen` as its default loads, the one it is
 * named by (runChoice) first, then the chosen one when it differs and a step names no profile
 * (so runs on it): the status bar warns of a model file that is not on disk for each.
 */
export function runChoices(chain: Chain, chosen: ModelChoice | undefined): readonly ModelChoice[] {
  const shown = runChoice(chain, chosen);
  if (shown === undefined || chosen === undefined) return [];
  const defaultRuns = shown !== chosen && stepsGenerated(chain).some((step) => step.profile === undefined);
  return defaultRuns ? [shown, chosen] : [shown];
}

/**
 * The model status bar item's tooltip line for a run named by `shown` when `chosen` is its
 * default: when they differ, it says that the default is for the steps that name no profile.
 */
export function runsUseLine(chosen: ModelChoice, shown: ModelChoice): string {
  const uses = `Runs of this file use ${choiceLabel(shown)}`;
  if (choiceLabel(shown) === choiceLabel(chosen)) return `${uses}.`;
  return `${uses} (the first step's model profile; ${choiceLabel(chosen)}, the chosen one, runs the steps that name none).`;
}
