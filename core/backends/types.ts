/**
 * The one interface every model backend implements (DESIGN section 5).
 * Implementations: the local node-llama-cpp backend (in a worker process) and
 * the OpenAI-compatible backend (the `openai` SDK). The runner only sees this.
 */
import type { WorkerInfo } from './local/protocol';
import type { SamplingParams } from '../chain/model';

/** A request's sampling knobs: the same as a profile's (one definition, in the chain model). */
export type { SamplingParams };

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** A prompt is either chat messages (the model's chat template applies) or raw completion text. */
export type Prompt = { readonly kind: 'chat'; readonly messages: readonly ChatMessage[] } | { readonly kind: 'completion'; readonly text: string };

/** Restricts what the model may emit; derived from a step's output contract. */
export type OutputConstraint =
  | { readonly kind: 'labels'; readonly labels: readonly string[] }
  | { readonly kind: 'list'; readonly minItems?: number; readonly maxItems?: number }
  | { readonly kind: 'json-schema'; readonly schema: unknown };

export interface GenerateRequest {
  readonly prompt: Prompt;
  readonly params?: SamplingParams;
  readonly constraint?: OutputConstraint;
  /** Called with each piece of text as it is generated. */
  readonly onText?: (chunk: string) => void;
  readonly signal?: AbortSignal;
  /** Overall time limit in milliseconds. */
  readonly timeoutMs?: number;
}

/**
 * Why a generation ended: on its own (`stop`), at a stop sequence, cut at its token bound
 * (`length`), cut by the provider's content filter (`content-filter`: OpenAI's and Azure's
 * `finish_reason: "content_filter"`), ended by an error on the provider's side (`provider-error`:
 * some providers' `finish_reason: "error"`), or cancelled. The text is what the model produced
 * until then; only `stop` and `stop-sequence` are whole answers.
 */
export type StopReason = 'stop' | 'length' | 'stop-sequence' | 'content-filter' | 'provider-error' | 'cancelled';

export interface GenerateResult {
  readonly text: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Wall time of the generation in milliseconds, as measured by the backend. */
  readonly durationMs: number;
  readonly stopReason: StopReason;
}

/** Stable identity of a backend+model, used in cache keys and run records. */
export interface BackendIdentity {
  /** `local` or `openai`. */
  readonly backend: string;
  /** Model path/URI or model id (with base URL for remote models). */
  readonly model: string;
  /**
   * What else changes the model's answers under the same `model` (cache keys only; records and
   * messages show `model`): for a local GGUF file, its size and modification time and its LoRA
   * adapter's (a file replaced at the same path, a fine-tuned model exported again), and the
   * context size asked for (it bounds an output without max_tokens).
   */
  readonly revision?: string;
}

export interface ModelBackend {
  readonly identity: BackendIdentity;
  /**
   * Optional capability: the backend enforces every kind of OutputConstraint
   * while decoding (a grammar). Without it only JSON Schemas are sent
   * (structured output) and the runner validates the rest afterwards.
   */
  readonly constrainsDecoding?: boolean;
  /** Optional capability: where the model runs on this machine (GPU, devices, VRAM, threads). */
  describe?(): Promise<WorkerInfo>;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  /** Releases models, processes and connections. Idempotent. */
  dispose(): Promise<void>;
}

export type BackendErrorCode =
  | 'model-not-found'
  | 'model-invalid'
  | 'out-of-memory'
  | 'server-rejected'
  | 'rate-limited'
  | 'timed-out'
  | 'cancelled'
  | 'worker-crashed'
  | 'constraint-unsupported'
  /** The prompt does not fit the model's context window. */
  | 'prompt-too-long'
  /** The local model runtime (node-llama-cpp and its binaries) cannot be loaded here. */
  | 'runtime-unavailable'
  /**
   * The model declined the request (OpenAI's `refusal` in place of the content): the item's
   * failure, not the server's: never retried, and no sign that the model is down.
   */
  | 'refused'
  | 'bad-response';

/** Every backend failure is one of these, with a message a user can act on. */
export class BackendError extends Error {
  constructor(
    readonly code: BackendErrorCode,
    message: string,
    readonly details?: { readonly status?: number; readonly retryAfterMs?: number; readonly cause?: unknown },
  ) {
    super(message);
    this.name = 'BackendError';
  }
}
