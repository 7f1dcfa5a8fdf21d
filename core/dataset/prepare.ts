/**
 * Turning examples into a training set: de-duplication, token counts with the target
 * model's tokenizer (when one is at hand), examples over its context left out and
 * counted, a seeded train/validation split, and length statistics.
 */
import { alpacaPrompt } from '../runner/prompt';
import { isFinalAnswerOnly, userMessage } from './read';
import { stepCountFromMarkers } from '../records/paperRecords';
import { systemPromptOf } from './write';
import type { DatasetFormat, TrainingExample } from './types';
import { seededRandom } from '../metrics/random';

/** Counts the tokens of each text with the target model's tokenizer. */
export type TokenCounter = (texts: readonly string[], signal?: AbortSignal) => Promise<readonly number[]>;

export interface PrepareOptions {
  /** The format the set will be written in: what is tokenized is the text as trained on. */
  readonly format: DatasetFormat;
  /** Share of examples (0 ≤ share < 1) for validation; default 0.1. */
  readonly validationShare?: number;
  /** Seed of the split; the same seed and examples give the same split. Default 1. */
  readonly seed?: number;
  /** Drop repeated examples (same instruction, input and output, as `dedupeKey` compares them); default true. */
  readonly dedupe?: boolean;
  readonly countTokens?: TokenCounter;
  /** With countTokens: examples of more tokens than this are left out. */
  readonly contextSize?: number;
  readonly signal?: AbortSignal;
}

export interface OverContext {
  readonly example: TrainingExample;
  readonly tokens: number;
}

export interface PreparedDataset {
  readonly train: readonly TrainingExample[];
  readonly validation: readonly TrainingExample[];
  /** Examples dropped as repeats of an earlier one. */
  readonly duplicates: number;
  /** Examples longer than the context, left out. */
  readonly overContext: readonly OverContext[];
  /** Token count of each kept example (train then validation), when counted. */
  readonly tokens?: readonly number[];
  readonly stats: DatasetStats;
}

export interface Distribution {
  readonly min: number;
  readonly mean: number;
  readonly median: number;
  readonly p95: number;
  readonly max: number;
  readonly total: number;
}

export interface DatasetStats {
  readonly examples: number;
  /** How many examples have each number of steps: `{ "1": 10, "2": 40 }`. */
  readonly steps: Readonly<Record<string, number>>;
  /** Examples of several steps whose output is only the final answer (no step markers), when any. */
  readonly finalAnswerOnly?: number;
  /** Characters of the prompt (instruction and input) and of the output. */
  readonly promptChars: Distribution;
  readonly outputChars: Distribution;
  /** Tokens of the whole training text, with the target model's tokenizer. */
  readonly tokens?: Distribution;
}

/** The text an example is trained on in `format` (chat formats: the messages' contents, without the chat template's tokens). */
export function trainingText(example: TrainingExample, format: DatasetFormat): string {
  if (format === 'openai-chat' || format === 'trl-chat') {
    const system = systemPromptOf(example);
    return `${system}\n${userMessage(example.instruction, example.input)}\n${example.output}`;
  }
  return alpacaPrompt(example.instruction, example.input) + example.output;
}

export async function prepareDataset(examples: readonly TrainingExample[], options: PrepareOptions): Promise<PreparedDataset> {
  const { unique, duplicates } = options.dedupe === false ? { unique: [...examples], duplicates: 0 } : dedupe(examples);
  let kept: TrainingExample[] = unique;
  let keptTokens: number[] | undefined;
  const overContext: OverContext[] = [];
  if (options.countTokens !== undefined) {
    const counts = await options.countTokens(
      unique.map((e) => trainingText(e, options.format)),
      options.signal,
    );
    kept = [];
    keptTokens = [];
    for (const [i, example] of unique.entries()) {
      const tokens = counts[i] ?? 0;
      if (options.contextSize !== undefined && tokens > options.contextSize) overContext.push({ example, tokens });
      else {
        kept.push(example);
        keptTokens.push(tokens);
      }
    }
  }
  const { train, validation, order } = split(kept, options.validationShare ?? 0.1, options.seed ?? 1);
  const tokens = keptTokens === undefined ? undefined : order.map((i) => keptTokens[i] ?? 0);
  return { train, validation, duplicates, overContext, ...(tokens === undefined ? {} : { tokens }), stats: datasetStats([...train, ...validation], tokens) };
}

function dedupe(examples: readonly TrainingExample[]): { unique: TrainingExample[]; duplicates: number } {
  const seen = new Set<string>();
  const unique: TrainingExample[] = [];
  for (const example of examples) {
    const key = dedupeKey(example);
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(example);
  }
  return { unique, duplicates: examples.length - unique.length };
}

/**
 * What two examples are compared by: the instruction, the input and the output with every run
 * of whitespace read as one space (and none at either end); a marked output by its steps'
 * outputs, so the markers' spelling (`Task2 output:`, a newline or two spaces before one) does
 * not count. The same record reached two ways — as a `.coi` chain from `coi import` and as the
 * record itself — is one example, which cannot then land in both the training and the
 * validation set.
 */
export function dedupeKey(example: TrainingExample): string {
  const collapse = (text: string): string => text.trim().replace(/\s+/g, ' ');
  const stepOutputs = stepCountFromMarkers(example.output) > 0 ? example.steps.map((step) => step.output) : [];
  const output = stepOutputs.length > 0 && stepOutputs.every((text): text is string => text !== undefined) ? `steps\u0001${stepOutputs.map(collapse).join('\u0001')}` : `text\u0001${collapse(example.output)}`;
  return [collapse(example.instruction), collapse(example.input), output].join('\u0000');
}

/**
 * A seeded split: a shuffle of the indices picks the validation examples; both parts
 * keep the input order. `order` gives the input index of each example, train first.
 */
export function split<T>(items: readonly T[], validationShare: number, seed: number): { train: T[]; validation: T[]; order: number[] } {
  const validationCount = items.length < 2 ? 0 : Math.min(items.length - 1, Math.round(items.length * validationShare));
  const shuffled = shuffle(items.map((_, i) => i), seed);
  const inValidation = new Set(shuffled.slice(0, validationCount));
  const trainOrder = items.map((_, i) => i).filter((i) => !inValidation.has(i));
  const validationOrder = [...inValidation].sort((a, b) => a - b);
  return {
    train: trainOrder.map((i) => items[i]!),
    validation: validationOrder.map((i) => items[i]!),
    order: [...trainOrder, ...validationOrder],
  };
}

/** Fisher-Yates with a small seeded generator (mulberry32): the same seed, the same order everywhere. */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const random = seededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}


export function datasetStats(examples: readonly TrainingExample[], tokens?: readonly number[]): DatasetStats {
  const steps: Record<string, number> = {};
  let finalAnswerOnly = 0;
  for (const example of examples) {
    steps[String(example.steps.length)] = (steps[String(example.steps.length)] ?? 0) + 1;
    if (isFinalAnswerOnly(example)) finalAnswerOnly++;
  }
  return {
    examples: examples.length,
    steps,
    ...(finalAnswerOnly > 0 ? { finalAnswerOnly } : {}),
    promptChars: distribution(examples.map((e) => e.instruction.length + e.input.length)),
    outputChars: distribution(examples.map((e) => e.output.length)),
    ...(tokens === undefined ? {} : { tokens: distribution(tokens) }),
  };
}

export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { min: 0, mean: 0, median: 0, p95: 0, max: 0, total: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const total = sorted.reduce((sum, v) => sum + v, 0);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return { min: sorted[0] ?? 0, mean: Math.round((total / sorted.length) * 10) / 10, median: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1] ?? 0, total };
}
