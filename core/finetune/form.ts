/**
 * A fine-tuning job from the side panel's form (and the palette's questions): the raw field
 * texts a user typed become the same JobConfig a `*.coi-finetune.json` file does, checked
 * by the same rules (config.ts), with paths resolved against the workspace. Also the
 * one-screen summary shown for confirmation before a launch.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseFinetuneConfig } from './config';
import { LORA_DEFAULTS, PAPER_DEFAULTS, type JobConfig } from './job';
import { FORM_LABELS, formProblem, type FormField } from './formFields';

export { FORM_LABELS, formProblem, type FormField };

/** The form's fields, as typed (numbers as text: '' means the default). */
export interface JobForm {
  readonly engine?: string;
  readonly baseModel: string;
  readonly data: string;
  readonly method: string;
  readonly epochs?: string;
  readonly maxSteps?: string;
  readonly learningRate?: string;
  readonly perDeviceBatchSize?: string;
  readonly gradientAccumulationSteps?: string;
  readonly warmupRatio?: string;
  readonly weightDecay?: string;
  readonly saveSteps?: string;
  readonly loraR?: string;
  readonly loraAlpha?: string;
}

/** The numeric fields of the form and their defaults (shown in the form as placeholders). */
export const FORM_DEFAULTS = {
  epochs: PAPER_DEFAULTS.epochs,
  learningRate: PAPER_DEFAULTS.learningRate,
  perDeviceBatchSize: PAPER_DEFAULTS.perDeviceBatchSize,
  gradientAccumulationSteps: PAPER_DEFAULTS.gradientAccumulationSteps,
  warmupRatio: PAPER_DEFAULTS.warmupRatio,
  weightDecay: PAPER_DEFAULTS.weightDecay,
  saveSteps: PAPER_DEFAULTS.saveSteps,
  loraR: LORA_DEFAULTS.r,
  loraAlpha: LORA_DEFAULTS.alpha,
} as const;

const TRAINING_FIELDS = ['epochs', 'maxSteps', 'learningRate', 'perDeviceBatchSize', 'gradientAccumulationSteps', 'warmupRatio', 'weightDecay', 'saveSteps'] as const;

/**
 * `fields` (a form's problems only): for each problem, the field it is about, or null for one
 * about the job as a whole; the side panel marks those fields invalid, described by their problem.
 */
export type FormResult = { readonly config: JobConfig; readonly problems: readonly []; readonly fields?: undefined } | { readonly config?: undefined; readonly problems: readonly string[]; readonly fields?: readonly (FormField | null)[] };

/** A config key of the job the form builds → the form's field that holds it. */
const FIELD_OF_KEY: Readonly<Record<string, FormField>> = { r: 'loraR', alpha: 'loraAlpha' };

function fieldOfKey(key: string | undefined): FormField | undefined {
  if (key === undefined) return undefined;
  return FIELD_OF_KEY[key] ?? (Object.hasOwn(FORM_LABELS, key) ? (key as FormField) : undefined);
}

/** The job the form describes, or every problem with it (each naming its field by the label the form shows, and the field in `fields`). */
export function jobConfigFromForm(form: JobForm, workspace: string): FormResult {
  const found: { field: FormField | null; message: string }[] = [];
  const refused = (): FormResult => ({ problems: found.map((p) => p.message), fields: found.map((p) => p.field) });
  const number = (field: FormField, text: string | undefined): number | undefined => {
    const trimmed = String(text ?? '').trim();
    if (trimmed === '') return undefined;
    const value = Number(trimmed);
    if (!Number.isFinite(value)) found.push({ field, message: formProblem(field, `'${trimmed}' is not a number.`) });
    return value;
  };
  const training: Record<string, number> = {};
  for (const field of TRAINING_FIELDS) {
    const value = number(field, form[field]);
    if (value !== undefined) training[field] = value;
  }
  const lora: Record<string, number> = {};
  for (const [field, key] of [['loraR', 'r'], ['loraAlpha', 'alpha']] as const) {
    const value = number(field, form[field]);
    if (value !== undefined) lora[key] = value;
  }
  const raw = {
    engine: form.engine === undefined || form.engine === '' ? 'trl' : form.engine,
    baseModel: String(form.baseModel).trim(),
    data: String(form.data).trim(),
    method: String(form.method),
    training,
    ...(form.method === 'lora' && Object.keys(lora).length > 0 ? { lora } : {}),
  };
  if (found.length > 0) return refused();
  const parsed = parseFinetuneConfig(JSON.stringify(raw));
  if (parsed.config === undefined) {
    for (const problem of parsed.problems) {
      const field = fieldOfKey(problem.key);
      found.push(field === undefined ? { field: null, message: problem.message } : { field, message: formProblem(field, problem.message, problem.key) });
    }
    return refused();
  }
  const config = withPathsIn(parsed.config, workspace);
  found.push(...missingInputProblems(config));
  return found.length > 0 ? refused() : { config, problems: [] };
}

/**
 * The base model as a job records it: a path under `workspace` for the engines that train here
 * (a folder), the name as given for a hosted engine (a model on the service, `org/model`).
 */
export function baseModelIn(engine: JobConfig['engine'], baseModel: string, workspace: string): string {
  return engine === 'together' ? baseModel : resolve(workspace, baseModel);
}

/** A config's base model (`baseModelIn`) and data file resolved against `workspace`, as `coi finetune start` run there reads them. */
export function withPathsIn(config: JobConfig, workspace: string): JobConfig {
  return { ...config, baseModel: baseModelIn(config.engine, config.baseModel, workspace), data: resolve(workspace, config.data) };
}

/** A `*.coi-finetune.json` file's job (started from the editor), its paths resolved against its workspace folder; or its problems, each located in `fileName`. */
export function jobConfigFromFile(text: string, fileName: string, workspace: string): FormResult {
  const parsed = parseFinetuneConfig(text);
  if (parsed.config === undefined) return { problems: parsed.problems.map((p) => `${fileName}:${p.line}:${p.column}: ${p.message}`) };
  const config = withPathsIn(parsed.config, workspace);
  const missing = missingInputs(config);
  return missing.length > 0 ? { problems: missing.map((m) => `${fileName}: ${m}`) } : { config, problems: [] };
}

/**
 * What a job's config names that is not there, or not what it should be: the base model folder
 * (not for a hosted engine: a name there) — a folder with a config.json, as every Hugging Face
 * model has (without it the trainer fails seconds later on the tokenizer) — and the training data file.
 */
export function missingInputs(config: Pick<JobConfig, 'baseModel' | 'data'> & { readonly engine?: JobConfig['engine'] }): string[] {
  return missingInputProblems(config).map((p) => p.message);
}

/** `missingInputs`, each with the form's field it is about. */
function missingInputProblems(config: Pick<JobConfig, 'baseModel' | 'data'> & { readonly engine?: JobConfig['engine'] }): { field: 'baseModel' | 'data'; message: string }[] {
  const problems: { field: 'baseModel' | 'data'; message: string }[] = [];
  const problem = (field: 'baseModel' | 'data', message: string): void => void problems.push({ field, message });
  const base = config.engine === 'together' ? undefined : baseFolderProblem(config.baseModel);
  if (base !== undefined) problem('baseModel', base);
  const data = kindOf(config.data);
  if (data === 'folder') problem('data', `Training data '${config.data}' is a folder, not a file (a dataset file: coi dataset build writes one).`);
  if (data === undefined) problem('data', `Training data '${config.data}' not found (a dataset file: coi dataset build writes one).`);
  return problems;
}

/**
 * Why `folder` is not a Hugging Face base model folder: missing, a file, or a folder without
 * the config.json every such model has (without it the trainer, or llama.cpp's converter,
 * fails seconds later in its own words); or undefined.
 */
export function baseFolderProblem(folder: string): string | undefined {
  const kind = kindOf(folder);
  if (kind === 'file') return `Base model '${folder}' is a file, not a model folder (a Hugging Face model folder: config.json, weights, tokenizer).`;
  if (kind === undefined) return `Base model folder '${folder}' not found (a Hugging Face model folder: config.json, weights, tokenizer).`;
  if (!existsSync(join(folder, 'config.json'))) return `Base model folder '${folder}' has no config.json (not a Hugging Face model folder: config.json, weights, tokenizer).`;
  return undefined;
}

function kindOf(path: string): 'file' | 'folder' | undefined {
  try {
    return statSync(path).isDirectory() ? 'folder' : 'file';
  } catch {
    return undefined;
  }
}

/** The resolved job in a few lines, for the confirmation before a launch. */
export function jobSummary(config: JobConfig): string {
  const t = config.training;
  const lines = [
    `Engine: ${config.engine}`,
    `Base model: ${config.baseModel}`,
    `Data: ${config.data}${config.trainingData === undefined ? '' : ` (${config.trainingData.format}, ${count(config.trainingData.examples, 'example')}${config.trainingData.leftOut > 0 ? `, ${count(config.trainingData.leftOut, 'unreadable row')} left out` : ''}; the trainer reads them converted: ${config.trainingData.file})`}`,
    `Method: ${config.method}${config.method === 'lora' && config.lora !== undefined ? ` (r ${config.lora.r}, alpha ${config.lora.alpha}, dropout ${config.lora.dropout})` : ''}`,
    `Training: ${t.maxSteps !== undefined ? `${count(t.maxSteps, 'step')} at most, ` : ''}${count(t.epochs, 'epoch')}, batch ${t.perDeviceBatchSize} per device × ${t.gradientAccumulationSteps} accumulation, learning rate ${t.learningRate}, warm-up ${t.warmupRatio}, weight decay ${t.weightDecay}, bf16 ${String(t.bf16)}`,
    `Checkpoints: ${t.saveSteps > 1 ? `every ${t.saveSteps} steps, ` : t.saveSteps === 1 ? 'every step, ' : ''}at the end and on Cancel`,
  ];
  if (config.distributed !== undefined) lines.push(`Distributed: ${config.distributed.strategy}, ${count(config.distributed.gpus, 'GPU')} × ${count(config.distributed.nodes ?? 1, 'node')}`);
  const s = config.slurm;
  if (s !== undefined) lines.push(`Slurm: ${[s.partition !== undefined ? `partition ${s.partition}` : '', s.timeLimit !== undefined ? `time ${s.timeLimit}` : '', s.account !== undefined ? `account ${s.account}` : '', ...(s.sbatchArgs ?? [])].filter((p) => p !== '').join(', ') || 'the cluster defaults'}`);
  return lines.join('\n');
}

/** `1 step`, `3 steps`, `0.5 epochs`. */
function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
