/** The words every backend's timed-out error shares: the limit, and how to change it. */

/** A time limit in words: "300 ms", "2.5 s". */
export function formatLimit(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

/** Ends a timed-out error: where the limit is set. */
export const RAISE_LIMIT = 'change the limit with --timeout SECONDS (CLI) or the coi.run.timeoutSeconds setting';
