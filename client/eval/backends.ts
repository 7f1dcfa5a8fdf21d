/**
 * The models of an evaluation started in the editor, as core/eval's plans:
 * backends made the way the run commands make them (API keys from
 * SecretStorage or the environment, local models through the client's shared
 * worker host, the `coi.local.*` settings), each made once and disposed when
 * the evaluation ends.
 */
import * as vscode from 'vscode';
import { createBackend, describeRetry, type BackendFactoryOptions, type ModelBackend, type RetryInfo } from '../../core/backends';
import type { Chain, ModelProfile } from '../../core/chain';
import { endpointPool, type EvalModelPlan } from '../../core/eval/index';
import { describeProfile, profileBackendResolver, type BackendResolver } from '../../core/runner';
import type { ApiKeys } from '../run/apiKeys';
import { runSettings } from '../run/settings';
import { modelConfigOf, type ModelRequest } from './plan';

/** Items at once on an OpenAI-compatible model (as `coi eval --concurrency` defaults); local models run one at a time. */
export const OPENAI_CONCURRENCY = 4;

export interface EvalBackends {
  readonly plans: readonly EvalModelPlan[];
  dispose(): Promise<void>;
}

/**
 * `concurrency`: items at once on each OpenAI-compatible model (the store's, on a resume);
 * `endpoints`: more servers of each `openai:` model (a store's `coi eval --endpoint`), its
 * items spread over them and its base URL as `coi eval` spreads them;
 * `onRetry`: a remote model's retry in words (a rate limit being waited out), and how long it waits.
 */
export function evalBackends(context: vscode.ExtensionContext, apiKeys: ApiKeys, requests: readonly ModelRequest[], scope: vscode.Uri, baseDir: string, concurrency: number, endpoints: readonly string[] | undefined, onRetry?: (line: string, waitMs: number) => void): EvalBackends {
  const settings = runSettings(scope);
  const factory: BackendFactoryOptions = {
    workerPath: context.asAbsolutePath('dist/worker.js'),
    baseDir,
    ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
    ...(settings.gpu !== undefined ? { gpu: settings.gpu } : {}),
    ...(settings.contextSize !== undefined ? { contextSize: settings.contextSize } : {}),
    ...(settings.modelsDir !== undefined ? { modelsDir: settings.modelsDir } : {}),
  };
  const made: Promise<ModelBackend>[] = [];
  const make = (profile: ModelProfile): Promise<ModelBackend> => {
    const retries = onRetry !== undefined ? { onRetry: (info: RetryInfo) => onRetry(describeRetry(describeProfile(profile), info), info.delayMs) } : {};
    const backend = apiKeys.keyFor(profile).then((apiKey) => createBackend(profile, { ...factory, ...(apiKey !== undefined ? { apiKey } : {}), ...retries }));
    made.push(backend);
    return backend;
  };
  const plans = requests.map((request): EvalModelPlan => {
    const config = modelConfigOf(request);
    const local = request.profile.provider === 'local';
    const lane = { concurrency: local ? 1 : concurrency, ...(local ? { lane: 'local' } : {}) };
    if (request.kind === 'spec') {
      const { profile } = request;
      const once = (p: ModelProfile): BackendResolver => {
        let backend: Promise<ModelBackend> | undefined;
        return () => (backend ??= make(p));
      };
      const resolver = once(profile);
      if (profile.provider !== 'openai') return { config, resolverFor: () => resolver, ...lane };
      const urls = endpointPool(profile.baseUrl, endpoints);
      if (urls.length === 0) return { config, resolverFor: () => resolver, ...lane };
      // Several servers of the same model: one backend each, the items spread over them (core/eval/endpoints.ts).
      const pool = urls.map((url, i) => {
        const served = i === 0 ? resolver : once({ ...profile, baseUrl: url });
        return { url, concurrency, resolverFor: () => served };
      });
      return { config, resolverFor: () => resolver, concurrency, endpoints: pool };
    }
    // Each chain gets the profile it declares under that name (its own sampling, endpoint).
    const resolvers = new Map<Chain, BackendResolver>();
    const resolverFor = (item: { readonly chain: Chain }): BackendResolver => {
      let resolver = resolvers.get(item.chain);
      if (resolver === undefined) {
        resolver = profileBackendResolver(item.chain.profiles, request.name, make);
        resolvers.set(item.chain, resolver);
      }
      return resolver;
    };
    return { config, resolverFor, defaultProfile: request.name, ...lane };
  });
  return {
    plans,
    dispose: async () => {
      const backends = await Promise.allSettled(made);
      await Promise.allSettled(backends.flatMap((b) => (b.status === 'fulfilled' ? [b.value.dispose()] : [])));
    },
  };
}
