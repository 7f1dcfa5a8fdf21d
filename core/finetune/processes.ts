/**
 * Processes by pid, and the temporary files a process leaves when it is killed. Work that must
 * appear whole (a converted GGUF, a cloned llama.cpp) is written under `<target>.partial-<host>-<pid>`
 * and renamed into place; a writer killed with SIGKILL cannot remove its partial file, so the next
 * writer of the same target removes those whose process is gone.
 */
import { readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This host's name as it may appear in a file name. */
function hostTag(): string {
  return hostname().replace(/[^A-Za-z0-9.-]/g, '_');
}

/** Where the process `pid` (this one by default) of this host writes `target` until it is whole. */
export function partialPath(target: string, pid = process.pid): string {
  return `${target}.partial-${hostTag()}-${pid}`;
}

/**
 * Removes the partial files or folders of `target` left by processes of this host that no longer
 * exist. Another host's (a shared file system) cannot be checked and are kept, as are a living
 * process's. Returns the paths removed.
 */
export function removeAbandonedPartials(target: string): string[] {
  const prefix = `${basename(target)}.partial-${hostTag()}-`;
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return []; // no folder yet: nothing was left there
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pidText = name.slice(prefix.length);
    if (!/^[1-9]\d*$/.test(pidText)) continue;
    const pid = Number(pidText);
    if (pid === process.pid || processAlive(pid)) continue;
    const path = join(dirname(target), name);
    try {
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // Not ours to remove after all (permissions): it stays, as before.
    }
  }
  return removed;
}
