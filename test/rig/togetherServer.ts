/**
 * A test server on 127.0.0.1 that speaks the part of Together AI's REST protocol the
 * `together-ai` SDK (0.52) and the hosted engine use:
 *
 *   POST /v1/files?file_name&file_type&purpose   302 to an upload URL, `x-together-file-id`
 *   PUT  /v1/uploads/:id                          the file's bytes (no key: a presigned URL)
 *   GET  /v1/files/:id
 *   POST /v1/fine-tunes                           GET /v1/fine-tunes/:id, /:id/events, /:id/metrics
 *   POST /v1/fine-tunes/:id/cancel
 *   GET  /v1/finetune/download?ft_id&checkpoint   the result archive (HTTP Range supported)
 *
 * A job is a state machine that moves one phase per read of the job (pending → running,
 * one training step per read with a falling loss, checkpoints, → completed), writing events
 * and metric rows on the way. Tests queue faults for the next requests to a path (a status
 * such as 429 with `retry-after-ms`, a download cut or stalled after some bytes), make the next job
 * fail, and read the request log (the key each request carried, the create request's body).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir';

export type TogetherFault =
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterMs?: number; readonly message?: string }
  /** Sends the download's headers (with its full length) and `afterBytes` bytes, then cuts the connection. */
  | { readonly kind: 'drop'; readonly afterBytes: number }
  /** Sends the download's headers and `afterBytes` bytes (an upload: no answer at all), then nothing more until the client goes away. */
  | { readonly kind: 'stall'; readonly afterBytes: number };

export interface TogetherRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly authorization: string | undefined;
  readonly range: string | undefined;
  readonly fault?: TogetherFault['kind'];
}

interface Event {
  object: 'fine-tune-event';
  created_at: string;
  message: string;
  type: string;
  level: 'info' | 'error';
  step?: number;
  total_steps?: number;
  checkpoint_path?: string;
}

interface Job {
  id: string;
  status: 'pending' | 'queued' | 'running' | 'cancel_requested' | 'cancelled' | 'error' | 'completed';
  request: Record<string, unknown>;
  step: number;
  events: Event[];
  metrics: Record<string, number>[];
  failWith?: string;
}

export interface TogetherTestServerOptions {
  /** When set, API requests must carry `Authorization: Bearer <apiKey>` (401 otherwise). */
  readonly apiKey?: string;
  /** Training steps of every job (default 4); a checkpoint is saved every 2. */
  readonly steps?: number;
  /** The bytes served as a completed job's result (see `resultArchive`); also `setResult`. */
  readonly result?: Buffer;
}

export interface TogetherTestServer {
  /** `http://127.0.0.1:PORT/v1`: TOGETHER_BASE_URL. */
  readonly baseURL: string;
  readonly requests: readonly TogetherRequest[];
  /** Requests whose path starts with `prefix`. */
  count(prefix: string, method?: string): number;
  /** Queues faults for the next requests whose path starts with `prefix` (or matches it), one each. */
  injectFaults(faults: readonly TogetherFault[], prefix: string | RegExp): void;
  /** Resolves at the next request whose path starts with `prefix` (for a test to act at that moment). */
  nextRequest(prefix: string): Promise<void>;
  /** The next created job fails after its first training step, with this message. */
  failNextJob(message: string): void;
  readonly uploads: ReadonlyMap<string, Buffer>;
  /** The result every completed job serves from now on (a server started before the model was made). */
  setResult(result: Buffer): void;
  close(): Promise<void>;
}

/** A model folder packed as Together packs results: a zstd-compressed tar (GNU tar and zstd). */
export function resultArchive(folder: string): Buffer {
  const archive = join(tempDir(), 'result.tar.zst');
  const made = spawnSync('tar', ['--zstd', '--create', '--file', archive, '--directory', folder, '.'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`tar --zstd failed: ${made.stderr}`);
  return readFileSync(archive);
}

export async function startTogetherTestServer(options: TogetherTestServerOptions): Promise<TogetherTestServer> {
  const steps = options.steps ?? 4;
  const requests: TogetherRequest[] = [];
  const faults: { prefix: string | RegExp; fault: TogetherFault }[] = [];
  const uploads = new Map<string, Buffer>();
  const files = new Map<string, { id: string; filename: string; bytes: number }>();
  const jobs = new Map<string, Job>();
  const sockets = new Set<Socket>();
  let counter = 0;
  let failNext: string | undefined;
  let baseURL = '';
  let result = options.result;

  const waiters: { prefix: string; resolve: () => void }[] = [];
  const notify = (path: string): void => {
    for (const waiter of waiters.filter((w) => path.startsWith(w.prefix))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const takeFault = (path: string): TogetherFault | undefined => {
    const index = faults.findIndex((f) => (typeof f.prefix === 'string' ? path.startsWith(f.prefix) : f.prefix.test(path)));
    return index < 0 ? undefined : faults.splice(index, 1)[0]?.fault;
  };

  const event = (job: Job, type: string, message: string, extra: Partial<Event> = {}): void => {
    job.events.push({ object: 'fine-tune-event', created_at: new Date().toISOString(), message, type, level: type === 'job_error' ? 'error' : 'info', ...extra });
  };

  /** One phase per read of the job. */
  const advance = (job: Job): void => {
    switch (job.status) {
      case 'pending':
        job.status = 'running';
        event(job, 'job_start', 'Job started');
        event(job, 'training_start', 'Training started', { total_steps: steps });
        return;
      case 'running':
        if (job.step >= steps) {
          job.status = 'completed';
          event(job, 'training_complete', 'Training completed');
          event(job, 'job_complete', 'Job finished');
          return;
        }
        job.step++;
        job.metrics.push({ step: job.step, train_loss: 3 / job.step, learning_rate: 1e-5, epoch: job.step / steps });
        if (job.failWith !== undefined) {
          job.status = 'error';
          event(job, 'job_error', job.failWith);
          return;
        }
        if (job.step % 2 === 0) event(job, 'checkpoint_save', `Checkpoint saved at step ${job.step}`, { step: job.step, total_steps: steps, checkpoint_path: `s3://checkpoints/${job.id}/${job.step}` });
        return;
      case 'cancel_requested':
        job.status = 'cancelled';
        if (job.step > 0) event(job, 'checkpoint_save', `Checkpoint saved at step ${job.step}`, { step: job.step, total_steps: steps });
        event(job, 'job_stopped', 'Job cancelled');
        return;
      default:
        return;
    }
  };

  const view = (job: Job): Record<string, unknown> => ({ id: job.id, status: job.status, user_id: 'user-test', model: job.request['model'], training_file: job.request['training_file'], created_at: new Date().toISOString() });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const raw = await readBody(req);
    const isJson = (req.headers['content-type'] ?? '').includes('application/json');
    let body: unknown;
    try {
      body = isJson && raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
    } catch {
      sendJson(res, 400, { error: { message: 'malformed JSON' } });
      return;
    }
    const fault = takeFault(path);
    requests.push({ method: req.method ?? 'GET', path, query: Object.fromEntries(url.searchParams), body, authorization: req.headers.authorization, range: req.headers.range, ...(fault ? { fault: fault.kind } : {}) });
    notify(path);
    const isUpload = req.method === 'PUT' && path.startsWith('/v1/uploads/');
    if (!isUpload && options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      sendJson(res, 401, { error: { message: 'Invalid API key provided', type: 'invalid_request_error' } });
      return;
    }
    if (fault?.kind === 'status') {
      sendJson(res, fault.status, { error: { message: fault.message ?? `injected ${fault.status}` } }, fault.retryAfterMs === undefined ? {} : { 'retry-after-ms': String(fault.retryAfterMs) });
      return;
    }
    const parts = path.split('/').filter((p) => p !== ''); // v1, resource, id, sub
    if (req.method === 'POST' && path === '/v1/files') {
      const id = `file-${++counter}`;
      const filename = url.searchParams.get('file_name') ?? 'upload.jsonl';
      files.set(id, { id, filename, bytes: 0 });
      res.writeHead(302, { location: `${baseURL}/uploads/${id}`, 'x-together-file-id': id, 'content-length': '0' });
      res.end();
      return;
    }
    if (isUpload) {
      if (fault?.kind === 'stall') return; // never answered: the client gives up or is killed
      const id = parts[2] ?? '';
      const file = files.get(id);
      if (file === undefined) return sendJson(res, 404, { error: { message: 'no such upload' } });
      uploads.set(id, raw);
      file.bytes = raw.length;
      return sendJson(res, 200, {});
    }
    if (req.method === 'GET' && parts[1] === 'files' && parts[2] !== undefined) {
      const file = files.get(parts[2]);
      if (file === undefined) return sendJson(res, 404, { error: { message: `no file ${parts[2]}` } });
      return sendJson(res, 200, { id: file.id, object: 'file', bytes: file.bytes, created_at: 0, filename: file.filename, purpose: 'fine-tune', FileType: 'jsonl', Processed: true });
    }
    if (req.method === 'POST' && path === '/v1/fine-tunes') {
      const request = (body ?? {}) as Record<string, unknown>;
      if (typeof request['training_file'] !== 'string' || !uploads.has(request['training_file'])) return sendJson(res, 400, { error: { message: `training_file ${String(request['training_file'])} was not uploaded` } });
      const job: Job = { id: `ft-remote-${++counter}`, status: 'pending', request, step: 0, events: [], metrics: [], ...(failNext === undefined ? {} : { failWith: failNext }) };
      failNext = undefined;
      event(job, 'job_pending', 'Job is pending');
      jobs.set(job.id, job);
      return sendJson(res, 200, view(job));
    }
    if (parts[1] === 'fine-tunes' && parts[2] !== undefined) {
      const job = jobs.get(parts[2]);
      if (job === undefined) return sendJson(res, 404, { error: { message: `no fine-tune ${parts[2]}` } });
      if (req.method === 'GET' && parts[3] === undefined) {
        advance(job);
        return sendJson(res, 200, view(job));
      }
      if (req.method === 'GET' && parts[3] === 'events') return sendJson(res, 200, { data: job.events });
      if (req.method === 'GET' && parts[3] === 'metrics') return sendJson(res, 200, { metrics: job.metrics });
      if (req.method === 'POST' && parts[3] === 'cancel') {
        if (job.status === 'pending' || job.status === 'queued') job.status = 'cancelled';
        else if (job.status === 'running') job.status = 'cancel_requested';
        event(job, 'cancel_requested', 'Cancel requested');
        return sendJson(res, 200, view(job));
      }
    }
    if (req.method === 'GET' && path === '/v1/finetune/download') {
      const job = jobs.get(url.searchParams.get('ft_id') ?? '');
      if (job?.status !== 'completed') return sendJson(res, 400, { error: { message: 'the job has no result to download' } });
      if (result === undefined) return sendJson(res, 500, { error: { message: 'the test server was given no result to serve' } });
      return sendDownload(req, res, result, fault);
    }
    sendJson(res, 404, { error: { message: `no route ${req.method ?? ''} ${path}` } });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendJson(res, 500, { error: { message: String(err) } }));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  baseURL = `http://127.0.0.1:${address.port}/v1`;
  return {
    baseURL,
    requests,
    count: (prefix, method) => requests.filter((r) => r.path.startsWith(prefix) && (method === undefined || r.method === method)).length,
    injectFaults: (list, prefix) => faults.push(...list.map((fault) => ({ prefix, fault }))),
    nextRequest: (prefix) => new Promise<void>((resolve) => waiters.push({ prefix, resolve })),
    failNextJob: (message) => void (failNext = message),
    uploads,
    setResult: (bytes) => void (result = bytes),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function sendDownload(req: IncomingMessage, res: ServerResponse, bytes: Buffer, fault: TogetherFault | undefined): void {
  const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
  if (from >= bytes.length && from > 0) {
    sendJson(res, 416, { error: { message: 'range not satisfiable' } }, { 'content-range': `bytes */${bytes.length}` });
    return;
  }
  const slice = bytes.subarray(from);
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'content-length': String(slice.length), 'accept-ranges': 'bytes' };
  if (from > 0) headers['content-range'] = `bytes ${from}-${bytes.length - 1}/${bytes.length}`;
  res.writeHead(from > 0 ? 206 : 200, headers);
  if (fault?.kind === 'drop') {
    res.write(slice.subarray(0, fault.afterBytes), () => res.socket?.destroy());
    return;
  }
  if (fault?.kind === 'stall') {
    res.write(slice.subarray(0, fault.afterBytes));
    return;
  }
  res.end(slice);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
