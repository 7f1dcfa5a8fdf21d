/**
 * The fine-tuning jobs of the workspace folders, read through core/finetune (state brought
 * up to date by the engine that runs each job), as the panel shows them. No `vscode` here: the browser
 * tests answer the panel with the same functions.
 */
import { basename, dirname, join } from 'node:path';
import { jobsRoot, jobStatus, listJobIds, logTail, readConfig, readMetrics, type EngineContext, type JobConfig } from '../../core/finetune';
import { jobRow } from '../../webview/model/jobs';
import { maxMetricBatch, type JobMetricsBatch, type JobRow, type JobsView } from '../../webview/protocol';

/** Every job of the workspaces, newest first; a folder that cannot be read is listed with why. */
export async function readJobs(workspaces: readonly string[], contextFor: (workspace: string) => Promise<EngineContext> = (workspace) => Promise.resolve({ workspace })): Promise<JobsView> {
  const rows: { row: JobRow; createdAt: string }[] = [];
  const unreadable: { folder: string; error: string }[] = [];
  for (const workspace of workspaces) {
    const context = await contextFor(workspace); // one key lookup per workspace, not per job
    for (const id of listJobIds(workspace)) {
      const folder = join(jobsRoot(workspace), id);
      try {
        const state = await jobStatus(id, context);
        rows.push({ row: jobRow(folder, state, configOf(folder), readMetrics(folder)), createdAt: state.createdAt });
      } catch (error) {
        unreadable.push({ folder, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
  rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.row.id.localeCompare(a.row.id));
  return { jobs: rows.map((r) => r.row), searched: workspaces.map(jobsRoot), unreadable };
}

/** The job's row, its metric lines from `fromLine` on (at most `maxMetricBatch`) and its log's tail. */
export async function readJobMetrics(folder: string, fromLine: number, contextFor: (workspace: string) => Promise<EngineContext> = (workspace) => Promise.resolve({ workspace })): Promise<JobMetricsBatch> {
  const state = await jobStatus(basename(folder), await contextFor(workspaceOf(folder)));
  const all = readMetrics(folder);
  const start = Math.max(0, Math.min(Math.floor(fromLine), all.length));
  const metrics = all.slice(start, start + maxMetricBatch);
  return { row: jobRow(folder, state, configOf(folder), all), metrics, nextLine: start + metrics.length, more: start + metrics.length < all.length, logTail: logTail(join(folder, 'log'), logTailBytes) };
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
