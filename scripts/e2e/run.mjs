#!/usr/bin/env node
// End-to-end tests in a real VS Code (code-server in headless Chromium, driven by
// playwright-core). See docs/testing.md.
//
//   node scripts/e2e/run.mjs                  everything: UI tests, then the extension-host suite
//   node scripts/e2e/run.mjs --only ui        only the UI tests (test/e2e/*.e2e.ts)
//   node scripts/e2e/run.mjs --only suite     only the mocha suite in the extension host (test/suite)
//   node scripts/e2e/run.mjs --grep hover     only tests whose name matches (both layers)
//   node scripts/e2e/run.mjs --no-build       reuse dist/ and out/ as they are
//   node scripts/e2e/run.mjs --keep           keep the run folder (logs, user data) for inspection
// Environment: COI_E2E_CACHE (tool cache), COI_E2E_TIMEOUT_S (global limit, default 1200),
// COI_E2E_CPU_THROTTLE=N (run the pages N times slower: load on demand, see docs/testing.md).
//
// Every process this script starts (code-server and what it spawns, Chromium) is stopped by
// its own id when the run ends: normally, on failure, on the global timeout and on Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInstalled, node24Env } from './install.mjs';
import { packageVsix } from '../package-vsix.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const resultsDir = join(root, 'test-results', 'e2e');
const EXTENSION_ID = 'coi-studio.coi-studio';

const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  // Nothing but the loopback address resolves: the workbench can never reach the internet.
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

// ---------------------------------------------------------------------------------------
// Options

function parseOptions(argv) {
  const opts = { only: undefined, grep: undefined, build: true, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') opts.only = argv[++i];
    else if (a === '--grep') opts.grep = argv[++i];
    else if (a === '--no-build') opts.build = false;
    else if (a === '--keep') opts.keep = true;
    else throw new Error(`e2e: unknown option ${a} (see the header of scripts/e2e/run.mjs)`);
  }
  if (opts.only && !['ui', 'suite'].includes(opts.only)) throw new Error('e2e: --only takes ui or suite');
  return opts;
}

const log = (m) => console.log(m);

// ---------------------------------------------------------------------------------------
// Processes: every started process is registered here and stopped by its id.

const processes = [];
let browser;

function track(name, child) {
  processes.push({ name, child });
  return child;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForExit(pid, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(pid);
}

/**
 * Stops a process we started with `detached: true` (it leads its own process group): SIGTERM
 * to it, then SIGKILL to its group (the extension host and language server it spawned) if it
 * does not go within a few seconds.
 */
async function stopProcess({ name, child }) {
  const pid = child.pid;
  if (pid === undefined) return;
  if (child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    if (!(await waitForExit(pid, 8000))) log(`e2e: ${name} (pid ${pid}) ignored SIGTERM; killing it`);
  }
  try {
    process.kill(-pid, 'SIGKILL'); // whatever is left of its own process group
  } catch {
    /* group already empty */
  }
}

/** Stops one tracked process now (and forgets it). */
async function stopTracked(child) {
  const i = processes.findIndex((p) => p.child === child);
  if (i < 0) return;
  const [entry] = processes.splice(i, 1);
  await stopProcess(entry);
}

/** Servers of this process to close at the end (the Together AI test server). */
const cleanups = [];

let cleaningUp;
async function cleanup() {
  cleaningUp ??= (async () => {
    for (const close of cleanups.splice(0)) await close().catch(() => undefined);
    if (browser) {
      const pid = browser.process?.()?.pid;
      await Promise.race([browser.close().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
      if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
      browser = undefined;
    }
    for (const p of processes.reverse()) await stopProcess(p);
    processes.length = 0;
  })();
  return cleaningUp;
}

// ---------------------------------------------------------------------------------------
// Helpers

async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

function tail(file, lines) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(cannot read ${file})`;
  }
}

function listFiles(dir, acc = []) {
  if (!existsSync(dir)) return acc;
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) listFiles(full, acc);
    else acc.push(full);
  }
  return acc;
}

// ---------------------------------------------------------------------------------------
// code-server

/**
 * A fresh, isolated profile: its own HOME, config, user data and extensions folders.
 * `workspaceTrust`: for the server of the Restricted Mode tests (trust enabled).
 */
function makeProfile(runDir, { workspaceTrust = false } = {}) {
  const p = {
    home: join(runDir, 'home'),
    config: join(runDir, 'config.yaml'),
    userData: join(runDir, 'user-data'),
    extensions: join(runDir, 'extensions'),
    log: join(runDir, 'code-server.log'),
  };
  for (const d of [p.home, join(p.userData, 'User'), p.extensions]) mkdirSync(d, { recursive: true });
  writeFileSync(p.config, 'auth: none\ncert: false\n');
  shareTrainingEnvironment(p.home);
  // Settings that keep the workbench quiet and deterministic: no welcome page, no tips,
  // no update or extension-gallery checks, no AI side panel taking space.
  const settings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'extensions.ignoreRecommendations': true,
    'security.workspace.trust.enabled': workspaceTrust,
    // Ask about trust when a folder opens (the tests answer the dialog).
    ...(workspaceTrust ? { 'security.workspace.trust.startupPrompt': 'always', 'security.workspace.trust.untrustedFiles': 'open' } : {}),
    'git.enabled': false,
    'files.autoSave': 'off',
    'editor.minimap.enabled': false,
    'editor.quickSuggestions': { other: false, comments: false, strings: false },
    'editor.acceptSuggestionOnEnter': 'on',
    'editor.suggest.preview': false,
  };
  writeFileSync(join(p.userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  return p;
}

/**
 * The profile has its own HOME and cache, but the Python training environment that
 * `coi finetune setup` (and the unit tests) made in the real cache is shared with it through
 * a link, so the fine-tuning tests train inside VS Code without making a second one.
 */
function shareTrainingEnvironment(profileHome) {
  // core's rule (an empty COI_CACHE_DIR or XDG_CACHE_HOME is unset), from the build this script made.
  const { userCacheRoot } = require(join(root, 'out', 'core', 'syntax', 'cacheFolders.js'));
  const realCache = userCacheRoot(process.env);
  mkdirSync(join(realCache, 'python'), { recursive: true });
  mkdirSync(join(profileHome, '.cache', 'coi-studio'), { recursive: true });
  symlinkSync(join(realCache, 'python'), join(profileHome, '.cache', 'coi-studio', 'python'));
}

function codeServerEnv(tools, profile, galleryPort, grep) {
  const env = node24Env(tools);
  // The extension-host suite reads its filter from the environment it inherits.
  if (grep) env.COI_E2E_GREP = grep;
  env.HOME = profile.home;
  env.XDG_CONFIG_HOME = join(profile.home, '.config');
  env.XDG_DATA_HOME = join(profile.home, '.local', 'share');
  env.XDG_CACHE_HOME = join(profile.home, '.cache');
  // An extension gallery on a loopback port where nothing listens: never reach the internet.
  const gallery = `http://127.0.0.1:${galleryPort}`;
  env.EXTENSIONS_GALLERY = JSON.stringify({
    serviceUrl: `${gallery}/_apis/public/gallery`,
    itemUrl: `${gallery}/items`,
    resourceUrlTemplate: `${gallery}/{publisher}/{name}/{version}/{path}`,
    controlUrl: '',
    recommendationsUrl: '',
  });
  delete env.VSCODE_IPC_HOOK_CLI;
  return env;
}

function commonArgs(tools, profile) {
  return [tools.codeServer, '--config', profile.config, '--user-data-dir', profile.userData, '--extensions-dir', profile.extensions];
}

/**
 * Installs the platform .vsix as a user would. Nothing from the repository is linked in: the
 * package's own dist/node_modules (node-llama-cpp and its binaries) runs the local models.
 */
function installExtension(tools, profile, env, vsix) {
  const started = Date.now();
  const result = spawnSync(tools.node, [...commonArgs(tools, profile), '--install-extension', vsix, '--force'], { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`e2e: installing ${vsix} failed:\n${result.stdout}\n${result.stderr}`);
  const folder = readdirSync(profile.extensions).find((n) => n.startsWith(`${EXTENSION_ID}-`));
  if (!folder) throw new Error(`e2e: ${EXTENSION_ID} is not in ${profile.extensions} after install:\n${result.stdout}`);
  const installed = join(profile.extensions, folder);
  if (!existsSync(join(installed, 'dist', 'node_modules', 'node-llama-cpp', 'package.json'))) throw new Error(`e2e: the installed extension has no dist/node_modules/node-llama-cpp: ${installed}`);
  log(`e2e: installed ${folder} in ${Date.now() - started} ms`);
  return installed;
}

/**
 * Starts code-server. The main one has workspace trust disabled and the smoke-test driver on;
 * the one for the Restricted Mode tests (`workspaceTrust`) has neither: trust is enabled and
 * notification toasts are visible.
 */
async function startCodeServer(tools, profile, env, port, { workspaceTrust = false } = {}) {
  const fd = openSync(profile.log, 'a');
  const args = [
    ...commonArgs(tools, profile),
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--reconnection-grace-time', '5',
    ...(workspaceTrust
      ? []
      : [
          '--disable-workspace-trust',
          // Lets the web workbench take extensionDevelopmentPath/extensionTestsPath from the URL
          // (the extension-host suite). Side effect: notification toasts are hidden.
          '--vscode-option', 'enable-smoke-test-driver',
        ]),
  ];
  const name = workspaceTrust ? 'code-server (workspace trust)' : 'code-server';
  const child = track(name, spawn(tools.node, args, { env, detached: true, stdio: ['ignore', fd, fd] }));
  closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`e2e: code-server exited (${child.exitCode}) at start:\n${tail(profile.log, 30)}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return { url, child };
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`e2e: code-server did not answer on ${url} within 60 s:\n${tail(profile.log, 30)}`);
}

// ---------------------------------------------------------------------------------------
// Layers

function makeWorkspace(runDir, name) {
  const ws = join(runDir, name);
  cpSync(join(root, 'test', 'fixtures', 'e2e-workspace'), ws, { recursive: true });
  return ws;
}

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  return context.newPage();
}

function uiIndex() {
  const indexJs = join(root, 'out', 'test', 'e2e', 'index.js');
  if (!existsSync(indexJs)) throw new Error(`e2e: ${relative(root, indexJs)} is missing (run \`npx tsc -b\`)`);
  return require(indexJs);
}

/** UI tests: test/e2e/*.e2e.ts compiled into out/test/e2e, run by out/test/e2e/index.js. */
async function runUiLayer({ url, runDir, grep, profile, workspaceTrust = false, serverPid, together }) {
  const { runUiTests } = uiIndex();
  const workspace = makeWorkspace(runDir, workspaceTrust ? 'ws-trust' : 'ws-ui');
  return runUiTests({ newPage, baseUrl: url, workspace, grep, workspaceTrust, serverPid, resultsDir, logsDir: join(profile.userData, 'logs'), together, log });
}

/**
 * The Together AI test server (test/rig/togetherServer.ts) the main code-server's extension
 * host talks to (TOGETHER_BASE_URL), with a key made up for this run: the fine-tuning UI test
 * stores it with CoI: Set API Key and checks that it reached the server and nothing else.
 */
async function startTogether() {
  const rig = require(join(root, 'out', 'test', 'rig', 'togetherServer.js'));
  const apiKey = `e2e-together-${randomBytes(9).toString('hex')}`;
  const server = await rig.startTogetherTestServer({ apiKey });
  cleanups.push(() => server.close());
  return { server, apiKey };
}

/**
 * The UI tests that need workspace trust enabled (Restricted Mode), on a second code-server
 * with its own profile, started only when such a test is selected and stopped by its pid
 * right after (also when a test fails). Its logs go beside the others on failure.
 */
async function runTrustLayer({ tools, vsix, runDir, grep, galleryPort }) {
  if (uiIndex().selectUiTests(grep, true).length === 0) return [];
  const profile = makeProfile(join(runDir, 'trust'), { workspaceTrust: true });
  const env = codeServerEnv(tools, profile, galleryPort, grep);
  installExtension(tools, profile, env, vsix);
  const { url, child } = await startCodeServer(tools, profile, env, await freePort(), { workspaceTrust: true });
  log(`e2e: code-server with workspace trust ${url} (pid ${child.pid})`);
  let results;
  try {
    results = await runUiLayer({ url, runDir, grep, profile, workspaceTrust: true, serverPid: child.pid });
  } finally {
    await stopTracked(child);
  }
  if (results.some((r) => !r.ok)) printLogs(profile, 'trust-');
  return results;
}

/**
 * The mocha suite inside the extension host: the workbench reads extensionDevelopmentPath
 * and extensionTestsPath from the `payload` URL parameter (thanks to the smoke-test-driver
 * option) and calls window.codeAutomationExit(code) when the suite ends.
 */
async function runSuiteLayer({ url, runDir, grep }) {
  const indexJs = join(root, 'out', 'test', 'suite', 'index.js');
  if (!existsSync(indexJs)) throw new Error(`e2e: ${relative(root, indexJs)} is missing (run \`npx tsc -b\`)`);
  const workspace = makeWorkspace(runDir, 'ws-suite');
  const remote = (p) => `vscode-remote://${new URL(url).host}${p}`;
  const payload = JSON.stringify([
    ['extensionDevelopmentPath', remote(root)],
    ['extensionTestsPath', remote(join(root, 'out', 'test', 'suite', 'index'))],
  ]);
  const page = await newPage();
  const output = [];
  let report;
  const exited = new Promise((resolve) => {
    void page.exposeFunction('codeAutomationExit', (code) => resolve(code));
  });
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const text = (Array.isArray(args) ? args : [args]).map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
    for (const line of text.split('\n')) {
      const m = /^COI_E2E_SUITE_REPORT (.*)$/.exec(line);
      if (m) report = JSON.parse(m[1]);
      else output.push(`[${type}] ${line}`);
    }
  });
  const target = `${url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`;
  await page.goto(target);
  const code = await exited;
  // Everything the workbench and the extension host logged (mocha's output included).
  const outputFile = join(resultsDir, 'suite-output.log');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(outputFile, output.join('\n') + '\n');
  const screenshot = join(resultsDir, 'suite-final.png');
  if (code !== 0) await page.screenshot({ path: screenshot }).catch(() => undefined);
  await page.context().close();
  const relevant = () => output.filter((l) => !/^\[\w+\]\s+at /.test(l)).slice(-30).join('\n');
  if (!report) {
    return [{ name: 'extension-host suite', ok: false, error: `the suite ended with code ${code} and no report (did it load?); last output (all in ${relative(root, outputFile)}):\n${relevant()}`, screenshot }];
  }
  const results = [
    ...report.passed.map((name) => ({ name: `suite: ${name}`, ok: true })),
    ...report.failed.map((f) => ({ name: `suite: ${f.name}`, ok: false, error: f.error, screenshot })),
  ];
  for (const r of results) log(`  ${r.ok ? '✔' : '✘'} ${r.name}`);
  if (code !== 0 && report.failed.length === 0) results.push({ name: 'extension-host suite', ok: false, error: `exit code ${code}; output in ${relative(root, outputFile)}:\n${relevant()}`, screenshot });
  return results;
}

// ---------------------------------------------------------------------------------------
// Failure report: what the user would have seen.

function printLogs(profile, prefix = '') {
  mkdirSync(resultsDir, { recursive: true });
  const serverLog = join(resultsDir, `${prefix}code-server.log`);
  if (existsSync(profile.log)) cpSync(profile.log, serverLog);
  log(`\n--- code-server log (${relative(root, serverLog)}), last lines ---\n${tail(profile.log, 25)}`);
  // The extension's own output channel ("CoI Studio") of the last windows that ran.
  const logsDir = join(profile.userData, 'logs');
  const interesting = listFiles(logsDir)
    .filter((f) => /CoI Studio\.log$/.test(relative(logsDir, f)))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
    .slice(-2);
  for (const f of interesting) {
    log(`\n--- ${relative(profile.userData, f)}, last lines ---\n${tail(f, 25)}`);
  }
  // Errors of the extension hosts that mention the extension (activation failures, crashes).
  for (const f of listFiles(logsDir).filter((x) => /remoteexthost\.log$|exthost\.log$/.test(x))) {
    const lines = readFileSync(f, 'utf8').split('\n').filter((l) => /\[error\]/.test(l) && /coi/i.test(l));
    if (lines.length > 0) log(`\n--- ${relative(profile.userData, f)}, errors about the extension ---\n${lines.slice(-15).join('\n')}`);
  }
  // Keep every log beside the screenshots.
  const copy = join(resultsDir, `${prefix}logs`);
  rmSync(copy, { recursive: true, force: true });
  if (existsSync(join(profile.userData, 'logs'))) cpSync(join(profile.userData, 'logs'), copy, { recursive: true });
  log(`\n(all VS Code logs copied to ${relative(root, copy)})`);
}

// ---------------------------------------------------------------------------------------

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const started = Date.now();
  rmSync(resultsDir, { recursive: true, force: true });
  mkdirSync(resultsDir, { recursive: true });

  const tools = ensureInstalled({ log });
  const vsix = packageVsix({ build: opts.build, tools, log });
  if (opts.build) {
    // tsc emits even when it reports type errors; those fail `npm run build` (and so
    // `npm test`) on their own, and must not hide what the e2e tests have to say.
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'test/tsconfig.json'], { cwd: root, stdio: 'inherit' });
    if (tsc.status !== 0) log('e2e: warning: tsc reported errors (above); running the tests it emitted');
  }

  const runDir = mkdtempSync(join(tmpdir(), 'coi-e2e-'));
  const profile = makeProfile(runDir);
  const galleryPort = await freePort();
  const env = codeServerEnv(tools, profile, galleryPort, opts.grep);
  const together = await startTogether();
  // Followed every 200 ms (not every 10 s): the test server moves one phase per read.
  Object.assign(env, { TOGETHER_BASE_URL: together.server.baseURL, COI_TOGETHER_POLL_MS: '200' });
  installExtension(tools, profile, env, vsix);
  const { url, child: server } = await startCodeServer(tools, profile, env, await freePort());
  log(`e2e: code-server ${url} (pid ${server.pid}), run folder ${runDir}`);

  const { chromium } = require('playwright-core');
  browser = await chromium.launch({ executablePath: tools.chromium, headless: true, args: CHROMIUM_FLAGS });

  const results = [];
  try {
    if (opts.only !== 'suite') {
      log('e2e: UI tests (test/e2e)');
      results.push(...(await runUiLayer({ url, runDir, grep: opts.grep, profile, together })));
    }
    if (opts.only !== 'ui') {
      log('e2e: extension-host suite (test/suite)');
      results.push(...(await runSuiteLayer({ url, runDir, grep: opts.grep })));
    }
    if (opts.only !== 'suite') {
      // The main server is done: stop it so the second one has the machine to itself.
      await stopTracked(server);
      log('e2e: UI tests with workspace trust enabled (Restricted Mode)');
      results.push(...(await runTrustLayer({ tools, vsix, runDir, grep: opts.grep, galleryPort })));
    }
  } catch (err) {
    results.push({ name: 'e2e rig', ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }

  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    log('\nFailures:');
    for (const f of failed) {
      log(`\n✘ ${f.name}\n${f.error ?? ''}`);
      if (f.screenshot) log(`  screenshot: ${relative(root, f.screenshot)}`);
    }
    printLogs(profile);
  }
  await cleanup();
  if (!opts.keep) rmSync(runDir, { recursive: true, force: true });
  log(`e2e: done in ${Math.round((Date.now() - started) / 1000)} s`);
  log(`e2e: ${results.length - failed.length} passed, ${failed.length} failed`);
  return failed.length === 0 && results.length > 0 ? 0 : 1;
}

// A global limit so the run can never hang; cleanup happens on every way out.
const timeoutS = Number(process.env.COI_E2E_TIMEOUT_S ?? 1200);
const timer = setTimeout(() => {
  console.error(`e2e: global timeout of ${timeoutS} s reached; stopping everything`);
  void cleanup().finally(() => {
    console.log('e2e: 0 passed, 1 failed');
    process.exit(1);
  });
}, timeoutS * 1000);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`e2e: ${signal}; stopping everything`);
    void cleanup().finally(() => process.exit(130));
  });
}

main()
  .then(
    (code) => code,
    async (err) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      await cleanup();
      console.log('e2e: 0 passed, 1 failed');
      return 1;
    },
  )
  .then((code) => {
    clearTimeout(timer);
    process.exit(code);
  });
