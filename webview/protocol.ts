/**
 * Every message between the CoI Studio side panel (webview/) and the extension
 * (client/panel/), declared once and imported by both sides. The webview sends
 * requests with ids and gets one response each; the extension pushes events.
 * Pure types and tiny helpers: no DOM, no `vscode`.
 */
import type { EvalMode, EvalReport, EvalResult } from '../core/eval/types';

export type PanelTab = 'runs' | 'evals' | 'jobs' | 'models';

// ---- Runs ----------------------------------------------------------------

export type RunStatus = 'ok' | 'failed' | 'cancelled';

export interface RunRow {
  readonly id: string;
  readonly chain: string;
  /** The `.coi` file, when the record names one. */
  readonly file?: string;
  readonly mode: string;
  readonly model: string;
  readonly startedAt: string;
  readonly status: RunStatus;
  readonly durationMs: number;
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
  readonly cached: boolean;
  readonly pinned: boolean;
  readonly durationMs: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly error?: { readonly code: string; readonly message: string };
  readonly warnings: readonly string[];
  /** Why the generation ended (`stop`, `stop-sequence`, `length`: cut at its token bound); absent for pinned or older records. */
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
  /** Composed runs: the one generation before it was split (kept also when the split failed). */
  readonly composed?: { readonly prompt: string; readonly rawOutput: string; readonly cached: boolean; readonly durationMs: number; readonly promptTokens: number; readonly completionTokens: number };
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

export interface JobsView {
  /** Job folders found under `.coi-jobs/` (none are readable until the job model lands). */
  readonly jobs: readonly { readonly name: string; readonly folder: string }[];
  readonly searched: readonly string[];
}

// ---- Requests and events ---------------------------------------------------

/** Every request the webview can make: its parameters and its result. */
export interface PanelRequests {
  listRuns: { params: RunFilter; result: RunList };
  openRun: { params: { readonly id: string }; result: RunDetail };
  openChainAtStep: { params: { readonly id: string; readonly step: string }; result: boolean };
  rerunFromStep: { params: { readonly id: string; readonly step: string }; result: boolean };
  models: { params: Record<string, never>; result: ModelsView };
  detectCompute: { params: Record<string, never>; result: ComputeView };
  listJobs: { params: Record<string, never>; result: JobsView };
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
  | { readonly kind: 'event'; readonly event: 'showTab'; readonly tab: PanelTab };

export type ToExtension = RequestMessage;
export type ToWebview = ResponseMessage | EventMessage;

const methods: readonly PanelMethod[] = ['listRuns', 'openRun', 'openChainAtStep', 'rerunFromStep', 'models', 'detectCompute', 'listJobs', 'listEvals', 'openEval', 'evalPage', 'resumeEval', 'exportEval'];

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
}
