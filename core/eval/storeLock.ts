/**
 * One writer per store: the process that appends to a store's results.jsonl holds
 * `eval.lock` in the store folder, created exclusively (flag 'wx'), with its pid and
 * host. Two writers would each append at their own offsets and overwrite each other's
 * lines (a result lost, another doubled), so a second one is refused. A lock left by a
 * process that no longer runs on this host (killed, crashed) is taken over; one from
 * another host cannot be checked and is only ever removed by hand. Readers (reports,
 * the side panel) need no lock: they never write.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const LOCK_FILE = 'eval.lock';

/** Who holds a store: what `eval.lock` says. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

/** Why a lock could not be taken: someone holds it (`holder` when its file can be read), or the folder refused the file. */
export type LockRefusal = { readonly kind: 'held'; readonly path: string; readonly holder?: LockHolder } | { readonly kind: 'unwritable'; readonly error: unknown };

export interface StoreLock {
  /** Removes the lock file if it is still this one's (idempotent). */
  release(): void;
}

/** Takes the store's lock, taking over a stale one; a refusal is returned, never thrown. */
export function acquireStoreLock(dir: string): StoreLock | LockRefusal {
  const path = join(dir, LOCK_FILE);
  const text = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() } satisfies LockHolder) + '\n';
  // Twice at most: once, and once more after taking over a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, text, { flag: 'wx' });
      return heldLock(path, text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return { kind: 'unwritable', error };
    }
    const existing = readLockText(path);
    if (existing === undefined) continue; // removed meanwhile: try again
    const holder = parseHolder(existing);
    if (holder === undefined || !isStale(holder) || attempt > 0) return { kind: 'held', path, ...(holder !== undefined ? { holder } : {}) };
    // Remove only the lock judged stale: another process that took it over meanwhile keeps its own.
    if (readLockText(path) === existing) removeQuietly(path);
  }
  return { kind: 'held', path };
}

export function isRefusal(lock: StoreLock | LockRefusal): lock is LockRefusal {
  return 'kind' in lock;
}

function heldLock(path: string, text: string): StoreLock {
  let held = true;
  // A process that exits without closing the store (a second Ctrl-C exits at once) still leaves no lock behind.
  const onExit = (): void => release();
  const release = (): void => {
    if (!held) return;
    held = false;
    process.off('exit', onExit);
    if (readLockText(path) === text) removeQuietly(path);
  };
  process.on('exit', onExit);
  return { release };
}

function readLockText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder> | null;
    if (value !== null && typeof value === 'object' && Number.isInteger(value.pid) && typeof value.host === 'string') return { pid: value.pid!, host: value.host, since: typeof value.since === 'string' ? value.since : '' };
  } catch {
    // Half written (its writer is creating it this very moment) or damaged: treated as held.
  }
  return undefined;
}

/** A holder on this host whose process no longer exists. Another host's cannot be checked: never stale. */
function isStale(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
