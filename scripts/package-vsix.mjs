#!/usr/bin/env node
// Packages the extension as out/coi-studio.vsix:
//   1. `node scripts/build.mjs` (esbuild bundles in dist/);
//   2. `@vscode/vsce package --no-dependencies` run under the cached Node 24 (vsce 4 needs
//      Node >= 22; scripts/e2e/install.mjs installs both, cached outside the repository).
//
// What goes in the .vsix is decided by .vscodeignore (an allow-list: the bundles, the grammar,
// the manifest, README/CHANGELOG/LICENSE). The bundles inline every JavaScript dependency;
// `node-llama-cpp` (native, external to the bundles, used only by dist/worker.js for local
// models) is NOT in this generic .vsix. The e2e rig makes it resolvable by linking the
// repository's node_modules into the installed extension (see docs/testing.md); a
// platform-specific distribution build would add it with `vsce package --target linux-x64`.
//
//   node scripts/package-vsix.mjs [--out path.vsix] [--no-build]
import { spawnSync } from 'node:child_process';
import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInstalled, node24Env } from './e2e/install.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(cmd, args, options) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) throw new Error(`package: \`${[cmd, ...args].join(' ')}\` failed (exit ${result.status ?? result.signal})`);
}

/** Builds and packages; returns the absolute path of the .vsix. */
export function packageVsix({ out = join(root, 'out', 'coi-studio.vsix'), build = true, tools = undefined, log = (m) => console.log(m) } = {}) {
  tools ??= ensureInstalled({ log });
  if (build) run(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root });
  mkdirSync(dirname(out), { recursive: true });
  const started = Date.now();
  // No repository field and no LICENSE file yet: vsce would stop and ask; answer for it.
  // README links stay relative (no repository URL to prefix them with).
  // vsce lists every packaged file; show that only when something goes wrong.
  const result = spawnSync(tools.node, [tools.vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links', '--out', out], {
    cwd: root,
    env: node24Env(tools),
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`package: vsce failed (exit ${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
  for (const line of `${result.stdout}\n${result.stderr}`.split('\n')) if (/WARNING|DONE/.test(line)) log(`package: ${line.trim()}`);
  log(`package: ${out} (${Math.round(statSync(out).size / 1024)} KiB) in ${Date.now() - started} ms`);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  try {
    packageVsix({ out: outIndex >= 0 && args[outIndex + 1] ? resolve(args[outIndex + 1]) : undefined, build: !args.includes('--no-build') });
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
