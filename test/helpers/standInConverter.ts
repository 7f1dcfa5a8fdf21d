/**
 * A stand-in for llama.cpp's converter and the training environment's Python, so that a
 * conversion to GGUF runs in a test without Python: a git bundle (as node-llama-cpp ships one)
 * holding a `convert_hf_to_gguf.py` that node runs, and a `python` that runs it with node.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { venvLocation, type VenvLocation } from '../../core/finetune/python';
import { tempDir } from './tempDir';

/**
 * llama.cpp under `root` with `converter` (JavaScript, run by node with the converter's
 * arguments: the model folder, --outfile FILE, --outtype TYPE) as its convert_hf_to_gguf.py;
 * the environment that makes coi use it (and a cache of its own under `root`).
 */
export function standInLlamaCpp(root: string, converter: string): Record<string, string> {
  const repo = join(root, 'llama.cpp');
  mkdirSync(repo);
  writeFileSync(join(repo, 'convert_hf_to_gguf.py'), converter);
  const git = (...args: string[]): void => void execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'converters');
  git('bundle', 'create', join(root, 'gitRelease.bundle'), 'HEAD');
  return { COI_LLAMA_CPP_BUNDLE: join(root, 'gitRelease.bundle'), COI_CACHE_DIR: join(root, 'cache') };
}

/**
 * A stand-in Python at `file`: node, running the converter that coi_convert.py (the first
 * argument, which ends the converter with coi) would run.
 */
export function standInPython(file = join(tempDir(), 'python')): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\nshift\nexec '${process.execPath}' "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

/** The training environment of `env` (its COI_CACHE_DIR) set up with the stand-in Python, as `coi finetune setup` leaves it ready. */
export function standInVenv(env: Readonly<Record<string, string>>): VenvLocation {
  const venv = venvLocation(env);
  standInPython(venv.python);
  writeFileSync(join(venv.dir, '.coi-ready'), '');
  return { ...venv, ready: true };
}
