/**
 * `*.coi-finetune.json`: a fine-tuning job described in a file (schema:
 * schemas/coi-finetune.schema.json, contributed to VS Code through `jsonValidation`).
 * Every problem comes back with its line and column; nothing throws on bad input.
 */
import { parseJsonWithPosition } from '../records/jsonPosition';
import { sbatchArgsProblem } from './sbatchOptions';
import { NOT_FOR_TOGETHER, togetherProblems } from './together/mapping';
import { DISTRIBUTED_STRATEGIES, LORA_DEFAULTS, PAPER_DEFAULTS, type DistributedParams, type EngineName, type JobConfig, type LoraParams, type SlurmParams, type TrainingParams } from './job';

export interface ConfigProblem {
  readonly message: string;
  /** 1-based. */
  readonly line: number;
  readonly column: number;
  /** The key the problem is about (where it has one): the side panel's form marks that field. */
  readonly key?: string;
}

export type ConfigResult = { readonly config: JobConfig; readonly problems: readonly [] } | { readonly config?: undefined; readonly problems: readonly ConfigProblem[] };

/**
 * `count`: a whole number ≥ 1 (0 examples per batch, accumulation steps or optimiser steps cannot train: the trainer would crash or do nothing).
 * `positive`: above 0 (0 epochs is a job of 0 steps). `rate`: above 0, at most 1 (a learning rate of 0 trains
 * nothing; above 1 diverges at once). `fraction`: from 0 to below 1 (the trainer reads a warm-up of 1 or more as a step count).
 */
const TRAINING_KEYS: Readonly<Record<string, TrainingKind>> = {
  epochs: 'positive',
  maxSteps: 'count',
  perDeviceBatchSize: 'count',
  gradientAccumulationSteps: 'count',
  learningRate: 'rate',
  warmupRatio: 'fraction',
  weightDecay: 'number',
  bf16: 'bf16',
  loggingSteps: 'count',
  saveSteps: 'integer',
  seed: 'integer',
  maxLength: 'count',
};
/** The engines a config file may name (core/finetune/engines.ts registers them). */
const CONFIG_ENGINES: readonly EngineName[] = ['trl', 'slurm', 'together'];
const OVERRIDABLE_TOP_KEYS: Readonly<Record<string, true>> = { baseModel: true, data: true, method: true, outputDir: true, distributed: true };
const TOP_KEYS = new Set(['$schema', 'engine', 'baseModel', 'data', 'method', 'outputDir', 'training', 'lora', 'distributed', 'slurm']);

/**
 * The keys of a config file that the command line can replace as a whole: every training key
 * (`--epochs`, `--max-steps`…), `baseModel` (`--base`), `data`, `method`, `outputDir` (`--out`)
 * and `distributed` (`--strategy`).
 */
export type OverridableKey = keyof TrainingParams | 'baseModel' | 'data' | 'method' | 'outputDir' | 'distributed';

/**
 * Parses the text of a `*.coi-finetune.json` file; every problem is reported, each at its key.
 * `engine`: the engine the job runs on when it is not the file's own (`coi finetune start FILE
 * --engine together`): the file's `engine` is then not checked (it is not used), and a key that
 * engine would ignore (a Together job's `outputDir`, a `slurm` block off Slurm) is a problem of
 * the file as well.
 * `overridden`: the keys the command line sets over the file's (`--max-steps 2` over a
 * `"maxSteps": 0`): the file's values of these are not used, so they are not checked (nor
 * returned: the caller puts its own in their place); what the command line gives is checked
 * there, on the merged job.
 */
export function parseFinetuneConfig(text: string, options: { readonly engine?: EngineName; readonly overridden?: readonly OverridableKey[] } = {}): ConfigResult {
  const parsed = parseJsonWithPosition(text);
  // The parser's words with their control characters written visibly (a crafted file cannot drive the terminal); the position is the problem's.
  if (!parsed.ok) return { problems: [{ message: `Not valid JSON: ${parsed.error.message.replace(/ at line \d+, column \d+$/, '')}.`, line: parsed.error.line, column: parsed.error.column }] };
  const overridden = new Set<string>(options.overridden ?? []);
  const problems: ConfigProblem[] = [];
  const at = (key: string | undefined, message: string): void => void problems.push({ message, ...keyPosition(text, key), ...(key === undefined ? {} : { key }) });
  if (!isObject(parsed.value)) return { problems: [{ message: 'The file must hold one JSON object.', line: 1, column: 1 }] };
  // An overridden key is read as if the file did not have it (its default, or nothing).
  const without = (object: Record<string, unknown>, keys: Readonly<Record<string, unknown>>): Record<string, unknown> => Object.fromEntries(Object.entries(object).filter(([key]) => !(overridden.has(key) && key in keys)));
  const raw = without(parsed.value, OVERRIDABLE_TOP_KEYS);
  if (isObject(raw['training'])) raw['training'] = without(raw['training'], TRAINING_KEYS);
  for (const key of Object.keys(raw)) if (!TOP_KEYS.has(key)) at(key, `Unknown key '${key}'.`);
  // An engine given on the command line replaces the file's, which is then not checked (as the other keys it sets).
  const fileEngine = raw['engine'] ?? 'trl';
  if (options.engine === undefined && !(CONFIG_ENGINES as readonly unknown[]).includes(fileEngine)) at('engine', `Unknown engine ${JSON.stringify(fileEngine)}: the engines are ${CONFIG_ENGINES.map((e) => JSON.stringify(e)).join(', ')}.`);
  const engine = options.engine ?? fileEngine;
  const baseModel = overridden.has('baseModel') ? '' : raw['baseModel'];
  if (!overridden.has('baseModel') && (typeof baseModel !== 'string' || baseModel === '')) at(baseModel === undefined ? undefined : 'baseModel', "'baseModel' must name a Hugging Face model folder.");
  const data = overridden.has('data') ? '' : raw['data'];
  if (!overridden.has('data') && (typeof data !== 'string' || data === '')) at(data === undefined ? undefined : 'data', "'data' must name a training data file (any dataset format: coi dataset build writes one).");
  const method = raw['method'] ?? 'full';
  if (method !== 'full' && method !== 'lora') at('method', `'method' must be "full" or "lora", not ${JSON.stringify(method)}.`);
  const outputDir = raw['outputDir'];
  if (outputDir !== undefined && typeof outputDir !== 'string') at('outputDir', "'outputDir' must be a folder path.");
  const training = readTraining(raw['training'], at);
  const lora = readLora(raw['lora'], at);
  const distributed = readDistributed(raw['distributed'], at);
  const slurm = readSlurm(raw['slurm'], at);
  // A Slurm job's file run on another engine: its batch settings would be dropped unused, so they are refused as a Together job's keys are.
  if (slurm !== undefined && engine !== 'slurm') at('slurm', options.engine === undefined ? "'slurm' settings go with \"engine\": \"slurm\"." : `'slurm' settings go with --engine slurm, not --engine ${options.engine}: leave them out.`);
  const clash = sbatchArgsProblem({ ...(slurm !== undefined ? { slurm } : {}), ...(distributed !== undefined ? { distributed } : {}) });
  if (clash !== undefined) at('sbatchArgs', clash);
  if (engine === 'together') togetherKeyProblems(raw, training, options.engine !== undefined, overridden, at);
  if (problems.length > 0) return { problems };
  return {
    problems: [],
    config: {
      engine: engine as EngineName,
      baseModel: baseModel as string,
      data: data as string,
      method: method as 'full' | 'lora',
      ...(typeof outputDir === 'string' ? { outputDir } : {}),
      training,
      // With the method given on the command line (`--method lora`), the file's LoRA settings are the ones it takes.
      ...(method === 'lora' || (overridden.has('method') && raw['lora'] !== undefined) ? { lora } : {}),
      ...(distributed !== undefined ? { distributed } : {}),
      ...(slurm !== undefined ? { slurm } : {}),
    },
  };
}

/**
 * The keys of a Together job's file that the service would ignore or cannot do, all of them, each
 * at its key. `engineGiven`: the engine was named on the command line; `overridden`: the training
 * keys its options set (the merged job is checked there).
 */
function togetherKeyProblems(raw: Record<string, unknown>, training: TrainingParams, engineGiven: boolean, overridden: ReadonlySet<string>, at: (key: string | undefined, message: string) => void): void {
  const trainingKeys = isObject(raw['training']) ? raw['training'] : {};
  for (const { key, inTraining, why } of NOT_FOR_TOGETHER) {
    if ((inTraining ? trainingKeys : raw)[key] !== undefined) at(key, `'${key}' does not go with ${engineGiven ? '--engine together' : '"engine": "together"'} (${why}): leave it out.`);
  }
  for (const problem of togetherProblems({ training })) if (!overridden.has(problem.key)) at(problem.key, problem.message);
}

/** `slurm: { partition?, timeLimit?, account?, cpusPerTask?, sbatchArgs? }`: the Slurm engine's batch settings. */
export function readSlurm(value: unknown, at: (key: string | undefined, message: string) => void): SlurmParams | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    at('slurm', "'slurm' must be an object: { \"partition\": \"gpu\", \"timeLimit\": \"4:00:00\" }.");
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'partition' || key === 'timeLimit' || key === 'account') {
      if (typeof v === 'string' && /^[^\s]+$/.test(v)) out[key] = v;
      else at(key, `'${key}' must be one word (no spaces).`);
    } else if (key === 'cpusPerTask') {
      if (isNonNegative(v, true) && v > 0) out[key] = v;
      else at(key, "'cpusPerTask' must be a whole number > 0.");
    } else if (key === 'sbatchArgs') {
      if (Array.isArray(v) && v.every((a) => typeof a === 'string' && a.startsWith('-') && !/[\n\r]/.test(a))) out[key] = v;
      else at(key, "'sbatchArgs' must be a list of sbatch options, each one argument starting with '-' (\"--qos=high\").");
    } else at(key, `Unknown slurm key '${key}'.`);
  }
  return out as SlurmParams;
}

/** `distributed: { strategy, gpus, nodes?, port? }`: several GPUs or nodes (see accelerate.ts). */
export function readDistributed(value: unknown, at: (key: string | undefined, message: string) => void): DistributedParams | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    at('distributed', "'distributed' must be an object: { \"strategy\": \"ddp\", \"gpus\": 8 }.");
    return undefined;
  }
  const strategy = value['strategy'];
  if (!(DISTRIBUTED_STRATEGIES as readonly unknown[]).includes(strategy)) at('strategy', `'strategy' must be one of ${DISTRIBUTED_STRATEGIES.map((s) => JSON.stringify(s)).join(', ')}.`);
  const whole = (key: string, min: number, max: number): number | undefined => {
    const v = value[key];
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    at(key, `'${key}' must be a whole number from ${min} to ${max}.`);
    return undefined;
  };
  const gpus = whole('gpus', 1, 1024);
  if (value['gpus'] === undefined) at('distributed', "'distributed' needs 'gpus' (GPUs per node).");
  const nodes = whole('nodes', 1, 4096);
  const port = whole('port', 1, 65535);
  for (const key of Object.keys(value)) if (!['strategy', 'gpus', 'nodes', 'port'].includes(key)) at(key, `Unknown distributed key '${key}'.`);
  if (gpus === undefined || !(DISTRIBUTED_STRATEGIES as readonly unknown[]).includes(strategy)) return undefined;
  return { strategy: strategy as DistributedParams['strategy'], gpus, ...(nodes !== undefined ? { nodes } : {}), ...(port !== undefined ? { port } : {}) };
}

function readTraining(value: unknown, at: (key: string | undefined, message: string) => void): TrainingParams {
  if (value === undefined) return PAPER_DEFAULTS;
  if (!isObject(value)) {
    at('training', "'training' must be an object.");
    return PAPER_DEFAULTS;
  }
  const out: Record<string, unknown> = { ...PAPER_DEFAULTS };
  for (const [key, v] of Object.entries(value)) {
    const kind = TRAINING_KEYS[key];
    if (kind === undefined) at(key, `Unknown training key '${key}'.`);
    else if (!fitsTrainingKind(v, kind)) at(key, `'${key}' must be ${TRAINING_KIND_TEXT[kind]}.`);
    else out[key] = v;
  }
  return out as unknown as TrainingParams;
}

const TRAINING_KIND_TEXT = {
  number: 'a number ≥ 0',
  integer: 'a whole number ≥ 0',
  count: 'a whole number ≥ 1',
  positive: 'a number > 0',
  rate: 'a number > 0 and ≤ 1',
  fraction: 'a number ≥ 0 and < 1',
  bf16: 'true, false or "auto"',
} as const;

type TrainingKind = keyof typeof TRAINING_KIND_TEXT;

function fitsTrainingKind(value: unknown, kind: TrainingKind): boolean {
  if (kind === 'bf16') return value === 'auto' || typeof value === 'boolean';
  if (!isNonNegative(value, kind === 'integer' || kind === 'count')) return false;
  switch (kind) {
    case 'count':
      return value >= 1;
    case 'positive':
      return value > 0;
    case 'rate':
      return value > 0 && value <= 1;
    case 'fraction':
      return value < 1;
    default:
      return true;
  }
}

function readLora(value: unknown, at: (key: string | undefined, message: string) => void): LoraParams {
  if (value === undefined) return LORA_DEFAULTS;
  if (!isObject(value)) {
    at('lora', "'lora' must be an object.");
    return LORA_DEFAULTS;
  }
  const out: Record<string, unknown> = { ...LORA_DEFAULTS };
  for (const [key, v] of Object.entries(value)) {
    if (key === 'r' || key === 'alpha') {
      if (isNonNegative(v, true) && v > 0) out[key] = v;
      else at(key, `'${key}' must be a whole number > 0.`);
    } else if (key === 'dropout') {
      if (isNonNegative(v, false) && v < 1) out[key] = v;
      else at(key, "'dropout' must be a number in [0, 1).");
    } else if (key === 'targetModules') {
      if (v === 'all-linear' || (Array.isArray(v) && v.length > 0 && v.every((m) => typeof m === 'string'))) out[key] = v;
      else at(key, `'targetModules' must be "all-linear" or a list of module names.`);
    } else at(key, `Unknown lora key '${key}'.`);
  }
  return out as unknown as LoraParams;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegative(value: unknown, integer: boolean): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && (!integer || Number.isInteger(value));
}

/** The position of the first `"key":` in the text (good enough: keys are unique enough in these small files). */
function keyPosition(text: string, key: string | undefined): { line: number; column: number } {
  const index = key === undefined ? -1 : text.search(new RegExp(`"${key.replace(/[$.*+?^(){}[\]|\\]/g, '\\$&')}"\\s*:`));
  return offsetToPosition(text, index < 0 ? 0 : index);
}

/** V8 says "... in JSON at position N (line L column C)" or just "at position N". */
function offsetToPosition(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
