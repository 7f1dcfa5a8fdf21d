/**
 * A test server on 127.0.0.1 that speaks the OpenAI REST protocol and answers
 * with node-llama-cpp and the tiny test model (in this process, one thread):
 *
 *   GET  /v1/models
 *   POST /v1/chat/completions          (JSON or SSE stream; response_format json_schema via a grammar)
 *   POST /v1/files                     (multipart upload)      GET /v1/files, /v1/files/:id, /v1/files/:id/content
 *   POST /v1/fine_tuning/jobs          GET /v1/fine_tuning/jobs, /v1/fine_tuning/jobs/:id, /:id/events
 *   POST /v1/fine_tuning/jobs/:id/cancel
 *
 * Fine-tuning jobs are an in-memory state machine that moves one state per read
 * of the job (validating_files → queued → running → succeeded), writing events
 * and metrics on the way. Tests queue faults for the next requests (429 with
 * Retry-After, 500, a malformed body, a stream broken mid-way, a stall) and
 * read the request log to count calls. A replier (`reply` option or
 * `setReplier`) decides an answer from the request itself (e.g. a reference
 * output per prompt) and may hold it (a slow or paused server).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { LocalEngine } from '../../core/backends/local/engine';
import type { ChatMessage, OutputConstraint } from '../../core/backends/types';
import { tinyModelPath } from './tinyModel';

export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: string; readonly message?: string }
  | { readonly kind: 'malformed-json' }
  /** Sends `afterChunks` stream chunks (or half the JSON body) and cuts the connection; 0 cuts it before the headers. */
  | { readonly kind: 'broken-stream'; readonly afterChunks?: number }
  /** Never answers (with `afterHeaders`: sends the headers of a streamed answer, then nothing); the connection stays open until the client gives up. */
  | { readonly kind: 'stall'; readonly afterHeaders?: boolean }
  /** A well-formed answer with this text (streamed word by word when asked), instead of the model's; `finishReason` (default "stop") as the server names it: "content_filter", "error"... */
  | { readonly kind: 'reply'; readonly content: string; readonly finishReason?: string }
  /** OpenAI's refusal: `message.refusal` with `content: null`, or streamed as `delta.refusal` chunks word by word. */
  | { readonly kind: 'refusal'; readonly refusal: string }
  /** Exactly this body with this content type (none when undefined) and status (default 200): event streams written by hand (errors, comments, garbage), error bodies of other servers' shapes. */
  | { readonly kind: 'raw'; readonly contentType: string | undefined; readonly body: string; readonly status?: number }
  /**
   * A well-formed answer of about `bytes` bytes (a whole completion, or events when streamed),
   * written as the client takes it; `contentLength` declares its length. `onClose` learns how
   * many bytes were written when the connection ended, and whether all of them.
   */
  | { readonly kind: 'huge'; readonly bytes: number; readonly contentLength?: boolean; readonly onClose?: (sent: { readonly bytes: number; readonly finished: boolean }) => void };

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly fault?: Fault['kind'];
}

/** The fields of a chat-completion request's body that tests read (what the client sent). */
export interface ChatBody {
  readonly model?: string;
  readonly temperature?: number;
  readonly top_p?: number;
  readonly seed?: number;
  readonly stop?: readonly string[];
  readonly max_tokens?: number;
  readonly max_completion_tokens?: number;
  readonly messages?: readonly { readonly role: string; readonly content: string }[];
}

export interface FileObject {
  readonly id: string;
  readonly object: 'file';
  readonly bytes: number;
  readonly created_at: number;
  readonly filename: string;
  readonly purpose: string;
  readonly status: 'processed';
}

type JobStatus = 'validating_files' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

interface Job {
  id: string;
  object: 'fine_tuning.job';
  model: string;
  created_at: number;
  finished_at: number | null;
  fine_tuned_model: string | null;
  status: JobStatus;
  training_file: string;
  validation_file: string | null;
  hyperparameters: Record<string, unknown>;
  suffix: string | null;
  trained_tokens: number | null;
  error: { code: string; message: string; param: string | null } | null;
  result_files: string[];
  seed: number;
  organization_id: string;
  events: { object: 'fine_tuning.job.event'; id: string; created_at: number; level: 'info' | 'warn' | 'error'; message: string; type: 'message' | 'metrics'; data: Record<string, unknown> | null }[];
}

/**
 * Decides the answer of a chat completion from its messages: a text, or undefined for the
 * model's own answer. It may wait (a slow server, or one a test holds until it kills a client).
 */
export type Replier = (request: { readonly messages: readonly ChatMessage[]; readonly model: string }) => string | undefined | Promise<string | undefined>;

export interface OpenAITestServerOptions {
  /** Answers from the request instead of the model (see Replier). */
  readonly reply?: Replier;
  /** GGUF the answers come from (default: the tiny test model). */
  readonly modelPath?: string;
  /** Model ids the server lists and accepts (default ["tiny"]). */
  readonly models?: readonly string[];
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (or the bare key in `apiKeyHeader`). */
  readonly apiKey?: string;
  /** The header `apiKey` is read from, bare, as Azure OpenAI reads `api-key` (default: Authorization, as Bearer). */
  readonly apiKeyHeader?: string;
  /** Whether `response_format: json_schema` is honoured (default) or refused with 400. */
  readonly structuredOutput?: boolean;
  /** Threads for llama.cpp (default 1). */
  readonly threads?: number;
  /**
   * Request parameters refused with 400 as OpenAI's newer models do:
   * `max_tokens` (use max_completion_tokens), `temperature`, `top_p`...
   */
  readonly refuseParams?: readonly string[];
  /** The port to listen on (default: any free one); a test brings a closed server back on its port. */
  readonly port?: number;
}

/** Picks a fault for a request (its path, parsed body and headers: a server that echoes the Authorization header), or none. */
export type FaultChooser = (request: { readonly path: string; readonly body: unknown; readonly headers: Readonly<Record<string, string | string[] | undefined>> }) => Fault | undefined;

export interface OpenAITestServer {
  /** `http://127.0.0.1:PORT/v1`, the SDK's baseURL. */
  readonly baseURL: string;
  readonly requests: readonly RecordedRequest[];
  /** Requests seen, optionally only those to one path (e.g. `/v1/chat/completions`). */
  count(path?: string): number;
  /** The chat-completion requests among `requests` from index `from` on (a length taken before the call under test). */
  chatRequests(from?: number): RecordedRequest[];
  /** Queues faults, answered to the next requests to `path` (default chat completions), one each. */
  injectFaults(faults: readonly Fault[], path?: string): void;
  /** Replaces the replier (undefined: the model answers again). */
  setReplier(replier: Replier | undefined): void;
  /** Chooses a fault for each request the queue has none for (e.g. every request of one item); undefined: none. */
  setFaultChooser(choose: FaultChooser | undefined): void;
  /** Makes the next created fine-tuning job fail when it would start running. */
  failNextJob(message?: string): void;
  readonly files: ReadonlyMap<string, FileObject & { content: Buffer }>;
  close(): Promise<void>;
}

const CHAT_PATH = '/v1/chat/completions';

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string, type = 'invalid_request_error', code: string | null = null, headers: Record<string, string> = {}, param: string | null = null): void {
  sendJson(res, status, { error: { message, type, param, code } }, headers);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The parts of a multipart/form-data body (enough for the SDK's file uploads). */
function parseMultipart(body: Buffer, contentType: string): Map<string, { filename?: string; data: Buffer }> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const parts = new Map<string, { filename?: string; data: Buffer }>();
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker) return parts;
  const delimiter = Buffer.from(`--${marker}`);
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2); // skip CRLF after the marker and before the next
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const head = part.subarray(0, headerEnd).toString('utf8');
      const name = /name="([^"]*)"/i.exec(head)?.[1];
      const filename = /filename="([^"]*)"/i.exec(head)?.[1];
      if (name !== undefined) parts.set(name, { ...(filename !== undefined ? { filename } : {}), data: part.subarray(headerEnd + 4) });
    }
    start = next;
  }
  return parts;
}

function toConstraint(responseFormat: unknown): OutputConstraint | undefined {
  const format = responseFormat as { type?: string; json_schema?: { schema?: unknown } } | undefined;
  if (format?.type === 'json_schema' && format.json_schema?.schema) return { kind: 'json-schema', schema: format.json_schema.schema };
  return undefined;
}

export async function startOpenAITestServer(options: OpenAITestServerOptions = {}): Promise<OpenAITestServer> {
  const engine = new LocalEngine();
  const modelPath = options.modelPath ?? tinyModelPath();
  const models = new Set(options.models ?? ['tiny']);
  const requests: RecordedRequest[] = [];
  const faults: { path: string; fault: Fault }[] = [];
  const files = new Map<string, FileObject & { content: Buffer }>();
  const jobs = new Map<string, Job>();
  const sockets = new Set<Socket>();
  let counter = 0;
  let failNext: string | undefined;
  let replier: Replier | undefined = options.reply;
  let chooseFault: FaultChooser | undefined;
  const now = (): number => Math.floor(Date.now() / 1000);

  const takeFault = (path: string): Fault | undefined => {
    const index = faults.findIndex((f) => f.path === path);
    return index < 0 ? undefined : faults.splice(index, 1)[0]?.fault;
  };

  /** An answer with `content` (or, as OpenAI sends one, a `refusal` and no content), whole or streamed word by word. */
  function sendReply(res: ServerResponse, content: string, stream: boolean, finishReason = 'stop', refusal?: string): void {
    const id = `chatcmpl-${++counter}`;
    const created = now();
    const tokens = (refusal ?? content).split(/(?<=\s)/);
    const usage = { prompt_tokens: 1, completion_tokens: tokens.length, total_tokens: 1 + tokens.length };
    if (!stream) {
      const message = refusal !== undefined ? { role: 'assistant', content: null, refusal } : { role: 'assistant', content, refusal: null };
      sendJson(res, 200, { id, object: 'chat.completion', created, model: 'tiny', choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }], usage });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: 'tiny', choices, ...extra })}\n\n`;
    const field = refusal !== undefined ? 'refusal' : 'content';
    tokens.forEach((text, i) => res.write(chunk([{ index: 0, delta: i === 0 ? { role: 'assistant', [field]: text } : { [field]: text }, finish_reason: null }])));
    res.write(chunk([{ index: 0, delta: {}, finish_reason: finishReason }]));
    res.end(`${chunk([], { usage })}data: [DONE]\n\n`);
  }

  function sendHuge(res: ServerResponse, fault: Extract<Fault, { kind: 'huge' }>, stream: boolean): void {
    const id = `chatcmpl-${++counter}`;
    const event = (body: object): string => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: now(), model: 'tiny', ...body })}\n\n`;
    const [head, piece, tail] = stream
      ? ['', Buffer.from(event({ choices: [{ index: 0, delta: { content: 'x'.repeat(1000) }, finish_reason: null }] })), `${event({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}data: [DONE]\n\n`]
      : [`{"id":"${id}","object":"chat.completion","created":${now()},"model":"tiny","choices":[{"index":0,"message":{"role":"assistant","content":"`, Buffer.alloc(64 * 1024, 'x'), '"},"finish_reason":"stop"}]}'];
    const pieces = Math.max(1, Math.ceil((fault.bytes - head.length - tail.length) / piece.length));
    const total = head.length + pieces * piece.length + tail.length;
    res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json', ...(fault.contentLength === true ? { 'content-length': String(total) } : {}) });
    let written = head.length;
    res.write(head);
    res.on('close', () => fault.onClose?.({ bytes: written, finished: res.writableFinished }));
    const pump = (): void => {
      while (written < total - tail.length && !res.destroyed) {
        written += piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      if (res.destroyed) return;
      written += tail.length;
      res.end(tail);
    };
    pump();
  }

  function applyFault(fault: Fault, res: ServerResponse, stream: boolean): boolean {
    switch (fault.kind) {
      case 'status':
        sendError(res, fault.status, fault.message ?? `Injected HTTP ${fault.status}`, fault.status === 429 ? 'rate_limit_exceeded' : 'server_error', null, fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {});
        return true;
      case 'malformed-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id": "chatcmpl-broken", "choices": [ this is not JSON');
        return true;
      case 'stall':
        if (fault.afterHeaders === true) res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' }).flushHeaders();
        return true; // Nothing (more) is written.
      case 'reply':
        sendReply(res, fault.content, stream, fault.finishReason);
        return true;
      case 'refusal':
        sendReply(res, '', stream, 'stop', fault.refusal);
        return true;
      case 'raw':
        res.writeHead(fault.status ?? 200, fault.contentType !== undefined ? { 'content-type': fault.contentType } : {});
        res.end(fault.body);
        return true;
      case 'huge':
        sendHuge(res, fault, stream);
        return true;
      case 'broken-stream':
        if (fault.afterChunks === 0) {
          res.socket?.destroy(); // Dropped before any answer, headers included.
          return true;
        }
        if (stream) return false; // Cut after some chunks, in chatCompletion.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"id": "chatcmpl-cut", "object": "chat.comp');
        res.socket?.destroy();
        return true;
    }
  }

  function advanceJob(job: Job): void {
    const event = (message: string, type: 'message' | 'metrics' = 'message', data: Record<string, unknown> | null = null, level: 'info' | 'error' = 'info'): void => {
      job.events.push({ object: 'fine_tuning.job.event', id: `ftevent-${++counter}`, created_at: now(), level, message, type, data });
    };
    switch (job.status) {
      case 'validating_files':
        job.status = 'queued';
        event('Files validated; job queued');
        return;
      case 'queued':
        if (failNext !== undefined) {
          job.status = 'failed';
          job.error = { code: 'invalid_training_file', message: failNext, param: 'training_file' };
          job.finished_at = now();
          event(`Job failed: ${failNext}`, 'message', null, 'error');
          failNext = undefined;
          return;
        }
        job.status = 'running';
        event('Fine-tuning job started');
        event('Step 1/2: training loss=1.25', 'metrics', { step: 1, train_loss: 1.25, total_steps: 2 });
        return;
      case 'running':
        event('Step 2/2: training loss=0.75', 'metrics', { step: 2, train_loss: 0.75, total_steps: 2 });
        job.status = 'succeeded';
        job.finished_at = now();
        job.trained_tokens = 1234;
        job.fine_tuned_model = `ft:${job.model}:coi:${job.suffix ?? 'test'}:${job.id}`;
        models.add(job.fine_tuned_model);
        event(`New fine-tuned model created: ${job.fine_tuned_model}`);
        event('The job has successfully completed');
        return;
      default:
        return;
    }
  }

  function publicJob(job: Job): Omit<Job, 'events'> {
    const { events: _events, ...rest } = job;
    return rest;
  }

  async function chatCompletion(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>, fault: Fault | undefined): Promise<void> {
    const stream = body.stream === true;
    if (fault && applyFault(fault, res, stream)) return;
    const model = String(body.model ?? '');
    if (!models.has(model)) return sendError(res, 404, `The model \`${model}\` does not exist`, 'invalid_request_error', 'model_not_found');
    if (!Array.isArray(body.messages) || body.messages.length === 0) return sendError(res, 400, "'messages' must be a non-empty array");
    for (const param of options.refuseParams ?? []) {
      if (body[param] === undefined) continue;
      if (param === 'max_tokens') return sendError(res, 400, "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", 'invalid_request_error', 'unsupported_parameter', {}, param);
      return sendError(res, 400, `Unsupported value: '${param}' does not support ${JSON.stringify(body[param])} with this model. Only the default value is supported.`, 'invalid_request_error', 'unsupported_value', {}, param);
    }
    const constraint = toConstraint(body.response_format);
    if (constraint && options.structuredOutput === false) return sendError(res, 400, "response_format 'json_schema' is not supported by this server", 'invalid_request_error', 'unsupported_parameter');
    const messages: ChatMessage[] = (body.messages as { role: string; content: unknown }[]).map((m) => ({
      role: m.role === 'system' || m.role === 'developer' ? 'system' : m.role === 'assistant' ? 'assistant' : 'user',
      content: typeof m.content === 'string' ? m.content : JSON.stringify(m.content),
    }));
    if (replier !== undefined) {
      const replied = await replier({ messages, model });
      if (replied !== undefined) {
        if (!res.destroyed) sendReply(res, replied, stream);
        return;
      }
    }
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const id = `chatcmpl-${++counter}`;
    const created = now();
    const stop = typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? (body.stop as string[]) : undefined;
    const breakAfter = fault?.kind === 'broken-stream' ? (fault.afterChunks ?? 2) : undefined;
    let chunks = 0;
    const writeChunk = (payload: unknown): void => void res.write(`data: ${JSON.stringify(payload)}\n\n`);
    if (stream) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    try {
      const result = await engine.generate(
        {
          requestId: counter,
          model: { path: modelPath, threads: options.threads ?? 1, contextSize: 2048, gpu: 'cpu' },
          prompt: { kind: 'chat', messages },
          params: {
            maxTokens: typeof body.max_tokens === 'number' ? body.max_tokens : typeof body.max_completion_tokens === 'number' ? body.max_completion_tokens : 64,
            ...(typeof body.temperature === 'number' ? { temperature: body.temperature } : {}),
            ...(typeof body.top_p === 'number' ? { topP: body.top_p } : {}),
            ...(typeof body.seed === 'number' ? { seed: body.seed } : {}),
            ...(stop ? { stop } : {}),
          },
          ...(constraint ? { constraint } : {}),
        },
        {
          signal: controller.signal,
          ...(stream
            ? {
                onText: (text: string) => {
                  if (res.destroyed) return;
                  const payload = { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: chunks === 0 ? { role: 'assistant', content: text } : { content: text }, finish_reason: null }] };
                  if (++chunks !== breakAfter) return writeChunk(payload);
                  // Cut the connection once this last chunk has been flushed.
                  res.write(`data: ${JSON.stringify(payload)}\n\n`, () => res.socket?.destroy());
                  controller.abort();
                },
              }
            : {}),
        },
      );
      const finish = result.stopReason === 'length' ? 'length' : 'stop';
      const usage = { prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens, total_tokens: result.promptTokens + result.completionTokens };
      if (!stream) {
        sendJson(res, 200, { id, object: 'chat.completion', created, model, choices: [{ index: 0, message: { role: 'assistant', content: result.text, refusal: null }, finish_reason: finish, logprobs: null }], usage });
        return;
      }
      if (breakAfter !== undefined && !res.destroyed) {
        res.socket?.destroy(); // The answer ended before the promised break: cut it anyway.
        return;
      }
      writeChunk({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: {}, finish_reason: finish }] });
      const streamOptions = body.stream_options as { include_usage?: boolean } | undefined;
      if (streamOptions?.include_usage) writeChunk({ id, object: 'chat.completion.chunk', created, model, choices: [], usage });
      res.end('data: [DONE]\n\n');
    } catch (error) {
      if (controller.signal.aborted || res.destroyed) return;
      if (stream) {
        writeChunk({ error: { message: (error as Error).message, type: 'server_error' } });
        res.end();
      } else sendError(res, 500, (error as Error).message, 'server_error');
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '');
    const raw = await readBody(req);
    const contentType = req.headers['content-type'] ?? '';
    let body: unknown = undefined;
    if (raw.length > 0 && contentType.includes('application/json')) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return sendError(res, 400, 'The request body is not valid JSON');
      }
    }
    const fault = req.method === 'POST' || req.method === 'GET' ? (takeFault(path) ?? chooseFault?.({ path, body, headers: req.headers })) : undefined;
    requests.push({ method: req.method ?? 'GET', path, query: Object.fromEntries(url.searchParams), body, headers: req.headers, ...(fault ? { fault: fault.kind } : {}) });
    const keyHeader = options.apiKeyHeader?.toLowerCase();
    const keySent = keyHeader === undefined || keyHeader === 'authorization' ? req.headers.authorization === `Bearer ${options.apiKey}` : req.headers[keyHeader] === options.apiKey;
    if (options.apiKey !== undefined && !keySent) {
      return sendError(res, 401, 'Incorrect API key provided', 'invalid_request_error', 'invalid_api_key');
    }
    if (path === CHAT_PATH && req.method === 'POST') return chatCompletion(req, res, (body ?? {}) as Record<string, unknown>, fault);
    if (fault && applyFault(fault, res, false)) return;

    if (path === '/v1/models' && req.method === 'GET') {
      return sendJson(res, 200, { object: 'list', data: [...models].map((id) => ({ id, object: 'model', created: 0, owned_by: 'coi-test' })) });
    }
    if (path === '/v1/files' && req.method === 'POST') {
      const parts = parseMultipart(raw, contentType);
      const file = parts.get('file');
      const purpose = parts.get('purpose')?.data.toString('utf8');
      if (!file || !purpose) return sendError(res, 400, "Multipart fields 'file' and 'purpose' are required");
      const entry = { id: `file-${++counter}`, object: 'file' as const, bytes: file.data.length, created_at: now(), filename: file.filename ?? 'upload', purpose, status: 'processed' as const, content: Buffer.from(file.data) };
      files.set(entry.id, entry);
      const { content: _content, ...meta } = entry;
      return sendJson(res, 200, meta);
    }
    if (path === '/v1/files' && req.method === 'GET') {
      return sendJson(res, 200, { object: 'list', data: [...files.values()].map(({ content: _c, ...meta }) => meta), has_more: false });
    }
    const fileMatch = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(path);
    if (fileMatch && req.method === 'GET') {
      const file = files.get(fileMatch[1] ?? '');
      if (!file) return sendError(res, 404, `No such File object: ${fileMatch[1]}`);
      if (fileMatch[2]) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(file.content);
        return;
      }
      const { content: _content, ...meta } = file;
      return sendJson(res, 200, meta);
    }
    if (path === '/v1/fine_tuning/jobs' && req.method === 'POST') {
      const params = (body ?? {}) as { model?: string; training_file?: string; validation_file?: string; hyperparameters?: Record<string, unknown>; suffix?: string; seed?: number };
      if (!params.model || !params.training_file) return sendError(res, 400, "'model' and 'training_file' are required");
      if (!files.has(params.training_file)) return sendError(res, 400, `invalid training_file: ${params.training_file}`, 'invalid_request_error', 'invalid_training_file');
      const job: Job = {
        id: `ftjob-${++counter}`,
        object: 'fine_tuning.job',
        model: params.model,
        created_at: now(),
        finished_at: null,
        fine_tuned_model: null,
        status: 'validating_files',
        training_file: params.training_file,
        validation_file: params.validation_file ?? null,
        hyperparameters: { n_epochs: 'auto', batch_size: 'auto', learning_rate_multiplier: 'auto', ...params.hyperparameters },
        suffix: params.suffix ?? null,
        trained_tokens: null,
        error: null,
        result_files: [],
        seed: params.seed ?? 42,
        organization_id: 'org-test',
        events: [],
      };
      job.events.push({ object: 'fine_tuning.job.event', id: `ftevent-${++counter}`, created_at: now(), level: 'info', message: `Created fine-tuning job: ${job.id}`, type: 'message', data: null });
      jobs.set(job.id, job);
      return sendJson(res, 200, publicJob(job));
    }
    if (path === '/v1/fine_tuning/jobs' && req.method === 'GET') {
      return sendJson(res, 200, { object: 'list', data: [...jobs.values()].reverse().map(publicJob), has_more: false });
    }
    const jobMatch = /^\/v1\/fine_tuning\/jobs\/([^/]+)(\/events|\/cancel)?$/.exec(path);
    if (jobMatch) {
      const job = jobs.get(jobMatch[1] ?? '');
      if (!job) return sendError(res, 404, `Could not find fine-tune: ${jobMatch[1]}`);
      if (jobMatch[2] === '/cancel' && req.method === 'POST') {
        if (['succeeded', 'failed', 'cancelled'].includes(job.status)) return sendError(res, 400, `Job ${job.id} has already finished (${job.status})`);
        job.status = 'cancelled';
        job.finished_at = now();
        job.events.push({ object: 'fine_tuning.job.event', id: `ftevent-${++counter}`, created_at: now(), level: 'info', message: 'Job cancelled', type: 'message', data: null });
        return sendJson(res, 200, publicJob(job));
      }
      if (jobMatch[2] === '/events' && req.method === 'GET') {
        const limit = Number(url.searchParams.get('limit') ?? 20);
        const after = url.searchParams.get('after');
        // Newest first, as OpenAI lists them; `after` pages towards older events.
        let events = [...job.events].reverse();
        if (after) events = events.slice(events.findIndex((e) => e.id === after) + 1);
        return sendJson(res, 200, { object: 'list', data: events.slice(0, limit), has_more: events.length > limit });
      }
      if (!jobMatch[2] && req.method === 'GET') {
        advanceJob(job);
        return sendJson(res, 200, publicJob(job));
      }
    }
    return sendError(res, 404, `Unknown endpoint ${req.method} ${path}`, 'invalid_request_error', 'unknown_url');
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, (error as Error).message, 'server_error');
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    count: (path) => requests.filter((r) => path === undefined || r.path === path).length,
    chatRequests: (from = 0) => requests.slice(from).filter((r) => r.path === CHAT_PATH),
    injectFaults: (list, path = CHAT_PATH) => faults.push(...list.map((fault) => ({ path, fault }))),
    setReplier: (next) => {
      replier = next;
    },
    setFaultChooser: (choose) => {
      chooseFault = choose;
    },
    failNextJob: (message = 'The training file has no valid examples') => {
      failNext = message;
    },
    files,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await engine.dispose();
    },
  };
}
