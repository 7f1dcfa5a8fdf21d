/**
 * The hosted engine: Together AI's fine-tuning service through its official SDK
 * (`together-ai`). A job's folder holds what the local engine's does — state.json,
 * metrics.jsonl, log — plus `together.json` (the uploaded file and the service's job id)
 * and `train.chat.jsonl` (exactly what was uploaded). `status` asks the service (at most
 * once per poll interval), appends new events to the log and new metric rows to
 * metrics.jsonl, and when the service is done brings the result home (./result.ts).
 * Files: ./service.ts (client, errors), ./jobFiles.ts (together.json, log), ./mapping.ts
 * (what the service's answers mean), ./transfer.ts (upload, download, unpack).
 *
 * The API key comes from the environment (`TOGETHER_API_KEY`; in VS Code the client puts the
 * key from its secret storage into the context's env with `withTogetherApiKey`) and is only
 * ever sent in the Authorization header: nothing here writes it to a file or a log.
 */
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Together from 'together-ai';
import { APIError } from 'together-ai';
import type { FinetuneEvent, FinetuneResponse } from 'together-ai/resources/fine-tuning';
import { writeDataset } from '../../dataset/write';
import type { DatasetIssue } from '../../dataset/types';
import type { EngineContext, FinetuneEngine } from '../engine';
import { canTransition, FinetuneError, TERMINAL_STATUSES, type JobConfig, type JobState, type MetricEvent } from '../job';
import { jobDir, readConfig, readState, updateState } from '../store';
import { readTrainingData } from '../trainingData';
import { log, moveTo, patchSidecar, readSidecar, UPLOAD_FILE, writeSidecar } from './jobFiles';
import { processStartIdentity, processStillRuns } from '../../syntax/processes';
import { createParams, eventLogLine, failureReason, localStatusOf, metricEventOf, newestCheckpoint, totalStepsOf } from './mapping';
import { DOWNLOAD_LOCK, downloadLockHeld, startDownload, stopDownload } from './result';
import { clientFor, envOf, explain, hasTogetherKey, isUsersToFix, serviceError, TOGETHER_API_KEY_ENV, togetherBaseUrl, type Env } from './service';
import { uploadTrainingFile } from './transfer';

export { NO_TOGETHER_KEY, TogetherBaseUrlError, TogetherKeyMissingError, TOGETHER_API_KEY_ENV, TOGETHER_BASE_URL_ENV, TOGETHER_DEFAULT_BASE_URL, togetherBaseUrl, togetherBaseUrlProblem, withTogetherApiKey } from './service';
export { UPLOAD_FILE } from './jobFiles';
export { NOT_FOR_TOGETHER, togetherProblems, togetherRefusal } from './mapping';

const DEFAULT_POLL_MS = 5000;

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


/** Reads `data` in any training-data format and converts it to the chat JSONL that is uploaded. */
export function planTogetherUpload(config: JobConfig, env: Env): TogetherUploadPlan {
  const read = readTrainingData(config.data);
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
      const startedByStart = processStartIdentity(process.pid);
      patchSidecar(dir, { startedBy: process.pid, ...(startedByStart === undefined ? {} : { startedByStart }) });
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
    if (stopDownload(dir)) {
      // The training is over; only the download is stopped (resume continues it from its partial file).
      return state.status === 'cancelling' ? state : updateState(dir, 'cancelling', { message: 'Stopping the download' });
    }
    if (downloadLockHeld(dir)) {
      throw new FinetuneError(`The training of job ${jobId} is done and process ${readFileSync(join(dir, DOWNLOAD_LOCK), 'utf8').trim()} is downloading its result: stop that process (the next 'coi finetune status' continues the download from its partial file), or let it finish.`);
    }
    const env = envOf(context);
    try {
      await clientFor(env).fineTuning.cancel(remote);
    } catch (err) {
      throw serviceError(err, env);
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
      throw serviceError(err, env);
    }
  },

  status(jobId, context) {
    const dir = jobDir(context.workspace, jobId);
    const running = inFlight.get(dir);
    if (running !== undefined) return running;
    const state = readState(dir);
    if (downloadLockHeld(dir)) return Promise.resolve(state); // its progress is in the message
    const sidecar = readSidecar(dir);
    if (state.status === 'queued' && sidecar?.remoteJobId === undefined && sidecar?.startedBy !== undefined && sidecar.startedBy !== process.pid && !processStillRuns(sidecar.startedBy, sidecar.startedByStart)) {
      return Promise.resolve(updateState(dir, 'failed', { message: `The upload was interrupted (the coi that started it, pid ${sidecar.startedBy}, ended before Together created the job); start a new job.` }));
    }
    if (TERMINAL_STATUSES.has(state.status) || sidecar?.remoteJobId === undefined) return Promise.resolve(state);
    const env = envOf(context);
    if (!hasTogetherKey(env)) {
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

/**
 * Whether bringing the job in `dir` up to date would ask Together, and the key to ask with is
 * missing: a Together job the service runs that has not ended (and that no other coi is
 * downloading). `status` then shows it as last recorded, with why (a listing still works);
 * `coi finetune status JOB` refuses it as a usage error, as `start` refuses a missing key.
 */
export function togetherKeyNeeded(dir: string, env: Env): boolean {
  if (hasTogetherKey(env)) return false;
  const state = readState(dir);
  return state.engine === 'together' && !TERMINAL_STATUSES.has(state.status) && readSidecar(dir)?.remoteJobId !== undefined && !downloadLockHeld(dir);
}

/** Polls in flight per job folder: concurrent readers (the panel, a CLI --wait) share one. */
const inFlight = new Map<string, Promise<JobState>>();
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
    if (isUsersToFix(err)) throw serviceError(err, env);
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

/** The service's job id and upload of a Together job (the CLI and panel may show them). */
export function togetherJobInfo(dir: string): { readonly remoteJobId?: string; readonly fileId?: string; readonly endpoint: string } | undefined {
  const sidecar = readSidecar(dir);
  return sidecar === undefined ? undefined : { endpoint: sidecar.endpoint, ...(sidecar.remoteJobId === undefined ? {} : { remoteJobId: sidecar.remoteJobId }), ...(sidecar.fileId === undefined ? {} : { fileId: sidecar.fileId }) };
}
