/**
 * The bundled worker script for tests and benchmarks (dist/worker.js), rebuilt
 * by scripts/build.mjs when it is missing or older than its sources. The build
 * writes each bundle under a temporary name and renames it into place, so test
 * files running in parallel never load a half-written worker.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { newestSource, repoPath } from '../helpers/paths';

export function workerScriptPath(): string {
  const worker = repoPath('dist', 'worker.js');
  if (existsSync(worker) && statSync(worker).mtimeMs >= newestSource(repoPath('core', 'backends'))) return worker;
  execFileSync(process.execPath, [repoPath('scripts', 'build.mjs'), '--only', 'worker.js'], { cwd: repoPath(), stdio: ['ignore', 'ignore', 'inherit'] });
  return worker;
}
