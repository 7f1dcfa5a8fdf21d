/**
 * The hosted engine: Together AI's fine-tuning service through its official SDK
 * (`together-ai`). A job's folder holds what the local engine's does — state.json,
 * metrics.jsonl, log — plus `together.json` (the uploaded file and the service's job id)
 * and `train.chat.jsonl` (exactly what was uploaded). `status` asks the service (at most
 * once per poll interval), appends new events to the log and new metric rows to
 * metrics.jsonl, and when the service is done downloads the result into `result/` and
 * converts it to GGUF as a local job's result is converted.
 *
 * The API key comes from the environment (`TOGETHER_API_KEY`; in VS Code the client puts the
 * key from its secret storage into the context's env with `withTogetherApiKey`) and is only
 * ever sent in the Authorization header: nothing here writes it to a file or a log.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Together, { APIConnectionError, APIError } from 'together-ai';
import type { FinetuneEvent, FinetuneResponse } from 'together-ai/resources/fine-tuning';
import { readDataset } from '../../dataset/read';
import { writeDataset } from '../../dataset/write';
import type { DatasetIssue } from '../../dataset/types';
import type { EngineContext, FinetuneEngine } from '../engine';
import { canTransition, FinetuneError, TERMINAL_STATUSES, type JobConfig, type JobState, type JobStatus, type MetricEvent } from '../job';
import { convertToGguf } from '../gguf';
import { venvLocation } from '../python';
import { jobDir, readConfig, readState, updateState } from '../store';
import { createParams, downloadKind, eventLogLine, failureReason, localStatusOf, metricEventOf, newestCheckpoint, totalStepsOf } from './mapping';
import { downloadResult, extractResult, uploadTrainingFile } from './transfer';

export const TOGETHER_API_KEY_ENV = 'TOGETHER_API_KEY';
export const TOGETHER_BASE_URL_ENV = 'TOGETHER_BASE_URL';
export const TOGETHER_DEFAULT_BASE_URL = 'https://api.together.ai/v1';
/** The file in the job folder that is uploaded. */
export const UPLOAD_FILE = 'train.chat.jsonl';
const SIDECAR = 'together.json';
const DOWNLOAD_LOCK = 'result.archive.lock';
const DEFAULT_POLL_MS = 5000;

type Env = Readonly<Record<string, string | undefined>>;

/** What an upload will send where: shown to the user, who confirms before anything leaves the machine. */
export interface TogetherUploadPlan {
  /** The chat JSONL text to upload (OpenAI chat format, which Together reads as conversations). */
  readonly text: string;
  readonly bytes: number;
  readonly examples: number;
  /** Rows of the source that could not be read: left out, with their line. */
  readonly issues: readonly DatasetIssue[];
  /** Where the file goes: `<base URL>/files`. */
  readonly endpoint: string;
  readonly source: string;
}

/** `together.json`: what the engine must remember between calls. */
interface Sidecar {
  readonly endpoint: string;
  readonly bytes: number;
  readonly examples: number;
  readonly fileId?: string;
  readonly remoteJobId?: string;
  /** Events and metric rows of the current service job already copied into the log and metrics.jsonl. */
  readonly eventsSeen: number;
  readonly metricsSeen: number;
  readonly totalSteps?: number;
  /** The process that is uploading and creating the job (until the service's job id is known). */
  readonly startedBy?: number;
  /** The service finished but the result could not be brought home (resume retries the download). */
  readonly downloadFailed?: boolean;
}

/** The base URL requests go to: TOGETHER_BASE_URL, or Together's own. */
export function togetherBaseUrl(env: Env): string {
  const configured = env[TOGETHER_BASE_URL_ENV]?.trim();
  return configured === undefined || configured === '' ? TOGETHER_DEFAULT_BASE_URL : configured.replace(/\/$/, '');
}

/** The context with a key from the editor's secret storage: in memory only, for the engine's requests. */
export function withTogetherApiKey(context: EngineContext, apiKey: string): EngineContext {
  return { ...context, env: { ...(context.env ?? process.env), [TOGETHER_API_KEY_ENV]: apiKey } };
}

/** Reads `data` in any training-data format and converts it to the chat JSONL that is uploaded. */
export function planTogetherUpload(config: JobConfig, env: Env): TogetherUploadPlan {
  let source: string;
  try {
    source = readFileSync(config.data, 'utf8');
  } catch (err) {
    throw new FinetuneError(`Cannot read the training data ${config.data}: ${err instanceof Error ? err.message : String(err)}.`);
  }
  const read = readDataset(source, { file: config.data });
  if (read.examples.length === 0) {
    const first = read.issues[0];
    throw new FinetuneError(`${config.data}${first === undefined ? '' : `:${first.line}`}: no training example could be read${first === undefined ? ' (the file is empty)' : `: ${first.message}`}.`);
  }
  const text = writeDataset(read.examples, 'openai-chat');
  return { text, bytes: Buffer.byteLength(text), examples: read.examples.length, issues: read.issues, endpoint: `${togetherBaseUrl(env)}/files`, source: config.data };
}

/** Writes the planned file into the job folder (what `start` uploads). */
export function writeTogetherUpload(dir: string, plan: TogetherUploadPlan): void {
  writeFileSync(join(dir, UPLOAD_FILE), plan.text);
  writeSidecar(dir, { endpoint: plan.endpoint, bytes: plan.bytes, examples: plan.examples, eventsSeen: 0, metricsSeen: 0 });
}

export const togetherEngine: FinetuneEngine = {
  name: 'together',

  async start(jobId, context) {
    const dir = jobDir(context.workspace, jobId);
    const env = envOf(context);
    try {
      const config = readConfig(dir);
      const client = clientFor(env);
      if (!existsSync(join(dir, UPLOAD_FILE))) writeTogetherUpload(dir, planTogetherUpload(config, env));
      createParams(config, 'not-yet'); // refuses what Together cannot do before anything is sent
      patchSidecar(dir, { startedBy: process.pid });
      log(dir, `Uploading ${UPLOAD_FILE} (${statSync(join(dir, UPLOAD_FILE)).size} bytes) to ${togetherBaseUrl(env)}/files`);
      const file = await uploadTrainingFile(client, join(dir, UPLOAD_FILE));
      patchSidecar(dir, { fileId: file.id });
      log(dir, `Uploaded as ${file.id}; creating the fine-tuning job on ${config.baseModel}`);
      const created = await client.fineTuning.create(createParams(config, file.id));
      patchSidecar(dir, { remoteJobId: created.id, eventsSeen: 0, metricsSeen: 0 });
      log(dir, `Together job ${created.id} created (${created.status ?? 'pending'})`);
      if (readState(dir).status === 'cancelled') {
        // Cancelled while this was uploading: the service's new job is stopped at once.
        await client.fineTuning.cancel(created.id);
        log(dir, `Asked Together to cancel ${created.id} (the job was cancelled during the upload)`);
        return readState(dir);
      }
      return updateState(dir, 'queued', { message: `Together job ${created.id}` });
    } catch (err) {
      const message = explain(err, env);
      if (canTransition(readState(dir).status, 'failed')) updateState(dir, 'failed', { message });
      throw new FinetuneError(message);
    }
  },

  async cancel(jobId, context) {
    const dir = jobDir(context.workspace, jobId);
    const state = readState(dir);
    const remote = readSidecar(dir)?.remoteJobId;
    if (TERMINAL_STATUSES.has(state.status)) return state;
    if (remote === undefined) return updateState(dir, 'cancelled', { message: 'Cancelled before Together created the job (an upload under way stops there).' });
    const download = downloads.get(dir);
    if (download !== undefined) {
      // The training is over; only the download is stopped (resume continues it from its partial file).
      download.abort();
      return state.status === 'cancelling' ? state : updateState(dir, 'cancelling', { message: 'Stopping the download' });
    }
    if (downloadLockHeld(dir)) {
      throw new FinetuneError(`The training of job ${jobId} is done and process ${readFileSync(join(dir, DOWNLOAD_LOCK), 'utf8').trim()} is downloading its result: stop that process (the next 'coi finetune status' continues the download from its partial file), or let it finish.`);
    }
    const env = envOf(context);
    try {
      await clientFor(env).fineTuning.cancel(remote);
    } catch (err) {
      throw new FinetuneError(explain(err, env));
    }
    log(dir, `Asked Together to cancel ${remote}`);
    if (state.status === 'queued') return updateState(dir, 'cancelled', { message: `Cancelled before training started (Together job ${remote}).` });
    return state.status === 'cancelling' ? state : updateState(dir, 'cancelling');
  },

  async resume(jobId, context) {
    const dir = jobDir(context.workspace, jobId);
    const state = readState(dir);
    const sidecar = readSidecar(dir);
    if (sidecar?.downloadFailed === true && (state.status === 'failed' || state.status === 'cancelled')) {
      writeSidecar(dir, { ...sidecar, downloadFailed: false });
      return updateState(dir, 'queued', { resumes: state.resumes + 1, message: 'Downloading the result again' });
    }
    if ((state.status !== 'cancelled' && state.status !== 'failed') || state.lastCheckpoint === undefined || sidecar?.fileId === undefined) {
      throw new FinetuneError(`Job ${jobId} is ${state.status}${state.lastCheckpoint === undefined ? ' and has no checkpoint' : ''}: only a cancelled or failed job with a checkpoint can be resumed.`);
    }
    const env = envOf(context);
    try {
      const created = await clientFor(env).fineTuning.create(createParams(readConfig(dir), sidecar.fileId, state.lastCheckpoint.path));
      writeSidecar(dir, { ...sidecar, remoteJobId: created.id, eventsSeen: 0, metricsSeen: 0 });
      log(dir, `Resumed from ${state.lastCheckpoint.path} as Together job ${created.id}`);
      return updateState(dir, 'queued', { resumes: state.resumes + 1, message: `Together job ${created.id}` });
    } catch (err) {
      throw new FinetuneError(explain(err, env));
    }
  },

  status(jobId, context) {
    const dir = jobDir(context.workspace, jobId);
    const running = inFlight.get(dir);
    if (running !== undefined) return running;
    const state = readState(dir);
    if (downloads.has(dir) || downloadLockHeld(dir)) return Promise.resolve(state); // its progress is in the message
    const sidecar = readSidecar(dir);
    if (state.status === 'queued' && sidecar?.remoteJobId === undefined && sidecar?.startedBy !== undefined && sidecar.startedBy !== process.pid && !processAlive(sidecar.startedBy)) {
      return Promise.resolve(updateState(dir, 'failed', { message: `The upload was interrupted (the coi that started it, pid ${sidecar.startedBy}, ended before Together created the job); start a new job.` }));
    }
    if (TERMINAL_STATUSES.has(state.status) || sidecar?.remoteJobId === undefined) return Promise.resolve(state);
    const env = envOf(context);
    if ((env[TOGETHER_API_KEY_ENV]?.trim() ?? '') === '') {
      // Shown as it was, with why it is not up to date: a listing of every job still works without the key.
      return Promise.resolve({ ...state, message: `Not brought up to date: set ${TOGETHER_API_KEY_ENV} to follow the Together job ${sidecar.remoteJobId}.` });
    }
    const pollMs = Number(env['COI_TOGETHER_POLL_MS'] ?? DEFAULT_POLL_MS);
    if (Date.now() - (lastPoll.get(dir) ?? 0) < pollMs) return Promise.resolve(state);
    lastPoll.set(dir, Date.now());
    const polled = poll(dir, context, sidecar.remoteJobId).finally(() => inFlight.delete(dir));
    inFlight.set(dir, polled);
    return polled;
  },
};

/** Polls in flight per job folder: concurrent readers (the panel, a CLI --wait) share one. */
const inFlight = new Map<string, Promise<JobState>>();
/** Downloads running in this process (in the background: readers see their progress in the state's message), by job folder. */
const downloads = new Map<string, AbortController>();
const lastPoll = new Map<string, number>();

async function poll(dir: string, context: EngineContext, remoteId: string): Promise<JobState> {
  const env = envOf(context);
  const client = clientFor(env);
  let remote: FinetuneResponse;
  let events: FinetuneEvent[];
  try {
    remote = await client.fineTuning.retrieve(remoteId);
    events = (await client.fineTuning.listEvents(remoteId)).data;
    copyEvents(dir, events);
    await copyMetrics(dir, client, remoteId);
  } catch (err) {
    if (isUsersToFix(err)) throw new FinetuneError(explain(err, env));
    // The service is unreachable for now (the SDK already retried): the job is as it was.
    return updateState(dir, readState(dir).status, { message: `Together could not be reached just now: ${explain(err, env)}` });
  }
  const checkpoint = newestCheckpoint(events, remoteId);
  const common = { ...(checkpoint === undefined ? {} : { lastCheckpoint: checkpoint }) };
  const target = localStatusOf(remote.status);
  const current = readState(dir).status;
  if (target === 'downloading') return startDownload(dir, context, remoteId, common);
  if (target === 'failed') return moveTo(dir, 'failed', { ...common, message: failureReason(events, remoteId) });
  if (target === 'cancelled') return moveTo(dir, 'cancelled', { ...common, message: `Cancelled (Together job ${remoteId}).` });
  if (current === 'cancelling' && target === 'running') return updateState(dir, 'cancelling', common); // asked to stop; the service has not yet
  return moveTo(dir, target, { ...common, message: `Together job ${remoteId}: ${remote.status}` });
}

/**
 * Starts bringing the finished job's result home in the background and answers at once
 * (running, "downloading"): readers are not held up by a download of gigabytes, and see its
 * progress in the state's message. One process downloads a job at a time (a lock file).
 */
function startDownload(dir: string, context: EngineContext, remoteId: string, common: Partial<JobState>): JobState {
  if (!takeDownloadLock(dir)) return readState(dir);
  const controller = new AbortController();
  downloads.set(dir, controller);
  const state = moveTo(dir, 'running', { ...common, message: 'Downloading the result from Together' });
  void bringHome(dir, context, remoteId, common, controller.signal)
    .catch((err: unknown) => {
      const current = readState(dir).status;
      if (!TERMINAL_STATUSES.has(current)) updateState(dir, 'failed', { message: `Bringing the result home failed: ${explain(err, envOf(context))}` });
    })
    .finally(() => {
      downloads.delete(dir);
      releaseDownloadLock(dir);
    });
  return state;
}

/** Downloads, unpacks and converts the finished job's result; the job completes (or fails with why, resumable). */
async function bringHome(dir: string, context: EngineContext, remoteId: string, common: Partial<JobState>, signal: AbortSignal): Promise<JobState> {
  const env = envOf(context);
  const config = readConfig(dir);
  log(dir, `Together job ${remoteId} completed; downloading its ${downloadKind(config) === 'merged' ? 'merged model' : 'model'}`);
  let resultDir: string;
  let shownAt = 0;
  const onProgress = (bytes: number, total: number | undefined): void => {
    if (Date.now() - shownAt < 1000 || readState(dir).status !== 'running') return;
    shownAt = Date.now();
    updateState(dir, 'running', { message: `Downloading the result from Together: ${megabytes(bytes)}${total === undefined ? '' : ` of ${megabytes(total)}`} MB` });
  };
  try {
    const archive = await downloadResult(clientFor(env), { ft_id: remoteId, checkpoint: downloadKind(config) }, join(dir, 'result.archive'), {
      signal,
      onProgress,
      ...(env['COI_TOGETHER_BACKOFF_MS'] === undefined ? {} : { backoffMs: () => Number(env['COI_TOGETHER_BACKOFF_MS']) }),
      ...(env['COI_TOGETHER_IDLE_MS'] === undefined ? {} : { idleMs: Number(env['COI_TOGETHER_IDLE_MS']) }),
    });
    resultDir = await extractResult(archive, join(dir, 'result'), signal);
  } catch (err) {
    patchSidecar(dir, { downloadFailed: true });
    if (signal.aborted) {
      log(dir, 'Download stopped (cancelled)');
      return updateState(dir, 'cancelled', { ...common, message: `The download was stopped; the training itself succeeded: 'coi finetune resume ${readState(dir).id}' continues the download.` });
    }
    const message = explain(err, env);
    log(dir, message);
    return updateState(dir, 'failed', { ...common, message: `${message} The training itself succeeded: 'coi finetune resume ${readState(dir).id}' downloads it again.` });
  }
  log(dir, `Result unpacked in ${resultDir}`);
  const gguf = await convertResult(dir, config, resultDir, env);
  return updateState(dir, 'completed', { ...common, resultDir, ...gguf });
}

/** The same GGUF conversion as a local job's, when the training environment (its Python) is there. */
async function convertResult(dir: string, config: JobConfig, resultDir: string, env: Env): Promise<Partial<JobState>> {
  const id = readState(dir).id;
  const venv = venvLocation(env);
  if (!venv.ready) return { message: `Downloaded to ${resultDir}. For a GGUF: 'coi finetune setup', then 'coi finetune gguf ${id}'.` };
  const isAdapter = existsSync(join(resultDir, 'adapter_config.json'));
  const base = resolve(config.baseModel);
  if (isAdapter && !existsSync(base)) return { message: `Downloaded a LoRA adapter to ${resultDir}; converting it needs its base model as a local folder ('coi finetune gguf ${id}' with the base downloaded).` };
  const outFile = join(dir, `${isAdapter ? 'adapter' : 'model'}-f16.gguf`);
  log(dir, `Converting ${resultDir} to GGUF (f16)`);
  try {
    const ggufPath = await convertToGguf({ venv, source: resultDir, ...(isAdapter ? { baseModel: base } : {}), outFile, outType: 'f16', env });
    log(dir, `GGUF written: ${ggufPath}`);
    return { ggufPath, message: `Together job done; GGUF ${ggufPath}` };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    log(dir, `GGUF conversion failed: ${why}`);
    return { message: `Downloaded to ${resultDir}; the GGUF conversion failed (${why.split('\n')[0] ?? ''}): retry with 'coi finetune gguf ${id}'.` };
  }
}

/** Moves the job to `status`, through `running` when the service skipped it between two polls (queued → completed). */
function moveTo(dir: string, status: JobStatus, changes: Partial<JobState>): JobState {
  const current = readState(dir).status;
  if (current !== status && !canTransition(current, status) && canTransition(current, 'running') && canTransition('running', status)) updateState(dir, 'running');
  return updateState(dir, status, changes);
}

function copyEvents(dir: string, events: readonly FinetuneEvent[]): void {
  const sidecar = readSidecar(dir);
  if (sidecar === undefined || events.length <= sidecar.eventsSeen) return;
  for (const event of events.slice(sidecar.eventsSeen)) log(dir, eventLogLine(event));
  writeSidecar(dir, { ...sidecar, eventsSeen: events.length, ...(totalStepsOf(events) === undefined ? {} : { totalSteps: totalStepsOf(events) }) });
}

async function copyMetrics(dir: string, client: Together, remoteId: string): Promise<void> {
  const sidecar = readSidecar(dir);
  if (sidecar === undefined) return;
  let rows: Record<string, number>[];
  try {
    rows = (await client.fineTuning.listMetrics(remoteId)).metrics ?? [];
  } catch (err) {
    if (err instanceof APIError && err.status === 404) return; // a job (or service) without recorded metrics: the events still come
    throw err;
  }
  if (rows.length <= sidecar.metricsSeen) return;
  const fresh = rows.slice(sidecar.metricsSeen).map((row) => metricEventOf(row, sidecar.totalSteps)).filter((e): e is MetricEvent => e !== undefined);
  if (fresh.length > 0) appendFileSync(join(dir, 'metrics.jsonl'), fresh.map((e) => JSON.stringify(e) + '\n').join(''));
  writeSidecar(dir, { ...sidecar, metricsSeen: rows.length });
}

function clientFor(env: Env): Together {
  const apiKey = env[TOGETHER_API_KEY_ENV]?.trim();
  if (apiKey === undefined || apiKey === '') throw new FinetuneError(`No Together API key: set ${TOGETHER_API_KEY_ENV} in the environment (VS Code keeps it in its secret storage).`);
  return new Together({ apiKey, baseURL: togetherBaseUrl(env), maxRetries: Number(env['COI_TOGETHER_MAX_RETRIES'] ?? 3), timeout: 120_000 });
}

function envOf(context: EngineContext): Env {
  return context.env ?? process.env;
}

/** 4xx other than 408/409/429 are the user's to fix (a bad key, a bad request); retrying will not help. */
function isUsersToFix(err: unknown): boolean {
  return err instanceof FinetuneError || (err instanceof APIError && err.status !== undefined && err.status >= 400 && err.status < 500 && ![408, 409, 429].includes(err.status));
}

/** One line for the user, never the key. */
function explain(err: unknown, env: Env): string {
  const key = env[TOGETHER_API_KEY_ENV];
  let text: string;
  if (err instanceof FinetuneError) text = err.message;
  else if (err instanceof APIConnectionError) text = `Cannot reach Together at ${togetherBaseUrl(env)}: ${err.cause instanceof Error ? err.cause.message : err.message}.`;
  else if (err instanceof APIError && err.status === 401) text = `Together refused the API key (401): check ${TOGETHER_API_KEY_ENV}.`;
  else if (err instanceof APIError) text = `Together answered ${err.message}.`;
  else text = err instanceof Error ? err.message : String(err);
  return key !== undefined && key.length >= 4 ? text.split(key).join('[key]') : text;
}

function readSidecar(dir: string): Sidecar | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, SIDECAR), 'utf8')) as Sidecar;
  } catch {
    return undefined;
  }
}

function patchSidecar(dir: string, changes: Partial<Sidecar>): void {
  const current = readSidecar(dir);
  if (current === undefined) throw new FinetuneError(`Job folder ${dir} has no readable ${SIDECAR}.`);
  writeSidecar(dir, { ...current, ...changes });
}

function writeSidecar(dir: string, sidecar: Sidecar): void {
  const temp = join(dir, `${SIDECAR}.${process.pid}.tmp`);
  writeFileSync(temp, JSON.stringify(sidecar, null, 2) + '\n');
  renameSync(temp, join(dir, SIDECAR));
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** `result.archive.lock` holds the pid of the process downloading the job's result. */
function takeDownloadLock(dir: string, again = true): boolean {
  const lock = join(dir, DOWNLOAD_LOCK);
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    if (!again || downloadLockHeld(dir)) return false;
    rmSync(lock, { force: true }); // left by a process that died: take it over
    return takeDownloadLock(dir, false);
  }
}

function downloadLockHeld(dir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, DOWNLOAD_LOCK), 'utf8'));
  } catch {
    return false;
  }
  return pid === process.pid ? downloads.has(dir) : processAlive(pid);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseDownloadLock(dir: string): void {
  rmSync(join(dir, DOWNLOAD_LOCK), { force: true });
}

function log(dir: string, line: string): void {
  appendFileSync(join(dir, 'log'), `${line}\n`);
}

/** The service's job id and upload of a Together job (the CLI and panel may show them). */
export function togetherJobInfo(dir: string): { readonly remoteJobId?: string; readonly fileId?: string; readonly endpoint: string } | undefined {
  const sidecar = readSidecar(dir);
  return sidecar === undefined ? undefined : { endpoint: sidecar.endpoint, ...(sidecar.remoteJobId === undefined ? {} : { remoteJobId: sidecar.remoteJobId }), ...(sidecar.fileId === undefined ? {} : { fileId: sidecar.fileId }) };
}
