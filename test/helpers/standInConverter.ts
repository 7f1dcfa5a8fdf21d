/**
 * A stand-in for llama.cpp's converter and the training environment's Python, so that a
 * conversion to GGUF runs in a test without Python: a git bundle (as node-llama-cpp ships one)
 * holding a `convert_hf_to_gguf.py` that node runs, and a `python` that runs it with node.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { venvLocation, type VenvLocation } from '../../core/finetune/python';
import { tempDir } from './tempDir';

/**
 * llama.cpp under `root` with `converter` (JavaScript, run by node with the converter's
 * arguments: the model folder, --outfile FILE, --outtype TYPE; for a LoRA adapter, then
 * --base FOLDER) as its convert_hf_to_gguf.py and convert_lora_to_gguf.py; the environment
 * that makes coi use it (and a cache of its own under `root`).
 */
export function standInLlamaCpp(root: string, converter: string): Record<string, string> {
  const repo = join(root, 'llama.cpp');
  mkdirSync(repo);
  for (const script of ['convert_hf_to_gguf.py', 'convert_lora_to_gguf.py']) writeFileSync(join(repo, script), converter);
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

/**
 * A stand-in converter that writes its arguments to `record` (JSON), then to --outfile a GGUF
 * header (or a copy of `copies`: a GGUF node-llama-cpp loads), or fails (exit 1) when `fails`.
 */
export function recordingConverter(record: string, outcome: { readonly fails?: boolean; readonly copies?: string } = {}): string {
  const output = outcome.fails === true ? 'process.exit(1);' : outcome.copies !== undefined ? `require('node:fs').copyFileSync(${JSON.stringify(outcome.copies)}, args[args.indexOf('--outfile') + 1]);` : "require('node:fs').writeFileSync(args[args.indexOf('--outfile') + 1], 'GGUF' + 'x'.repeat(64));";
  return `const args = process.argv.slice(2);
require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(args));
${output}
`;
}

/** The converter's arguments as `recordingConverter` wrote them; undefined when it did not run. */
export function converterArgs(record: string): string[] | undefined {
  return existsSync(record) ? (JSON.parse(readFileSync(record, 'utf8')) as string[]) : undefined;
}
