/** The Runs tab's view model: which runs a filter keeps, and the chains a filter can pick. Pure. */
import type { RunFilter, RunList, RunRow } from '../protocol';
import { namesApart } from './names';

/** Newest first, then kept by chain and status. */
export function filterRuns(rows: readonly RunRow[], filter: RunFilter): RunList {
  const chains = [...new Set(rows.map((r) => r.chain))].sort((a, b) => a.localeCompare(b));
  const runs = rows
    .filter((r) => (filter.chain === undefined || filter.chain === '' || r.chain === filter.chain) && (filter.status === undefined || r.status === filter.status))
    .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.id < b.id ? 1 : -1));
  return { runs, chains, total: rows.length };
}

/** `1.2 s`, `850 ms`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Steps of two runs matched by id, in the order of the first run and then the new ones of the second. */
export function pairSteps<S extends { readonly id: string }>(a: readonly S[], b: readonly S[]): { id: string; a?: S; b?: S }[] {
  const ids = [...new Set([...a.map((s) => s.id), ...b.map((s) => s.id)])];
  return ids.map((id) => {
    const left = a.find((s) => s.id === id);
    const right = b.find((s) => s.id === id);
    return { id, ...(left !== undefined ? { a: left } : {}), ...(right !== undefined ? { b: right } : {}) };
  });
}

/**
 * What each run of a list is called to a screen reader (its row's *Open* and *Compare…* say it):
 * `run of CHAIN started WHEN` in the user's locale, and the run's id after it where two runs of
 * the list would be called alike (a chain run twice in the same second). By run id.
 */
export function runNames(runs: readonly RunRow[], when: (iso: string) => string = (iso) => new Date(iso).toLocaleString()): Map<string, string> {
  const names = namesApart(runs, (run) => `run of ${run.chain} started ${when(run.startedAt)}`, (run) => `id ${run.id}`);
  return new Map(runs.map((run, index) => [run.id, names[index] ?? run.id]));
}
