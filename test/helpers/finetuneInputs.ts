/**
 * The inputs of the fine-tuning tests. For the tests that train for real: the CoI2 excerpt they
 * train on, the settings that make a tiny model learn in a few steps, the tiny model itself, and
 * why they skip. For those that do not train, what `coi finetune start` checks before it makes a
 * job, made cheaply: a base model folder (a config.json is what makes a folder a Hugging Face
 * model to the pre-checks) and a training environment that counts as set up, whose python exits
 * at once (the job then fails as a crashed trainer would: nothing in it trains).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findSystemPython, venvLocation } from '../../core/finetune';
import { repoPath } from './paths';
import { tempDir } from './tempDir';

/** An excerpt of the paper's CoI2 training set as TRL prompt-completion JSONL (24 examples). */
export const coi2Excerpt = repoPath('test', 'fixtures', 'finetune', 'coi2-excerpt.jsonl');

/** `coi finetune start` settings that make the tiny random model learn visibly in a few dozen steps. */
export const FAST_TRAINING: readonly string[] = ['--learning-rate', '3e-3', '--batch-size', '8', '--grad-accum', '1'];

/** Why a test that runs the real trainer skips (`skipped: ` and no Python ≥ 3.10 found), or false. */
export function noPythonSkip(): string | false {
  try {
    findSystemPython();
    return false;
  } catch (err) {
    return `skipped: ${(err as Error).message}`;
  }
}

/** A folder with a config.json, in `parent` (default: a new temporary folder); returns its path. */
export function hfModelFolder(parent = tempDir(), name = 'base-model'): string {
  const folder = join(parent, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'config.json'), '{"model_type": "llama"}\n');
  return folder;
}

/**
 * `COI_CACHE_DIR` of an environment that counts as set up; its python prints one line and exits 3,
 * or runs `script` (sh; the trainer's arguments in "$@", so its job folder is after --job-dir).
 */
export function readyTrainingEnv(script = 'echo "a stand-in python: nothing is trained" >&2\nexit 3'): { COI_CACHE_DIR: string } {
  const env = { COI_CACHE_DIR: tempDir() };
  const venv = venvLocation(env);
  mkdirSync(dirname(venv.python), { recursive: true });
  writeFileSync(venv.python, `#!/bin/sh\n${script}\n`);
  chmodSync(venv.python, 0o755);
  writeFileSync(join(venv.dir, '.coi-ready'), 'test\n');
  return env;
}

/** The tiny HF Llama of python/make_tiny_hf_model.py, its tokenizer trained on the prompts and completions of `data` (JSONL), made with `python`; returns its folder. */
export function tinyHfModel(python: string, data: string): string {
  const base = join(tempDir(), 'tiny-hf');
  const text = join(tempDir(), 'text.txt');
  const records = readFileSync(data, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { prompt: string; completion: string });
  writeFileSync(text, records.map((r) => `${r.prompt}\n${r.completion}`).join('\n'));
  const made = spawnSync(python, [repoPath('python', 'make_tiny_hf_model.py'), base, text], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`make_tiny_hf_model.py failed: ${made.stderr}`);
  return base;
}
