/**
 * The one way coi creates a folder a user named (an --out folder, an evaluation store, a
 * job folder, the caches and run records under $COI_CACHE_DIR). Node 20's
 * `mkdirSync(dir, { recursive: true })` retries forever where mkdir fails with ENOENT
 * although the parent exists (anywhere under /proc): it spins at full CPU, and no SIGTERM
 * or Ctrl-C handler runs while it loops.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

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
