/**
 * The bundled worker script for tests and benchmarks (dist/worker.js), rebuilt
 * when it is missing or older than its sources. Test files run in parallel, so
 * the bundle is written to a temporary name and renamed into place (atomic): a
 * process never loads a half-written worker. Same options as scripts/build.mjs.
 */
import { existsSync, renameSync, statSync } from 'node:fs';
import { buildSync } from 'esbuild';
import { newestSource, repoPath } from '../helpers/paths';

export function workerScriptPath(): string {
  const worker = repoPath('dist', 'worker.js');
  if (existsSync(worker) && statSync(worker).mtimeMs >= newestSource(repoPath('core', 'backends'))) return worker;
  const temporary = repoPath('dist', `worker.${process.pid}.tmp.js`);
  buildSync({
    absWorkingDir: repoPath(),
    entryPoints: ['core/backends/local/worker.ts'],
    outfile: temporary,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'node-llama-cpp', '@node-llama-cpp/*'],
    logLevel: 'warning',
  });
  renameSync(temporary, worker);
  return worker;
}
