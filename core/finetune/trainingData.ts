/**
 * The local trainer's data. `coi_train.py` trains on one shape only — prompt-completion JSONL,
 * the prompt in the paper's Alpaca template — while `--data` takes every dataset format
 * (core/dataset). So the job converts its data once, into `<job>/train.prompt-completion.jsonl`,
 * before the Python starts, and its config.json records where that file came from
 * (`trainingData`). A file with no readable example is refused before any job is made.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalidUtf8At } from '../syntax';
import { PROGRESS_EVERY_ROWS, readDataset } from '../dataset/read';
import type { DatasetReadResult, TrainingExample } from '../dataset/types';
import { writeDataset } from '../dataset/write';
import { FinetuneError, type JobConfig, type TrainingDataRecord } from './job';
import { readConfig, updateState, writeConfig } from './store';

export const TRAINING_FILE = 'train.prompt-completion.jsonl';

/** A training data file read in whatever format it is, with its text (some conversions copy rows verbatim). */
export interface TrainingDataRead extends DatasetReadResult {
  readonly file: string;
  readonly text: string;
}

/**
 * How far reading or converting the data is: `done` of `total` rows (read) or examples
 * (converted), told every few thousand and at the end. Both run synchronously (seconds for
 * a file of hundreds of MB): a caller shows progress from here, throttled as it likes.
 */
export type TrainingDataProgress = (done: number, total: number) => void;

/**
 * Reads `file` in any dataset format. Refuses (FinetuneError) a file that cannot be read or
 * holds no readable example — empty, truncated, binary — naming the first problem; rows that
 * cannot be read among good ones are left out and reported in `issues`.
 */
export function readTrainingData(file: string, onProgress?: TrainingDataProgress): TrainingDataRead {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new FinetuneError(`Cannot read the training data ${file}: ${err instanceof Error ? err.message : String(err)}.`);
  }
  // A NUL byte never occurs in JSON text: this is a binary file, and each of its "lines" would be reported.
  if (bytes.includes(0)) throw new FinetuneError(`${file}: no training example could be read: it is a binary file, not a dataset (JSON or JSON Lines).`);
  const text = utf8Text(file, bytes);
  const read = readDataset(text, { file, ...(onProgress !== undefined ? { onProgress } : {}) });
  if (read.examples.length === 0) {
    const first = read.issues[0];
    const where = first?.line === undefined ? '' : `:${first.line}${first.column === undefined ? '' : `:${first.column}`}`;
    // A chain is not training data (its '#' would be "invalid JSON"): `coi dataset build` makes training data from chains.
    if (/\.coi$/i.test(file)) throw new FinetuneError(`${file}: no training example could be read: a .coi file is a chain, not training data; 'coi dataset build ${file} --out DIR' makes a dataset from it (train on DIR/train.jsonl).`);
    throw new FinetuneError(`${file}${where}: no training example could be read${first === undefined ? ' (the file is empty)' : `: ${first.message.replace(/\.$/, '')}`}.`);
  }
  return { ...read, file, text };
}

/**
 * The file's text. Bytes that are not UTF-8 (a file saved as Latin-1 or Windows-1252) are refused
 * at the first one's line and column: decoded as usual they would become U+FFFD, and the model
 * would be trained on that replacement character without a word.
 */
function utf8Text(file: string, bytes: Buffer): string {
  const at = invalidUtf8At(bytes);
  if (at !== undefined) throw new FinetuneError(`${file}:${at.line}:${at.column}: the training data is not UTF-8 text (byte ${at.byte} there): save it as UTF-8 (from Latin-1 or Windows-1252, e.g. iconv -f WINDOWS-1252 -t UTF-8).`);
  return bytes.toString('utf8'); // a BOM stays, as before
}

/**
 * The examples as the trainer's prompt-completion JSONL. Rows that were prompt-completion
 * already are copied as they were (their prompt need not be the Alpaca template); every other
 * row gets the Alpaca prompt the paper trained with, as `coi dataset convert` writes it.
 */
export function promptCompletionText(data: TrainingDataRead, onProgress?: TrainingDataProgress): string {
  const lines = data.text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const total = data.examples.length;
  const text = data.examples
    .map((example, index) => {
      if (index % PROGRESS_EVERY_ROWS === 0) onProgress?.(index, total);
      return originalPromptCompletion(example, lines) ?? writeDataset([example], 'trl-prompt-completion');
    })
    .join('');
  onProgress?.(total, total);
  return text;
}

function originalPromptCompletion(example: TrainingExample, lines: readonly string[]): string | undefined {
  const { source, line } = example.provenance;
  if (source !== 'trl-prompt-completion' || line === undefined) return undefined;
  const row = JSON.parse(lines[line - 1] ?? '') as { prompt: string; completion: string }; // the reader parsed this very line
  return JSON.stringify({ prompt: row.prompt, completion: row.completion }) + '\n';
}

/** What a job's config.json records about its converted data, the file being `TRAINING_FILE` in `dir` (made or not yet: `--dry-run`). */
export function trainingDataRecord(dir: string, data: TrainingDataRead): TrainingDataRecord {
  return { file: join(dir, TRAINING_FILE), from: data.file, format: data.format, examples: data.examples.length, leftOut: data.issues.length };
}

/** Writes the converted data into the job folder and records in config.json where it came from; `onProgress`: the conversion's. */
export function writeTrainingFile(dir: string, data: TrainingDataRead, onProgress?: TrainingDataProgress): JobConfig {
  const trainingData = trainingDataRecord(dir, data);
  writeFileSync(trainingData.file, promptCompletionText(data, onProgress));
  const config: JobConfig = { ...readConfig(dir), trainingData };
  writeConfig(dir, config);
  return config;
}

/**
 * The converted data of a job, made now if it was not yet (a job started from the editor, or
 * before this file existed): every engine that runs coi_train.py calls this before it starts.
 */
export function ensureTrainingFile(dir: string): JobConfig {
  const config = readConfig(dir);
  if (config.trainingData !== undefined && existsSync(config.trainingData.file)) return config;
  return writeTrainingFile(dir, readTrainingData(config.data));
}

/** `ensureTrainingFile` for an engine about to launch: a job whose data cannot be converted is failed with why (not left queued). */
export function ensureTrainingFileOrFail(dir: string): JobConfig {
  try {
    return ensureTrainingFile(dir);
  } catch (err) {
    updateState(dir, 'failed', { message: err instanceof Error ? err.message : String(err) });
    throw err;
  }
}
