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
import { basename, dirname, join } from 'node:path';
import { userCacheRoot } from '../syntax/cacheFolders';
import { makeDirectories } from '../syntax/directories';
import { childProcessEnv } from './childEnv';
import { partialPath, removeAbandonedPartials } from '../syntax/processes';
import { PythonSetupError, pythonScriptsDir, type VenvLocation } from './python';

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
  const dir = join(userCacheRoot(env), 'llama.cpp', key);
  if (existsSync(join(dir, 'convert_hf_to_gguf.py'))) return dir;
  const partial = partialPath(dir);
  rmSync(partial, { recursive: true, force: true }); // an earlier process with this pid
  makeDirectories(dirname(dir));
  removeAbandonedPartials(dir);
  await run('git', ['clone', '--quiet', bundle, partial], {}, signal, {});
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
  /** What the converter is doing, told as its output says it (`ggufProgressOf`). */
  readonly onProgress?: (progress: GgufProgress) => void;
}

/** How far a conversion is: starting Python, loading the model, converting its tensors (how many so far), writing the file (per cent). */
export type GgufProgress = { readonly stage: 'starting' } | { readonly stage: 'loading' } | { readonly stage: 'tensors'; readonly tensors: number } | { readonly stage: 'writing'; readonly percent: number };

/**
 * The progress a line of the converter's output tells (its log lines, tqdm's `Writing:  45%|`),
 * after `previous`; undefined when the line says nothing new.
 */
export function ggufProgressOf(line: string, previous: GgufProgress): GgufProgress | undefined {
  const writing = /^Writing:\s+(\d+)%/.exec(line);
  if (writing !== null) return { stage: 'writing', percent: Number(writing[1]) };
  if (/^INFO:[\w-]+:Loading model/.test(line)) return { stage: 'loading' };
  // One line per tensor: `INFO:hf-to-gguf:blk.0.attn_q.weight, torch.float32 --> F16, shape = {64, 64}`.
  if (/^INFO:[\w-]+:\S+,\s+torch\.\w+ --> /.test(line)) return { stage: 'tensors', tensors: (previous.stage === 'tensors' ? previous.tensors : 0) + 1 };
  return undefined;
}

/** Whether a result folder is a LoRA adapter (PEFT's adapter_config.json), converted with its base model, rather than a whole model. */
export function isLoraAdapter(folder: string): boolean {
  return existsSync(join(folder, 'adapter_config.json'));
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
  const isAdapter = isLoraAdapter(options.source);
  if (isAdapter && options.baseModel === undefined) throw new PythonSetupError(`${options.source} is a LoRA adapter: its base model is needed to convert it.`);
  const script = join(llamaCpp, isAdapter ? 'convert_lora_to_gguf.py' : 'convert_hf_to_gguf.py');
  const partial = partialPath(options.outFile);
  // Through coi_convert.py, which ends the converter (and removes its partial file) when this process ends, killed or not.
  const args = [join(pythonScriptsDir(options.env), 'coi_convert.py'), script, options.source, '--outfile', partial, '--outtype', options.outType, ...(isAdapter ? ['--base', options.baseModel ?? ''] : [])];
  makeDirectories(dirname(options.outFile));
  removeAbandonedPartials(options.outFile); // a killed conversion's file can be gigabytes
  try {
    // The converters' own gguf-py, not the venv's gguf package: they are released together.
    let progress: GgufProgress = { stage: 'starting' };
    options.onProgress?.(progress);
    const onLine = (line: string): void => {
      const next = ggufProgressOf(line, progress);
      if (next === undefined) return;
      progress = next;
      options.onProgress?.(progress);
    };
    await run(options.venv.python, args, { PYTHONPATH: join(llamaCpp, 'gguf-py'), NO_LOCAL_GGUF: '' }, options.signal, { ...(options.logFile !== undefined ? { logFile: options.logFile } : {}), name: script, watched: true, onLine });
    renameSync(partial, options.outFile);
  } finally {
    rmSync(partial, { force: true });
  }
  return options.outFile;
}

interface RunOptions {
  /** The output is appended here; a failure names it. */
  readonly logFile?: string;
  /** What a failure is said of (default: the first argument's file name). */
  readonly name?: string;
  /** Standard input a pipe kept open while this process lives (coi_convert.py ends when it closes). */
  readonly watched?: boolean;
  /** Each line of the output (a carriage return ends one too: tqdm redraws its bar so). */
  readonly onLine?: (line: string) => void;
}

function run(command: string, args: readonly string[], extraEnv: Record<string, string>, signal: AbortSignal | undefined, { logFile, name, watched = false, onLine }: RunOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [watched ? 'pipe' : 'ignore', 'ignore', 'pipe'], env: { ...childProcessEnv(process.env), ...extraEnv }, ...(signal === undefined ? {} : { signal }) });
    child.stdin?.on('error', () => undefined); // never written: only its end is a message
    let stderr = '';
    let partLine = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderr = (stderr + text).slice(-4000);
      if (logFile !== undefined) appendFileSync(logFile, chunk);
      if (onLine === undefined) return;
      const lines = (partLine + text).split(/\r\n|\r|\n/);
      partLine = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    child.on('error', (err) => reject(err.name === 'AbortError' ? err : new PythonSetupError(`Cannot run ${command}: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new PythonSetupError(`${basename(name ?? args[0] ?? command)} failed (exit ${code ?? 'signal'}): ${converterProblem(stderr)}${logFile === undefined ? '' : ` (see ${logFile})`}.`));
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
