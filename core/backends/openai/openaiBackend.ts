/**
 * The OpenAI-compatible backend (OpenAI, Azure OpenAI, vLLM, llama.cpp server,
 * Ollama, LM Studio...) through the `openai` SDK. Our own retry loop (the SDK's
 * is switched off) backs off exponentially on 429 and 5xx, honouring
 * `Retry-After`, within a bounded total wait. JSON-Schema constraints use
 * `response_format: json_schema` when the server accepts it; other constraints
 * (and servers that refuse structured output) get a hint in the prompt, and the
 * caller validates the output. The API key is only handed to the SDK, never logged.
 */
import OpenAI from 'openai';
import { baseUrlSecretProblem, splitBaseUrl } from '../../chain/baseUrl';
import { constraintHint } from '../constraints';
import { formatLimit, RAISE_LIMIT } from '../timeLimit';
import { errorWords, inOpenAIErrorShape, isObject } from './errorBody';
import { EventStreamDecoder, type ServerSentEvent } from './eventStream';
import { AUTHORIZATION_HEADER, apiKeyHeaderFor, apiKeyHeaderValue, howToSetApiKey, keyHidingLogger, missingApiKeyProblem, PLACEHOLDER_API_KEY, withoutApiKey } from './apiKey';
import { BackendError, type ChatMessage, type GenerateRequest, type GenerateResult, type SamplingParams, type ModelBackend, type OutputConstraint, type StopReason } from '../types';

export interface RetryPolicy {
  /** Retries after the first attempt (default 4). */
  readonly maxRetries?: number;
  /** First back-off delay (default 500 ms), doubled on each retry, with jitter. */
  readonly baseDelayMs?: number;
  /** Longest single wait (default 30 s). */
  readonly maxDelayMs?: number;
  /** Longest total waiting across retries (default 60 s); a longer Retry-After fails at once. */
  readonly maxTotalDelayMs?: number;
}

export interface OpenAIBackendOptions {
  readonly baseURL: string;
  readonly model: string;
  /** Passed to the SDK only. Servers without keys (local ones) accept any placeholder. */
  readonly apiKey?: string;
  /** Where the key was to come from (named in the missing- and rejected-key messages). */
  readonly apiKeyEnv?: string;
  /**
   * The header the key goes in (a profile's `api_key_header`, --api-key-header): `Authorization`
   * sends `Bearer KEY`, any other header the bare key. Default: `api-key` for Azure OpenAI hosts,
   * else `Authorization` (apiKeyHeaderFor).
   */
  readonly apiKeyHeader?: string;
  readonly organization?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Query parameters added to every request (e.g. Azure's `api-version`). */
  readonly query?: Readonly<Record<string, string>>;
  /** Sampling defaults (the profile's); a request's own params win. */
  readonly defaults?: SamplingParams;
  /** Use `response_format: json_schema` for JSON-Schema constraints (default true; turned off by itself if the server refuses it). */
  readonly structuredOutput?: boolean;
  readonly retry?: RetryPolicy;
  /** Overall time limit per request when the request gives none (default 10 minutes; 0: none). */
  readonly timeoutMs?: number;
  /**
   * Longest silence of a streamed request when the request gives no time limit of its
   * own: before the answer starts and between chunks (default 120 s; 0: none).
   */
  readonly idleTimeoutMs?: number;
  /** Told before each retry wait (the CLI prints it, the editor logs it: `describeRetry`). */
  readonly onRetry?: (info: RetryInfo) => void;
}

/** A retry about to wait: the how-manyth, how long, and why ("HTTP 429", a connection error). */
export interface RetryInfo {
  readonly attempt: number;
  readonly delayMs: number;
  readonly reason: string;
}

/** Seconds with one decimal, or milliseconds below a second (retry waits here; every duration the CLI prints). */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A retry in words: "gpt-4o at https://api.example/v1: HTTP 429; trying again in 2.0 s (retry 1)". */
export function describeRetry(model: string, info: RetryInfo): string {
  return `${model}: ${info.reason.replace(/\.$/, '')}; trying again in ${formatDuration(info.delayMs)} (retry ${info.attempt})`;
}

/** A stalled server must not hang a run forever; a long CPU generation still fits. */
export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** A server that sends nothing for this long, before or between chunks, has stalled. */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

type ChatParams = OpenAI.Chat.Completions.ChatCompletionCreateParams;

/**
 * Milliseconds from `retry-after-ms` (a non-negative number) or `Retry-After`: a
 * non-negative integer of seconds or an HTTP date (RFC 9110, 10.2.3). Anything else
 * ("-5", "1,2", "soon") is ignored: the usual back-off applies.
 */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = headers?.get('retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Number(ms);
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = parseHttpDate(value, now);
  return date === undefined ? undefined : Math.max(0, date - now);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d\\d):(\\d\\d):(\\d\\d)';
/** The three forms of an HTTP date: IMF-fixdate, then the obsolete RFC 850 and asctime forms. */
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d\\d) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d\\d)-${MONTH}-(\\d\\d) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} ( \\d|\\d\\d) ${TIME} (\\d{4})$`);

/** An HTTP date (RFC 9110, 5.6.7) in milliseconds since the epoch, or undefined when `value` is none. */
export function parseHttpDate(value: string, now = Date.now()): number | undefined {
  let parts: [day: string, month: string, year: number, hour: string, minute: string, second: string] | undefined;
  let match = IMF_FIXDATE.exec(value);
  if (match) parts = [match[1]!, match[2]!, Number(match[3]), match[4]!, match[5]!, match[6]!];
  else if ((match = RFC850_DATE.exec(value))) {
    // A two-digit year more than 50 years ahead is the latest past year with those digits.
    const thisYear = new Date(now).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(match[3]);
    if (year > thisYear + 50) year -= 100;
    parts = [match[1]!, match[2]!, year, match[4]!, match[5]!, match[6]!];
  } else if ((match = ASCTIME_DATE.exec(value))) parts = [match[2]!, match[1]!, Number(match[6]), match[3]!, match[4]!, match[5]!];
  if (parts === undefined) return undefined;
  const [day, month, year, hour, minute, second] = parts;
  const time = Date.UTC(year, MONTHS.indexOf(month), Number(day), Number(hour), Number(minute), Number(second));
  const back = new Date(time);
  // Date.UTC rolls 31 Feb over to March and 25:00 to the next day: such a date is no date.
  if (back.getUTCDate() !== Number(day) || back.getUTCHours() !== Number(hour) || Number(minute) > 59 || Number(second) > 59) return undefined;
  return time;
}

/**
 * Connection failures that a retry a second later cannot mend: nothing listens on the
 * port, the host name does not exist, fetch refuses the port, the certificate is wrong.
 * They fail at once instead of after seconds of back-off.
 */
const PERMANENT_CONNECTION_FAILURE = /ECONNREFUSED|ENOTFOUND|blocked port|certificate/;

function isRetryable(error: unknown): boolean {
  if (error instanceof OpenAI.APIUserAbortError) return false;
  // Retried only while no text reached the caller (generate's `mayRetry`).
  if (error instanceof ConnectionClosed) return true;
  if (error instanceof OpenAI.APIConnectionError) return !PERMANENT_CONNECTION_FAILURE.test(describeConnectionFailure(error));
  return error instanceof OpenAI.APIError && error.status !== undefined && (error.status === 429 || error.status === 408 || error.status >= 500);
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** How much of an HTTP error body is read; the rest is never downloaded (a 100 MB error page). */
export const ERROR_BODY_LIMIT = 64 * 1024;

/** Statuses whose response cannot have a body (the Response constructor refuses one). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * The SDK's fetch: a POST follows no redirect (fetch would turn it into a GET without
 * its body), and an error's body is cut to its first ERROR_BODY_LIMIT bytes, the rest
 * cancelled, and put in OpenAI's error shape (errorBody.ts) before the SDK reads it
 * whole into its error message.
 */
async function boundedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const post = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase() === 'POST';
  const response = await globalThis.fetch(input, post ? { ...init, redirect: 'manual' } : init);
  if (response.ok || response.body === null) return response;
  let head: Uint8Array | string | null = null;
  if (!NULL_BODY_STATUSES.has(response.status)) {
    head = await readPrefix(response.body, ERROR_BODY_LIMIT, init?.signal ?? undefined);
    head = inOpenAIErrorShape(new TextDecoder().decode(head)) ?? head;
  }
  return new Response(head, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/**
 * The largest answer read: the body of a whole (not streamed) completion, or all the bytes of
 * a streamed one. Far above a real answer (a streamed answer of 100 000 tokens is about 25 MB
 * of events); a server that sends more (a generation that never stops, a base URL that serves
 * something else) fails with `bad-response` instead of filling the memory.
 */
export const ANSWER_BODY_LIMIT = 64 * 1024 * 1024;

/** Megabytes in words: "64 MB", "100.5 MB". */
function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
}

/** What came of reading a body up to a limit. */
interface BodyRead {
  readonly chunks: readonly Uint8Array[];
  readonly length: number;
  /** The body goes on past the limit: the rest was cancelled, never downloaded. */
  readonly more: boolean;
  /** The read that failed when the body broke off (what came before it is in `chunks`). */
  readonly broken?: unknown;
}

/** A body read until it ends or passes `limit` bytes; cancelling the request (`signal`) throws. */
async function readUpTo(body: ReadableStream<Uint8Array>, limit: number, signal: AbortSignal | undefined): Promise<BodyRead> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  let ended = false;
  try {
    while (length <= limit) {
      const read = await reader.read();
      if (read.done) {
        ended = true;
        break;
      }
      chunks.push(read.value);
      length += read.value.length;
    }
  } catch (error) {
    if (signal?.aborted) throw error;
    ended = true;
    return { chunks, length, more: false, broken: error };
  } finally {
    if (!ended) reader.cancel().catch(() => undefined);
  }
  return { chunks, length, more: !ended };
}

/** The first `limit` bytes of a body (fewer when it is shorter or breaks off: what came is what there is to quote); the rest is cancelled. */
async function readPrefix(body: ReadableStream<Uint8Array>, limit: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
  const { chunks, length } = await readUpTo(body, limit, signal);
  const bytes = new Uint8Array(Math.min(length, limit));
  let at = 0;
  for (const chunk of chunks) {
    if (at >= bytes.length) break;
    const part = chunk.subarray(0, bytes.length - at);
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/** The connection broke off while the body of an answer was read (after its headers). */
class ConnectionClosed extends Error {
  constructor(cause: unknown) {
    const code = rootCause(cause).code;
    super(`the connection was closed in the middle of the answer${code !== undefined ? ` (${code})` : ''}`, { cause });
  }
}

/** What to do about an answer larger than ANSWER_BODY_LIMIT. */
const TOO_LARGE_ADVICE = 'give max_tokens, or check that the base URL is the server\'s OpenAI-compatible API';

/**
 * The text of a whole answer's body, read up to ANSWER_BODY_LIMIT: a larger one (by its
 * Content-Length, or once that much came) is a `bad-response` and the rest is never
 * downloaded; a connection that breaks off is a ConnectionClosed.
 */
async function readAnswer(response: Response, signal: AbortSignal, where: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '');
  if (declared > ANSWER_BODY_LIMIT) {
    response.body?.cancel().catch(() => undefined);
    throw new BackendError('bad-response', `${where} sent an answer of ${megabytes(declared)} (its Content-Length), more than the ${megabytes(ANSWER_BODY_LIMIT)} an answer is read up to: it was not read; ${TOO_LARGE_ADVICE}.`);
  }
  if (response.body === null) return '';
  const { chunks, length, more, broken } = await readUpTo(response.body, ANSWER_BODY_LIMIT, signal);
  if (broken !== undefined) throw new ConnectionClosed(broken);
  if (more) throw new BackendError('bad-response', `${where} sent an answer of more than ${megabytes(ANSWER_BODY_LIMIT)}, the most an answer is read up to: reading stopped there; ${TOO_LARGE_ADVICE}.`);
  // Joined, then decoded once: decoding chunk by chunk into one string took a third more memory.
  return new TextDecoder().decode(Buffer.concat(chunks, length));
}

/** Plain words for the network errors users meet, by Node's error code. */
const CONNECTION_PROBLEMS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused: nothing is listening there',
  ENOTFOUND: 'host name not found (DNS)',
  EAI_AGAIN: 'host name lookup failed (DNS, try again)',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection was closed',
  CERT_HAS_EXPIRED: 'the TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the TLS certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'a self-signed TLS certificate is in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the TLS certificate cannot be verified',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the TLS certificate issuer is unknown (set NODE_EXTRA_CA_CERTS for a private CA)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the TLS certificate is for another host name',
};

/** The deepest error code and message in an error's causes (fetch hides them there). */
function rootCause(error: unknown): { code?: string; message?: string } {
  const found: { code?: string; message?: string } = {};
  const visit = (value: unknown, depth: number): void => {
    if (depth > 8 || typeof value !== 'object' || value === null) return;
    const { code, message, cause, errors } = value as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (found.code === undefined && typeof code === 'string' && /^[A-Z_]+$/.test(code) && code !== 'ERR_INVALID_ARG_TYPE') found.code = code;
    // The deepest message is the most specific ("connect ECONNREFUSED 127.0.0.1:4321").
    if (typeof message === 'string' && message !== '' && !/^(fetch failed|Connection error\.?)$/i.test(message)) found.message = message;
    visit(cause, depth + 1);
    if (Array.isArray(errors)) for (const inner of errors as unknown[]) visit(inner, depth + 1);
  };
  visit(error, 0);
  return found;
}

/**
 * The root cause of a connection failure in words, e.g. "connection refused:
 * nothing is listening there (ECONNREFUSED)". fetch reports every network failure
 * as "fetch failed" and hides the reason in `cause` (or an AggregateError's errors).
 */
export function describeConnectionFailure(error: unknown, url?: string): string {
  const found = rootCause(error);
  // undici's "bad port": fetch never connects to ports on the Fetch standard's block list (1, 22, 25, 6000...).
  if (found.message === 'bad port') return `port ${portOf(url) ?? ''} is one that fetch never connects to (a blocked port); run the server on another port`.replace('port  is', 'the port is');
  const words = found.code !== undefined ? CONNECTION_PROBLEMS[found.code] : undefined;
  if (words !== undefined) return `${words} (${found.code})`;
  if (found.message !== undefined) return found.code !== undefined && !found.message.includes(found.code) ? `${found.message} (${found.code})` : found.message;
  return found.code ?? (error instanceof Error ? error.message : String(error));
}

/** The port of a URL (the protocol's default when it names none), or undefined. */
function portOf(url: string | undefined): string | undefined {
  try {
    const parsed = new URL(url ?? '');
    return parsed.port !== '' ? parsed.port : parsed.protocol === 'https:' ? '443' : '80';
  } catch {
    return undefined;
  }
}

/** A `finish_reason` as a StopReason: an output cut short says so (by its bound, the provider's filter, an error there); anything else is a stop. */
function stopReasonOf(finish: string | null | undefined): StopReason {
  switch (finish) {
    case 'length':
      return 'length';
    // OpenAI's and Azure's filter; the text before it is kept, and the run warns that it was cut.
    case 'content_filter':
      return 'content-filter';
    // Some providers (OpenRouter, among others) end an answer that failed mid-way so.
    case 'error':
      return 'provider-error';
    default:
      return 'stop';
  }
}

/** OpenAI's `refusal` (a message's, or the streamed deltas' joined): the model's words when it declined, else undefined. */
function refusalIn(refusal: unknown): string | undefined {
  return typeof refusal === 'string' && refusal.trim() !== '' ? refusal.trim() : undefined;
}

/**
 * The error a server reports in place of an answer, or undefined: `{"error": …}` (OpenAI's shape,
 * Ollama's and text-generation-inference's plain string; OpenRouter sends it in a stream, and in
 * the body of a 200 answer when the model failed after the request was accepted) or, from vLLM
 * and some proxies, `{"object": "error", "message": …}`.
 */
function errorIn(body: unknown): unknown {
  if (!isObject(body)) return undefined;
  if (body.error !== undefined && body.error !== null) return body.error;
  return body.object === 'error' ? body : undefined;
}

/** A reported error as the SDK reports one in a stream: an APIError without a status (toBackendError gives its words). */
function reportedError(error: unknown, headers: Headers | undefined): InstanceType<typeof OpenAI.APIError> {
  return new OpenAI.APIError(undefined, { ...(isObject(error) ? error : {}), message: errorWords(error) ?? JSON.stringify(error) }, undefined, headers);
}

/** A streamed answer as its chunks arrive: the text, how it finished, the token usage. */
class StreamedAnswer {
  text = '';
  chunks = 0;
  finish: string | null | undefined;
  usage: OpenAI.CompletionUsage | undefined;
  /** OpenAI's `refusal` deltas, joined: the model declined (the content then stays empty). */
  refusal = '';
  /** `[DONE]` was seen: what follows is ignored. */
  done = false;
  /** Events received: none means the body was not an event stream at all. */
  events = 0;

  constructor(
    readonly where: string,
    private readonly headers: Headers,
    private readonly onDelta: (delta: string) => void,
  ) {}

  take(event: ServerSentEvent): void {
    if (this.done) return;
    this.events++;
    if (event.data.startsWith('[DONE]')) {
      this.done = true;
      return;
    }
    let chunk: OpenAI.ChatCompletionChunk | null;
    try {
      chunk = JSON.parse(event.data) as typeof chunk;
    } catch {
      // An error event in plain words (`event: error` or llama.cpp's `error:` line, eventStream.ts).
      if (event.event === 'error' && event.data.trim() !== '') throw reportedError(event.data, this.headers);
      throw new BackendError('bad-response', `${this.where} sent a stream event that is not JSON: ${clip(event.data)}`);
    }
    // An error reported inside the stream (as the SDK reports it: an APIError without a status).
    const reported = errorIn(chunk);
    if (event.event === 'error' || reported !== undefined) throw reportedError(reported ?? chunk, this.headers);
    const choice = chunk?.choices?.[0];
    const refusal: unknown = choice?.delta?.refusal;
    if (typeof refusal === 'string') this.refusal += refusal;
    const delta = choice?.delta?.content;
    if (delta) {
      this.text += delta;
      this.chunks++;
      this.onDelta(delta);
    }
    if (choice?.finish_reason) this.finish = choice.finish_reason;
    if (chunk?.usage) this.usage = chunk.usage;
  }
}

/**
 * The server's own words from the SDK's error message, which starts with the status
 * ("500 boom", "429 status code (no body)"): without the status the message already gives.
 * Words that are long or hold control characters are cut short and escaped (one line);
 * an HTML page is named as such, with its title.
 */
function serverWords(message: string, status: number | undefined, headers: Headers | undefined): string {
  const words = status !== undefined && message.startsWith(`${status} `) ? message.slice(String(status).length + 1).trim() : message.trim();
  if (/^status code \(no body\)$/.test(words)) return '';
  if (/^text\/html/i.test(headers?.get('content-type') ?? '') || /^<(!doctype html|html)[\s>]/i.test(words)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(words.slice(0, 4096))?.[1]?.replace(/\s+/g, ' ').trim();
    return title ? `an HTML page titled ${clip(title)}` : 'an HTML page';
  }
  return shownWords(words);
}

/** Words from the other side as an error quotes them: as they are when short and on one line, else cut short and escaped. */
function shownWords(words: string): string {
  return words.length <= WORDS_SHOWN && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(words) ? words : clip(words, WORDS_SHOWN);
}

/** The longest server's words an error quotes as they are; longer ones are cut there. */
const WORDS_SHOWN = 300;

/**
 * A wait a server asks for, in words: "120 s", "5 h", "3 days"; "more than a year" for an absurd
 * one (a `Retry-After` of 400 nines, a date in the year 9999), which was "Infinity s".
 */
function waitInWords(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 3600) return `${seconds} s`;
  if (seconds < 48 * 3600) return `${Math.ceil(seconds / 3600)} h`;
  if (seconds <= 365 * 86_400) return `${Math.ceil(seconds / 86_400)} days`;
  return 'more than a year';
}

/** The final error of a request that was tried more than once says how many times. */
function afterAttempts(error: BackendError, attempts: number): BackendError {
  if (attempts <= 1) return error;
  return new BackendError(error.code, `${sentence(error.message)} Gave up after ${attempts} attempts.`, error.details);
}

/** `text` ending with a full stop (unless it ends with one already, or ? or !). */
function sentence(text: string): string {
  return /[.?!]$/.test(text) ? text : `${text}.`;
}

/** What kind of JSON value this is, in words ("null", "an array", "a string"). */
function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** `text` quoted and escaped (one line), cut after `max` characters. */
function clip(text: string, max = 80): string {
  return text.length > max ? `${JSON.stringify(text.slice(0, max))}…` : JSON.stringify(text);
}

/**
 * Reads the body of a streamed answer into `answer`. Chunks already received when
 * the request was cancelled are not handed out; a cancelled read ends quietly (the
 * caller says why), and a body left unread is cancelled, which frees the connection.
 */
async function readEvents(response: Response, signal: AbortSignal, progress: Progress, answer: StreamedAnswer): Promise<EventsRead> {
  const reader = response.body?.getReader();
  if (reader === undefined) return { head: '', body: [] };
  const decoder = new EventStreamDecoder();
  // The body's first bytes, to quote when it was no event stream.
  let head = '';
  // The whole body while no event came: a completion sent as JSON under another content type.
  const body: Uint8Array[] = [];
  let ended = false;
  let received = 0;
  try {
    for (;;) {
      const read = await reader.read().catch((error: unknown) => {
        throw signal.aborted ? error : new ConnectionClosed(error);
      });
      if (signal.aborted) return { head, body };
      progress.touch();
      ended = read.done;
      received += read.value?.length ?? 0;
      if (received > ANSWER_BODY_LIMIT) throw new BackendError('bad-response', `${answer.where} streamed more than ${megabytes(ANSWER_BODY_LIMIT)} without finishing its answer, the most an answer is read up to: reading stopped there; ${TOO_LARGE_ADVICE}.`);
      if (!read.done && head.length < HEAD_SHOWN) head += new TextDecoder().decode(read.value.subarray(0, HEAD_SHOWN - head.length));
      if (!read.done && answer.events === 0) body.push(read.value);
      for (const event of read.done ? decoder.end() : decoder.push(read.value)) answer.take(event);
      if (answer.events > 0) body.length = 0;
      if (ended) return { head, body };
    }
  } catch (error) {
    if (!signal.aborted) throw error;
    return { head, body };
  } finally {
    if (!ended) reader.cancel().catch(() => undefined);
  }
}

/** What readEvents read besides the events: the body's first bytes, and all of it when it held no event. */
interface EventsRead {
  readonly head: string;
  readonly body: readonly Uint8Array[];
}

/**
 * Whether a body that held no event is a whole answer as a JSON reply carries one: a chat
 * completion (`"choices": [...]`), or the error a server reports in place of one.
 */
function isWholeAnswer(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  return isObject(value) && (Array.isArray(value.choices) || errorIn(value) !== undefined);
}

/** How much of a body that is not an event stream its error quotes (escaped, then cut at 80 characters). */
const HEAD_SHOWN = 200;

/** What a request has done so far: text handed out (no more retries), signs of life, attempts made. */
interface Progress {
  streamed: boolean;
  /** Requests sent so far (1 + the retries): the final error says how many. */
  attempts: number;
  /** The server is alive (stream opened, chunk received): restarts the silence timer. */
  readonly touch: () => void;
}

export class OpenAIBackend implements ModelBackend {
  readonly identity;
  private readonly client: OpenAI;
  private structuredOutput: boolean;
  /** Learned from the server's 400s: some models want `max_completion_tokens`, some refuse sampling knobs. */
  private useMaxCompletionTokens = false;
  private readonly droppedParams = new Set<string>();
  /** The base URL without its query: the endpoints' paths go after it. */
  private readonly endpointBase: string;
  /** The header the key goes in (`Authorization`, `api-key`...). */
  private readonly keyHeader: string;

  constructor(private readonly options: OpenAIBackendOptions) {
    this.identity = { backend: 'openai', model: `${options.model}@${options.baseURL}` };
    this.structuredOutput = options.structuredOutput ?? true;
    // A query in the base URL (Azure's `?api-version=`, a proxy's `?tenant=`) goes on every request, after the endpoint's path.
    const base = splitBaseUrl(options.baseURL);
    this.endpointBase = base.url;
    const query = { ...base.query, ...options.query };
    const apiKey = options.apiKey !== undefined && options.apiKey.trim() !== '' ? options.apiKey : undefined;
    this.keyHeader = apiKeyHeaderFor(options.baseURL, options.apiKeyHeader);
    // The SDK sends `Authorization: Bearer KEY` itself; a key that goes in another header replaces it (null: not sent).
    const keyHeaders = this.keyHeader.toLowerCase() === AUTHORIZATION_HEADER.toLowerCase() ? {} : { [AUTHORIZATION_HEADER]: null, ...(apiKey !== undefined ? { [this.keyHeader]: apiKeyHeaderValue(this.keyHeader, apiKey) } : {}) };
    const headers = { ...keyHeaders, ...options.headers };
    this.client = new OpenAI({
      baseURL: base.url,
      // Local servers ignore the key, but the SDK insists on one.
      apiKey: apiKey ?? PLACEHOLDER_API_KEY,
      ...(options.organization ? { organization: options.organization } : {}),
      ...(Object.keys(headers).length > 0 ? { defaultHeaders: headers } : {}),
      // The SDK's debug log (OPENAI_LOG=debug) hides only the Authorization header's value: the key, in any header, never reaches it.
      ...(apiKey !== undefined ? { logger: keyHidingLogger(apiKey) } : {}),
      ...(Object.keys(query).length > 0 ? { defaultQuery: query } : {}),
      fetch: boundedFetch,
      maxRetries: 0,
      timeout: 24 * 3600_000, // Ours (per request, via AbortSignal) is the one that counts.
    });
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    if (request.signal?.aborted) throw new BackendError('cancelled', 'The request was cancelled before it started.');
    // A hosted API without a key would only answer 401: say how to set one, without a call.
    const missingKey = missingApiKeyProblem(this.options.baseURL, this.options.apiKey, this.options.apiKeyEnv);
    if (missingKey !== undefined) throw new BackendError('server-rejected', missingKey);
    // Checked where base URLs are given (profiles, options, settings); here too, so that such a URL fails once, not after retries.
    const secret = baseUrlSecretProblem(this.options.baseURL, 'The base URL', 'name the environment variable that holds the key (`api_key_env "NAME"`, --api-key-env VAR) instead');
    if (secret !== undefined) throw new BackendError('server-rejected', secret);
    const controller = new AbortController();
    let timedOut: 'total' | 'idle' | undefined;
    const timeoutMs = request.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = timeoutMs > 0 ? setTimeout(() => ((timedOut = 'total'), controller.abort()), timeoutMs) : undefined;
    // A time limit the caller chose replaces the silence limit (a slow server may be expected).
    const idleMs = request.timeoutMs === undefined && request.onText ? (this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS) : 0;
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const touch = (): void => {
      if (idleMs <= 0) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => ((timedOut = 'idle'), controller.abort()), idleMs);
    };
    touch();
    const onAbort = (): void => controller.abort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    const started = Date.now();
    // Once text has reached the caller, a retry would repeat it: no more retries then.
    const progress = { streamed: false, attempts: 0, touch };
    try {
      return await this.withRetries(controller.signal, () => !progress.streamed, () => (progress.touch(), progress.attempts++, this.attempt(request, controller.signal, started, progress)));
    } catch (error) {
      if (timedOut === 'total') throw new BackendError('timed-out', `${this.where()} did not finish within ${formatLimit(timeoutMs)} (the time limit); ${RAISE_LIMIT}.`, { cause: error });
      if (timedOut === 'idle') {
        const when = progress.streamed ? 'in the middle of its answer' : 'before starting its answer';
        throw new BackendError('timed-out', `${this.where()} sent nothing for ${formatLimit(idleMs)} ${when}: it seems stalled; ${RAISE_LIMIT}.`, { cause: error });
      }
      if (request.signal?.aborted) throw new BackendError('cancelled', 'The request was cancelled.', { cause: error });
      throw this.withoutKey(afterAttempts(this.toBackendError(error), progress.attempts));
    } finally {
      clearTimeout(timer);
      clearTimeout(idleTimer);
      request.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The error with the key replaced by `[key]` wherever the server's words quoted it. */
  private withoutKey(error: BackendError): BackendError {
    const message = withoutApiKey(error.message, this.options.apiKey);
    return message === error.message ? error : new BackendError(error.code, message, error.details);
  }

  private rejectedKey(): string {
    const sent = this.options.apiKey !== undefined && this.options.apiKey.trim() !== '';
    return sent ? `${this.where()} rejected the API key` : `${this.where()} rejected the request: it needs an API key and none is set`;
  }

  /** Which header the key went in, and how to choose another (a server that reads it elsewhere answers 401 too); nothing when no key was sent. */
  private keyWentIn(): string {
    if (this.options.apiKey === undefined || this.options.apiKey.trim() === '') return '';
    const how = this.keyHeader.toLowerCase() === AUTHORIZATION_HEADER.toLowerCase() ? `the ${AUTHORIZATION_HEADER} header, as Bearer` : `the ${this.keyHeader} header`;
    return ` The key went in ${how}; for a server that reads it from another header, name it with \`api_key_header "NAME"\` in a model profile or --api-key-header NAME.`;
  }

  private where(): string {
    return `The server at ${this.options.baseURL} (model ${this.options.model})`;
  }

  private async withRetries<T>(signal: AbortSignal, mayRetry: () => boolean, attempt: () => Promise<T>): Promise<T> {
    const policy = this.options.retry ?? {};
    const maxRetries = policy.maxRetries ?? 4;
    const base = policy.baseDelayMs ?? 500;
    const maxDelay = policy.maxDelayMs ?? 30_000;
    const maxTotal = policy.maxTotalDelayMs ?? 60_000;
    let waited = 0;
    for (let retry = 0; ; retry++) {
      try {
        return await attempt();
      } catch (error) {
        if (signal.aborted || !isRetryable(error) || retry >= maxRetries || !mayRetry()) throw error;
        const hinted = error instanceof OpenAI.APIError ? retryAfterMs(error.headers) : undefined;
        const backoff = Math.min(maxDelay, base * 2 ** retry) * (0.5 + Math.random() / 2);
        const delay = Math.round(hinted ?? backoff);
        // A server asking for a longer wait than we allow: fail now with its hint.
        if (delay > maxDelay || waited + delay > maxTotal) throw error;
        this.options.onRetry?.({ attempt: retry + 1, delayMs: delay, reason: error instanceof OpenAI.APIError && error.status ? `HTTP ${error.status}` : withoutApiKey(error instanceof OpenAI.APIConnectionError ? describeConnectionFailure(error, this.options.baseURL) : (error as Error).message, this.options.apiKey) });
        await abortableSleep(delay, signal);
        waited += delay;
      }
    }
  }

  private messagesFor(request: GenerateRequest, hint: string | undefined): ChatMessage[] {
    const messages = request.prompt.kind === 'chat' ? [...request.prompt.messages] : [{ role: 'user' as const, content: request.prompt.text }];
    if (!hint) return messages;
    const lastUser = messages.map((m) => m.role).lastIndexOf('user');
    if (lastUser < 0) return [...messages, { role: 'user', content: hint }];
    const target = messages[lastUser] as ChatMessage;
    messages[lastUser] = { role: 'user', content: `${target.content}\n\n${hint}` };
    return messages;
  }

  private body(request: GenerateRequest, useSchema: boolean): ChatParams {
    const p: SamplingParams = { ...this.options.defaults, ...request.params };
    const constraint: OutputConstraint | undefined = request.constraint;
    const schemaFormat = constraint?.kind === 'json-schema' && useSchema;
    const hint = constraint && !schemaFormat ? constraintHint(constraint) : undefined;
    const sampling: Record<string, unknown> = {
      ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
      ...(p.topP !== undefined ? { top_p: p.topP } : {}),
      ...(p.topK !== undefined ? { top_k: p.topK } : {}),
      ...(p.maxTokens !== undefined ? { [this.useMaxCompletionTokens ? 'max_completion_tokens' : 'max_tokens']: p.maxTokens } : {}),
      ...(p.seed !== undefined ? { seed: p.seed } : {}),
      ...(p.stop && p.stop.length > 0 ? { stop: [...p.stop] } : {}),
    };
    for (const name of this.droppedParams) delete sampling[name];
    return {
      model: this.options.model,
      messages: this.messagesFor(request, hint),
      ...sampling,
      ...(schemaFormat ? { response_format: { type: 'json_schema', json_schema: { name: 'output', schema: constraint.schema as Record<string, unknown>, strict: false } } } : {}),
    } as ChatParams;
  }

  private async attempt(request: GenerateRequest, signal: AbortSignal, started: number, progress: Progress): Promise<GenerateResult> {
    // Each refusal teaches one adjustment; a handful covers every known combination.
    for (let adjustments = 0; ; adjustments++) {
      const useSchema = this.structuredOutput && request.constraint?.kind === 'json-schema';
      try {
        return await this.call(request, signal, started, useSchema, progress);
      } catch (error) {
        if (adjustments >= 4 || !(error instanceof OpenAI.APIError) || (error.status !== 400 && error.status !== 422) || !this.adjustTo(error, useSchema)) throw error;
      }
    }
  }

  /** Adapts the request to what the server just refused; false when nothing can be changed. */
  private adjustTo(error: InstanceType<typeof OpenAI.APIError>, usedSchema: boolean): boolean {
    const param = error.param ?? /'([a-z_]+)'/.exec(error.message)?.[1];
    // A server without structured output refuses the response_format: use a hint instead.
    if (usedSchema && (param === 'response_format' || /response_format|json_schema|structured output/i.test(error.message))) {
      this.structuredOutput = false;
      return true;
    }
    const unsupported = error.code === 'unsupported_parameter' || error.code === 'unsupported_value' || /unsupported (parameter|value)/i.test(error.message);
    if (!unsupported || !param) return false;
    // Newer OpenAI models take max_completion_tokens instead of max_tokens.
    if (param === 'max_tokens' && !this.useMaxCompletionTokens) {
      this.useMaxCompletionTokens = true;
      return true;
    }
    // Reasoning models refuse sampling settings other than their defaults; older
    // servers do not know stream_options (then token usage is counted from chunks).
    if (['temperature', 'top_p', 'top_k', 'seed', 'stop', 'stream_options'].includes(param) && !this.droppedParams.has(param)) {
      this.droppedParams.add(param);
      return true;
    }
    return false;
  }

  private async call(request: GenerateRequest, signal: AbortSignal, started: number, useSchema: boolean, progress: Progress): Promise<GenerateResult> {
    const body = this.body(request, useSchema);
    if (!request.onText) {
      const response = await this.client.chat.completions.create({ ...body, stream: false }, { signal }).asResponse();
      progress.touch();
      return this.completionResult(await readAnswer(response, signal, this.where()), started);
    }
    const usageOption = this.droppedParams.has('stream_options') ? {} : { stream_options: { include_usage: true } };
    // The raw response, its events decoded here (eventStream.ts says why); the SDK still
    // builds the request and turns an HTTP error status into its APIError.
    const response = await this.client.chat.completions.create({ ...body, stream: true, ...usageOption }, { signal }).asResponse();
    progress.touch();
    // Some servers ignore `stream` and send the whole completion as JSON.
    if (/^application\/json/i.test(response.headers.get('content-type') ?? '')) return this.wholeAnswer(request, progress, await readAnswer(response, signal, this.where()), started);
    const answer = new StreamedAnswer(this.where(), response.headers, (delta) => {
      progress.streamed = true;
      request.onText?.(delta);
    });
    const { head, body: bytes } = await readEvents(response, signal, progress, answer);
    if (answer.events === 0) {
      // A whole completion under another content type (some proxies send text/plain, or none).
      const text = new TextDecoder().decode(Buffer.concat(bytes));
      if (isWholeAnswer(text)) return this.wholeAnswer(request, progress, text, started);
      const type = response.headers.get('content-type');
      throw new BackendError('bad-response', `${this.where()} did not answer with an event stream: it sent ${head === '' ? 'an empty body' : clip(head)}${type !== null ? ` (content type ${clip(type)})` : ''}.`);
    }
    // `[DONE]` says the stream is complete: a server that never sent a finish reason stopped there.
    if (answer.finish === undefined && answer.done && (answer.text !== '' || answer.usage !== undefined || answer.refusal !== '')) answer.finish = 'stop';
    if (answer.finish === undefined) throw new BackendError('bad-response', `${this.where()} ended the stream before the answer was finished.`);
    const refusal = refusalIn(answer.refusal);
    if (refusal !== undefined) throw this.refused(refusal);
    return {
      text: answer.text,
      promptTokens: answer.usage?.prompt_tokens ?? 0,
      completionTokens: answer.usage?.completion_tokens ?? answer.chunks,
      durationMs: Date.now() - started,
      stopReason: stopReasonOf(answer.finish),
    };
  }

  /** A whole completion sent in answer to a streamed request: its text is handed out at once. */
  private wholeAnswer(request: GenerateRequest, progress: Progress, body: string, started: number): GenerateResult {
    const result = this.completionResult(body, started);
    if (result.text !== '') {
      progress.streamed = true;
      request.onText?.(result.text);
    }
    return result;
  }

  /** A whole (not streamed) chat completion from the text of its body. */
  private completionResult(body: string, started: number): GenerateResult {
    let completion: unknown;
    try {
      completion = JSON.parse(body);
    } catch {
      throw new BackendError('bad-response', `${this.where()} sent an answer that is not JSON: it sent ${body === '' ? 'an empty body' : clip(body)}.`);
    }
    const { choices, usage } = (isObject(completion) ? completion : {}) as Partial<OpenAI.ChatCompletion>;
    // An error in place of the answer, with a 200 status (OpenRouter, when the model failed after the request was accepted).
    const reported = Array.isArray(choices) ? undefined : errorIn(completion);
    if (reported !== undefined) throw reportedError(reported, undefined);
    const choice: unknown = Array.isArray(choices) ? choices[0] : undefined;
    const message: unknown = isObject(choice) ? choice.message : undefined;
    // `content: null` is a message without text: a reasoning model that spent max_tokens thinking
    // (finish_reason "length"), as a streamed answer whose chunks carry no content gives "".
    const refusal = isObject(message) ? refusalIn(message.refusal) : undefined;
    if (refusal !== undefined) throw this.refused(refusal);
    const text: unknown = isObject(message) ? (message.content ?? '') : undefined;
    if (typeof text !== 'string') {
      const got = !isObject(completion) ? jsonKind(completion) : !Array.isArray(choices) ? 'an object without "choices"' : choice === undefined ? 'no choices' : 'a choice without a text "message"';
      throw new BackendError('bad-response', `${this.where()} sent an answer that is not a chat completion: expected a JSON object with "choices": [{"message": {"content": TEXT}}], got ${got}.`);
    }
    return {
      text,
      promptTokens: usage?.prompt_tokens ?? 0,
      completionTokens: usage?.completion_tokens ?? 0,
      durationMs: Date.now() - started,
      stopReason: stopReasonOf((choice as OpenAI.ChatCompletion.Choice).finish_reason),
    };
  }

  /** The model declined (OpenAI's `refusal`): the item's failure, with the model's words; never retried (not an APIError). */
  private refused(words: string): BackendError {
    return new BackendError('refused', `${this.where()} sent the model's refusal instead of an answer. The model says: ${sentence(shownWords(words))}`);
  }

  /** A redirect in words: the base URL it points to, when it points to a chat completions endpoint. */
  private redirected(status: number, headers: Headers | undefined): string {
    const location = headers?.get('location');
    if (!location) return `${this.where()} answered HTTP ${status} (a redirect) without saying where to: check the base URL.`;
    let target: URL;
    try {
      target = new URL(location, `${this.endpointBase.replace(/\/+$/, '')}/chat/completions`);
    } catch {
      return `${this.where()} redirects (HTTP ${status}) to ${clip(location)}, which is no URL: check the base URL.`;
    }
    target.username = '';
    target.password = '';
    const base = /\/chat\/completions\/?$/.exec(target.pathname);
    if (base === null) return `${this.where()} redirects (HTTP ${status}) to ${target.href}, which is no chat completions endpoint: check the base URL.`;
    return `${this.where()} redirects to ${target.origin}${target.pathname.slice(0, base.index)} (HTTP ${status}): use that as the base URL.`;
  }

  private toBackendError(error: unknown): BackendError {
    if (error instanceof BackendError) return error;
    if (error instanceof OpenAI.APIConnectionTimeoutError) return new BackendError('timed-out', `${this.where()} did not answer in time; ${RAISE_LIMIT}.`, { cause: error });
    if (error instanceof OpenAI.APIUserAbortError) return new BackendError('cancelled', 'The request was cancelled.', { cause: error });
    if (error instanceof OpenAI.APIConnectionError) {
      // Only the base URL and the cause: never the headers (they carry the key).
      return new BackendError('server-rejected', `Could not reach ${this.options.baseURL}: ${describeConnectionFailure(error, this.options.baseURL)}. Is the server running and the base URL right?`, { cause: error });
    }
    if (error instanceof ConnectionClosed) return new BackendError('bad-response', `${this.where()} stopped answering: ${error.message}.`, { cause: error });
    if (error instanceof OpenAI.APIError && error.status !== undefined) {
      const status = error.status;
      // Redirects are not followed (boundedFetch).
      if (status >= 300 && status < 400) return new BackendError('server-rejected', this.redirected(status, error.headers), { status, cause: error });
      const detail = serverWords(error.message, status, error.headers);
      const retryAfter = retryAfterMs(error.headers);
      const details = { status, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}), cause: error };
      const says = detail === '' ? '' : ` The server says: ${sentence(detail)}`;
      if (status === 429) return new BackendError('rate-limited', `${this.where()} is rate limiting requests (HTTP 429)${retryAfter !== undefined ? `; it asks to wait ${waitInWords(retryAfter)}` : ''}.${says}`, details);
      if (status === 401) return new BackendError('server-rejected', `${this.rejectedKey()} (401): ${howToSetApiKey(this.options.baseURL, this.options.apiKeyEnv)}.${this.keyWentIn()}${says}`, details);
      if (status === 403) return new BackendError('server-rejected', `${this.where()} refused access (403): the API key lacks permission for this model or endpoint.${says}`, details);
      if (status === 404) return new BackendError('model-not-found', `${this.where()} does not know this model or endpoint (404)${detail === '' ? '.' : `: ${sentence(detail)}`}`, details);
      // A 5xx asking for a wait longer than the retries allow failed at once: say what it asked for.
      if (status >= 500 && retryAfter !== undefined && retryAfter > 0) return new BackendError('server-rejected', `${this.where()} answered HTTP ${status}; it asks to wait ${waitInWords(retryAfter)}.${says}`, details);
      return new BackendError('server-rejected', `${this.where()} answered HTTP ${status}${detail === '' ? '.' : `: ${sentence(detail)}`}`, details);
    }
    // An error the server reported inside its event stream (no HTTP status: the stream had begun).
    if (error instanceof OpenAI.APIError) return new BackendError('bad-response', `${this.where()} reported an error while answering: ${sentence(serverWords(error.message, undefined, error.headers))}`, { cause: error });
    // Unparseable bodies, broken streams and the like.
    const message = error instanceof Error ? error.message : String(error);
    return new BackendError('bad-response', `${this.where()} sent a response that could not be read: ${message}`, { cause: error });
  }

  async dispose(): Promise<void> {
    // The SDK holds no open resources beyond keep-alive sockets, which time out.
  }
}
