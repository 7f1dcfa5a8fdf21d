#!/usr/bin/env node
// Packages the extension as a .vsix for one platform (default: this machine's):
//   1. `node scripts/build.mjs` (esbuild bundles in dist/);
//   2. a staging copy of the package, whose dist/node_modules holds node-llama-cpp, the
//      packages it needs at run time and its prebuilt llama.cpp binaries for the target
//      (the CPU build, Metal on Apple silicon; `--with vulkan,cuda` adds GPU builds);
//   3. `@vscode/vsce package --target T` there, run under the cached Node 24 (vsce 4 needs
//      Node >= 22; scripts/e2e/install.mjs installs both, cached outside the repository).
//
// dist/worker.js (the only bundle that loads node-llama-cpp) resolves it from
// dist/node_modules, so the installed extension runs local models on its own. What else goes
// in is decided by .vscodeignore (an allow-list: the bundles, the grammar, the manifest,
// README/CHANGELOG/LICENSE); the other bundles inline every JavaScript dependency.
// `--target universal` packages without node-llama-cpp (the local backend then says so).
//
//   node scripts/package-vsix.mjs [--target linux-x64|darwin-arm64|…|universal]
//                                 [--with vulkan,cuda] [--out path.vsix] [--no-build]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInstalled, node24Env } from './e2e/install.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** VS Code's platform targets → node-llama-cpp's prebuilt binary package for the CPU (or Metal). */
const RUNTIME_PACKAGES = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'linux-armhf': 'linux-armv7l',
  'darwin-x64': 'mac-x64',
  'darwin-arm64': 'mac-arm64-metal',
  'win32-x64': 'win-x64',
  'win32-arm64': 'win-arm64',
};
/** The optional GPU builds node-llama-cpp publishes, by name suffix. */
const GPU_RUNTIMES = { vulkan: ['-vulkan'], cuda: ['-cuda', '-cuda-ext'] };
/** Top-level entries of the repository that never go into a package (and are big). */
const NOT_STAGED = new Set(['node_modules', '.git', 'out', 'test', 'test-results', '.coi-cache']);

export function hostTarget() {
  const arch = process.arch === 'arm' ? 'armhf' : process.arch;
  return `${process.platform}-${arch}`;
}

/** The @node-llama-cpp/* packages a target gets: its CPU (or Metal) build and the GPU builds asked for. */
export function runtimePackages(target, gpu = []) {
  const base = RUNTIME_PACKAGES[target];
  if (!base) throw new Error(`package: no node-llama-cpp build for target ${target}; targets: ${Object.keys(RUNTIME_PACKAGES).join(', ')}, universal`);
  const names = [base];
  for (const kind of gpu) {
    const suffixes = GPU_RUNTIMES[kind];
    if (!suffixes) throw new Error(`package: --with takes ${Object.keys(GPU_RUNTIMES).join(', ')}; not ${kind}`);
    if (target.startsWith('darwin')) throw new Error(`package: there is no ${kind} build of node-llama-cpp for ${target}`);
    names.push(...suffixes.map((s) => `${base}${s}`));
  }
  return names.map((n) => `@node-llama-cpp/${n}`);
}

/** Where Node would find package `name` when required from `fromDir` (nested node_modules first). */
function packageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The folders (under the repository's node_modules) that node-llama-cpp needs at run time:
 * its dependencies, their dependencies, and the chosen binary packages, none of the others.
 */
export function runtimeClosure(runtimes) {
  const found = new Set();
  const visit = (name, fromDir, optional) => {
    const dir = packageDir(name, fromDir);
    if (!dir) {
      if (optional) return;
      throw new Error(`package: ${name} is not installed (needed by ${relative(root, fromDir) || 'the extension'}); run \`npm ci\` first`);
    }
    if (found.has(dir)) return;
    found.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir, false);
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) {
      if (!dep.startsWith('@node-llama-cpp/')) visit(dep, dir, true);
    }
  };
  visit('node-llama-cpp', root, false);
  const llama = packageDir('node-llama-cpp', root);
  for (const runtime of runtimes) {
    if (!packageDir(runtime, llama)) {
      throw new Error(`package: ${runtime} is not installed on this machine; package on that platform, or install it with \`npm install --no-save --force ${runtime}@<node-llama-cpp's version>\``);
    }
    visit(runtime, llama, false);
  }
  return [...found];
}

/** Files of the closure that are never loaded: llama.cpp's source bundle (for building from source), source maps, type declarations. */
function runtimeFile(path) {
  return !/[\\/]node-llama-cpp[\\/]llama[\\/]gitRelease\.bundle$/.test(path) && !/\.(map|d\.ts|d\.cts|d\.mts)$/.test(path);
}

/** A copy of the package to run vsce in: the repository's files, plus dist/node_modules. */
function stage(runtimes, log) {
  const staging = mkdtempSync(join(tmpdir(), 'coi-package-'));
  for (const entry of readdirSync(root)) {
    if (!NOT_STAGED.has(entry)) cpSync(join(root, entry), join(staging, entry), { recursive: true, dereference: true });
  }
  const modules = join(root, 'node_modules');
  let bytes = 0;
  for (const dir of runtimeClosure(runtimes)) {
    cpSync(dir, join(staging, 'dist', 'node_modules', relative(modules, dir)), {
      recursive: true,
      dereference: true,
      filter: (source) => {
        // Nested node_modules are copied as packages of their own (only those needed).
        if (source !== dir && relative(dir, source).split(/[\\/]/).includes('node_modules')) return false;
        if (!runtimeFile(source)) return false;
        const stat = statSync(source);
        if (stat.isFile()) bytes += stat.size;
        return true;
      },
    });
  }
  log(`package: node-llama-cpp with ${runtimes.join(', ')}: ${Math.round(bytes / 1024 / 1024)} MiB staged`);
  stageConverters(staging, log);
  return staging;
}

/** What the GGUF conversion of fine-tuned models runs (core/finetune/gguf.ts), from llama.cpp's sources. */
const CONVERTER_FILES = ['convert_hf_to_gguf.py', 'convert_lora_to_gguf.py', 'conversion', 'gguf-py', 'LICENSE'];

/**
 * llama.cpp's GGUF converters, taken from node-llama-cpp's source bundle (34 MiB, not
 * shipped) at the commit its binaries were built from: about 2 MiB of Python in
 * `llama-cpp-converters/`, where core/finetune/gguf.ts looks first.
 */
function stageConverters(staging, log) {
  const bundle = join(root, 'node_modules', 'node-llama-cpp', 'llama', 'gitRelease.bundle');
  if (!existsSync(bundle)) throw new Error(`package: ${relative(root, bundle)} is missing (npm ci installs it): the GGUF converters come from it`);
  const clone = mkdtempSync(join(tmpdir(), 'coi-llama-cpp-'));
  try {
    const cloned = spawnSync('git', ['-c', 'advice.detachedHead=false', 'clone', '--quiet', bundle, join(clone, 'src')], { encoding: 'utf8' });
    if (cloned.status !== 0) throw new Error(`package: cannot read llama.cpp's sources from ${bundle}: ${cloned.stderr}`);
    for (const name of CONVERTER_FILES) cpSync(join(clone, 'src', name), join(staging, 'llama-cpp-converters', name), { recursive: true, filter: (source) => !/__pycache__|[\\/]tests?[\\/]/.test(relative(clone, source)) });
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
  log('package: llama.cpp GGUF converters staged (llama-cpp-converters/)');
}

function vsce(tools, cwd, args) {
  const result = spawnSync(tools.node, [tools.vsce, 'package', ...args], { cwd, env: node24Env(tools), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`package: vsce failed (exit ${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  return `${result.stdout}\n${result.stderr}`;
}

/** Builds and packages; returns the absolute path of the .vsix. */
export function packageVsix({ target = hostTarget(), gpu = [], out = undefined, build = true, tools = undefined, log = (m) => console.log(m) } = {}) {
  out ??= join(root, 'out', `coi-studio-${target}.vsix`);
  tools ??= ensureInstalled({ log });
  if (build) {
    const result = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`package: the build failed (exit ${result.status ?? result.signal})`);
  }
  mkdirSync(dirname(out), { recursive: true });
  const started = Date.now();
  const universal = target === 'universal';
  const staging = universal ? root : stage(runtimePackages(target, gpu), log);
  try {
    // No repository field and no LICENSE file yet: vsce would stop and ask; answer for it.
    // README links stay relative (no repository URL to prefix them with). --no-dependencies:
    // vsce does not walk node_modules (dist/node_modules is listed in .vscodeignore instead).
    const output = vsce(tools, staging, [
      '--no-dependencies',
      '--allow-missing-repository',
      '--skip-license',
      '--no-rewrite-relative-links',
      ...(universal ? [] : ['--target', target]),
      '--out',
      out,
    ]);
    // vsce lists every packaged file; show only its warnings and the result. Its advice to
    // bundle is about node-llama-cpp's own files, which cannot be bundled (native addon,
    // binaries found by path): not shown.
    for (const line of output.split('\n')) {
      if (/WARNING|DONE/.test(line) && !/you should bundle your extension/.test(line)) log(`package: ${line.trim()}`);
    }
  } finally {
    if (!universal) rmSync(staging, { recursive: true, force: true });
  }
  log(`package: ${relative(process.cwd(), out) || out} (${target}, ${Math.round(statSync(out).size / 1024)} KiB) in ${Date.now() - started} ms`);
  return out;
}

function optionValue(args, name) {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (!value || value.startsWith('--')) throw new Error(`package: ${name} needs a value`);
  return value;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  const args = process.argv.slice(2);
  try {
    const outArg = optionValue(args, '--out');
    const gpu = optionValue(args, '--with')?.split(',').filter(Boolean) ?? [];
    packageVsix({ target: optionValue(args, '--target') ?? hostTarget(), gpu, out: outArg ? resolve(outArg) : undefined, build: !args.includes('--no-build') });
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
