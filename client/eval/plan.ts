/**
 * Pure helpers of the editor's evaluation commands (no `vscode`): what a store
 * holds against what it should, the store folder of a new evaluation, the
 * modes of a pick, and the status bar text. Unit-tested in test/client.
 */
import type { EvalConfig, EvalMode, EvalModelConfig, EvalResult, EvalSource } from '../../core/eval/index';
import type { ModelProfile } from '../../core/chain';
import { profileIdentity } from '../../core/runner';

export type ModeChoice = 'stepwise' | 'composed' | 'both';

export function modesOf(choice: ModeChoice): EvalMode[] {
  return choice === 'both' ? ['stepwise', 'composed'] : [choice];
}

/**
 * Whether an evaluation of this kind of source runs the open chain: this chain's tests and a
 * dataset bound to it do; a records file brings its own chains, so the open `.coi` file is
 * neither checked nor saved (it may be broken, unsaved or another chain altogether).
 */
export function usesChain(kind: EvalSource['kind']): boolean {
  return kind !== 'records';
}

/** `2026-12-05T01-00-00-123Z-NAME`, as `coi eval` names a new store (core/eval/store.ts). */
export { storeFolderName } from '../../core/eval/index';

/** A model of the evaluation as `eval.json` records it: a file's profile, or a model spec. */
export type ModelRequest = { readonly kind: 'profile'; readonly name: string; readonly profile: ModelProfile } | { readonly kind: 'spec'; readonly spec: string; readonly baseUrl?: string; readonly profile: ModelProfile };

/** The same keys and labels as `coi eval`, so a store started in the editor resumes in the terminal and back. */
export function modelConfigOf(request: ModelRequest): EvalModelConfig {
  const { profile } = request;
  const identity = profileIdentity(profile);
  if (request.kind === 'profile') return { key: `profile:${request.name}`, label: request.name, profile: request.name, identity };
  return { key: request.spec, label: request.spec, spec: request.spec, ...(request.baseUrl !== undefined ? { baseUrl: request.baseUrl } : {}), identity };
}

/**
 * The key header the `openai:` models were given (`coi.openai.apiKeyHeader`), kept in
 * `eval.json` by name as `coi eval --api-key-header` keeps it: a resume, here or in the
 * terminal, sends the key as the evaluation did.
 */
export function keptKeyHeader(models: readonly ModelRequest[]): { readonly apiKeyHeader?: string } {
  for (const m of models) {
    if (m.kind === 'spec' && m.profile.provider === 'openai' && m.profile.apiKeyHeader !== undefined) return { apiKeyHeader: m.profile.apiKeyHeader };
  }
  return {};
}

export interface StoreProgress {
  /** items × models × modes. */
  readonly expected: number;
  /** Distinct triples in the store. */
  readonly done: number;
  readonly failures: number;
  /** Some triples are missing: the evaluation was cancelled, stopped or killed. */
  readonly interrupted: boolean;
}

export function storeProgress(config: EvalConfig, results: readonly EvalResult[]): StoreProgress {
  const expected = config.itemCount * config.models.length * config.modes.length;
  const modelKeys = new Set(config.models.map((m) => m.key));
  const modes = new Set<string>(config.modes);
  const seen = new Set<string>();
  let failures = 0;
  for (const result of results) {
    if (!modelKeys.has(result.model) || !modes.has(result.mode)) continue;
    const key = JSON.stringify([result.item, result.model, result.mode]);
    if (seen.has(key)) continue;
    seen.add(key);
    if (result.error !== undefined) failures++;
  }
  return { expected, done: seen.size, failures, interrupted: seen.size < expected };
}

/** The status bar text while an evaluation runs. */
export function statusText(name: string, done: number, total: number, failures: number): string {
  return `$(beaker~spin) Eval ${name}: ${done}/${total}${failures > 0 ? `, ${failures} failed` : ''}`;
}

