/**
 * The messages between the extension/CLI (the host) and the local model worker
 * process, declared once for both sides. JSON-RPC over the Node IPC channel
 * (vscode-jsonrpc), so stdout/stderr stay free for llama.cpp's own output.
 */
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { GenerateResult, SamplingParams, OutputConstraint, Prompt } from '../types';

import type { GpuSetting } from '../../chain/model';

export type { GpuSetting };

/** Everything that decides which loaded model + context a request uses. */
export interface LocalModelSettings {
  /** Absolute GGUF path, or an `hf:` / https URI resolved into `modelsDir`. */
  readonly path: string;
  /** Where `hf:` URIs are downloaded to (node-llama-cpp's default folder when unset). */
  readonly modelsDir?: string;
  /** A download that receives nothing for this long fails (default 30 s): an unreachable or stalled server. */
  readonly downloadStallMs?: number;
  readonly gpu?: GpuSetting;
  readonly gpuLayers?: number | 'auto' | 'max';
  /** CPU threads; node-llama-cpp's own choice when unset. */
  readonly threads?: number;
  /** Context size in tokens; node-llama-cpp's `auto` when unset. */
  readonly contextSize?: number;
  /** A LoRA adapter GGUF (absolute path) applied on the model's context; the weights stay shared with the bare model. */
  readonly lora?: { readonly path: string; readonly scale: number };
  /**
   * Keep the evaluated tokens of the previous request on the context sequence so
   * a shared prompt prefix is not evaluated again (default true).
   */
  readonly reusePrefix?: boolean;
}

export interface WorkerGenerateParams {
  /** Chosen by the host; used for text chunks and cancellation. */
  readonly requestId: number;
  readonly model: LocalModelSettings;
  readonly prompt: Prompt;
  readonly params?: SamplingParams;
  readonly constraint?: OutputConstraint;
  /** Whether to send `textChunk` notifications. */
  readonly stream?: boolean;
  /** Streamed text is sent at most this often (default 50 ms; 0 = every piece at once). */
  readonly streamIntervalMs?: number;
}

export interface WorkerGenerateResult extends GenerateResult {
  /** Prompt tokens actually evaluated (the rest were reused from the previous request). */
  readonly evaluatedPromptTokens: number;
  /** Time spent loading/resolving the model for this request (0 when cached). */
  readonly loadMs: number;
}

export interface WorkerDescribeParams {
  readonly gpu?: GpuSetting;
  readonly threads?: number;
}

/** What the worker chose, for the UI. */
export interface WorkerInfo {
  /** `cuda`, `metal`, `vulkan`, or `false` for CPU only. */
  readonly gpu: string | false;
  readonly gpuDeviceNames: readonly string[];
  readonly vram: { readonly total: number; readonly used: number; readonly free: number };
  readonly cpuMathCores: number;
  readonly maxThreads: number;
  readonly nodeLlamaCppVersion: string;
  readonly pid: number;
  /** One entry per loaded context (a model file with one profile's context size, threads...). */
  readonly loadedModels: readonly { readonly path: string; readonly contextSize: number; readonly gpuLayers: number }[];
  /**
   * The model weights in memory: contexts on the same file, GPU setting, GPU layers
   * and thread count share one copy (`contexts` says how many use it).
   */
  readonly loadedWeights?: readonly LoadedWeightsInfo[];
}

export interface LoadedWeightsInfo {
  readonly path: string;
  readonly gpuLayers: number;
  /** Size of the weights in memory (bytes). */
  readonly sizeBytes: number;
  /** Loaded contexts (entries of `loadedModels`) using these weights. */
  readonly contexts: number;
}

/** Token counts of texts with a model's own tokenizer (only the vocabulary is loaded). */
export interface WorkerTokenizeParams {
  /** Absolute GGUF path, or an `hf:` / https URI resolved into `modelsDir`. */
  readonly path: string;
  readonly modelsDir?: string;
  readonly texts: readonly string[];
}

export interface WorkerTokenizeResult {
  /** Tokens of each text, the beginning-of-sequence token included when the model has one. */
  readonly counts: readonly number[];
  /** The context length the model was trained with. */
  readonly trainContextSize: number;
}

/** Errors cross the process boundary as JSON-RPC errors carrying this data. */
export interface WorkerErrorData {
  readonly backendCode: string;
}

export const generateRequest = new RequestType<WorkerGenerateParams, WorkerGenerateResult, WorkerErrorData>('coi/generate');
export const describeRequest = new RequestType<WorkerDescribeParams, WorkerInfo, WorkerErrorData>('coi/describe');
export const tokenizeRequest = new RequestType<WorkerTokenizeParams, WorkerTokenizeResult, WorkerErrorData>('coi/tokenize');
/** Drops every loaded model and context (frees memory without stopping the worker). */
export const unloadRequest = new RequestType<Record<string, never>, void, WorkerErrorData>('coi/unload');

export const cancelNotification = new NotificationType<{ readonly requestId: number }>('coi/cancel');
export const textChunkNotification = new NotificationType<{ readonly requestId: number; readonly text: string }>('coi/textChunk');
/** How far the download of an `hf:` / URL model has come (bytes). */
export interface DownloadProgress {
  readonly uri: string;
  readonly downloadedSize: number;
  readonly totalSize: number;
}

/** The worker starts (`loading: true`) or ends loading a model's weights: a crash in between is that model's fault. */
export const modelLoadNotification = new NotificationType<{ readonly path: string; readonly loading: boolean }>('coi/modelLoad');
export const downloadProgressNotification = new NotificationType<DownloadProgress & { readonly requestId: number }>('coi/downloadProgress');
