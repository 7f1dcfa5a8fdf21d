/**
 * What `coi finetune start` checks before it makes a job, made cheaply for the tests that do
 * not train: a base model folder (a config.json is what makes a folder a Hugging Face model
 * to the pre-checks) and a training environment that counts as set up, whose python exits at
 * once (the job then fails as a crashed trainer would: nothing in it trains).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { venvLocation } from '../../core/finetune';
import { tempDir } from './tempDir';

/** A folder with a config.json, in `parent` (default: a new temporary folder); returns its path. */
export function hfModelFolder(parent = tempDir(), name = 'base-model'): string {
  const folder = join(parent, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'config.json'), '{"model_type": "llama"}\n');
  return folder;
}

/** `COI_CACHE_DIR` of an environment that counts as set up; its python prints one line and exits 3. */
export function readyTrainingEnv(): { COI_CACHE_DIR: string } {
  const env = { COI_CACHE_DIR: tempDir() };
  const venv = venvLocation(env);
  mkdirSync(dirname(venv.python), { recursive: true });
  writeFileSync(venv.python, '#!/bin/sh\necho "a stand-in python: nothing is trained" >&2\nexit 3\n');
  chmodSync(venv.python, 0o755);
  writeFileSync(join(venv.dir, '.coi-ready'), 'test\n');
  return env;
}
