/** Building an evaluation's configuration (`eval.json`) with its hashes. */
import { configHashOf, dataHashOf, itemFingerprint } from './store';
import type { EvalConfig, EvalItem, EvalMode, EvalModelConfig, EvalRunSettings, EvalSource } from './types';
import type { PromptTemplate } from '../runner/prompt';
import { DEFAULT_SEED } from './bootstrap';

export interface EvalConfigInput {
  readonly name: string;
  readonly source: EvalSource;
  readonly models: readonly EvalModelConfig[];
  readonly modes: readonly EvalMode[];
  readonly template: PromptTemplate;
  readonly items: readonly EvalItem[];
  readonly seed?: number;
  readonly toolVersion: string;
  readonly settings?: EvalRunSettings;
  /** Default: now. */
  readonly createdAt?: string;
}

export function createEvalConfig(input: EvalConfigInput): EvalConfig {
  const keys = new Set<string>();
  for (const model of input.models) {
    if (keys.has(model.key)) throw new RangeError(`The model ${model.label} is given twice.`);
    keys.add(model.key);
  }
  const ids = new Set<string>();
  for (const item of input.items) {
    if (ids.has(item.id)) throw new RangeError(`Two items have the id "${item.id}".`);
    ids.add(item.id);
  }
  const base = { source: input.source, models: input.models, modes: input.modes, template: input.template };
  return {
    version: 1,
    name: input.name,
    ...base,
    seed: input.seed ?? DEFAULT_SEED,
    configHash: configHashOf(base),
    dataHash: dataHashOf(input.items),
    itemCount: input.items.length,
    itemFingerprints: Object.fromEntries(input.items.map((item) => [item.id, itemFingerprint(item)])),
    createdAt: input.createdAt ?? new Date().toISOString(),
    tool: { name: 'coi', version: input.toolVersion },
    ...(input.settings !== undefined ? { settings: input.settings } : {}),
  };
}
