/**
 * One writer per store: the process that appends to a store's results.jsonl holds
 * `eval.lock` in the store folder, created exclusively (flag 'wx'), with its pid and
 * host. Two writers would each append at their own offsets and overwrite each other's
 * lines (a result lost, another doubled), so a second one is refused. A lock left by a
 * process that no longer runs on this host (killed, crashed) is taken over, by one process
 * only however many judge it stale at once (a claim, `eval.lock.takeover`, below); one from
 * another host cannot be checked and is only ever removed by hand. Readers (reports,
 * the side panel) need no lock: they never write.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processStartIdentity, processStillRuns } from '../syntax/processes';

export const LOCK_FILE = 'eval.lock';

/** Who holds a store: what `eval.lock` says. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
  /** The holder's boot and start time (Linux): a lock whose pid a later process was given is stale. */
  readonly start?: string;
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
  const start = processStartIdentity(process.pid);
  const text = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), ...(start === undefined ? {} : { start }) } satisfies LockHolder) + '\n';
  const taken = takeExclusively(path, text, 0);
  return taken === 'taken' ? heldLock(path, text) : taken;
}

/** Whether a file of a store folder is its lock or a takeover claim of it (not the evaluation's own files). */
export function isLockFile(name: string): boolean {
  return name === LOCK_FILE || name.startsWith(`${LOCK_FILE}${TAKEOVER_SUFFIX}`);
}

/**
 * A stale file is taken over under a claim, `<file>.takeover`, created exclusively as the
 * lock is: only its holder removes the stale file, so two processes that both judged it
 * stale cannot both remove it (the second would remove the first one's new lock). A claim
 * left by a process killed while taking over is stale in turn, taken over one level deeper.
 */
const TAKEOVER_SUFFIX = '.takeover';
/** Claims of claims, each left by a killed process, at most: past that the lock is removed by hand. */
const MAX_TAKEOVER_DEPTH = 3;

/** Creates `path` with `text` unless another live process holds it; takes it over from a dead one. */
function takeExclusively(path: string, text: string, depth: number): 'taken' | LockRefusal {
  const created = createExclusively(path, text);
  if (created !== 'exists') return created;
  const existing = readLockText(path);
  if (existing === undefined) return createdOrHeld(path, text); // removed meanwhile: try once more
  const holder = parseHolder(existing);
  if (holder === undefined || !isStale(holder)) return { kind: 'held', path, ...(holder !== undefined ? { holder } : {}) };
  return takeOver(path, existing, text, depth);
}

/**
 * Replaces the stale `path` (its text `stale`) by `text`, holding the claim: it is read
 * again under the claim and removed only if it is still the stale one, which no one but the
 * claim's holder can remove. Another process holding the claim refuses this one.
 */
function takeOver(path: string, stale: string, text: string, depth: number): 'taken' | LockRefusal {
  if (depth >= MAX_TAKEOVER_DEPTH) return heldBy(path);
  const claim = `${path}${TAKEOVER_SUFFIX}`;
  const claimed = takeExclusively(claim, text, depth + 1);
  if (claimed !== 'taken') return claimed.kind === 'unwritable' ? claimed : heldBy(path);
  try {
    if (readLockText(path) === stale) removeQuietly(path);
    return createdOrHeld(path, text);
  } finally {
    removeIfStill(claim, text);
  }
}

function createExclusively(path: string, text: string): 'taken' | 'exists' | LockRefusal {
  try {
    writeFileSync(path, text, { flag: 'wx' });
    return 'taken';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EEXIST' ? 'exists' : { kind: 'unwritable', error };
  }
}

function createdOrHeld(path: string, text: string): 'taken' | LockRefusal {
  const created = createExclusively(path, text);
  return created === 'exists' ? heldBy(path) : created;
}

/** Refused: `path` is held, by whom it names when that is a live holder (a stale one is being taken over by another process). */
function heldBy(path: string): LockRefusal {
  const text = readLockText(path);
  const holder = text === undefined ? undefined : parseHolder(text);
  return { kind: 'held', path, ...(holder !== undefined && !isStale(holder) ? { holder } : {}) };
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
    removeIfStill(path, text);
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
    if (value !== null && typeof value === 'object' && Number.isInteger(value.pid) && typeof value.host === 'string') {
      return { pid: value.pid!, host: value.host, since: typeof value.since === 'string' ? value.since : '', ...(typeof value.start === 'string' ? { start: value.start } : {}) };
    }
  } catch {
    // Half written (its writer is creating it this very moment) or damaged: treated as held.
  }
  return undefined;
}

/**
 * A holder on this host whose process no longer exists, or whose pid another process has now
 * (after a reboot: the lock of a run killed by it). Another host's cannot be checked: never stale.
 */
function isStale(holder: LockHolder): boolean {
  return holder.host === hostname() && !processStillRuns(holder.pid, holder.start);
}

/** Removes `path` if it still holds `text` (this process's own lock or claim). */
function removeIfStill(path: string, text: string): void {
  if (readLockText(path) === text) removeQuietly(path);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
