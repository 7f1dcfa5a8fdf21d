/**
 * "Evaluate against the base model": what `coi finetune eval JOB` and the editor need
 * around the evaluation itself (core/eval, run by the CLI's `coi eval` or the editor's
 * evaluation): the base model as a GGUF beside the tuned one (converted once, with the same
 * llama.cpp converter, and kept in the job folder), and the held-out data.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { convertToGguf, GGUF_LOG, GGUF_OUT_TYPES, isLoraAdapter, type ConvertOptions, type GgufOutType, type GgufProgress } from './gguf';
import { FinetuneError, profileRefusal, type JobConfig, type JobState } from './job';
import type { VenvLocation } from './python';
import { updateState } from './store';

/**
 * The default bound on each answer of an evaluation against the base: the paper's chains
 * answer in a few sentences, and a model that has not learnt to stop (the base, often) would
 * otherwise write until its context is full.
 */
export const BASE_EVALUATION_MAX_TOKENS = 256;

/** The tensor type of the tuned GGUF (`model-f16.gguf` → f16), so the base is converted alike; f16 otherwise. */
export function outTypeOf(ggufPath: string): GgufOutType {
  const found = GGUF_OUT_TYPES.find((type) => basename(ggufPath).endsWith(`-${type}.gguf`));
  return found ?? 'f16';
}

/** Where the job keeps its base model's GGUF. */
export function baseGgufPath(jobFolder: string, outType: GgufOutType): string {
  return join(jobFolder, `base-${outType}.gguf`);
}

/**
 * Whether the job's result is a LoRA adapter (converted with its base, run on it as
 * `base.gguf?lora=adapter.gguf`) rather than a model of its own: what the result folder holds
 * (PEFT's adapter_config.json), not the job's method, since a Together LoRA job brings home
 * Together's merged model (the adapter merged into the base). With the folder gone (deleted
 * after its conversion), what the engine brings home: a local LoRA job's adapter, Together's
 * merged model (together/mapping.ts's downloadKind).
 */
export function resultIsAdapter(state: Pick<JobState, 'resultDir'>, config: Pick<JobConfig, 'engine' | 'method'>): boolean {
  if (state.resultDir !== undefined && existsSync(state.resultDir)) return isLoraAdapter(state.resultDir);
  return config.method === 'lora' && config.engine !== 'together';
}

/**
 * The folder of the job's base model here: a local job's (as recorded), or the one given with
 * `--base DIR` (absolute); undefined for a Together job's base as recorded, a model name
 * (`org/name`) that is no folder, whatever the working folder holds under that name.
 */
export function baseModelFolder(config: Pick<JobConfig, 'engine' | 'baseModel'>): string | undefined {
  if (config.engine === 'together' && !isAbsolute(config.baseModel)) return undefined;
  return resolve(config.baseModel);
}

/** Where a job's own GGUF goes by default: `model-<type>.gguf`, or `adapter-<type>.gguf` for a LoRA adapter (resultIsAdapter). */
export function jobGgufPath(jobFolder: string, adapter: boolean, outType: GgufOutType): string {
  return join(jobFolder, `${adapter ? 'adapter' : 'model'}-${outType}.gguf`);
}

export interface GgufOptions {
  readonly jobFolder: string;
  readonly state: JobState;
  readonly config: JobConfig;
  readonly venv: VenvLocation;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
  /** What the converter is doing, when it runs (convertToGguf's `onProgress`). */
  readonly onProgress?: (progress: GgufProgress) => void;
}

/** What a conversion gets of `options` as it was given: the environment, the abort signal, the progress callback. */
function passedOn({ env, signal, onProgress }: GgufOptions): Pick<ConvertOptions, 'env' | 'signal' | 'onProgress'> {
  return { ...(env !== undefined ? { env } : {}), ...(signal !== undefined ? { signal } : {}), ...(onProgress !== undefined ? { onProgress } : {}) };
}

/**
 * The completed job's GGUF (its model, or its LoRA adapter): the one converted before, else
 * converted now (f16) with llama.cpp's converter and recorded in the job's state.
 */
export async function ensureJobGguf(options: GgufOptions): Promise<{ readonly gguf: string; readonly state: JobState }> {
  const { jobFolder, state, config } = options;
  const refusal = profileRefusal(state);
  if (refusal !== undefined) throw new FinetuneError(refusal);
  if (state.ggufPath !== undefined && existsSync(state.ggufPath)) return { gguf: state.ggufPath, state };
  const missing = conversionProblem(state, config);
  if (missing !== undefined) throw new FinetuneError(missing);
  const base = baseModelFolder(config);
  const gguf = await convertToGguf({ venv: options.venv, source: state.resultDir ?? '', ...(base !== undefined ? { baseModel: base } : {}), outFile: jobGgufPath(jobFolder, resultIsAdapter(state, config), 'f16'), outType: 'f16', logFile: join(jobFolder, GGUF_LOG), ...passedOn(options) });
  return { gguf, state: updateState(jobFolder, 'completed', { ggufPath: gguf }) };
}

/** Why a completed job's model (or adapter) folder cannot be converted: none recorded, or gone since; or undefined. */
export function resultDirProblem(state: JobState): string | undefined {
  if (state.resultDir === undefined) return `Job ${state.id} has no model folder to convert.`;
  if (!existsSync(state.resultDir)) return `Job ${state.id}'s model folder ${state.resultDir} is missing (moved or deleted): there is nothing to convert.`;
  return undefined;
}

/**
 * Why a completed job's model (or adapter) cannot be converted, said before the converter
 * starts (it takes seconds to fail, in Python's words): its folder is gone, or it is a LoRA
 * adapter, which llama.cpp's converter reads with the base model it was trained on, and that
 * folder is gone (or, for Together, a model name and no folder here); or undefined. `config`'s
 * base is the one the conversion will use: the job's, or the folder given in its place.
 */
export function conversionProblem(state: JobState, config: Pick<JobConfig, 'engine' | 'baseModel'>): string | undefined {
  const missing = resultDirProblem(state);
  if (missing !== undefined) return missing;
  const base = baseModelFolder(config);
  if (!isLoraAdapter(state.resultDir ?? '') || (base !== undefined && existsSync(base))) return undefined;
  // Where the base is now is the user's to say: the converter is given that folder in place of the recorded one.
  const withBase = `'coi finetune gguf ${state.id} --base DIR'`;
  const why = config.engine === 'together'
    ? `its base model ${config.baseModel} is a Together model, not a folder here: download it (a Hugging Face model folder) and give that folder: ${withBase}`
    : `the base model folder ${base ?? config.baseModel} is missing (moved or deleted): put it back there (or a link to where it is now), or give the folder where it is now: ${withBase}`;
  return `Job ${state.id}'s LoRA adapter is converted with the base model it was trained on, and ${why}. Nothing was converted.`;
}

/** The base model's GGUF: the one kept in the job folder, else converted now from the HF folder the job trained on (the tensor type of the job's GGUF). */
export async function ensureBaseGguf(options: GgufOptions): Promise<string> {
  const { jobFolder, state, config } = options;
  const refusal = profileRefusal(state);
  if (refusal !== undefined) throw new FinetuneError(refusal);
  const outType = outTypeOf(state.ggufPath ?? '');
  const outFile = baseGgufPath(jobFolder, outType);
  if (existsSync(outFile)) return outFile;
  const base = baseModelFolder(config);
  if (base === undefined || !existsSync(base)) throw new FinetuneError(`The base model ${config.baseModel} is not a folder here, so it cannot be converted to GGUF: give its GGUF with --base-gguf.`);
  return convertToGguf({ venv: options.venv, source: base, outFile, outType, logFile: join(jobFolder, GGUF_LOG), ...passedOn(options) });
}

/**
 * The held-out data of a job: the `validation` file that `coi dataset build` writes beside
 * the `train` file the job trained on, when there is one.
 */
export function validationDataOf(config: JobConfig): string | undefined {
  const match = /^train(\..+)$/.exec(basename(config.data));
  if (match === null) return undefined;
  const candidate = join(dirname(config.data), `validation${match[1] ?? ''}`);
  return existsSync(candidate) ? candidate : undefined;
}
