/**
 * Where an API key goes: the host of a base URL, whether it is this machine, and which
 * hosts the well-known provider variables are meant for. The profile check warns when a
 * profile would send one of those keys to another host (COI510) or any key over plain http
 * to a host that is not local (COI511); the backend's key rules (core/backends/openai/apiKey.ts)
 * read hosts through the same functions.
 */

/** `baseUrl` parsed, or undefined: not a URL. Each check below parses its URL once. */
function parseUrl(baseUrl: string): URL | undefined {
  try {
    return new URL(baseUrl);
  } catch {
    return undefined;
  }
}

/** The host of a parsed URL, lower case, an IPv6 address without its brackets. */
function hostIn(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
}

/** The host of `baseUrl`, lower case, an IPv6 address without its brackets; undefined: not a URL. */
export function hostOf(baseUrl: string): string | undefined {
  const url = parseUrl(baseUrl);
  return url === undefined ? undefined : hostIn(url);
}

/** localhost, 127.x.x.x, ::1, 0.0.0.0 and *.localhost (a host as hostIn gives it): this machine. */
function isLocalHost(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(host) || host === '::1' || host === '0.0.0.0';
}

/** localhost, 127.x.x.x, ::1, 0.0.0.0 and *.localhost: a server on this machine. */
export function isLocalBaseUrl(baseUrl: string): boolean {
  const host = hostOf(baseUrl);
  return host !== undefined && isLocalHost(host);
}

/** Azure OpenAI: `NAME.openai.azure.com` and `NAME.cognitiveservices.azure.com` (the same service under its Azure AI name). */
export function isAzureBaseUrl(baseUrl: string): boolean {
  const host = hostOf(baseUrl);
  return host !== undefined && (host.endsWith('.openai.azure.com') || host.endsWith('.cognitiveservices.azure.com'));
}

/** `host` is `domain` or one of its subdomains. */
function under(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

/** A well-known provider's key variable: whose it is (for messages) and the hosts it is meant for. */
interface ProviderKey {
  readonly owner: string;
  readonly domains: readonly string[];
}

/**
 * The environment variables that hold a provider's own key, and the domains (with their
 * subdomains) that key is meant for. A profile naming one of these with a `base_url` elsewhere
 * would hand that provider's key to another server.
 */
const PROVIDER_KEYS: Readonly<Record<string, ProviderKey>> = {
  OPENAI_API_KEY: { owner: 'OpenAI', domains: ['openai.com'] },
  AZURE_OPENAI_API_KEY: { owner: 'Azure OpenAI', domains: ['openai.azure.com', 'cognitiveservices.azure.com'] },
  TOGETHER_API_KEY: { owner: 'Together', domains: ['together.xyz', 'together.ai'] },
  ANTHROPIC_API_KEY: { owner: 'Anthropic', domains: ['anthropic.com'] },
  HF_TOKEN: { owner: 'Hugging Face', domains: ['huggingface.co', 'hf.co'] },
  HUGGING_FACE_HUB_TOKEN: { owner: 'Hugging Face', domains: ['huggingface.co', 'hf.co'] },
  GEMINI_API_KEY: { owner: 'Google', domains: ['googleapis.com'] },
  GOOGLE_API_KEY: { owner: 'Google', domains: ['googleapis.com'] },
  MISTRAL_API_KEY: { owner: 'Mistral', domains: ['mistral.ai'] },
  GROQ_API_KEY: { owner: 'Groq', domains: ['groq.com'] },
  DEEPSEEK_API_KEY: { owner: 'DeepSeek', domains: ['deepseek.com'] },
  OPENROUTER_API_KEY: { owner: 'OpenRouter', domains: ['openrouter.ai'] },
  FIREWORKS_API_KEY: { owner: 'Fireworks', domains: ['fireworks.ai'] },
};

/** The variable read for OpenAI's own API when the profile names none. */
export const DEFAULT_API_KEY_ENV = 'OPENAI_API_KEY';

/** The variable a profile's key would be read from: its `api_key_env`, else OPENAI_API_KEY for api.openai.com (as core/backends/openai/apiKey.ts reads it). */
export function keyVariableOf(baseUrl: string, apiKeyEnv: string | undefined): string | undefined {
  if (apiKeyEnv !== undefined && apiKeyEnv !== '') return apiKeyEnv;
  return hostOf(baseUrl) === 'api.openai.com' ? DEFAULT_API_KEY_ENV : undefined;
}

/**
 * A variable of its own for the key of profile `profileName` at `baseUrl`: the provider's own
 * variable where the host is a known provider's, else `NAME_KEY` from the profile's name
 * (`model remote` → REMOTE_KEY).
 */
export function ownKeyVariable(profileName: string, baseUrl: string | undefined): string {
  return ownKeyVariableAt(profileName, baseUrl === undefined ? undefined : hostOf(baseUrl));
}

/** ownKeyVariable for a host as hostIn gives it (undefined: no URL). */
function ownKeyVariableAt(profileName: string, host: string | undefined): string {
  if (host === undefined || host === 'api.openai.com') return DEFAULT_API_KEY_ENV;
  const provider = Object.entries(PROVIDER_KEYS).find(([, key]) => key.domains.some((domain) => under(host, domain)));
  if (provider !== undefined) return provider[0];
  const stem = profileName.toUpperCase().replace(/[^A-Z0-9_]+/g, '_');
  return /^[A-Z_]/.test(stem) ? `${stem}_KEY` : `MODEL_${stem}_KEY`;
}

/**
 * Why `apiKeyEnv` should not go to `baseUrl`: it names a well-known provider's key and the host
 * is not that provider's (a local server included). Undefined when the variable is not one of
 * those, or the host is its provider's.
 */
export function foreignProviderKeyProblem(baseUrl: string, apiKeyEnv: string, profileName: string): string | undefined {
  const provider = PROVIDER_KEYS[apiKeyEnv];
  const url = parseUrl(baseUrl);
  if (provider === undefined || url === undefined) return undefined;
  const host = hostIn(url);
  if (provider.domains.some((domain) => under(host, domain))) return undefined;
  const instead = ownKeyVariableAt(profileName, host);
  const local = isLocalHost(host) ? ', or no `api_key_env` at all for a local server that needs no key' : '';
  // url.host: the host and port, as messages show it (`example.com`, `127.0.0.1:18001`).
  return `$${apiKeyEnv} is ${provider.owner}'s key, and this profile would send it to ${url.host}: name a variable of this server's own (\`api_key_env "${instead}"\`)${local}.`;
}

/**
 * Why the key of `variable` would travel unencrypted: `baseUrl` is plain `http://` to a host
 * that is not this machine. Undefined for https, a local host, or no key.
 */
export function plainHttpKeyProblem(baseUrl: string, variable: string | undefined): string | undefined {
  if (variable === undefined) return undefined;
  const url = parseUrl(baseUrl);
  if (url === undefined || url.protocol !== 'http:' || isLocalHost(hostIn(url))) return undefined;
  return `'base_url' is plain http:// to ${url.host}, so the key in $${variable} would travel unencrypted: use https://, or a server on this machine (localhost).`;
}
