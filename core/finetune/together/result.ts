/**
 * Bringing a finished Together job's result home: downloaded in the background (readers see
 * the progress in the state's message), by one process at a time (`result.archive.lock` holds
 * its pid; a dead process's lock is taken over and its partial file continued), unpacked, and
 * converted to GGUF as a local job's result is.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineContext } from '../engine';
import { TERMINAL_STATUSES, type JobConfig, type JobState } from '../job';
import { convertToGguf } from '../gguf';
import { jobGgufPath, resultIsAdapter } from '../evaluation';
import { venvLocation } from '../python';
import { readConfig, readState, updateState } from '../store';
import { log, moveTo, patchSidecar } from './jobFiles';
import { parseProcessOwner, processOwnerText, processStillRuns } from '../../syntax/processes';
import { downloadKind } from './mapping';
import { clientFor, envOf, explain, type Env } from './service';
import { downloadResult, extractResult } from './transfer';

export const DOWNLOAD_LOCK = 'result.archive.lock';
/** Downloads running in this process, by job folder (cancel aborts them). */
const downloads = new Map<string, AbortController>();

/** Stops this process's download of the job's result; false when it runs none. */
export function stopDownload(dir: string): boolean {
  const download = downloads.get(dir);
  download?.abort();
  return download !== undefined;
}

/**
 * Starts bringing the finished job's result home in the background and answers at once
 * (running, "downloading"): readers are not held up by a download of gigabytes, and see its
 * progress in the state's message. One process downloads a job at a time (a lock file).
 */
export function startDownload(dir: string, context: EngineContext, remoteId: string, common: Partial<JobState>): JobState {
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
    rmSync(archive, { force: true }); // unpacked: the weights need not be on disk twice
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
  // A Together job's base is Together's model name, never a folder here (whatever the working
  // folder holds under that name): an adapter waits for the user to say where its download is.
  if (resultIsAdapter({ resultDir }, config)) return { message: `Downloaded a LoRA adapter to ${resultDir}; converting it needs its base model as a local folder: download ${config.baseModel} (a Hugging Face model folder) and run 'coi finetune gguf ${id} --base DIR' with that folder.` };
  const outFile = jobGgufPath(dir, false, 'f16');
  log(dir, `Converting ${resultDir} to GGUF (f16)`);
  try {
    const ggufPath = await convertToGguf({ venv, source: resultDir, outFile, outType: 'f16', env });
    log(dir, `GGUF written: ${ggufPath}`);
    return { ggufPath, message: `Together job done; GGUF ${ggufPath}` };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    log(dir, `GGUF conversion failed: ${why}`);
    return { message: `Downloaded to ${resultDir}; the GGUF conversion failed (${why.split('\n')[0] ?? ''}): retry with 'coi finetune gguf ${id}'.` };
  }
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** `result.archive.lock` holds the pid of the process downloading the job's result. */
function takeDownloadLock(dir: string, again = true): boolean {
  const lock = join(dir, DOWNLOAD_LOCK);
  try {
    writeFileSync(lock, processOwnerText(), { flag: 'wx' });
    return true;
  } catch {
    if (!again || downloadLockHeld(dir)) return false;
    rmSync(lock, { force: true }); // left by a process that died: take it over
    return takeDownloadLock(dir, false);
  }
}

export function downloadLockHeld(dir: string): boolean {
  let owner: ReturnType<typeof parseProcessOwner>;
  try {
    owner = parseProcessOwner(readFileSync(join(dir, DOWNLOAD_LOCK), 'utf8'));
  } catch {
    return false;
  }
  if (!Number.isInteger(owner.pid) || owner.pid < 1) return false; // not a lock this engine wrote: taken over
  return owner.pid === process.pid ? downloads.has(dir) : processStillRuns(owner.pid, owner.identity);
}

function releaseDownloadLock(dir: string): void {
  rmSync(join(dir, DOWNLOAD_LOCK), { force: true });
}
