/**
 * Files written whole or not at all (a step cache entry, a run record, a job's state.json): the
 * body goes to `NAME.partial-HOST-PID` beside the file (processes.ts) and is renamed over it. A
 * writer killed between the two (SIGKILL, a crash, a power cut) cannot remove its temporary, and
 * a step cache folder would collect them by the thousand; so the first write of a process into a
 * folder removes those whose process is gone, once they are old enough that no writer can still
 * be at work on them. Earlier versions named the temporary `NAME.PID.tmp`: those are removed by
 * the same rule.
 */
import { lstatSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { hostTag, partialPath, processAlive } from './processes';

/**
 * How long a temporary of a process that is gone is kept. The pid is all a name tells: a writer on
 * another machine (a cache on a shared disk, a trainer on a Slurm node writing `exit.json.PID.tmp`)
 * or in another container has a pid that means nothing here, and such a writer is done in
 * milliseconds; ten minutes without a write means no one will rename the file any more.
 */
export const ABANDONED_AFTER_MS = 10 * 60 * 1000;

/** The folders this process has already cleaned (once each: a write does not list a folder of thousands). */
const cleaned = new Set<string>();

/**
 * Writes `body` to `path` whole or not at all: a reader, or another process writing the same file,
 * sees the old file or the new one, never a mix. A write that fails (a full disk) removes its
 * temporary file. The first write into a folder cleans it first (removeAbandonedTemporariesOnce).
 */
export function writeWhole(path: string, body: string): void {
  removeAbandonedTemporariesOnce(dirname(path));
  const temporary = partialPath(path);
  try {
    writeFileSync(temporary, body);
    renameSync(temporary, path);
  } catch (error) {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // Nothing more can be done here; the error below says what went wrong.
    }
    throw error;
  }
}

/**
 * removeAbandonedTemporaries, once per folder per process; `names` is the folder's listing where
 * the caller has it already (the step cache lists its folder to index it). Never throws: cleaning
 * up never fails the work it comes with.
 */
export function removeAbandonedTemporariesOnce(dir: string, names?: readonly string[]): void {
  const key = resolve(dir);
  if (cleaned.has(key)) return;
  cleaned.add(key);
  try {
    removeAbandonedTemporaries(dir, names);
  } catch {
    // A folder that cannot be listed is written to by no one either: the write says why.
  }
}

/**
 * Removes the files in `dir` that a whole-file write left when it was killed: `NAME.partial-HOST-PID`
 * of this host and the older `NAME.PID.tmp`, whose process no longer exists and which nothing has
 * written for ABANDONED_AFTER_MS. Another host's temporaries, a living process's, folders and
 * links are kept. Returns the paths removed.
 */
export function removeAbandonedTemporaries(dir: string, names: readonly string[] = readdirSync(dir), now = Date.now()): string[] {
  const ours = new RegExp(`\\.partial-${hostTag().replace(/\./g, '\\.')}-([1-9]\\d*)$`);
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number((ours.exec(name) ?? /^.+\.([1-9]\d*)\.tmp$/.exec(name))?.[1] ?? Number.NaN);
    if (!Number.isSafeInteger(pid) || pid === process.pid) continue;
    const path = join(dir, name);
    if (abandoned(path, pid, now)) removed.push(path);
  }
  return removed;
}

/** Whether `path`, a temporary of `pid`, is abandoned (a plain file, old, its process gone), and then removed. */
function abandoned(path: string, pid: number, now: number): boolean {
  try {
    const stats = lstatSync(path);
    if (!stats.isFile() || now - stats.mtimeMs < ABANDONED_AFTER_MS || processAlive(pid)) return false;
    rmSync(path, { force: true });
    return true;
  } catch {
    return false; // gone meanwhile, or not ours to remove (permissions): it stays
  }
}
