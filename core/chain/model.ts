/**
 * The semantic model of a chain: what a `.coi` file means once parsed and
 * resolved. The runner, the records import/export, evaluation and the editor
 * features work on this model, never on raw text. Built by `buildChain`
 * (core/chain/build.ts) from a `CoiFile`; every element keeps the span of the
 * syntax it came from so results can be shown where they were written.
 */
import type { MatcherKind, Span } from '../syntax/ast';

/** Where a local model runs (`auto` lets node-llama-cpp choose); the one list of GPU settings. */
export const GPU_SETTINGS = ['auto', 'cuda', 'metal', 'vulkan', 'cpu'] as const;
export type GpuSetting = (typeof GPU_SETTINGS)[number];

export type Contract =
  | { readonly kind: 'text'; readonly lang?: string; readonly maxWords?: number; readonly maxChars?: number }
  | { readonly kind: 'label'; readonly labels: readonly string[] }
  | {
      readonly kind: 'list';
      readonly item: 'text' | 'number';
      readonly minItems?: number;
      readonly maxItems?: number;
    }
  | { readonly kind: 'json'; readonly schema?: unknown; readonly schemaFile?: string }
  | { readonly kind: 'number'; readonly min?: number; readonly max?: number; readonly integer?: boolean }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'code'; readonly lang?: string };

/** `lora "adapter.gguf" 0.8` in a local model profile. */
export interface LoraAdapter {
  readonly path: string;
  readonly scale: number;
}

export interface SamplingParams {
  readonly temperature?: number;
  readonly topP?: number;
  readonly topK?: number;
  readonly maxTokens?: number;
  readonly seed?: number;
  readonly stop?: readonly string[];
}

export type ModelProfile =
  | {
      readonly name: string;
      readonly provider: 'local';
      /** A GGUF file path (relative to the .coi file) or an `hf:` URI. */
      readonly path: string;
      readonly contextSize?: number;
      readonly gpuLayers?: number | 'auto' | 'max';
      readonly gpu?: GpuSetting;
      readonly threads?: number;
      /** A LoRA adapter GGUF (relative to the .coi file) applied on the model, with its scale. */
      readonly lora?: LoraAdapter;
      readonly sampling: SamplingParams;
      readonly span: Span;
    }
  | {
      readonly name: string;
      readonly provider: 'openai';
      readonly baseUrl: string;
      readonly model: string;
      /** Name of the environment variable holding the key (never the key itself). */
      readonly apiKeyEnv?: string;
      /** The header the key goes in (`api-key`, `x-api-key`; `Authorization`: as Bearer). Default: apiKeyHeaderFor (api-key for Azure OpenAI hosts). */
      readonly apiKeyHeader?: string;
      readonly sampling: SamplingParams;
      readonly span: Span;
    };

export interface ChainInput {
  readonly name: string;
  readonly contract: Contract;
  readonly span: Span;
}

/** Where a step's input comes from. */
export type StepSource = { readonly kind: 'input'; readonly name: string } | { readonly kind: 'step'; readonly id: string };

export interface ChainStep {
  readonly id: string;
  readonly index: number;
  readonly instruction: string;
  /** Resolved input binding (defaults applied: previous step, or the first chain input). */
  readonly sources: readonly StepSource[];
  /** Spans of the `from` references, parallel to `sources`; absent when the binding is the default. */
  readonly sourceSpans?: readonly Span[];
  /** The declared contract; `{kind: 'text'}` when none is declared. */
  readonly contract: Contract;
  readonly contractDeclared: boolean;
  /** Profile name to run this step with (overrides the chain default). */
  readonly profile?: string;
  readonly sampling: SamplingParams;
  /** Explicit `task CATEGORY` / `needs KIND` declarations (override inference). */
  readonly declaredTask?: string;
  readonly declaredNeeds?: string;
  /** ISO 639-1 code from `needs KIND LANG`: the language the step expects to read. */
  readonly declaredNeedsLang?: string;
  readonly span: Span;
  /** Span of the `step ID` header (where inline previews go). */
  readonly headerSpan: Span;
}


export interface Expectation {
  /** A step id, or `output` for the chain's final output. */
  readonly target: string;
  readonly matcher: MatcherKind;
  readonly negated: boolean;
  /** The expected text / regex source / label / reference / judge criteria. */
  readonly value?: string;
  /** For `one_of`. */
  readonly values?: readonly string[];
  /** For `rouge_l`: the minimum F-measure in [0, 1]. */
  readonly threshold?: number;
  readonly span: Span;
}

export interface ChainTest {
  readonly name: string;
  readonly inputs: Readonly<Record<string, string>>;
  readonly expectations: readonly Expectation[];
  readonly profile?: string;
  readonly span: Span;
}

export interface Chain {
  readonly name: string;
  readonly description?: string;
  readonly profiles: readonly ModelProfile[];
  /** The first declared profile, unless none. */
  readonly defaultProfile?: string;
  readonly inputs: readonly ChainInput[];
  readonly steps: readonly ChainStep[];
  readonly tests: readonly ChainTest[];
}
