/**
 * The fine-tuning jobs of the workspace folders, read through core/finetune (state brought
 * up to date by the engine that runs each job, in a trusted workspace), as the panel shows them.
 * No `vscode` here: the browser tests answer the panel with the same functions.
 */
import { basename, dirname, join, resolve } from 'node:path';
import { jobsRoot, jobStatus, listJobIds, logTail, readConfig, readMetrics, readState, type EngineContext, type JobConfig, type JobState } from '../../core/finetune';
import { jobRow } from '../../webview/model/jobs';
import { maxMetricBatch, type JobMetricsBatch, type JobRow, type JobsView } from '../../webview/protocol';

/**
 * How the jobs' states are read. With the engine context of each workspace, every job's engine
 * brings its state up to date: it looks for the training process, runs Slurm's squeue, scontrol
 * and sacct, or calls Together with the user's key (and may download and convert a result).
 * `'as-recorded'` — Restricted Mode, where state.json may be anyone's — reads the state files as
 * they are: no engine runs, nothing is started, no key is looked up.
 */
export type JobRefresh = ((workspace: string) => Promise<EngineContext>) | 'as-recorded';

/** What the panel says above jobs read as recorded. */
export const AS_RECORDED_NOTICE = 'Restricted Mode: each job is shown as its state.json last recorded it, without asking its engine (the training process, Slurm, Together AI), so its status may be out of date. Trust the workspace to bring the jobs up to date.';

/**
 * How often a job's engine is asked at most (`squeue`/`scontrol`/`sacct`, the training process, Together):
 * a training job writes metrics about twice a second and each write re-reads the list, so in
 * between the panel shows each job as its state.json was last written (Together's own poll interval).
 */
export const ENGINE_QUERY_INTERVAL_MS = 5000;

/** Reading options; `engineEveryMs`: the least time between two engine queries for one job. */
export interface ReadOptions {
  readonly engineEveryMs?: number;
}

/** Every job of the workspaces, newest first; a folder that cannot be read is listed with why. */
export async function readJobs(workspaces: readonly string[], refresh: JobRefresh, options: ReadOptions = {}): Promise<JobsView> {
  const rows: { row: JobRow; createdAt: string }[] = [];
  const unreadable: { folder: string; error: string }[] = [];
  for (const workspace of workspaces) {
    const context = refresh === 'as-recorded' ? undefined : await refresh(workspace); // one key lookup per workspace, not per job
    let ids: string[];
    try {
      ids = listJobIds(workspace);
    } catch (error) {
      // `.coi-jobs` is a file, or cannot be listed: said where the jobs would be, the other workspaces still listed.
      unreadable.push({ folder: jobsRoot(workspace), error: error instanceof Error ? error.message : String(error) });
      continue;
    }
    for (const id of ids) {
      const folder = join(jobsRoot(workspace), id);
      try {
        const state = await stateOf(folder, context, options);
        rows.push({ row: jobRow(folder, state, configOf(folder), readMetrics(folder)), createdAt: state.createdAt });
      } catch (error) {
        unreadable.push({ folder, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
  rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.row.id.localeCompare(a.row.id));
  return { jobs: rows.map((r) => r.row), searched: workspaces.map(jobsRoot), unreadable, ...asRecordedNotice(refresh) };
}

/** The job's row, its metric lines from `fromLine` on (at most `maxMetricBatch`) and its log's tail. */
export async function readJobMetrics(folder: string, fromLine: number, refresh: JobRefresh, options: ReadOptions = {}): Promise<JobMetricsBatch> {
  const state = await stateOf(folder, refresh === 'as-recorded' ? undefined : await refresh(workspaceOf(folder)), options);
  const all = readMetrics(folder);
  const start = Math.max(0, Math.min(Math.floor(fromLine), all.length));
  const metrics = all.slice(start, start + maxMetricBatch);
  return { row: jobRow(folder, state, configOf(folder), all), metrics, nextLine: start + metrics.length, more: start + metrics.length < all.length, logTail: logTail(join(folder, 'log'), logTailBytes), ...asRecordedNotice(refresh) };
}

/** Per job folder: when its engine was last asked, and the query still running (shared by concurrent readers). */
const engineQueries = new Map<string, { readonly at: number; running: Promise<JobState> | undefined }>();

/**
 * The job's state through its engine with `context`, at most once per `engineEveryMs` (one query
 * in flight per job); in between, and without a context, as its state.json says.
 */
function stateOf(folder: string, context: EngineContext | undefined, options: ReadOptions): Promise<JobState> {
  if (context === undefined) return Promise.resolve(readState(folder));
  const last = engineQueries.get(folder);
  if (last?.running !== undefined) return last.running;
  if (last !== undefined && Date.now() - last.at < (options.engineEveryMs ?? ENGINE_QUERY_INTERVAL_MS)) return Promise.resolve(readState(folder));
  const query: { readonly at: number; running: Promise<JobState> | undefined } = { at: Date.now(), running: undefined };
  query.running = jobStatus(basename(folder), context).finally(() => (query.running = undefined));
  engineQueries.set(folder, query);
  return query.running;
}

function asRecordedNotice(refresh: JobRefresh): { notice?: string } {
  return refresh === 'as-recorded' ? { notice: AS_RECORDED_NOTICE } : {};
}

/**
 * The job folder a request or a command names, when it is one: `<workspace>/.coi-jobs/<id>` for
 * a job listed in one of `workspaces`. Anything else — `<workspace>/.coi-jobs/..`, a job folder
 * of another tree — is refused: the folder decides which state.json an action reads and acts on.
 */
export function knownJobFolder(wanted: unknown, workspaces: readonly string[]): string {
  const path = typeof wanted === 'string' && wanted !== '' ? resolve(wanted) : undefined;
  for (const workspace of path === undefined ? [] : workspaces) {
    const id = listJobIds(workspace).find((listed) => join(jobsRoot(workspace), listed) === path);
    if (id !== undefined) return join(jobsRoot(workspace), id);
  }
  throw new Error(`Not a fine-tuning job of this workspace: ${String(wanted)}`);
}

/** `<workspace>/.coi-jobs/<id>` → `<workspace>`. */
export function workspaceOf(folder: string): string {
  return dirname(dirname(folder));
}

function configOf(folder: string): JobConfig | undefined {
  try {
    return readConfig(folder);
  } catch {
    return undefined;
  }
}

const logTailBytes = 16 * 1024;
