/** Types of a chain run: options, live events and the run record. */
import type { SamplingParams, ModelBackend, OutputConstraint, StopReason } from '../backends/types';
import type { StepCache } from './cache';
import type { PromptTemplate } from './prompt';

export type RunMode = 'stepwise' | 'composed';

/**
 * Why a generation ended: on its own (`stop`), at a stop sequence, or cut short: at its token
 * bound (`length`), by the provider's content filter (`content-filter`), by an error on the
 * provider's side (`provider-error`). The backend's StopReason, less `cancelled` (no output).
 */
export type FinishReason = Exclude<StopReason, 'cancelled'>;

export type StepStatus = 'ok' | 'failed' | 'cancelled' | 'skipped';

export type StepErrorCode = 'contract' | 'missing-marker' | 'backend' | 'cancelled' | 'missing-input';

export interface StepError {
  readonly code: StepErrorCode;
  /** For `backend`: the BackendError code (`timed-out`, `rate-limited`, ...). */
  readonly backendCode?: string;
  /** For `backend`: the HTTP status the server answered, when it answered. */
  readonly status?: number;
  readonly message: string;
}

export interface StepRunResult {
  readonly id: string;
  readonly index: number;
  status: StepStatus;
  /** The rendered prompt as plain text (composed runs: the one shared prompt). */
  prompt?: string;
  /** The validated output: what later steps and expectations see. */
  output?: string;
  /** The model's text before validation (differs for labels, fenced JSON...). */
  rawOutput?: string;
  /**
   * A step whose model call failed, was cancelled or timed out after the model had started
   * answering: the text it had streamed by then (incomplete, never validated nor cached). In a
   * composed run, each step's part of the one generation streamed so far, routed by the
   * `Task i output` markers seen (text before any marker is the first step's).
   */
  partialOutput?: string;
  /** Came from the step cache (no model call). */
  cached: boolean;
  /** Given by the user (`pinned`) instead of generated. */
  pinned: boolean;
  durationMs: number;
  promptTokens: number;
  completionTokens: number;
  error?: StepError;
  /** What looks wrong with an accepted output (e.g. not in the contract's `lang`). */
  warnings?: string[];
  /**
   * Why the generation ended, when the model was called (or the cache kept it): `length` is an output
   * cut at its token bound, `content-filter` and `provider-error` one the provider cut short.
   */
  finishReason?: FinishReason;
  /** Hash of the step's definition and everything upstream of it (stale-preview check). */
  readonly definitionHash: string;
}

export interface ComposedGeneration {
  readonly prompt: string;
  /** The model profile the one generation ran on (absent: no profiles, the run's one backend). */
  readonly profile?: string;
  /** The whole generation, before it was split; absent when it failed, was cancelled or timed out (then `partialOutput`). */
  readonly rawOutput?: string;
  /**
   * A generation that failed, was cancelled or timed out after the model had started answering:
   * all the text it had streamed by then (incomplete, never split nor validated; each step's
   * part of it is that step's `partialOutput`).
   */
  readonly partialOutput?: string;
  readonly cached: boolean;
  readonly durationMs: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly finishReason?: FinishReason;
}

export interface RunRecord {
  readonly version: 1;
  readonly id: string;
  readonly chain: string;
  /** The `.coi` file, when known. */
  readonly file?: string;
  readonly mode: RunMode;
  readonly template: PromptTemplate;
  /**
   * Backend and model of the profile that names the run (runProfile): a stepwise run's first
   * generated step's (its own `model NAME`, else the default; per-step models are in each step's
   * cache key), the default when it generates none; composed runs: of the profile the one
   * generation ran on.
   */
  readonly backend: string;
  readonly model: string;
  readonly inputs: Readonly<Record<string, string>>;
  /**
   * Saved records only: the inputs whose text the record keeps only the head of (storedRecord.ts),
   * `[]` when none was cut. Absent in a record saved before this field existed.
   */
  readonly cutInputs?: readonly string[];
  readonly startedAt: string;
  durationMs: number;
  status: 'ok' | 'failed' | 'cancelled';
  /** The first failure, in one sentence naming the step. */
  error?: string;
  readonly steps: StepRunResult[];
  /** The final output (the last step that ran), when it succeeded. */
  output?: string;
  composed?: ComposedGeneration;
  /** Model calls this run made (cache hits and pinned outputs make none). */
  modelCalls: number;
  readonly stopAfter?: string;
  readonly rerunFrom?: string;
  /** What the user should know about the run as a whole (e.g. a composed run ignoring the steps' profiles). */
  warnings?: string[];
}

/** Picks the backend for a step's profile (`undefined`: the chain's default). */
export type BackendResolver = (profileName: string | undefined) => ModelBackend | Promise<ModelBackend>;

export interface RunEvents {
  /** A step starts (its prompt is rendered; the model is about to be called or the cache read). */
  onStepStart?(step: StepRunResult): void;
  /** A piece of a step's output as it streams (cache hits and pinned outputs arrive in one piece). */
  onStepText?(stepId: string, chunk: string, soFar: string): void;
  /** A step finished (any status). */
  onStepEnd?(step: StepRunResult): void;
  /** Composed mode: a piece of the one generation, before it is split into steps. */
  onComposedText?(chunk: string, soFar: string): void;
}

export interface RunOptions {
  readonly backend: ModelBackend | BackendResolver;
  /**
   * The profile a step without `model NAME` runs on, when it is not the chain's first one
   * (`coi run --profile P`, a test's `model` line): the resolver is asked for it by name, and
   * its sampling and its name in messages are used.
   */
  readonly defaultProfile?: string;
  /** Values of the chain inputs, by name. */
  readonly inputs: Readonly<Record<string, string>>;
  readonly mode?: RunMode;
  /** Prompt template (default `chat`). */
  readonly template?: PromptTemplate;
  readonly systemPrompt?: string;
  /** Step cache; none means every step calls the model. */
  readonly cache?: StepCache;
  /** Stop after this step ("run to here"). */
  readonly stopAfter?: string;
  /** Generate this step and every later one afresh ("re-run from here"); earlier ones come from pins or the cache. */
  readonly rerunFrom?: string;
  /** User-given outputs used instead of generating these steps. */
  readonly pinned?: Readonly<Record<string, string>>;
  /** Folder of the `.coi` file (for `schema_file`). */
  readonly baseDir?: string;
  readonly file?: string;
  readonly signal?: AbortSignal;
  readonly events?: RunEvents;
  /** Overrides the sampling parameters of every step (applied last). */
  readonly params?: SamplingParams;
  /** Per-call time limit in milliseconds. */
  readonly timeoutMs?: number;
  /**
   * Whether a contract is sent to the backend as a constraint. Default: every constraint
   * to the local backend (grammars), only JSON Schemas to others (structured output);
   * the rest rely on the format hint in the prompt and on validation.
   */
  readonly constrain?: (backend: ModelBackend, constraint: OutputConstraint) => boolean;
}
