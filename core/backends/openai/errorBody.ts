/**
 * The words of an error body, whatever shape the server gives it. The `openai` SDK reads an
 * error's text only from OpenAI's shape, `{"error": {"message": "…"}}`; OpenAI-compatible
 * servers answer in others:
 *
 *   {"detail": "…"}                                        FastAPI (vLLM's router, many proxies)
 *   {"detail": [{"loc": ["body", "model"], "msg": "…"}]}   FastAPI's request validation (422)
 *   {"object": "error", "message": "…", "param": …}        vLLM's own errors, some proxies
 *   {"error": "…"}                                         Ollama, text-generation-inference
 *
 * which the SDK turned into `400 status code (no body)` or a quoted JSON string. Such a body is
 * rewritten into OpenAI's shape before the SDK reads it, so that its words reach the error
 * message, and its `type`, `param` and `code` the SDK's error (the backend adapts a request to
 * a refused parameter by them).
 */

/** At most this many of a validation error's entries are named. */
const ENTRIES_SHOWN = 5;

/** A JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The words in an error value: a string; the first words under `message`, `msg`, `detail`,
 * `error` or `title` of an object; a FastAPI validation entry as `messages.0.content: Field
 * required`; the entries of a list joined with "; ". Undefined when there are none.
 */
export function errorWords(value: unknown, depth = 0): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (depth > 4) return undefined;
  if (Array.isArray(value)) {
    const entries = value.map((entry) => errorWords(entry, depth + 1)).filter((words) => words !== undefined);
    if (entries.length === 0) return undefined;
    const more = entries.length > ENTRIES_SHOWN ? `; and ${entries.length - ENTRIES_SHOWN} more` : '';
    return `${entries.slice(0, ENTRIES_SHOWN).join('; ')}${more}`;
  }
  if (!isObject(value)) return undefined;
  if (typeof value.msg === 'string' && Array.isArray(value.loc)) {
    // FastAPI names where in the request: ["body", "messages", 0, "content"]; "body" says nothing.
    const where = value.loc.filter((part, i) => !(i === 0 && part === 'body')).map(String).join('.');
    return where === '' ? value.msg : `${where}: ${value.msg}`;
  }
  for (const key of ['message', 'msg', 'detail', 'error', 'title']) {
    const words = errorWords(value[key], depth + 1);
    if (words !== undefined) return words;
  }
  return undefined;
}

/** The fields of an OpenAI error besides its message, when they are there. */
function errorFields(from: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const key of ['type', 'param', 'code']) if (from[key] !== undefined) fields[key] = from[key];
  return fields;
}

/**
 * An error body in OpenAI's shape with the server's words as its message, or undefined when
 * `text` is in that shape already or is no JSON (then the SDK quotes the text itself). A JSON
 * body with no words anywhere gives its JSON text as the message (cut later, like any words).
 */
export function inOpenAIErrorShape(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const nested = isObject(body) && isObject(body.error) ? body.error : undefined;
  if (nested !== undefined && typeof nested.message === 'string') return undefined;
  const words = errorWords(body) ?? text.trim();
  const fields = nested ?? (isObject(body) ? body : {});
  return JSON.stringify({ error: { ...errorFields(fields), message: words } });
}
