#!/usr/bin/env node
// The main job in one command (`npm run demo`): check every example chain, then run one
// on the local backend (node-llama-cpp in its worker process) and show every step's output.
//
// The model: $COI_MODEL when set (a GGUF path or an hf: URI, e.g.
// hf:bartowski/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M on a machine with internet). Otherwise the
// demo generates the tiny deterministic test model: a real llama GGUF that loads and runs
// through the whole stack, but whose weights are random — its text is gibberish.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const coi = join(root, 'bin', 'coi.js');

function step(title, args) {
  console.log(`\n$ coi ${args.join(' ')}    # ${title}`);
  const result = spawnSync(process.execPath, [coi, ...args], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\ndemo: \`coi ${args[0]}\` exited with ${result.status ?? result.signal}`);
    process.exit(result.status || 1);
  }
}

function tinyModel() {
  // Where coi keeps what it can make again (core/syntax/cacheFolders.ts: $COI_CACHE_DIR, else coi-studio/ under $XDG_CACHE_HOME or ~/.cache).
  const { userCacheRoot } = createRequire(import.meta.url)(join(root, 'out', 'core', 'syntax', 'cacheFolders.js'));
  const dir = userCacheRoot(process.env);
  const file = join(dir, 'tiny-demo.gguf');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const made = spawnSync(process.execPath, [join(root, 'out', 'test', 'rig', 'makeTinyModel.js'), file], { stdio: 'inherit' });
    if (made.status !== 0) process.exit(made.status || 1);
  }
  console.log('\nNo $COI_MODEL set: using the tiny generated test model (random weights, gibberish text).');
  console.log('For real output: COI_MODEL=hf:bartowski/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M npm run demo');
  return file;
}

const model = process.env.COI_MODEL || tinyModel();
const threads = process.env.COI_THREADS || (process.env.COI_MODEL ? undefined : '1');

const randomModel = !process.env.COI_MODEL;

step('check every example chain', ['check', 'examples/*.coi']);
step('run one chain on the local backend, step by step', [
  'run',
  'examples/summarize-translate.coi',
  '--model',
  model,
  ...(threads ? ['--threads', threads] : []),
  '--input',
  '@examples/inputs/storm-warning.txt',
]);

if (randomModel) {
  // The ✓ lines say each step ran and its output met its contract; with random weights that says nothing about the text.
  console.log('\nThe text above is random: the tiny test model has random weights, so its output is gibberish.');
  console.log('Each ✓ only means the step ran through the whole stack and its output met its contract (and ⚠ that it was cut at its token bound).');
  console.log('For real output: COI_MODEL=hf:bartowski/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M npm run demo');
}
