/**
 * Every message between the CoI Studio side panel (webview/) and the extension
 * (client/panel/), declared once and imported by both sides. The webview sends
 * requests with ids and gets one response each; the extension pushes events.
 * Pure types and tiny helpers: no DOM, no `vscode`.
 */
import type { EvalMode, EvalReport, EvalResult } from '../core/eval/types';
import type { JobStatus, MetricEvent } from '../core/finetune/job';
import type { FORM_DEFAULTS, FormField, JobForm } from '../core/finetune/form';
import type { RunRecordSummary } from '../core/runner/runStore';

export type PanelTab = 'runs' | 'evals' | 'jobs' | 'models';

// ---- Runs ----------------------------------------------------------------

export type RunStatus = RunRecordSummary['status'];

/** A run record's summary (as core's run store lists it) and where the record lives. */
export interface RunRow extends RunRecordSummary {
  /** Where the record lives: `.coi-cache/runs` of the workspace (CLI runs) or the editor's storage. */
  readonly origin: 'workspace' | 'editor';
}

export interface RunFilter {
  /** Exact chain name; empty or absent: every chain. */
  readonly chain?: string;
  readonly status?: RunStatus;
}

export interface RunList {
  readonly runs: readonly RunRow[];
  /** Every chain name with a recorded run (for the filter), sorted. */
  readonly chains: readonly string[];
  /** Runs before filtering. */
  readonly total: number;
}

export interface RunStepView {
  readonly id: string;
  readonly index: number;
  readonly status: 'ok' | 'failed' | 'cancelled' | 'skipped';
  readonly prompt?: string;
  readonly output?: string;
  /** The model's text before validation, when it differs from `output`. */
  readonly rawOutput?: string;
  /** A failed or cancelled step: what the model had streamed before its call stopped (incomplete, never validated). */
  readonly partialOutput?: string;
  readonly cached: boolean;
  readonly pinned: boolean;
  readonly durationMs: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly error?: { readonly code: string; readonly message: string };
  readonly warnings: readonly string[];
  /** Why the generation ended (`stop`, `stop-sequence`; cut short: `length` at its token bound, `content-filter`, `provider-error`); absent for pinned or older records. */
  readonly finishReason?: string;
}

export interface RunDetail {
  readonly row: RunRow;
  readonly template: string;
  readonly backend: string;
  readonly inputs: Readonly<Record<string, string>>;
  readonly error?: string;
  readonly warnings: readonly string[];
  readonly stopAfter?: string;
  readonly rerunFrom?: string;
  readonly modelCalls: number;
  /**
   * Composed runs: the one generation before it was split (kept also when the split failed); a
   * generation that failed, timed out or was cancelled has no `rawOutput` but the text it had
   * streamed, `partialOutput`.
   */
  readonly composed?: { readonly prompt: string; readonly rawOutput?: string; readonly partialOutput?: string; readonly cached: boolean; readonly durationMs: number; readonly promptTokens: number; readonly completionTokens: number };
  readonly steps: readonly RunStepView[];
}

// ---- Models --------------------------------------------------------------

export interface ModelsView {
  /** The active `.coi` editor's file (absent: no chain open). */
  readonly chainFile?: string;
  readonly profiles: readonly { readonly name: string; readonly provider: string; readonly model: string; readonly isDefault: boolean }[];
  /** What runs of the open chain use (`CoI: Select Model`), or `no model`. */
  readonly selected: string;
  readonly ggufFiles: readonly { readonly path: string; readonly sizeBytes: number; readonly folder: string }[];
  /** Folders searched for GGUF files, with why (setting, node-llama-cpp cache). */
  readonly searched: readonly { readonly folder: string; readonly why: string; readonly exists: boolean }[];
}

export interface ComputeView {
  /** `cuda`, `metal`, `vulkan` or `cpu`. */
  readonly gpu: string;
  readonly gpuDevices: readonly string[];
  readonly vramBytes: number;
  readonly cpuMathCores: number;
  readonly maxThreads: number;
  readonly nodeLlamaCppVersion: string;
}

// ---- Evaluations -----------------------------------------------------------

export interface EvalStoreRow {
  /** The store folder (`.coi-evals/<name>/`). */
  readonly store: string;
  readonly name: string;
  readonly createdAt: string;
  readonly items: number;
  readonly models: readonly string[];
  readonly modes: readonly string[];
}

/** One evaluation opened: its report (summary, breakdowns, paired comparisons), not its items. */
export interface EvalOverview {
  readonly store: string;
  readonly report: EvalReport;
  /** Model key → label, for the item table's filter. */
  readonly models: readonly { readonly key: string; readonly label: string }[];
  readonly modes: readonly EvalMode[];
}

export type EvalSortKey = 'order' | 'item' | 'final.rougeL' | 'step.rougeL' | 'latencyMs';

export interface EvalPageQuery {
  readonly store: string;
  readonly model?: string;
  readonly mode?: EvalMode;
  /** Items whose id contains this text (case-insensitive). */
  readonly item?: string;
  readonly only?: 'failures' | 'split-failures' | 'expectation-failures';
  readonly sortBy?: EvalSortKey;
  readonly descending?: boolean;
  readonly offset: number;
  /** At most `maxEvalPageSize`. */
  readonly limit: number;
}

/** The extension never posts more than this many results at once. */
export const maxEvalPageSize = 200;

export interface EvalPage {
  /** Results matching the filter, before paging. */
  readonly total: number;
  readonly offset: number;
  readonly results: readonly EvalResult[];
}

// ---- Fine-tuning -----------------------------------------------------------

export interface JobRow {
  readonly id: string;
  /** The job folder (`.coi-jobs/<id>/`). */
  readonly folder: string;
  readonly status: JobStatus;
  readonly updatedAt: string;
  readonly method?: string;
  readonly baseModel?: string;
  /** The step of the last metric line (0 before the first). */
  readonly stepsDone: number;
  readonly stepsTotal?: number;
  readonly lastLoss?: number;
  readonly checkpoint?: string;
  readonly checkpointStep?: number;
  /** Why it failed or was cancelled. */
  readonly message?: string;
  readonly canCancel: boolean;
  readonly canResume: boolean;
  /** Why "Evaluate against the base model" and "Use as a model profile" cannot be used (core/finetune profileRefusal): they are shown unavailable (aria-disabled, still in the tab order), this their tooltip and accessible description; absent when they can. */
  readonly profileRefusal?: string;
  /** The store of the last evaluation against the base model, when there is one. */
  readonly evaluation?: string;
}

export interface JobsView {
  /** The jobs of every workspace folder, newest first. */
  readonly jobs: readonly JobRow[];
  readonly searched: readonly string[];
  /** Job folders that could not be read, with why. */
  readonly unreadable: readonly { readonly folder: string; readonly error: string }[];
  /** Why the states may be out of date (Restricted Mode reads them as recorded). */
  readonly notice?: string;
}

/** The extension never posts more metric lines than this at once; the webview asks for the rest. */
export const maxMetricBatch = 2000;

export interface JobMetricsBatch {
  readonly row: JobRow;
  /** Metric lines from `fromLine` on, at most `maxMetricBatch`. */
  readonly metrics: readonly MetricEvent[];
  /** Where the next request starts. */
  readonly nextLine: number;
  /** More lines are already there (ask again at once). */
  readonly more: boolean;
  /** The last lines of the training log, as text. */
  readonly logTail: string;
  /** Why the state may be out of date (Restricted Mode reads it as recorded). */
  readonly notice?: string;
}

/** What the "New fine-tuning job" form shows before the user types anything. */
export interface JobFormView {
  /** The defaults (the paper's), shown as each field's placeholder. */
  readonly defaults: Readonly<Record<keyof typeof FORM_DEFAULTS, number>>;
  readonly engines: readonly string[];
  /** Whether the training environment is set up (`coi finetune setup`); the form says so when not. */
  readonly environmentReady: boolean;
  /** Relative paths in the form resolve against this folder (the first workspace folder). */
  readonly workspace?: string;
}

/** `startJob`'s answer: the new job's folder, the problems of the form, or nothing when the user did not confirm. */
/** `fields`: for each problem, the form's field it is about (null: the job as a whole); the form marks those fields invalid. */
export type StartJobResult = { readonly folder: string } | { readonly problems: readonly string[]; readonly fields?: readonly (FormField | null)[] } | null;

// ---- Requests and events ---------------------------------------------------

/**
 * A read that can overlap others of its kind, numbered by the webview: `seq` goes up with
 * each request, and the answer carries the request's `seq` back. The run list is read again
 * on every change of the run records and at once on a change of its filters, and the
 * extension may finish these reads out of order: the webview drops an answer older than the
 * one on screen (or asked for before the user moved on), so an older list never overwrites a
 * newer one.
 */
export type Sequenced<T> = T & { readonly seq: number };

/** Every request the webview can make: its parameters and its result. */
export interface PanelRequests {
  listRuns: { params: Sequenced<RunFilter>; result: Sequenced<RunList> };
  openRun: { params: { readonly id: string }; result: RunDetail };
  openChainAtStep: { params: { readonly id: string; readonly step: string }; result: boolean };
  rerunFromStep: { params: { readonly id: string; readonly step: string }; result: boolean };
  models: { params: Record<string, never>; result: ModelsView };
  detectCompute: { params: Record<string, never>; result: ComputeView };
  listJobs: { params: Record<string, never>; result: JobsView };
  jobMetrics: { params: { readonly folder: string; readonly fromLine: number }; result: JobMetricsBatch };
  cancelJob: { params: { readonly folder: string }; result: boolean };
  resumeJob: { params: { readonly folder: string }; result: boolean };
  /** Adds the job's GGUF as a `model` profile to a .coi file; resolves to whether it did. */
  useJobAsProfile: { params: { readonly folder: string }; result: boolean };
  /** Evaluates the job's model against its base (CoI: Evaluate Fine-tuned Model Against Base); resolves to whether it ran. */
  evaluateJobAgainstBase: { params: { readonly folder: string }; result: boolean };
  jobForm: { params: Record<string, never>; result: JobFormView };
  /** A file or folder picked in VS Code's dialog (the form's Browse buttons); null when none. */
  pickPath: { params: { readonly kind: 'folder' | 'file'; readonly title: string }; result: string | null };
  /** CoI: Start Fine-tuning Job with the form's fields (confirmed in a modal dialog first). */
  startJob: { params: JobForm; result: StartJobResult };
  listEvals: { params: Record<string, never>; result: readonly EvalStoreRow[] };
  openEval: { params: { readonly store: string }; result: EvalOverview };
  evalPage: { params: EvalPageQuery; result: EvalPage };
  resumeEval: { params: { readonly store: string }; result: boolean };
  exportEval: { params: { readonly store: string; readonly format: 'csv' | 'markdown' }; result: string | null };
}

export type PanelMethod = keyof PanelRequests;

export type RequestMessage = {
  [M in PanelMethod]: { readonly kind: 'request'; readonly id: number; readonly method: M; readonly params: PanelRequests[M]['params'] };
}[PanelMethod];

export type ResponseMessage =
  | { readonly kind: 'response'; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly kind: 'response'; readonly id: number; readonly ok: false; readonly error: string };

/** Pushed by the extension, unasked. */
export type EventMessage =
  | { readonly kind: 'event'; readonly event: 'runsChanged' }
  | { readonly kind: 'event'; readonly event: 'evalsChanged'; readonly store: string }
  | { readonly kind: 'event'; readonly event: 'activeChainChanged' }
  | { readonly kind: 'event'; readonly event: 'jobChanged'; readonly folder: string }
  | { readonly kind: 'event'; readonly event: 'showTab'; readonly tab: PanelTab };

export type ToExtension = RequestMessage;
export type ToWebview = ResponseMessage | EventMessage;

const methods: readonly PanelMethod[] = ['listRuns', 'openRun', 'openChainAtStep', 'rerunFromStep', 'models', 'detectCompute', 'listJobs', 'jobMetrics', 'cancelJob', 'resumeJob', 'useJobAsProfile', 'evaluateJobAgainstBase', 'jobForm', 'pickPath', 'startJob', 'listEvals', 'openEval', 'evalPage', 'resumeEval', 'exportEval'];

/** Whether a message from the webview is a well-formed request (the extension trusts nothing else). */
export function isRequestMessage(value: unknown): value is RequestMessage {
  if (value === null || typeof value !== 'object') return false;
  const message = value as { kind?: unknown; id?: unknown; method?: unknown; params?: unknown };
  return message.kind === 'request' && typeof message.id === 'number' && typeof message.method === 'string' && (methods as readonly string[]).includes(message.method) && typeof message.params === 'object' && message.params !== null;
}

/** The state the webview keeps with `setState` across hide/show (retainContextWhenHidden is off). */
export interface PanelState {
  readonly tab: PanelTab;
  readonly runFilter: RunFilter;
  readonly openRun?: string;
  readonly compare?: readonly [string, string];
  readonly openEval?: string;
  readonly evalQuery?: Omit<EvalPageQuery, 'store'>;
  readonly openJob?: string;
  /** The result whose detail is open under the item table (`item NUL model NUL mode`). */
  readonly openItem?: string;
  /** The New job form is open, with what was typed in it (field → text). */
  readonly jobForm?: Readonly<Record<string, string>>;
}
