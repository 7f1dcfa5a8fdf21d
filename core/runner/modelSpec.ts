/**
 * `--model SPEC` and the `coi.defaultModel` setting: one string naming a model,
 * turned into a model profile that replaces the file's profiles.
 *   path/to/model.gguf             a local GGUF file (relative to the working folder)
 *   hf:user/repo:Q4_K_M            a Hugging Face model node-llama-cpp downloads once
 *   openai:MODEL_ID                an OpenAI-compatible endpoint (base URL given apart)
 *   base.gguf?lora=adapter.gguf    a local model with a LoRA adapter GGUF on it (`&scale=0.5`
 *                                  to weaken it; 1 by default), as `lora` in a model profile
 */
import { localModelIdentity, resolveModelPath } from '../backends/local/modelPath';
import type { ModelProfile } from '../chain/model';
import { baseUrlSecretProblem } from '../chain/baseUrl';
import { apiKeyHeaderProblem } from '../chain/apiKeyHeader';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export interface ModelSpecOptions {
  /** For `openai:` specs (default: OpenAI's own API). */
  readonly baseUrl?: string;
  /**
   * Environment variable holding the API key. Without one, OPENAI_API_KEY is read for
   * OpenAI's own API only: another host gets a key only when it is named (core/backends/openai/apiKey.ts).
   */
  readonly apiKeyEnv?: string;
  /** The header the key goes in (--api-key-header; default: api-key for Azure OpenAI hosts, else Authorization as Bearer). */
  readonly apiKeyHeader?: string;
  /** Folder relative GGUF paths resolve against. */
  readonly cwd?: string;
}

const NO_SPAN = { start: 0, end: 0 };

export { isRemoteModelUri } from '../backends/local/modelPath';

/** The profile a model spec stands for; throws with the accepted forms when it is empty. */
export function profileFromModelSpec(spec: string, options: ModelSpecOptions = {}): ModelProfile {
  const trimmed = spec.trim();
  if (trimmed.length === 0) throw new Error('Empty model: give a GGUF file path, an hf: URI or openai:MODEL_ID.');
  if (/^openai:\s*$/i.test(trimmed)) throw new Error('openai: needs a model id: openai:MODEL_ID (e.g. openai:gpt-4o-mini).');
  const openai = /^openai:(.+)$/i.exec(trimmed);
  if (openai !== null) {
    const secret = options.baseUrl === undefined ? undefined : baseUrlSecretProblem(options.baseUrl, 'The base URL', 'name the environment variable that holds the key with --api-key-env VAR instead (in the editor: "CoI: Set API Key")');
    if (secret !== undefined) throw new Error(secret);
    const headerProblem = options.apiKeyHeader === undefined ? undefined : apiKeyHeaderProblem(options.apiKeyHeader, 'The API key header (--api-key-header, coi.openai.apiKeyHeader)');
    if (headerProblem !== undefined) throw new Error(headerProblem);
    return {
      name: trimmed,
      provider: 'openai',
      baseUrl: options.baseUrl ?? OPENAI_DEFAULT_BASE_URL,
      model: openai[1]!.trim(),
      ...(options.apiKeyEnv !== undefined ? { apiKeyEnv: options.apiKeyEnv } : {}),
      ...(options.apiKeyHeader !== undefined ? { apiKeyHeader: options.apiKeyHeader.trim() } : {}),
      sampling: {},
      span: NO_SPAN,
    };
  }
  const { model, lora } = splitLora(trimmed);
  const path = resolveModelPath(model, options.cwd);
  return { name: trimmed, provider: 'local', path, ...(lora === undefined ? {} : { lora: { path: resolveModelPath(lora.path, options.cwd), scale: lora.scale } }), sampling: {}, span: NO_SPAN };
}

/** `base.gguf?lora=adapter.gguf[&scale=S]` → the base and the adapter; a spec without `?lora=` is all model. */
function splitLora(spec: string): { model: string; lora?: { path: string; scale: number } } {
  const at = spec.lastIndexOf('?lora=');
  if (at < 0) return { model: spec };
  const model = spec.slice(0, at).trim();
  if (model === '') throw new Error(`'${spec}': name the base model before ?lora= (base.gguf?lora=adapter.gguf).`);
  const [path = '', ...options] = spec.slice(at + '?lora='.length).split('&');
  if (path.trim() === '') throw new Error(`'${spec}': ?lora= needs the adapter's GGUF file (base.gguf?lora=adapter.gguf).`);
  let scale = 1;
  for (const option of options) {
    const match = /^scale=(.*)$/.exec(option);
    const value = match === null ? NaN : Number(match[1]);
    if (match === null || match[1]?.trim() === '' || !Number.isFinite(value) || value < 0) {
      throw new Error(`'${spec}': after the adapter only &scale=N (a number ≥ 0) may follow, not '${option}'.`);
    }
    scale = value;
  }
  return { model, lora: { path: path.trim(), scale } };
}

/**
 * Which model a profile stands for, as stores and records name it: a local file (with its
 * LoRA adapter, so base and base + adapter are two models), or a model at an endpoint.
 */
/** A model in words, for messages and pickers: "gpt-4o at https://…/v1", "local model ./m.gguf with LoRA adapter a.gguf". */
export function describeProfile(profile: ModelProfile): string {
  if (profile.provider !== 'local') return `${profile.model} at ${profile.baseUrl}`;
  return `local model ${profile.path}${profile.lora === undefined ? '' : ` with LoRA adapter ${profile.lora.path}${profile.lora.scale === 1 ? '' : ` × ${profile.lora.scale}`}`}`;
}

export function profileIdentity(profile: ModelProfile): { backend: string; model: string } {
  if (profile.provider !== 'local') return { backend: 'openai', model: `${profile.model}@${profile.baseUrl}` };
  return { backend: 'local', model: localModelIdentity(profile.path, profile.lora) };
}

/** What the user sees when no model is configured anywhere. */
export function noModelHelp(context: 'cli' | 'editor'): string {
  const lines =
    context === 'cli'
      ? [
          'No model to run with: the file declares no model profile and none was given.',
          'Point coi at a model in one of these ways:',
          '  --model path/to/model.gguf                        a local GGUF file (node-llama-cpp)',
          '  --model hf:bartowski/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M   downloaded once, then cached',
          '  --model openai:MODEL_ID --base-url URL             an OpenAI-compatible server (--api-key-env VAR: its key)',
          '  COI_MODEL=<a --model SPEC above>                   a default for every run (openai: takes --base-url URL too)',
          // One key a line, as the formatter writes it: a profile written on one line does not check (COI505).
          'or add a model profile to the .coi file:',
          '  model local {',
          '    provider local',
          '    path "path/to/model.gguf"',
          '  }',
        ]
      : [
          'No model to run with: this file declares no model profile.',
          'Set "coi.defaultModel" (a GGUF path, an hf: URI or openai:MODEL_ID), run "CoI: Select Model", or add a model profile to the file.',
        ];
  return lines.join('\n');
}

/**
 * A resolver over a chain's model profiles: each step's profile (or `defaultName`)
 * gets one backend, made on first use by `make` and then reused. Throws for a
 * profile the chain does not declare.
 */
export function profileBackendResolver<B>(profiles: readonly ModelProfile[], defaultName: string, make: (profile: ModelProfile) => B): (name: string | undefined) => B {
  const made = new Map<string, B>();
  return (name) => {
    const chosen = name ?? defaultName;
    let backend = made.get(chosen);
    if (backend === undefined) {
      const profile = profiles.find((p) => p.name === chosen);
      if (profile === undefined) throw new Error(`No model profile '${chosen}' in the file.`);
      backend = make(profile);
      made.set(chosen, backend);
    }
    return backend;
  };
}
