/**
 * Back into the editor: a fine-tuned model (or LoRA adapter) converted to GGUF with
 * llama.cpp's own `convert_hf_to_gguf.py` / `convert_lora_to_gguf.py`. Their source comes
 * from node-llama-cpp's `llama/gitRelease.bundle` (the llama.cpp it was built from, so the
 * GGUF matches the runtime), cloned once into `<cache>/llama.cpp/<key>/`, outside the repo.
 * f32/f16/bf16/q8_0 need no compiled tool; K-quants would need llama-quantize.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { makeDirectories } from '../syntax/directories';
import { childProcessEnv } from './childEnv';
import { partialPath, removeAbandonedPartials } from '../syntax/processes';
import { PythonSetupError, type VenvLocation } from './python';

export type GgufOutType = 'f32' | 'f16' | 'bf16' | 'q8_0';
export const GGUF_OUT_TYPES: readonly GgufOutType[] = ['f32', 'f16', 'bf16', 'q8_0'];
/** The converter's output for a job, in its folder. */
export const GGUF_LOG = 'gguf.log';

/** node-llama-cpp's bundle of llama.cpp sources, found above `from` (node_modules). */
export function llamaCppBundle(env: Readonly<Record<string, string | undefined>> = process.env, from = __dirname): string {
  if (env['COI_LLAMA_CPP_BUNDLE'] !== undefined) return env['COI_LLAMA_CPP_BUNDLE'];
  let dir = from;
  for (let depth = 0; depth < 8; depth++) {
    const bundle = join(dir, 'node_modules', 'node-llama-cpp', 'llama', 'gitRelease.bundle');
    if (existsSync(bundle)) return bundle;
    dir = dirname(dir);
  }
  throw new PythonSetupError("Cannot find node-llama-cpp's llama/gitRelease.bundle (llama.cpp's converters); set COI_LLAMA_CPP_BUNDLE.");
}

/** The converters an installed extension ships (scripts/package-vsix.mjs): `llama-cpp-converters/` at the package root. */
export function packagedConverters(from = __dirname): string | undefined {
  let dir = from;
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, 'llama-cpp-converters');
    if (existsSync(join(candidate, 'convert_hf_to_gguf.py'))) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

/**
 * The llama.cpp folder with the converters: the ones the extension ships, else node-llama-cpp's
 * source bundle cloned on first use (keyed by the bundle's size and date) for a development checkout.
 */
export async function llamaCppSource(env: Readonly<Record<string, string | undefined>> = process.env, signal?: AbortSignal): Promise<string> {
  const packaged = env['COI_LLAMA_CPP_BUNDLE'] === undefined ? packagedConverters() : undefined;
  if (packaged !== undefined) return packaged;
  const bundle = llamaCppBundle(env);
  const { size, mtimeMs } = statSync(bundle);
  const key = createHash('sha256').update(`${size}:${mtimeMs}`).digest('hex').slice(0, 16);
  const cache = env['COI_CACHE_DIR'] ?? join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'coi-studio');
  const dir = join(cache, 'llama.cpp', key);
  if (existsSync(join(dir, 'convert_hf_to_gguf.py'))) return dir;
  const partial = partialPath(dir);
  rmSync(partial, { recursive: true, force: true }); // an earlier process with this pid
  makeDirectories(dirname(dir));
  removeAbandonedPartials(dir);
  await run('git', ['clone', '--quiet', bundle, partial], {}, signal);
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir); // whole or not at all: a killed clone leaves only a .partial folder
  return dir;
}

export interface ConvertOptions {
  readonly venv: VenvLocation;
  /** A model folder (full fine-tune) or an adapter folder (LoRA). */
  readonly source: string;
  /** For an adapter: the base model folder it was trained on. */
  readonly baseModel?: string;
  readonly outFile: string;
  readonly outType: GgufOutType;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
  /** The converter's output is appended here (`<job>/gguf.log`); a failure names it. */
  readonly logFile?: string;
}

/** Whether `file` starts with the GGUF magic (llama.cpp's files do; a JSONL or a model folder's file does not). */
export function hasGgufMagic(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.toString('latin1') === 'GGUF';
  } finally {
    closeSync(fd);
  }
}

/**
 * Converts to GGUF; resolves to the written file. The converter writes under a temporary
 * name beside it, renamed into place once it finished: a conversion killed, cancelled or
 * failed halfway leaves no partial file under the GGUF's name, which the next evaluation
 * would take as already converted; what a killed conversion left is removed by the next one.
 */
export async function convertToGguf(options: ConvertOptions): Promise<string> {
  const llamaCpp = await llamaCppSource(options.env, options.signal);
  const isAdapter = existsSync(join(options.source, 'adapter_config.json'));
  if (isAdapter && options.baseModel === undefined) throw new PythonSetupError(`${options.source} is a LoRA adapter: its base model is needed to convert it.`);
  const script = join(llamaCpp, isAdapter ? 'convert_lora_to_gguf.py' : 'convert_hf_to_gguf.py');
  const partial = partialPath(options.outFile);
  const args = [script, options.source, '--outfile', partial, '--outtype', options.outType, ...(isAdapter ? ['--base', options.baseModel ?? ''] : [])];
  makeDirectories(dirname(options.outFile));
  removeAbandonedPartials(options.outFile); // a killed conversion's file can be gigabytes
  try {
    // The converters' own gguf-py, not the venv's gguf package: they are released together.
    await run(options.venv.python, args, { PYTHONPATH: join(llamaCpp, 'gguf-py'), NO_LOCAL_GGUF: '' }, options.signal, options.logFile);
    renameSync(partial, options.outFile);
  } finally {
    rmSync(partial, { force: true });
  }
  return options.outFile;
}

function run(command: string, args: readonly string[], extraEnv: Record<string, string>, signal?: AbortSignal, logFile?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...childProcessEnv(process.env), ...extraEnv }, ...(signal === undefined ? {} : { signal }) });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
      if (logFile !== undefined) appendFileSync(logFile, chunk);
    });
    child.on('error', (err) => reject(err.name === 'AbortError' ? err : new PythonSetupError(`Cannot run ${command}: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new PythonSetupError(`${basename(args[0] ?? command)} failed (exit ${code ?? 'signal'}): ${converterProblem(stderr)}${logFile === undefined ? '' : ` (see ${logFile})`}.`));
    });
  });
}

/**
 * What a failed converter said, in one line: the exception of its last Python traceback
 * (`ValueError: …`), else its last line (`ERROR:hf-to-gguf:Error: … is not a directory`) —
 * never the traceback itself.
 */
export function converterProblem(output: string): string {
  const lines = output.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  const exception = [...lines].reverse().find((line) => /^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b/.test(line));
  return (exception ?? lines.at(-1) ?? 'no output').replace(/\.$/, '');
}
