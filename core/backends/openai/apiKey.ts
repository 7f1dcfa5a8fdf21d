/**
 * The one rule for API keys of OpenAI-compatible servers, shared by the CLI, the
 * editor and the backend: where a key comes from, and when a missing key is an
 * error. Hosted APIs (OpenAI, Azure OpenAI) always need one, so a missing key is
 * reported before any network call; local servers (Ollama, LM Studio, vLLM,
 * llama.cpp on localhost) take none, and the SDK gets a placeholder.
 */

import { DEFAULT_API_KEY_ENV, hostOf, isAzureBaseUrl, isLocalBaseUrl, keyVariableOf } from '../../chain/keyDestination';

export { DEFAULT_API_KEY_ENV, isAzureBaseUrl, isLocalBaseUrl };

/** What the SDK is given when there is no key (it insists on one; local servers ignore it). */
export const PLACEHOLDER_API_KEY = 'no-key';

/** Hosted APIs that answer every request without a key with 401. */
export function requiresApiKey(baseUrl: string): boolean {
  return hostOf(baseUrl) === 'api.openai.com' || isAzureBaseUrl(baseUrl);
}

/** The header a key goes in by default, as `Authorization: Bearer KEY`. */
export const AUTHORIZATION_HEADER = 'Authorization';
/** Azure OpenAI's header: `api-key: KEY`, the bare key. */
export const AZURE_API_KEY_HEADER = 'api-key';

/**
 * The header the key is sent in: the one a profile (`api_key_header`), the command line
 * (--api-key-header) or the editor's setting chose, else `api-key` for an Azure OpenAI host (as
 * the openai SDK's AzureOpenAI does), else `Authorization`.
 */
export function apiKeyHeaderFor(baseUrl: string, chosen?: string): string {
  if (chosen !== undefined && chosen.trim() !== '') return chosen.trim();
  return isAzureBaseUrl(baseUrl) ? AZURE_API_KEY_HEADER : AUTHORIZATION_HEADER;
}

/** The header and its value: `Authorization: Bearer KEY`, any other header the bare key. */
export function apiKeyHeaderValue(header: string, apiKey: string): string {
  return header.toLowerCase() === AUTHORIZATION_HEADER.toLowerCase() ? `Bearer ${apiKey}` : apiKey;
}

/** The environment variable a profile's key is read from: its own, or OPENAI_API_KEY for OpenAI's API. */
export function apiKeyEnvFor(profile: { readonly baseUrl: string; readonly apiKeyEnv?: string }): string | undefined {
  // The default variable goes only to OpenAI itself, never to another host.
  return keyVariableOf(profile.baseUrl, profile.apiKeyEnv);
}

/** The key to use: the one given (editor secret storage), else the profile's environment variable; empty counts as none. */
export function resolveApiKey(profile: { readonly baseUrl: string; readonly apiKeyEnv?: string }, env: Readonly<Record<string, string | undefined>> | undefined, given?: string): string | undefined {
  if (given !== undefined && given.trim() !== '') return given;
  const name = apiKeyEnvFor(profile);
  const value = name !== undefined ? env?.[name] : undefined;
  return value !== undefined && value.trim() !== '' ? value : undefined;
}

/** How to give a key, for messages: the variable and the editor command. */
export function howToSetApiKey(baseUrl: string, apiKeyEnv: string | undefined): string {
  const variable = apiKeyEnvFor({ baseUrl, apiKeyEnv });
  const viaEnv =
    variable !== undefined
      ? `set the ${variable} environment variable`
      : `name the environment variable that holds it (\`--api-key-env VAR\` with --model openai:..., \`api_key_env "VAR"\` in a model profile; $${DEFAULT_API_KEY_ENV} goes only to api.openai.com) and set it`;
  return `${viaEnv}, or in the editor run "CoI: Set API Key" for ${baseUrl}`;
}

/** The message for a hosted API without a key, or undefined when the key is there or not needed. */
export function missingApiKeyProblem(baseUrl: string, apiKey: string | undefined, apiKeyEnv: string | undefined): string | undefined {
  if ((apiKey !== undefined && apiKey.trim() !== '') || !requiresApiKey(baseUrl)) return undefined;
  return `No API key for ${baseUrl}: ${howToSetApiKey(baseUrl, apiKeyEnv)}. (Local servers such as Ollama, LM Studio or vLLM on localhost need no key.)`;
}

/** How a key sent to a server is written where a server's words quote it. */
export const KEY_SHOWN_AS = '[key]';

/**
 * Text a server sent (an error body, the first bytes of an answer) with the API key that was
 * sent to it replaced by `[key]`: a server that echoes the Authorization header back ("Incorrect
 * API key provided: Bearer sk-…") must not put the key into an error, which reaches the terminal,
 * run records, evaluation stores and the editor's log. The key is compared as it goes on the
 * wire (without surrounding space), and so is its start where the server's words were cut
 * short in the middle of it; one shorter than 4 characters is left alone (it would replace
 * ordinary words).
 */
export function withoutApiKey(text: string, apiKey: string | undefined): string {
  const key = apiKey?.trim();
  return key !== undefined && key.length >= 4 ? withoutCutKey(text.split(key).join(KEY_SHOWN_AS), key) : text;
}

/** Where a quoted text was cut short (`"…"` after `clip`): a key cut there is no longer whole. */
const CUT_MARK = '"…';

/**
 * `text` with the part of a key shown where a quoted text was cut (`…Bearer sk-SUPERSECRE"…`)
 * replaced by `[key]` too: the whole key no longer matches there, but its first characters
 * would go out all the same. Four characters or more of the key's start count.
 */
function withoutCutKey(text: string, key: string): string {
  let out = text;
  for (let cut = out.lastIndexOf(CUT_MARK); cut >= 0; cut = cut === 0 ? -1 : out.lastIndexOf(CUT_MARK, cut - 1)) {
    for (let shown = Math.min(key.length - 1, cut); shown >= 4; shown--) {
      if (out.endsWith(key.slice(0, shown), cut)) {
        out = `${out.slice(0, cut - shown)}${KEY_SHOWN_AS}${out.slice(cut)}`;
        break;
      }
    }
  }
  return out;
}

/** `value` with the key replaced by `[key]` in every string it holds (objects and arrays walked; other values as they are). */
function hideKey(value: unknown, apiKey: string, depth = 0): unknown {
  if (typeof value === 'string') return withoutApiKey(value, apiKey);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => hideKey(item, apiKey, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, hideKey(item, apiKey, depth + 1)]));
}

type LogFn = (message: string, ...rest: unknown[]) => void;

/**
 * The openai SDK's logger (console) with the key replaced by `[key]` in whatever is logged: its
 * debug log (OPENAI_LOG=debug) prints each request's headers and hides only Authorization's, so
 * a key in `api-key` or another header would be printed as it is.
 */
export function keyHidingLogger(apiKey: string, sink: Pick<Console, 'error' | 'warn' | 'info' | 'debug'> = console): Record<'error' | 'warn' | 'info' | 'debug', LogFn> {
  const level = (name: 'error' | 'warn' | 'info' | 'debug'): LogFn => (message, ...rest) => sink[name](...(hideKey([message, ...rest], apiKey) as unknown[]));
  return { error: level('error'), warn: level('warn'), info: level('info'), debug: level('debug') };
}
