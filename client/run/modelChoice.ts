/**
 * The model a `.coi` file's runs are named by in the editor (the `Running X with …`
 * notification, the model status bar item, `CoI: Show Model Info`): pure, without `vscode`, so
 * that it is unit-tested. One rule with the run record and `coi run`'s line: core's runProfile.
 */
import type { Chain } from '../../core/chain';
import { runProfile, stepsGenerated, type RunNaming } from '../../core/runner';

/** A profile of the file, or a model spec (GGUF path, hf: URI, openai:MODEL_ID) for every step. */
export type ModelChoice = { readonly kind: 'profile'; readonly name: string } | { readonly kind: 'spec'; readonly spec: string };

/** Where a file's chosen model comes from: `CoI: Select Model` for this file, the file's first profile, `coi.defaultModel`. */
export type ChoiceSource = 'selected' | 'file' | 'setting';

/** The model a file's runs default to (the profile of the steps that name none, or a spec for every step), and its source. */
export interface ChosenModel {
  readonly choice: ModelChoice;
  readonly source: ChoiceSource;
}

/**
 * The chosen model of a file: the one picked for it with `CoI: Select Model` (a profile only
 * while the file still has it), else the file's first profile, else the `coi.defaultModel` spec.
 */
export function chosenModel(chain: Chain, picked: ModelChoice | undefined, defaultModel: string | undefined): ChosenModel | undefined {
  if (picked?.kind === 'spec' || (picked?.kind === 'profile' && chain.profiles.some((p) => p.name === picked.name))) return { choice: picked, source: 'selected' };
  if (chain.defaultProfile !== undefined) return { choice: { kind: 'profile', name: chain.defaultProfile }, source: 'file' };
  return defaultModel !== undefined ? { choice: { kind: 'spec', spec: defaultModel }, source: 'setting' } : undefined;
}

/** The model a run is named by (runChoice), and why: the `model NAME` of `step`, else the chosen model's source. */
export interface RunModel {
  readonly choice: ModelChoice;
  readonly source: ChoiceSource | 'step';
  /** With source `step`: the first step the run generates, which names the profile. */
  readonly step?: string;
}

/**
 * The model a plain run of the file (`CoI: Run Chain`: stepwise, every step, the document's
 * pinned step outputs given) is named by and loads first: what the model status bar item and
 * `CoI: Show Model Info` describe. The same rule as that run's notification (runChoice), so a
 * pinned step is not the one that names it.
 */
export function runModel(chain: Chain, chosen: ChosenModel | undefined, pinned: Readonly<Record<string, string>> = {}): RunModel | undefined {
  const choice = runChoice(chain, chosen?.choice, { pinned });
  if (chosen === undefined || choice === undefined) return undefined;
  // A stepwise run is named by its first generated step's own `model NAME` (runProfile) when the default is a profile; a spec runs every step.
  const first = chosen.choice.kind === 'profile' ? stepsGenerated(chain, { pinned })[0] : undefined;
  return first?.profile !== undefined ? { choice, source: 'step', step: first.id } : { choice, source: chosen.source };
}

/** Where a run's model comes from, in words: `the model profile of step s1, the first step a run generates`, `selected for this file`, … */
export function sourceText(run: RunModel): string {
  if (run.source === 'step') return `the model profile of step ${run.step ?? '?'}, the first step a run generates`;
  return { selected: 'selected for this file', file: "the file's first model profile", setting: 'the coi.defaultModel setting' }[run.source];
}

/** `CoI: Show Model Info`'s name for the model: its label and where it comes from, `api (selected for this file)`. */
export function modelInfoLabel(run: RunModel): string {
  return `${choiceLabel(run.choice)} (${sourceText(run)})`;
}

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
 * The models a plain run of the file (runModel: every step, the document's `pinned` outputs
 * given) with `chosen` as its default loads, the one it is named by first, then the chosen one
 * when it differs and a generated step names no profile (so runs on it): the status bar warns
 * of a model file that is not on disk for each.
 */
export function runChoices(chain: Chain, chosen: ModelChoice | undefined, pinned: Readonly<Record<string, string>> = {}): readonly ModelChoice[] {
  const shown = runChoice(chain, chosen, { pinned });
  if (shown === undefined || chosen === undefined) return [];
  const defaultRuns = shown !== chosen && stepsGenerated(chain, { pinned }).some((step) => step.profile === undefined);
  return defaultRuns ? [shown, chosen] : [shown];
}

/**
 * The model status bar item's tooltip line for a plain run named by `run` when `chosen` is its
 * default: where the model comes from and, when a step's profile names it and the chosen one
 * differs, that the chosen one is for the steps that name no profile.
 */
export function runsUseLine(chosen: ChosenModel, run: RunModel): string {
  const uses = `Runs of this file use ${choiceLabel(run.choice)} (${sourceText(run)}`;
  if (choiceLabel(run.choice) === choiceLabel(chosen.choice)) return `${uses}).`;
  return `${uses}; ${choiceLabel(chosen.choice)}, ${sourceText({ choice: chosen.choice, source: chosen.source })}, runs the steps that name none).`;
}
