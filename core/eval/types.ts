/**
 * The public shapes of an evaluation run (issue 9): the store's records
 * (`eval.json`, one `results.jsonl` line per finished (item, model, mode)) and
 * the report computed from a store. The CLI, the "Run Evaluation" command and
 * the side panel all read these; extend them, never rename.
 */
import type { BackendIdentity } from '../backends/types';
import type { Chain, ChainTest } from '../chain/model';
import type { BackendResolver, RunMode } from '../runner/types';
import type { PromptTemplate } from '../runner/prompt';

export type EvalMode = RunMode;
export type EvalSourceKind = 'tests' | 'dataset' | 'records';

/** Where the items come from; paths are absolute so that `--resume` works from any folder. */
export interface EvalSource {
  readonly kind: EvalSourceKind;
  /** `tests`: the `.coi` files; `dataset`: the dataset file; `records`: the records file. */
  readonly files: readonly string[];
  /** `dataset`: the chain file the rows are bound to. */
  readonly chainFile?: string;
  /** `dataset`/`records`: the file format (`jsonl`, `json`, `csv`). */
  readonly format?: string;
  /** The folder item ids' paths are relative to (the working folder the evaluation started in). */
  readonly root?: string;
  /** Only part of the items (`--limit N`, `--sample N`): kept so a resume selects the same ones. */
  readonly subset?: ItemSubset;
}

/** Part of an evaluation's items: the first `count`, or `count` drawn at random with `seed` (kept in their order). */
export type ItemSubset = { readonly kind: 'first'; readonly count: number } | { readonly kind: 'sample'; readonly count: number; readonly seed: number };

/** A model of the evaluation, as written in `eval.json`. */
export interface EvalModelConfig {
  /** Unique within the evaluation: the `--model` spec, or `profile:NAME`. */
  readonly key: string;
  /** For tables: the spec or the profile name. */
  readonly label: string;
  /** `--model SPEC` as given (absent for a file's profile). */
  readonly spec?: string;
  /** `--base-url` of an `openai:` spec. */
  readonly baseUrl?: string;
  /** The file's profile the model is (absent for `--model`). */
  readonly profile?: string;
  readonly identity: BackendIdentity;
}

/** Settings that do not change what is measured, kept so `--resume` runs the same way. */
export interface EvalRunSettings {
  readonly noCache?: boolean;
  readonly concurrency?: number;
  readonly threads?: number;
  /** `--context`: the context size of local models; their default output bound is a quarter of it, so a resume keeps it (given again, it wins for that run). */
  readonly contextSize?: number;
  readonly timeoutMs?: number;
  readonly maxFailures?: number;
  /** `--fail-on-expectations`: a resumed run exits as the uninterrupted one would. */
  readonly failOnExpectations?: boolean;
  /** `--max-tokens`: every step's (and every composed call's) output bound; part of what the results mean, so fixed by the store. */
  readonly maxTokens?: number;
  /** `--endpoint`: more servers of the `openai:` models (beside their base URL); a resume may name others. */
  readonly endpoints?: readonly string[];
  /** `--api-key-env`: the NAME of the variable that holds the `openai:` models' key (never the key); a resume must be given it again (a store never picks the variable), and may name another. */
  readonly apiKeyEnv?: string;
  /** `--api-key-header`: the header that key goes in; a resume may name another. */
  readonly apiKeyHeader?: string;
}

/** `eval.json`. */
export interface EvalConfig {
  readonly version: 1;
  readonly name: string;
  readonly source: EvalSource;
  readonly models: readonly EvalModelConfig[];
  readonly modes: readonly EvalMode[];
  readonly template: PromptTemplate;
  /** Seed of the bootstrap intervals (reports are reproducible). */
  readonly seed: number;
  /** Hash of what is evaluated how (source, models, modes, template), not of when or where. */
  readonly configHash: string;
  /** Hash of the items (chains, inputs, references): a changed file refuses `--resume`. */
  readonly dataHash: string;
  /** Number of items; the evaluation has items × models × modes triples. */
  readonly itemCount: number;
  /**
   * A fingerprint of each item's content (inputs and references), by item id: `coi eval compare`
   * pairs two stores' items by it, not by id (`row 3` of two datasets need not be the same row).
   * Absent in stores written before it: their items are checked by the references in their results.
   */
  readonly itemFingerprints?: Readonly<Record<string, string>>;
  readonly createdAt: string;
  readonly tool: { readonly name: 'coi'; readonly version: string };
  readonly settings?: EvalRunSettings;
}

/** One evaluated thing: a chain, its inputs and its references. */
export interface EvalItem {
  /** Stable and unique within the evaluation: `file.coi#test name`, `row 3`, `record 12`. */
  readonly id: string;
  readonly chain: Chain;
  readonly inputs: Readonly<Record<string, string>>;
  /** Reference output per step id (absent: the step is not scored). */
  readonly references: Readonly<Record<string, string>>;
  /** Reference of the final output (default: the last step's reference). */
  readonly finalReference?: string;
  /** The whole reference record, markers included (records), for the whole-output ROUGE-L. */
  readonly wholeReference?: string;
  /** `tests`: the test block whose expectations are evaluated. */
  readonly test?: ChainTest;
  /** Folder of the chain file (for `schema_file`). */
  readonly baseDir?: string;
  readonly file?: string;
  /** The composability check rejects the chain: its first error, still evaluated (the paper did). */
  readonly composability?: string;
  /** Inferred (or declared) task category of each step, in order. */
  readonly categories: readonly string[];
}

export interface StepScore {
  readonly id: string;
  /** 0-based position in the chain. */
  readonly index: number;
  readonly category: string;
  /** The step's output (its raw text when it broke its contract); absent when it did not run. */
  readonly output?: string;
  readonly reference?: string;
  /** ROUGE-L F-measure ×100 against the reference (0 when the step has no output). */
  readonly rougeL?: number;
  readonly exact?: boolean;
  readonly contractValid: boolean;
  readonly status: 'ok' | 'failed' | 'cancelled' | 'skipped';
  /**
   * Why the output is not a whole answer (absent for a whole one): cut at its token bound
   * (`length`), by the provider's content filter or an error on its side; the run record's
   * step `finishReason`. In a composed run, the one generation's, on the step its text ends in.
   * A line a later coi wrote may hold a reason this version does not know (`UnknownCutReason`).
   */
  readonly finishReason?: CutReason | UnknownCutReason;
}

/** The finish reasons of an output cut short (docs/backends.md, "Stop reasons"). */
export type CutReason = 'length' | 'content-filter' | 'provider-error';
export const CUT_REASONS: readonly CutReason[] = ['length', 'content-filter', 'provider-error'];

/**
 * A cut output's finish reason that this version does not know, as a later coi wrote it in the
 * store (reasons were added before without a store version bump): kept as written and counted
 * as cut under its own name. Only the store's reader makes one; coi writes only `CutReason`s.
 */
export type UnknownCutReason = string & { readonly unknownCutReason: true };

/** Whether `reason` is one this version knows (else a later coi's, read from a store). */
export function isKnownCutReason(reason: string): reason is CutReason {
  return (CUT_REASONS as readonly string[]).includes(reason);
}

/** Finish reasons in the order reports list them: the known ones in `CUT_REASONS`' order, then the others as given. */
export function cutReasonsInOrder(reasons: readonly (CutReason | UnknownCutReason)[]): (CutReason | UnknownCutReason)[] {
  return [...CUT_REASONS.filter((r) => reasons.includes(r)), ...reasons.filter((r) => !isKnownCutReason(r))];
}

/** Step outputs cut short, of a model × mode (or of a store's results in a comparison). */
export interface CutOutputs {
  /** Step outputs of the scored results (steps that ran). */
  readonly stepOutputs: number;
  /**
   * How many were cut, by finish reason (only the reasons that cut any): the known ones in
   * `CUT_REASONS`' order, then those this version does not know, in the order first met.
   */
  readonly byReason: Readonly<Partial<Record<CutReason | UnknownCutReason, number>>>;
}

export interface FinalScore {
  readonly output?: string;
  readonly reference?: string;
  readonly rougeL?: number;
  readonly exact?: boolean;
}

export interface ExpectationScore {
  readonly target: string;
  readonly matcher: string;
  readonly status: 'passed' | 'failed' | 'skipped' | 'error';
  readonly message: string;
  readonly score?: number;
}

/** One `results.jsonl` line: one finished (item, model, mode). */
export interface EvalResult {
  readonly item: string;
  readonly model: string;
  readonly mode: EvalMode;
  readonly chainLength: number;
  readonly steps: readonly StepScore[];
  readonly final: FinalScore;
  /** The whole generated text (composed: the one generation; stepwise: outputs joined with markers) against `wholeReference`. */
  readonly whole?: { readonly rougeL: number };
  /** Composed: the markers could not be split; every step scored 0. */
  readonly splitFailed: boolean;
  readonly expectations?: readonly ExpectationScore[];
  readonly tokensIn: number;
  readonly tokensOut: number;
  readonly latencyMs: number;
  readonly modelCalls: number;
  /** Every step came from the step cache (no model call). */
  readonly cached: boolean;
  /** Why the triple failed to run (backend, input): not scored, counted as a failure. */
  readonly error?: string;
  readonly composability?: string;
  /** The run record's id. */
  readonly runId: string;
  /** For a model served by several endpoints: which one ran it, when, and the tries that failed elsewhere first. */
  readonly endpoint?: ServedBy;
  /**
   * What the run said about itself (its record's `warnings`: a composed run leaving the steps'
   * own sampling out, steps whose profiles disagree), absent when nothing; a composed
   * generation cut short is not repeated here (the step's `finishReason` counts it). Absent in
   * lines written before this field.
   */
  readonly warnings?: readonly string[];
}

export interface ServedBy {
  readonly url: string;
  /** ms since the epoch. */
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly failedTries?: readonly { readonly url: string; readonly error: string }[];
}

/** A mean with its 95 % bootstrap interval. */
export interface Interval {
  readonly mean: number;
  readonly low: number;
  readonly high: number;
  readonly n: number;
}

export const METRICS = ['final.rougeL', 'step.rougeL', 'whole.rougeL', 'final.exact', 'expectations.passRate', 'contractValid', 'latencyMs', 'tokensIn', 'tokensOut', 'modelCalls'] as const;
export type MetricName = (typeof METRICS)[number];

export type MetricIntervals = Partial<Record<MetricName, Interval>>;

export interface BreakdownRow {
  /** Chain length, 1-based step position, or task category. */
  readonly key: string;
  readonly n: number;
  readonly rougeL: Interval;
}

export interface GroupReport {
  readonly model: string;
  readonly label: string;
  readonly mode: EvalMode;
  /** Results scored (failures excluded). */
  readonly n: number;
  readonly failures: number;
  readonly splitFailures: number;
  /** Step outputs cut short (at their token bound, by the provider); absent when none was. */
  readonly cutOutputs?: CutOutputs;
  readonly cached: number;
  readonly expectations: { readonly passed: number; readonly failed: number; readonly total: number };
  readonly metrics: MetricIntervals;
  /** Final-output ROUGE-L by number of steps. */
  readonly byLength: readonly BreakdownRow[];
  /** Step ROUGE-L by 1-based step position. */
  readonly byPosition: readonly BreakdownRow[];
  /** Step ROUGE-L by task category. */
  readonly byCategory: readonly BreakdownRow[];
}

export interface Comparison {
  readonly metric: MetricName;
  readonly mode: EvalMode;
  /** `a`: the baseline; the difference is b − a. */
  readonly a: { readonly model: string; readonly mode: EvalMode; readonly store?: string };
  readonly b: { readonly model: string; readonly mode: EvalMode; readonly store?: string };
  /** Paired items (scored in both). */
  readonly n: number;
  readonly difference: Interval;
  readonly wins: number;
  readonly ties: number;
  readonly losses: number;
}

export interface EvalReport {
  readonly version: 1;
  readonly name: string;
  /** The store folder. */
  readonly store: string;
  readonly seed: number;
  readonly source: EvalSource;
  readonly counts: {
    readonly items: number;
    /** items × models × modes. */
    readonly expected: number;
    readonly results: number;
    readonly missing: number;
    readonly failures: number;
    readonly splitFailures: number;
  };
  readonly groups: readonly GroupReport[];
  readonly comparisons: readonly Comparison[];
  /** Items the composability check rejects (still evaluated). */
  readonly flagged: readonly { readonly item: string; readonly diagnostic: string }[];
  /** Lines of the store that could not be read (a torn last line is not listed). */
  readonly storeProblems: readonly string[];
  /** Models served by several endpoints: what each endpoint did (absent otherwise). */
  readonly endpoints?: readonly EndpointThroughput[];
  /** The runs' warnings (results' `warnings`), each distinct one once, in the order first met; `[]` when none. */
  readonly warnings: readonly RunWarning[];
}

/** A warning the runs of an evaluation gave, once, with how many results gave it and in which model × mode. */
export interface RunWarning {
  readonly message: string;
  /** Results whose run gave it. */
  readonly results: number;
  /** The model × mode groups those results belong to (the model's key), in the report's order. */
  readonly groups: readonly { readonly model: string; readonly mode: EvalMode }[];
}

/** One endpoint's share of an evaluation, from the results it served and the tries that failed on it. */
export interface EndpointThroughput {
  readonly url: string;
  /** Results it served. */
  readonly items: number;
  /** Items per second, over the time from its first start to its last finish. */
  readonly itemsPerSecond: number;
  readonly meanLatencyMs: number;
  /** Tries that failed on it (each item then ran elsewhere). */
  readonly failedTries: number;
}

export type ReportFormat = 'table' | 'json' | 'csv' | 'markdown';

/** A model to evaluate with: its configuration and how to get its backend for an item. */
export interface EvalModelPlan {
  readonly config: EvalModelConfig;
  /** The backends for an item's chain (its profiles, or one model for every profile). */
  resolverFor(item: EvalItem): BackendResolver;
  /** The profile a step without `model NAME` runs on (a file's profile as the model). */
  readonly defaultProfile?: string;
  /** Concurrent items on this model: OpenAI-compatible models > 1; local models share one lane. */
  readonly concurrency: number;
  /** Models of one lane run one item at a time together (the shared local worker). */
  readonly lane?: string;
  /** Several endpoints serving this model: its items are spread over them (endpoints.ts); `resolverFor` and `concurrency` are then unused. */
  readonly endpoints?: readonly EndpointPlan[];
}

/** One endpoint of a pooled model: its base URL, how many items it runs at once, its backends. */
export interface EndpointPlan {
  readonly url: string;
  readonly concurrency: number;
  resolverFor(item: EvalItem): BackendResolver;
}

export interface EvalPlan {
  readonly config: EvalConfig;
  readonly items: readonly EvalItem[];
  readonly models: readonly EvalModelPlan[];
}

export type EvalProgressEvent =
  | { readonly kind: 'start'; readonly total: number; readonly done: number; readonly failures: number }
  | {
      readonly kind: 'result';
      readonly result: EvalResult;
      readonly total: number;
      readonly done: number;
      readonly failures: number;
      /** Estimated time left, from this session's pace (absent until one triple finished). */
      readonly etaMs?: number;
    }
  /** A warning of a run (its result's `warnings`) not met before in this evaluation: each distinct one is sent once, before its result's event. */
  | { readonly kind: 'warning'; readonly message: string; readonly model: string; readonly mode: EvalMode }
  /** A pooled model's endpoint left the pool (its item runs elsewhere) or came back. */
  | { readonly kind: 'endpoint'; readonly url: string; readonly state: 'down' | 'up'; readonly error?: string; readonly retryInMs?: number }
  | { readonly kind: 'stopped'; readonly reason: 'cancelled' | 'max-failures' | 'endpoints-down' | 'model-down'; readonly done: number; readonly total: number; readonly failures: number; readonly message?: string };

export interface EvalRunOptions {
  /** The store folder (created; an existing store of the same configuration is resumed). */
  readonly out: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: EvalProgressEvent) => void;
  /** Stop scheduling once this many triples failed in this run (a resume counts afresh; in-flight ones finish and are kept, so more may be recorded). */
  readonly maxFailures?: number;
  readonly cache?: import('../runner/cache').StepCache;
  readonly timeoutMs?: number;
  /** Judge model for `judge` expectations (skipped without). */
  readonly judge?: import('../backends/types').ModelBackend;
  /** How long a failing endpoint first stays out of the pool (default 2 s; doubles with each failure in a row). */
  readonly endpointCooldownMs?: number;
}

export interface EvalRunSummary {
  readonly store: string;
  readonly status: 'complete' | 'cancelled' | 'max-failures' | 'endpoints-down' | 'model-down';
  readonly total: number;
  readonly done: number;
  /** Triples run in this session (the rest were already in the store). */
  readonly ranNow: number;
  /** Failed triples in the store, this session's and earlier ones. */
  readonly failures: number;
  /** Triples that failed in this session: what `maxFailures` counts. */
  readonly failedNow: number;
  /** Pooled models: what each endpoint did this session. */
  readonly endpoints?: readonly import('./endpoints').EndpointSummary[];
  /** Why it stopped early, in words (a model down: its error; every endpoint down: the last error of each). */
  readonly message?: string;
}
