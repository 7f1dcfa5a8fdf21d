/**
 * Backends from a chain's model profile. Local profiles share one worker
 * process per worker script in this process (models stay loaded between runs);
 * OpenAI-compatible profiles get an SDK client each.
 */
import { resolve } from 'node:path';
import type { ModelProfile } from '../chain/model';
import { LocalBackend } from './local/localBackend';
import { resolveModelPath } from './local/modelPath';
import type { DownloadProgress, GpuSetting, WorkerInfo } from './local/protocol';
import { WorkerHost } from './local/workerHost';
import { apiKeyEnvFor, resolveApiKey } from './openai/apiKey';
import { OpenAIBackend, type OpenAIBackendOptions } from './openai/openaiBackend';
import type { ModelBackend } from './types';

export * from './types';
export { LocalBackend } from './local/localBackend';
export { WorkerHost } from './local/workerHost';
export { describeRetry, formatDuration, OpenAIBackend, type RetryInfo } from './openai/openaiBackend';
export { checkConstraint, constraintHint, parseListOutput } from './constraints';
export { isRemoteModelUri, resolveModelPath } from './local/modelPath';
export { modelFileProblem, type ModelFileProblem } from './local/modelFile';
export type { DownloadProgress, GpuSetting, LocalModelSettings, WorkerInfo } from './local/protocol';

/** Options handed unchanged to each OpenAI-compatible backend. */
type OpenAIPassThrough = Pick<OpenAIBackendOptions, 'organization' | 'headers' | 'query' | 'retry' | 'timeoutMs' | 'structuredOutput' | 'onRetry'>;

export interface BackendFactoryOptions extends OpenAIPassThrough {
  /** The worker script (dist/worker.js); needed for local profiles. */
  readonly workerPath?: string;
  /** API key for OpenAI-compatible profiles (the caller reads it from SecretStorage or the environment). */
  readonly apiKey?: string;
  /** Looked up for a profile's `apiKeyEnv` when no apiKey is given (the CLI passes process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Folder where `hf:` models are downloaded (node-llama-cpp's default when unset). */
  readonly modelsDir?: string;
  /** A model download that receives nothing for this long fails (default 30 s). */
  readonly downloadStallMs?: number;
  /** Base folder for relative GGUF paths (the .coi file's folder). */
  readonly baseDir?: string;
  /** Defaults for local settings a profile leaves unset (the profile wins). */
  readonly threads?: number;
  readonly gpu?: GpuSetting;
  readonly contextSize?: number;
  /** Keep evaluated prompt prefixes between requests (default true). */
  readonly reusePrefix?: boolean;
  /** Stop the worker after this long idle (default 5 minutes). */
  readonly idleTimeoutMs?: number;
  readonly onWorkerLog?: (line: string) => void;
  readonly onDownloadProgress?: (progress: DownloadProgress) => void;
}

const sharedHosts = new Map<string, WorkerHost>();

/** The worker host for this worker script, started lazily and shared in this process. */
export function sharedWorkerHost(workerPath: string, options: Pick<BackendFactoryOptions, 'idleTimeoutMs' | 'onWorkerLog'> = {}): WorkerHost {
  let host = sharedHosts.get(workerPath);
  if (!host) {
    host = new WorkerHost({
      workerPath,
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      ...(options.onWorkerLog ? { onLog: options.onWorkerLog } : {}),
    });
    sharedHosts.set(workerPath, host);
  }
  return host;
}

/** Stops every shared worker (extension deactivation, end of a CLI run). */
export async function disposeSharedWorkerHosts(): Promise<void> {
  const hosts = [...sharedHosts.values()];
  sharedHosts.clear();
  await Promise.all(hosts.map((h) => h.dispose()));
}

export function createBackend(profile: ModelProfile, options: BackendFactoryOptions = {}): ModelBackend {
  if (profile.provider === 'local') {
    if (!options.workerPath) throw new Error('createBackend: a local model profile needs options.workerPath (dist/worker.js).');
    const path = resolveModelPath(profile.path, options.baseDir);
    const threads = profile.threads ?? options.threads;
    const gpu = profile.gpu ?? options.gpu;
    const contextSize = profile.contextSize ?? options.contextSize;
    return new LocalBackend({
      host: sharedWorkerHost(options.workerPath, options),
      model: {
        path,
        ...(options.modelsDir !== undefined ? { modelsDir: options.modelsDir } : {}),
        ...(options.downloadStallMs !== undefined ? { downloadStallMs: options.downloadStallMs } : {}),
        ...(gpu !== undefined ? { gpu } : {}),
        ...(profile.gpuLayers !== undefined ? { gpuLayers: profile.gpuLayers } : {}),
        ...(threads !== undefined ? { threads } : {}),
        ...(contextSize !== undefined ? { contextSize } : {}),
        ...(profile.lora !== undefined ? { lora: { path: resolve(options.baseDir ?? process.cwd(), profile.lora.path), scale: profile.lora.scale } } : {}),
        ...(options.reusePrefix !== undefined ? { reusePrefix: options.reusePrefix } : {}),
      },
      defaults: profile.sampling,
      ...(options.onDownloadProgress ? { onDownloadProgress: options.onDownloadProgress } : {}),
    });
  }
  const apiKey = resolveApiKey(profile, options.env, options.apiKey);
  const apiKeyEnv = apiKeyEnvFor(profile);
  return new OpenAIBackend({
    baseURL: profile.baseUrl,
    model: profile.model,
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(apiKeyEnv !== undefined ? { apiKeyEnv } : {}),
    ...(profile.apiKeyHeader !== undefined ? { apiKeyHeader: profile.apiKeyHeader } : {}),
    ...(options.organization !== undefined ? { organization: options.organization } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.query ? { query: options.query } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.structuredOutput !== undefined ? { structuredOutput: options.structuredOutput } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    defaults: profile.sampling,
  });
}

/** What a local profile's worker chose (GPU, devices, VRAM), for the UI; undefined for remote backends. */
export function describeLocalBackend(backend: ModelBackend): Promise<WorkerInfo> | undefined {
  return backend.describe?.();
}

// What the adapters (client, server, CLI) use from this folder.
export { apiKeyEnvFor, missingApiKeyProblem, resolveApiKey, withoutApiKey } from './openai/apiKey';
