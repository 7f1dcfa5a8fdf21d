/**
 * The rule for the header an OpenAI-compatible server's API key goes in, as a user names it (a
 * profile's `api_key_header`, `--api-key-header`, the editor's `coi.openai.apiKeyHeader`): which
 * names are accepted. Which header is used by default, and how the key is written in it, is the
 * backend's (core/backends/openai/apiKey.ts).
 */

/** Headers that carry something else than a key: sending the key in one of them would break every request. */
const RESERVED_HEADERS = new Set(['accept', 'connection', 'content-length', 'content-type', 'cookie', 'host', 'transfer-encoding', 'user-agent']);

/** An OpenAI key (`sk-…`), an Azure one (32 hex digits) or a long token: not a header name. */
function looksLikeKey(text: string): boolean {
  return /^sk-/i.test(text) || /^[0-9a-f]{32,}$/i.test(text) || text.length > 64;
}

/**
 * Why `name` cannot be the header a key goes in, or undefined: it must be an HTTP header name
 * (letters, digits, `-`, `_` and a few signs; no space or colon) that carries nothing else. A
 * value that looks like a key is refused and not quoted back. `what` names the setting in the message.
 */
export function apiKeyHeaderProblem(name: string, what: string): string | undefined {
  const trimmed = name.trim();
  const shown = trimmed.length > 40 || looksLikeKey(trimmed) ? `'${trimmed.slice(0, 4)}…'` : `'${trimmed}'`;
  if (looksLikeKey(trimmed)) return `${what} is the NAME of the header the key goes in (such as api-key or Authorization), not a key (${shown}): the key goes in an environment variable or the editor's secret storage.`;
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(trimmed)) return `${what} must be an HTTP header name (such as api-key, x-api-key or Authorization), not ${trimmed === '' ? 'an empty name' : shown}.`;
  if (RESERVED_HEADERS.has(trimmed.toLowerCase())) return `${what} cannot be ${shown}: that header carries something else. Give the header the server reads the key from (such as api-key, x-api-key or Authorization).`;
  return undefined;
}
