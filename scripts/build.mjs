#!/usr/bin/env node
// Bundles every entry point with esbuild (fast; type-checking is `tsc -b`).
// Entries that do not exist yet are skipped, so the build works while the tree grows.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const minify = process.argv.includes('--minify');

/** Native and host-provided modules are never bundled. */
const nodeExternals = ['vscode', 'node-llama-cpp', '@node-llama-cpp/*'];

const entries = [
  { in: 'client/extension.ts', out: 'dist/client.js', platform: 'node' },
  { in: 'server/main.ts', out: 'dist/server.js', platform: 'node' },
  { in: 'core/backends/local/worker.ts', out: 'dist/worker.js', platform: 'node' },
  { in: 'cli/main.ts', out: 'dist/cli.js', platform: 'node' },
  { in: 'webview/main.ts', out: 'dist/webview.js', platform: 'browser' },
];

const started = Date.now();
const jobs = entries
  .filter((e) => existsSync(join(root, e.in)))
  .map((e) =>
    build({
      absWorkingDir: root,
      entryPoints: [e.in],
      outfile: e.out,
      bundle: true,
      platform: e.platform,
      format: e.platform === 'browser' ? 'iife' : 'cjs',
      target: e.platform === 'browser' ? 'es2022' : 'node20',
      external: e.platform === 'node' ? nodeExternals : [],
      sourcemap: true,
      minify,
      logLevel: 'warning',
      // Keep the `import.meta.url`-free CJS output quiet about it.
      define: e.platform === 'browser' ? { 'process.env.NODE_ENV': '"production"' } : {},
    }),
  );
await Promise.all(jobs);
if (!watch) console.log(`esbuild: ${jobs.length} bundle(s) in ${Date.now() - started} ms`);
