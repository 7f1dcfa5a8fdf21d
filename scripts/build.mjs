#!/usr/bin/env node
// Bundles every entry point with esbuild (fast; type-checking is `tsc -b`).
// Entries that do not exist yet are skipped, so the build works while the tree grows.
import { build } from 'esbuild';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const minify = process.argv.includes('--minify');
// `--only worker.js`: just that bundle (the tests rebuild the worker this way).
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex >= 0 ? process.argv[onlyIndex + 1] : undefined;

/** Native and host-provided modules are never bundled. */
const nodeExternals = ['vscode', 'node-llama-cpp', '@node-llama-cpp/*'];

const entries = [
  { in: 'client/extension.ts', out: 'dist/client.js', platform: 'node' },
  { in: 'server/main.ts', out: 'dist/server.js', platform: 'node' },
  { in: 'core/backends/local/worker.ts', out: 'dist/worker.js', platform: 'node' },
  { in: 'cli/main.ts', out: 'dist/cli.js', platform: 'node' },
  // The side panel: its script and its one style sheet (the CSP allows no inline style).
  { in: 'webview/ui/main.ts', out: 'dist/webview.js', platform: 'browser' },
  { in: 'webview/ui/panel.css', out: 'dist/webview.css', platform: 'browser' },
];

const started = Date.now();
const jobs = entries
  .filter((e) => existsSync(join(root, e.in)))
  .filter((e) => only === undefined || e.out === `dist/${only}`)
  .map(async (e) => {
    const result = await build({
      absWorkingDir: root,
      entryPoints: [e.in],
      outfile: e.out,
      bundle: true,
      platform: e.platform,
      format: e.platform === 'browser' ? 'iife' : 'cjs',
      target: e.platform === 'browser' ? 'es2022' : 'node20',
      external: e.platform === 'node' ? nodeExternals : [],
      sourcemap: true,
      // The webview is always minified: it is loaded into every panel and its size is a goal (< 400 KB).
      minify: minify || e.platform === 'browser',
      logLevel: 'warning',
      // Keep the `import.meta.url`-free CJS output quiet about it.
      define: e.platform === 'browser' ? { 'process.env.NODE_ENV': '"production"' } : {},
      write: false,
    });
    // Each file is written under a temporary name and renamed into place: tests running
    // in parallel may rebuild while another process loads a bundle, and must never see
    // a half-written one.
    for (const file of result.outputFiles) {
      mkdirSync(dirname(file.path), { recursive: true });
      const temporary = `${file.path}.${process.pid}.tmp`;
      writeFileSync(temporary, file.contents);
      renameSync(temporary, file.path);
    }
  });
await Promise.all(jobs);
if (!watch) console.log(`esbuild: ${jobs.length} bundle(s) in ${Date.now() - started} ms`);
