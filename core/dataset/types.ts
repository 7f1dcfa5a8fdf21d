/**
 * One training example of a chain dataset, whatever file format it came from or goes to.
 *
 * `instruction`, `input` and `output` are the text a model is trained on (for a chain:
 * the sub-instructions joined by " and then " and every step's output behind the
 * paper's `Task i output` markers); `steps` is the same chain split per step, with each
 * step's output where the source knows it. Readers keep the three strings exactly as
 * read, so writing back the paper's records reproduces the file byte for byte.
 */

/** Where an example came from; every generated example says what generated it. */
export interface Provenance {
  readonly source: ExampleSource;
  /** The file it was read from, as the caller named it. */
  readonly file?: string;
  /** 1-based line of the row (JSONL) or of the record's first character (JSON array). */
  readonly line?: number;
  /** 0-based position in the file (array index or row number). */
  readonly index?: number;
  /** For `coi-test`: the test's name; for `eval-store`: the item's id. */
  readonly name?: string;
  /** For `composed`: the single-task examples the chain was made of, in order. */
  readonly parts?: readonly Provenance[];
  /** For `composed`: the model profile that summarised instructions and wrote later outputs. */
  readonly generatedBy?: string;
  /** For `composed`: 1-based steps whose output a model generated (not from the source). */
  readonly generatedSteps?: readonly number[];
}

export type ExampleSource = 'paper' | 'alpaca' | 'openai-chat' | 'trl-prompt-completion' | 'trl-chat' | 'coi-test' | 'eval-store' | 'composed';

export interface TrainingStep {
  readonly instruction: string;
  /** The step's output, when the source gives it (a chain's intermediate outputs). */
  readonly output?: string;
}

export interface TrainingExample {
  /** The whole instruction as the model sees it (steps joined by " and then "). */
  readonly instruction: string;
  /** The input of the first step ('' when none). */
  readonly input: string;
  /** One per sub-instruction; a single-task example has one step. */
  readonly steps: readonly TrainingStep[];
  /** The training target: the final output, with the step markers for a chain. */
  readonly output: string;
  readonly provenance: Provenance;
}

/** The file formats read and written. */
export type DatasetFormat = 'paper' | 'alpaca-jsonl' | 'openai-chat' | 'trl-prompt-completion' | 'trl-chat';

export const DATASET_FORMATS: readonly DatasetFormat[] = ['paper', 'alpaca-jsonl', 'openai-chat', 'trl-prompt-completion', 'trl-chat'];

/** A row that could not be read: left out, reported with its place in the file. */
export interface DatasetIssue {
  /** 1-based line; absent only when the file has no lines at all. */
  readonly line?: number;
  readonly column?: number;
  /** 0-based row or record index, when the problem is one row's. */
  readonly index?: number;
  readonly message: string;
}

export interface DatasetReadResult {
  /** The format the rows were read as (detected unless given). */
  readonly format: DatasetFormat;
  readonly examples: readonly TrainingExample[];
  readonly issues: readonly DatasetIssue[];
}
