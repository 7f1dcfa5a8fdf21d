/**
 * The one way coi creates a folder a user named (an --out folder, an evaluation store, a
 * job folder, the caches and run records under $COI_CACHE_DIR). Node 20's
 * `mkdirSync(dir, { recursive: true })` retries forever where mkdir fails with ENOENT
 * although the parent exists (anywhere under /proc): it spins at full CPU, and no SIGTERM
 * or Ctrl-C handler runs while it loops.
 */
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { describeFsError } from './fsErrors';

/**
 * Creates `dir` and its missing parents one level at a time, as `mkdir -p` does; a level
 * that cannot be made throws mkdir's error (ENOENT under /proc, ENOTDIR under a file), and
 * a file where the folder must be throws EEXIST, as the recursive mkdirSync does.
 * `made` receives each level created, outermost first (also those made before a failure).
 */
export function makeDirectories(dir: string, made: string[] = []): void {
  const missing: string[] = [];
  for (let current = resolve(dir); !existsSync(current); current = dirname(current)) {
    missing.unshift(current);
    if (dirname(current) === current) break;
  }
  if (missing.length === 0 && !statSync(dir).isDirectory()) mkdirSync(dir); // EEXIST, in mkdir's words
  for (const level of missing) {
    mkdirSync(level);
    made.push(level);
  }
}

/**
 * Checks that a folder another process writes into later (a training job's output) can be
 * made and written, by doing it: its missing levels are made, an entry is made in it, and
 * all of that is removed again, so the check leaves nothing behind. Root passes permission
 * checks that the write still fails (under /proc, on a read-only mount); trying does not.
 * A folder whose mode lets no one write it (`chmod a-w`, dr-xr-xr-x) is read-only here even
 * for root, whom the file system lets write it anyway: it is refused (EACCES) before anything
 * is made in it. Throws the file system's error (ENOTDIR, ENOENT under /proc, EACCES, EROFS).
 */
export function checkWritableFolder(dir: string): void {
  refuseReadOnlyMode(dir);
  const made: string[] = [];
  try {
    makeDirectories(dir, made);
    rmdirSync(mkdtempSync(join(resolve(dir), '.coi-write-check-')));
  } finally {
    for (const level of made.reverse()) rmdirSync(level);
  }
}

/**
 * Throws EACCES where the folder an entry of `dir` would be made in (`dir`, else its nearest
 * existing parent) has no write bit for anyone: a folder its owner made read-only.
 */
function refuseReadOnlyMode(dir: string): void {
  let level = resolve(dir);
  while (!existsSync(level) && dirname(level) !== level) level = dirname(level);
  const stats = statSync(level);
  if (stats.isDirectory() && (stats.mode & 0o222) === 0) {
    throw Object.assign(new Error(`EACCES: permission denied (no one may write '${level}')`), { code: 'EACCES', path: level });
  }
}

/** Why `dir` cannot be made or written, in the file system's words (describeFsError); undefined when it can (checkWritableFolder). */
export function unwritableReason(dir: string): string | undefined {
  try {
    checkWritableFolder(dir);
    return undefined;
  } catch (error) {
    return describeFsError(error);
  }
}

/** Whether `path` lies inside `folder` (not the folder itself), after `.` and `..` are resolved: `<dir>/../x` and `<dir>-other/x` do not. */
export function isInsideFolder(path: string, folder: string): boolean {
  const rel = relative(resolve(folder), resolve(path));
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * A path as the user reads it: relative to `root` with `/` when inside it, else absolute. The CLI
 * shows files this way, and evaluation item ids are built with it, in `coi eval` and in the editor
 * alike, so stores made by either compare item by item.
 */
export function displayPath(path: string, root: string): string {
  return isInsideFolder(path, root) ? relative(resolve(root), resolve(path)).split(sep).join('/') : path;
}
