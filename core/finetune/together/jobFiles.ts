/**
 * What the hosted engine keeps in a job folder besides the job model's files:
 * `together.json` (the upload, the service's job id, how far its events and metrics were
 * copied), `train.chat.jsonl` (exactly what was uploaded), and lines of the job's `log`.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canTransition, FinetuneError, type JobState, type JobStatus } from '../job';
import { readState, updateState } from '../store';
import { writeWhole } from '../../syntax/wholeFile';

/** The file in the job folder that is uploaded. */
export const UPLOAD_FILE = 'train.chat.jsonl';
const SIDECAR = 'together.json';

/** `together.json`: what the engine must remember between calls. */
export interface Sidecar {
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
  /** That process's start identity (Linux): after a reboot its pid can name another process. */
  readonly startedByStart?: string;
  /** The service finished but the result could not be brought home (resume retries the download). */
  readonly downloadFailed?: boolean;
}

/**
 * `together.json`, or undefined when it is missing or not one the engine wrote. The service's
 * ids go into request paths sent with the user's key, so an id that is not one word of
 * letters, digits and `-_.:` (the service's `ft-…`, `file-…`) makes the file unreadable:
 * a crafted `"remoteJobId": "../files"` in a cloned workspace reaches no other endpoint.
 */
export function readSidecar(dir: string): Sidecar | undefined {
  let sidecar: unknown;
  try {
    sidecar = JSON.parse(readFileSync(join(dir, SIDECAR), 'utf8'));
  } catch {
    return undefined;
  }
  return isSidecar(sidecar) ? sidecar : undefined;
}

const SERVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

function isSidecar(value: unknown): value is Sidecar {
  if (typeof value !== 'object' || value === null) return false;
  const { remoteJobId, fileId, startedByStart } = value as Record<string, unknown>;
  if (startedByStart !== undefined && typeof startedByStart !== 'string') return false;
  return [remoteJobId, fileId].every((id) => id === undefined || (typeof id === 'string' && SERVICE_ID.test(id) && !id.includes('..')));
}

export function patchSidecar(dir: string, changes: Partial<Sidecar>): void {
  const current = readSidecar(dir);
  if (current === undefined) throw new FinetuneError(`Job folder ${dir} has no readable ${SIDECAR}.`);
  writeSidecar(dir, { ...current, ...changes });
}

export function writeSidecar(dir: string, sidecar: Sidecar): void {
  writeWhole(join(dir, SIDECAR), JSON.stringify(sidecar, null, 2) + '\n');
}

export function log(dir: string, line: string): void {
  appendFileSync(join(dir, 'log'), `${line}\n`);
}

/** Moves the job to `status`, through `running` when the service skipped it between two polls (queued → completed). */
export function moveTo(dir: string, status: JobStatus, changes: Partial<JobState>): JobState {
  const current = readState(dir).status;
  if (current !== status && !canTransition(current, status) && canTransition(current, 'running') && canTransition('running', status)) updateState(dir, 'running');
  return updateState(dir, status, changes);
}

