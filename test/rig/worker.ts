/**
 * The bundled worker script for tests and benchmarks (dist/worker.js), built
 * with `node scripts/build.mjs` when it is missing or older than its sources.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../helpers/paths';

function newestSource(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const stat = statSync(full);
    newest = Math.max(newest, stat.isDirectory() ? newestSource(full) : name.endsWith('.ts') ? stat.mtimeMs : 0);
  }
  return newest;
}

export function workerScriptPath(): string {
  const worker = repoPath('dist', 'worker.js');
  if (!existsSync(worker) || statSync(worker).mtimeMs < newestSource(repoPath('core', 'backends'))) {
    execFileSync(process.execPath, [repoPath('scripts', 'build.mjs')], { cwd: repoPath(), stdio: 'ignore' });
  }
  return worker;
}
