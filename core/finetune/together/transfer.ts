/**
 * Moving files to and from Together AI: the training file up, the trained model down.
 *
 * The upload follows the service's two-step protocol (POST /files → 302 to a storage URL
 * with `x-together-file-id`, PUT the bytes there, then GET /files/<id>) — the protocol the
 * SDK's `files.upload` speaks — but to the client's own base URL: the SDK's function sends it
 * to `TOGETHER_API_BASE_URL` or api.together.xyz whatever the client was made with (so an
 * upload could go somewhere other than where the user confirmed), never settles for a file
 * whose name does not end in .jsonl/.csv/.parquet, and rejects with plain objects.
 *
 * The download (`fineTuning.content`, an archive) goes to `<name>.partial` and becomes
 * `<name>` only when every byte has come; a connection that drops is resumed with an HTTP
 * Range request from the bytes already on disk, a few times, before giving up.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import type Together from 'together-ai';
import { APIError } from 'together-ai';
import type { FileResponse } from 'together-ai/resources/files';
import type { FineTuningContentParams } from 'together-ai/resources/fine-tuning';
import { FinetuneError } from '../job';
import { makeDirectories } from '../../syntax/directories';
import { childProcessEnv } from '../childEnv';

/** Uploads a JSONL training file for fine-tuning; resolves to the service's file record. */
export async function uploadTrainingFile(client: Together, file: string, signal?: AbortSignal): Promise<FileResponse> {
  const size = statSync(file).size;
  const params = new URLSearchParams({ file_name: basename(file), file_type: 'jsonl', purpose: 'fine-tune' });
  const endpoint = `${client.baseURL.replace(/\/$/, '')}/files`;
  const announce = await reach(`${endpoint}?${params.toString()}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Bearer ${client.apiKey}` },
    redirect: 'manual',
    body: params.toString(),
    ...(signal === undefined ? {} : { signal }),
  });
  const location = announce.headers.get('location');
  const fileId = announce.headers.get('x-together-file-id');
  if (announce.status !== 302 || location === null || location === '' || fileId === null || fileId === '') {
    throw new FinetuneError(`Together refused the upload at ${endpoint} (HTTP ${announce.status}${await errorDetail(announce)}).`);
  }
  const put = await reach(location, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
    body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
    duplex: 'half',
    ...(signal === undefined ? {} : { signal }),
  } as RequestInit);
  if (put.status !== 200) throw new FinetuneError(`Uploading ${basename(file)} to Together's storage failed (HTTP ${put.status}${await errorDetail(put)}).`);
  return client.files.retrieve(fileId, signal === undefined ? {} : { signal });
}

/** fetch, with a network failure said in one line naming where (without the query: a storage URL's is a signature). */
async function reach(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    if (err instanceof Error && err.name === 'AbortError') throw err;
    const { origin, pathname } = new URL(url);
    throw new FinetuneError(`Cannot reach ${origin}${pathname}: ${describe(err)}.`);
  }
}

async function errorDetail(response: Response): Promise<string> {
  const text = (await response.text().catch(() => '')).trim().replace(/\s+/g, ' ').slice(0, 300);
  return text === '' ? '' : `: ${text}`;
}

export interface DownloadOptions {
  /** Tries in all (the first and the resumed ones); default 4. */
  readonly tries?: number;
  readonly signal?: AbortSignal;
  /** Called after each chunk with the bytes on disk and the total when known. */
  readonly onProgress?: (bytes: number, total: number | undefined) => void;
  /** Waits before try n (n ≥ 2); default 500 ms × (n − 1). */
  readonly backoffMs?: (tryNumber: number) => number;
  /**
   * A try that receives nothing for this long is given up (and the next one resumes): the
   * SDK's timeout ends when the headers arrive, so a body that stalls would otherwise hang. Default 60 s.
   */
  readonly idleMs?: number;
}

/** Downloads the job's result archive to `file` (complete, or not at all: a broken download stays `file.partial`). */
export async function downloadResult(client: Together, query: FineTuningContentParams, file: string, options: DownloadOptions = {}): Promise<string> {
  const partial = `${file}.partial`;
  const tries = options.tries ?? 4;
  let lastError: unknown;
  for (let attempt = 1; attempt <= tries; attempt++) {
    if (attempt > 1) await pause(options.backoffMs?.(attempt) ?? 500 * (attempt - 1), options.signal);
    try {
      await downloadOnce(client, query, partial, options);
      renameSync(partial, file); // only a whole archive gets the real name
      return file;
    } catch (err) {
      if (options.signal?.aborted === true) throw err;
      if (err instanceof FinetuneError) throw err; // not worth retrying (refused, wrong range)
      lastError = err;
    }
  }
  const have = existsSync(partial) ? statSync(partial).size : 0;
  throw new FinetuneError(`Downloading the result from Together failed ${tries} times (${describe(lastError)}); ${have} bytes are kept in ${partial} and the next try continues from there.`);
}

async function downloadOnce(client: Together, query: FineTuningContentParams, partial: string, options: DownloadOptions): Promise<void> {
  const idle = new AbortController();
  const idleMs = options.idleMs ?? 60_000;
  let timer = setTimeout(() => idle.abort(), idleMs);
  const stillAlive = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(), idleMs);
  };
  try {
    await receive(client, query, partial, options, options.signal === undefined ? idle.signal : AbortSignal.any([options.signal, idle.signal]), stillAlive);
  } catch (err) {
    if (idle.signal.aborted && options.signal?.aborted !== true) throw new Error(`nothing came for ${idleMs / 1000} s`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function receive(client: Together, query: FineTuningContentParams, partial: string, options: DownloadOptions, signal: AbortSignal, stillAlive: () => void): Promise<void> {
  const have = existsSync(partial) ? statSync(partial).size : 0;
  let response: Response;
  try {
    response = await client.fineTuning.content(query, { ...(have > 0 ? { headers: { Range: `bytes=${have}-` } } : {}), signal });
  } catch (err) {
    // 416 with `bytes */<size>` equal to what is on disk: every byte had come before (a process stopped before the rename).
    if (err instanceof APIError && err.status === 416 && Number(/^bytes \*\/(\d+)$/.exec(err.headers?.get('content-range') ?? '')?.[1]) === have) return;
    throw err;
  }
  const resumed = response.status === 206;
  if (have > 0 && !resumed && response.status !== 200) throw new FinetuneError(`Together answered HTTP ${response.status} to a resumed download.`);
  const total = totalSize(response, resumed ? have : 0);
  const body = response.body;
  if (body === null) throw new Error('the response had no body');
  const out = createWriteStream(partial, { flags: resumed ? 'a' : 'w' });
  let written = resumed ? have : 0;
  try {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await new Promise<void>((done) => out.once('drain', done));
      written += chunk.byteLength;
      stillAlive();
      options.onProgress?.(written, total);
    }
  } finally {
    await new Promise<void>((done, fail) => out.end((err?: Error | null) => (err ? fail(err) : done())));
  }
  if (total !== undefined && written !== total) throw new Error(`the connection ended after ${written} of ${total} bytes`);
}

/** The whole archive's size: from `Content-Range: bytes a-b/total`, or the offset plus `Content-Length`. */
function totalSize(response: Response, offset: number): number | undefined {
  const range = /\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '');
  if (range?.[1] !== undefined) return Number(range[1]);
  const length = response.headers.get('content-length');
  return length === null ? undefined : offset + Number(length);
}

/**
 * Unpacks the archive (tar, gzip or zstd compressed, as `tar` recognises it) into `dir`
 * (through `dir.partial`, so a folder of that name is always whole) and returns the model
 * folder inside: the one holding config.json or adapter_config.json.
 */
export async function extractResult(archive: string, dir: string, signal?: AbortSignal): Promise<string> {
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  makeDirectories(partial);
  await runTar(['--extract', '--file', archive, '--directory', partial, '--no-same-owner'], signal);
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  const model = findModelFolder(dir, 3);
  if (model === undefined) throw new FinetuneError(`The result archive ${archive} holds no model folder (no config.json or adapter_config.json): see ${dir}.`);
  return model;
}

function findModelFolder(dir: string, depth: number): string | undefined {
  if (existsSync(join(dir, 'config.json')) || existsSync(join(dir, 'adapter_config.json'))) return dir;
  if (depth === 0) return undefined;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const found = findModelFolder(join(dir, entry.name), depth - 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function runTar(args: readonly string[], signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', args, { stdio: ['ignore', 'ignore', 'pipe'], env: childProcessEnv(process.env), ...(signal === undefined ? {} : { signal }) });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    child.on('error', (err) => reject(err.name === 'AbortError' ? err : new FinetuneError(`Cannot run tar to unpack the result: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new FinetuneError(`tar could not unpack the result (exit ${code ?? 'signal'}): ${stderr.trim().split('\n').slice(-3).join(' ')}${/zstd/i.test(stderr) ? ' (a zstd archive needs the zstd program on PATH)' : ''}`));
    });
  });
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${(err.cause as NodeJS.ErrnoException).code ?? err.cause.message}` : '';
  return `${err.message}${cause}`;
}
