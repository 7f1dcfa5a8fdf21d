/**
 * The one rule for secrets in the base URL of an OpenAI-compatible server, shared by the
 * profile check (`base_url`, COI505), the CLI (`--base-url`, `--judge-base-url`, `--endpoint`)
 * and the editor's model specs: a base URL carries no credentials (`http://user:secret@host/v1`)
 * and no key in its query (`?api_key=…`, `?key=…`). A base URL is not a secret: it is written
 * into run records, cache keys, evaluation stores and messages, and fetch refuses a URL with
 * credentials anyway (every request would fail). The key goes apart, in an environment variable
 * the profile or the command line names, or in the editor's secret storage.
 */

/**
 * Query parameters that carry a key (compared ignoring case): API keys and tokens, Azure API
 * Management's `subscription-key`, a SAS signature (`sig`), Azure Functions' `code`.
 */
const KEY_PARAMETERS = new Set(['key', 'api_key', 'api-key', 'apikey', 'x-api-key', 'api_token', 'access_token', 'auth_token', 'token', 'subscription-key', 'sig', 'code']);

/** What secret `url` holds, in words ("a user name and password (USER:PASSWORD@HOST)"), or undefined: none, or not a URL. */
function secretIn(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.password !== '') return 'a user name and password (USER:PASSWORD@HOST)';
  if (parsed.username !== '') return 'a user name (USER@HOST)';
  const parameter = [...parsed.searchParams.keys()].find((name) => KEY_PARAMETERS.has(name.toLowerCase()));
  return parameter === undefined ? undefined : `a key in its query (?${parameter}=…)`;
}

/**
 * Why `url` cannot be a base URL because it holds a secret, or undefined when it holds none.
 * `name` is what the message calls the URL (`'base_url'`, `--base-url`), `keyGoes` how to give
 * the key instead ("name the environment variable that holds the key with … instead"), `keptBy` what would
 * keep the URL (run records by default). The message never quotes the secret.
 */
export function baseUrlSecretProblem(url: string, name: string, keyGoes: string, keptBy = 'run records, caches and messages'): string | undefined {
  const secret = secretIn(url);
  if (secret === undefined) return undefined;
  return `${name} holds ${secret}, which ${keptBy} would keep: ${keyGoes}.`;
}

/**
 * A base URL as the `openai` SDK takes it: the URL without its query, and the query's
 * parameters apart, which the backend sends with every request (the SDK's `defaultQuery`).
 * The SDK appends an endpoint's path to the base URL as text, so Azure OpenAI's
 * `https://x.openai.azure.com/openai/deployments/d?api-version=2024-06-01` was asked at
 * `…/deployments/d?api-version=2024-06-01/chat/completions`. A fragment (`#…`) is dropped, as
 * fetch drops it; a name given twice keeps its last value; an empty query (`…/v1?`) goes too.
 * Not a URL: returned as it is.
 */
export function splitBaseUrl(url: string): { readonly url: string; readonly query: Readonly<Record<string, string>> } {
  if (!/[?#]/.test(url)) return { url, query: {} };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url, query: {} };
  }
  const query = Object.fromEntries(parsed.searchParams);
  parsed.search = '';
  parsed.hash = '';
  return { url: parsed.href, query };
}
