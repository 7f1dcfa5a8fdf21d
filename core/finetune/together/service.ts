/**
 * Talking to Together AI: the client (key and base URL from the environment), and errors
 * said in one line without the key.
 */
import Together, { APIConnectionError, APIError } from 'together-ai';
import type { EngineContext } from '../engine';
import { FinetuneError } from '../job';
import { TOGETHER_API_KEY_ENV } from '../childEnv';
import { withoutApiKey } from '../../backends/openai/apiKey';
import { baseUrlSecretProblem } from '../../chain/baseUrl';

export { TOGETHER_API_KEY_ENV };
export const TOGETHER_BASE_URL_ENV = 'TOGETHER_BASE_URL';
export const TOGETHER_DEFAULT_BASE_URL = 'https://api.together.ai/v1';

export type Env = Readonly<Record<string, string | undefined>>;

/** TOGETHER_BASE_URL as given (trimmed, without a trailing slash), or Together's own. */
function configuredBaseUrl(env: Env): string {
  const configured = env[TOGETHER_BASE_URL_ENV]?.trim();
  return configured === undefined || configured === '' ? TOGETHER_DEFAULT_BASE_URL : configured.replace(/\/$/, '');
}

/**
 * Why TOGETHER_BASE_URL cannot be used: it holds a secret (`http://user:secret@host/v1`,
 * `?api_key=…`), which the job folder (log, together.json, state.json) and messages would keep.
 * The message never repeats the secret (core/chain/baseUrl.ts, the rule of every base URL).
 */
export function togetherBaseUrlProblem(env: Env): string | undefined {
  return baseUrlSecretProblem(configuredBaseUrl(env), TOGETHER_BASE_URL_ENV, `set the key in ${TOGETHER_API_KEY_ENV} (or the editor's secret storage) instead`, "the job folder (its log, together.json and state.json) and messages");
}

/** TOGETHER_BASE_URL holds a secret: nothing is sent, nothing written with it. The CLI says it as a usage error (exit 2). */
export class TogetherBaseUrlError extends FinetuneError {
  override name = 'TogetherBaseUrlError';
}

/** The base URL requests go to: TOGETHER_BASE_URL, or Together's own; one holding a secret is refused (TogetherBaseUrlError). */
export function togetherBaseUrl(env: Env): string {
  const problem = togetherBaseUrlProblem(env);
  if (problem !== undefined) throw new TogetherBaseUrlError(problem);
  return configuredBaseUrl(env);
}

/** The context with a key from the editor's secret storage: in memory only, for the engine's requests. */
export function withTogetherApiKey(context: EngineContext, apiKey: string): EngineContext {
  return { ...context, env: { ...(context.env ?? process.env), [TOGETHER_API_KEY_ENV]: apiKey } };
}

/** What every place that needs the key says when it is missing (the CLI adds what was not done). */
export const NO_TOGETHER_KEY = `No Together API key: set ${TOGETHER_API_KEY_ENV} in the environment.`;

/** The key is missing: nothing was sent. The CLI says it as a usage error (exit 2), as `coi finetune start` does. */
export class TogetherKeyMissingError extends FinetuneError {
  override name = 'TogetherKeyMissingError';
}

export function hasTogetherKey(env: Env): boolean {
  return (env[TOGETHER_API_KEY_ENV]?.trim() ?? '') !== '';
}

export function clientFor(env: Env): Together {
  // The base URL first: a refused one is said as such, with or without a key.
  const baseURL = togetherBaseUrl(env);
  const apiKey = env[TOGETHER_API_KEY_ENV]?.trim();
  if (apiKey === undefined || apiKey === '') throw new TogetherKeyMissingError(`${NO_TOGETHER_KEY.replace(/\.$/, '')} (VS Code keeps it in its secret storage).`);
  return new Together({ apiKey, baseURL, maxRetries: Number(env['COI_TOGETHER_MAX_RETRIES'] ?? 3), timeout: 120_000 });
}

export function envOf(context: EngineContext): Env {
  return context.env ?? process.env;
}

/** 4xx other than 408/409/429 are the user's to fix (a bad key, a bad request); retrying will not help. */
export function isUsersToFix(err: unknown): boolean {
  return err instanceof FinetuneError || (err instanceof APIError && err.status !== undefined && err.status >= 400 && err.status < 500 && ![408, 409, 429].includes(err.status));
}

/** `err` as the engine throws it: the user's own FinetuneError (a missing key) kept as it is, anything else in one line without the key. */
export function serviceError(err: unknown, env: Env): FinetuneError {
  return err instanceof TogetherKeyMissingError || err instanceof TogetherBaseUrlError ? err : new FinetuneError(explain(err, env));
}

/** One line for the user, never the key. */
export function explain(err: unknown, env: Env): string {
  let text: string;
  if (err instanceof FinetuneError) text = err.message;
  else if (err instanceof APIConnectionError) text = `Cannot reach Together at ${togetherBaseUrl(env)}: ${err.cause instanceof Error ? err.cause.message : err.message}.`;
  else if (err instanceof APIError && err.status === 401) text = `Together refused the API key (401): check ${TOGETHER_API_KEY_ENV}.`;
  else if (err instanceof APIError) text = `Together answered ${err.message}.`;
  else text = err instanceof Error ? err.message : String(err);
  return withoutApiKey(text, env[TOGETHER_API_KEY_ENV]);
}
