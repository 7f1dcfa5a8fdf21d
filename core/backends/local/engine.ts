/**
 * The node-llama-cpp side of the local backend: resolves and loads models,
 * keeps them (one context sequence each, so prompt prefixes are reused), turns
 * output constraints into grammars and runs generations. It runs inside the
 * worker process (worker.ts); nothing here knows about JSON-RPC.
 */
import { availableParallelism } from 'node:os';
import { BackendError, type ChatMessage, type OutputConstraint, type StopReason } from '../types';
import { labelsGrammar, listGrammar } from '../constraints';
import { fileRevision, isRemoteModelUri, localModelRevision, resolveModelPath } from './modelPath';
import { ggufStructureProblem, modelFileProblem } from './modelFile';
import { loadNodeLlamaCpp, type NodeLlamaCpp } from './nodeLlamaCpp';
import type { DownloadProgress, GpuSetting, LocalModelSettings, WorkerDescribeParams, WorkerGenerateParams, WorkerGenerateResult, WorkerInfo, WorkerTokenizeParams, WorkerTokenizeResult } from './protocol';

type Llama = Awaited<ReturnType<NodeLlamaCpp['getLlama']>>;
type LlamaModel = Awaited<ReturnType<Llama['loadModel']>>;
type LlamaContext = Awaited<ReturnType<LlamaModel['createContext']>>;
type LlamaContextSequence = ReturnType<LlamaContext['getSequence']>;
type LlamaChat = InstanceType<NodeLlamaCpp['LlamaChat']>;
type LlamaCompletion = InstanceType<NodeLlamaCpp['LlamaCompletion']>;
type LlamaGrammar = InstanceType<NodeLlamaCpp['LlamaGrammar']>;
type ChatHistoryItem = Parameters<LlamaChat['generateResponse']>[0][number];

export interface EngineHooks {
  readonly signal?: AbortSignal;
  readonly onText?: (text: string) => void;
  readonly onDownloadProgress?: (progress: DownloadProgress) => void;
  /** Loading a model's weights starts (`true`) or ends (`false`). */
  readonly onLoad?: (path: string, loading: boolean) => void;
  /** Where llama.cpp's log lines go (the worker writes them to stderr). */
  readonly log?: (line: string) => void;
}

/**
 * Model weights, loaded once per file and load settings and shared by every
 * context made from them (two profiles that differ only in context size must not
 * hold the weights twice). Counted: freed when the last context using them goes.
 */
interface SharedWeights {
  readonly key: string;
  readonly path: string;
  readonly loading: Promise<LlamaModel>;
  /** Set once `loading` succeeded. */
  model?: LlamaModel;
  /** Contexts using (or about to use) these weights. */
  users: number;
}

/** A context with the one sequence all its requests share, on shared weights. */
interface LoadedModel {
  readonly path: string;
  readonly weights: SharedWeights;
  readonly model: LlamaModel;
  readonly context: LlamaContext;
  readonly sequence: LlamaContextSequence;
  readonly chat: LlamaChat;
  readonly completion: LlamaCompletion;
  /** Requests on one sequence run one after another. */
  queue: Promise<unknown>;
  /** When it was last used (for eviction). */
  lastUsed: number;
}

function toHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    if (m.role === 'system') return { type: 'system', text: m.content };
    if (m.role === 'user') return { type: 'user', text: m.content };
    return { type: 'model', response: [m.content] };
  });
  // The model answers into a trailing model turn (or continues a given one).
  if (messages.at(-1)?.role !== 'assistant') history.push({ type: 'model', response: [] });
  return history;
}

function commonPrefixLength(a: readonly unknown[], b: readonly unknown[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function gpuError(gpu: GpuSetting | undefined, error: unknown, nlc: NodeLlamaCpp): BackendError {
  const setting = gpu ?? 'auto';
  // node-llama-cpp's NoBinaryFoundError keeps the name "Error" and the message "NoBinaryFoundError": known by its class.
  const reason = error instanceof nlc.NoBinaryFoundError ? `no llama.cpp build for "${setting}" works on this machine (is the GPU driver / toolkit installed?)` : (error as Error).message;
  return new BackendError('model-invalid', `Could not start llama.cpp with the GPU setting "${setting}": ${reason}. Use "auto" or "cpu" instead.`, { cause: error });
}

/** Waits for `promise`, or rejects with `cancelled` as soon as the signal fires. */
function waitUnlessAborted(promise: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
  const cancelled = (): BackendError => new BackendError('cancelled', 'The generation was cancelled.');
  if (signal?.aborted) return Promise.reject(cancelled());
  if (!signal) return promise.then(() => undefined);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) reject(cancelled());
      else resolve();
    });
  });
}

/** How long a model download may receive nothing before it fails. */
export const DEFAULT_DOWNLOAD_STALL_MS = 30_000;

function stalledDownloadMessage(uri: string, received: number, stallMs: number): string {
  const seconds = Math.round(stallMs / 1000);
  const what = received === 0 ? `no answer from the server within ${seconds} s (is the URL right and the server reachable?)` : `it stalled: nothing more arrived for ${seconds} s after ${(received / 1024 / 1024).toFixed(1)} MB`;
  return `Could not download ${uri}: ${what}. Try again, or download the GGUF file yourself and give its path.`;
}

/** The most tokens an answer gets by default: a quarter of the context (so that a later step's prompt can hold it), at most 2,048. */
export const DEFAULT_MAX_TOKENS_CAP = 2048;
export function defaultMaxTokens(contextSize: number): number {
  return Math.max(1, Math.min(DEFAULT_MAX_TOKENS_CAP, Math.floor(contextSize / 4)));
}

/**
 * The context the model was trained with, from its GGUF metadata (`<arch>.context_length`);
 * 0 when the file states none. A model loaded with its vocabulary only reports 0 as its
 * `trainContextSize` (llama.cpp reads no hyperparameters then), so the metadata is read here.
 */
function statedTrainContextSize(model: Pick<LlamaModel, 'trainContextSize' | 'fileInfo'>): number {
  if (model.trainContextSize > 0) return model.trainContextSize;
  const stated = model.fileInfo.architectureMetadata?.context_length;
  return typeof stated === 'number' && stated > 0 ? stated : 0;
}

/**
 * The thread count llama.cpp gets: at most the CPU threads this machine offers. More
 * would not be faster, and llama.cpp's threads then wait on each other so much that a few
 * tokens take minutes (`--threads 64` on 2 cores: 8 tokens in over 2 minutes instead of 24 ms).
 */
function usableThreads(threads: number | undefined): number | undefined {
  return threads === undefined ? undefined : Math.max(1, Math.min(threads, availableParallelism()));
}

function stopReasonOf(reason: string): StopReason {
  if (reason === 'maxTokens') return 'length';
  if (reason === 'customStopTrigger') return 'stop-sequence';
  if (reason === 'abort') return 'cancelled';
  return 'stop';
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (error instanceof Error && error.name === 'AbortError');
}

export class LocalEngine {
  private readonly llamas = new Map<string, Promise<Llama>>();
  private readonly models = new Map<string, Promise<LoadedModel>>();
  /** Compiled grammars by constraint, per Llama instance (a grammar belongs to one). */
  private readonly grammars = new WeakMap<Llama, Map<string, Promise<LlamaGrammar>>>();

  /** Weights by resolved path and load settings; see SharedWeights. */
  private readonly weights = new Map<string, SharedWeights>();
  /** Loaded models by key, once their load finished (for eviction). */
  private readonly ready = new Map<string, LoadedModel>();
  /** Requests holding a model key (from the start of a request, before its model is even loaded). */
  private readonly claims = new Map<string, number>();
  /** For each model setting (path, context size…), the key of the file revision last asked for (see modelFor). */
  private readonly latestKeys = new Map<string, string>();
  /**
   * Llamas that a model failed to load in, and models that a context failed to be created on.
   * node-llama-cpp 3.21.1 gives an object it is making a hold on its parent (a model on its Llama,
   * a context on its model) and, when the native load fails, releases it only as the parent's
   * dispose() disposes the half-made object, which it can reach only if the object has not been
   * garbage-collected yet. Once it has, the parent's dispose() waits forever, on nothing that keeps
   * the process alive (seen as `llama.dispose()` never returning after a refused GGUF). Their
   * dispose is started, never waited for (disposeEvenIfHeld).
   */
  private readonly heldByFailedLoad = new WeakSet<Llama | LlamaModel>();

  /**
   * @param maxLoadedModels contexts kept loaded at once (each profile setting of
   *   context size, threads... is one); the least recently used idle one is freed
   *   when another is loaded beyond this (default 3). Contexts on the same weights
   *   count one each; the weights go with the last of them.
   */
  constructor(
    private readonly log: (line: string) => void = () => {},
    private readonly maxLoadedModels = 3,
  ) {}

  /** Frees the loaded model of `key` unless a request holds it (then evictBeyondLimit frees it later). */
  private async freeIfIdle(key: string): Promise<void> {
    const m = this.ready.get(key);
    if (m === undefined || this.claims.get(key)) return;
    this.ready.delete(key);
    this.models.delete(key);
    await this.free(m);
  }

  private async evictBeyondLimit(keep: string): Promise<void> {
    while (this.ready.size > this.maxLoadedModels) {
      const idle = [...this.ready.entries()].filter(([key]) => key !== keep && !this.claims.get(key)).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
      const oldest = idle[0];
      if (!oldest) return;
      const [key, m] = oldest;
      this.ready.delete(key);
      this.models.delete(key);
      await this.free(m);
    }
  }

  private async free(m: LoadedModel): Promise<void> {
    try {
      m.chat.dispose({ disposeSequence: false });
      await m.context.dispose();
    } catch (error) {
      this.log(`Could not free a context of ${m.path}: ${(error as Error).message}`);
    }
    await this.releaseWeights(m.weights);
  }

  /** The shared weights for `key`, loading them with `load` if nobody holds them; counts one more user. */
  private acquireWeights(key: string, path: string, load: () => Promise<LlamaModel>): SharedWeights {
    let weights = this.weights.get(key);
    if (!weights) {
      const entry: SharedWeights = { key, path, loading: load(), users: 0 };
      this.weights.set(key, entry);
      entry.loading.then(
        (model) => (entry.model = model),
        () => {
          if (this.weights.get(key) === entry) this.weights.delete(key);
        },
      );
      weights = entry;
    }
    weights.users++;
    return weights;
  }

  /** One user fewer; the last one frees the weights (a failed load has nothing to free). */
  private async releaseWeights(weights: SharedWeights): Promise<void> {
    weights.users--;
    if (weights.users > 0) return;
    if (this.weights.get(weights.key) === weights) this.weights.delete(weights.key);
    const model = await weights.loading.catch(() => undefined);
    if (model !== undefined) await this.disposeEvenIfHeld(model, weights.path);
  }

  /**
   * Disposes a Llama or model (`what` names it in the log if that fails). One that a failed load
   * may hold forever (heldByFailedLoad) is left to finish when it can: waiting for it could hang
   * an unload or the engine's dispose. What it holds is freed when the worker ends.
   */
  private async disposeEvenIfHeld(target: Llama | LlamaModel, what: string): Promise<void> {
    const disposing = target.dispose().catch((error: unknown) => this.log(`Could not free ${what}: ${(error as Error).message}`));
    if (!this.heldByFailedLoad.has(target)) await disposing;
  }

  /** `llama.loadModel`; a Llama it fails in is one its failed model may hold (heldByFailedLoad). */
  private async loadModelIn(llama: Llama, options: Parameters<Llama['loadModel']>[0]): Promise<LlamaModel> {
    try {
      return await llama.loadModel(options);
    } catch (error) {
      this.heldByFailedLoad.add(llama);
      throw error;
    }
  }

  /**
   * One Llama per GPU setting and thread count: the thread count is the Llama's
   * (getLlama's maxThreads, the budget its contexts share), and weights belong to
   * one Llama, so profiles with different thread counts cannot share weights.
   */
  private static llamaKey(gpu: GpuSetting | undefined, threads: number | undefined): string {
    return `${gpu ?? 'auto'}|${usableThreads(threads) ?? ''}`;
  }

  private llamaFor(gpu: GpuSetting | undefined, requestedThreads: number | undefined): Promise<Llama> {
    const key = LocalEngine.llamaKey(gpu, requestedThreads);
    const threads = usableThreads(requestedThreads);
    let llama = this.llamas.get(key);
    if (!llama) {
      llama = (async () => {
        const { getLlama, LlamaLogLevel } = await loadNodeLlamaCpp();
        return getLlama({
          gpu: gpu === 'cpu' ? false : (gpu ?? 'auto'),
          ...(threads !== undefined ? { maxThreads: threads } : {}),
          build: 'never',
          logLevel: LlamaLogLevel.warn,
          logger: (level, message) => this.log(`[llama.cpp ${level}] ${message.trimEnd()}`),
        });
      })();
      this.llamas.set(key, llama);
      llama.catch(() => this.llamas.delete(key));
    }
    return llama;
  }

  async describe(params: WorkerDescribeParams): Promise<WorkerInfo> {
    const nlc = await loadNodeLlamaCpp();
    let llama: Llama;
    try {
      llama = await this.llamaFor(params.gpu, params.threads);
    } catch (error) {
      throw gpuError(params.gpu, error, nlc);
    }
    const vram = await llama.getVramState();
    return {
      gpu: llama.gpu,
      gpuDeviceNames: await llama.getGpuDeviceNames(),
      vram: { total: vram.total, used: vram.used, free: vram.free },
      cpuMathCores: llama.cpuMathCores,
      maxThreads: llama.maxThreads,
      nodeLlamaCppVersion: await nlc.getModuleVersion(),
      pid: process.pid,
      loadedModels: [...this.ready.values()].map((m) => ({ path: m.path, contextSize: m.context.contextSize, gpuLayers: m.model.gpuLayers })),
      loadedWeights: [...this.weights.values()].flatMap(({ path, model, users }) => (model ? [{ path, gpuLayers: model.gpuLayers, sizeBytes: model.size, contexts: users }] : [])),
    };
  }

  private async resolvePath(settings: LocalModelSettings, hooks: EngineHooks): Promise<string> {
    if (!isRemoteModelUri(settings.path)) {
      const path = resolveModelPath(settings.path);
      // Checked before llama.cpp opens it: a FIFO would block the worker; an empty or cut-short file, a GGUF version
      // llama.cpp does not read and impossible counts get a plain reason (llama.cpp's own goes only to the worker's log).
      const problem = modelFileProblem(path);
      if (problem?.kind === 'missing') throw new BackendError('model-not-found', `Model file not found: ${path}`);
      if (problem !== undefined) throw new BackendError('model-invalid', `Cannot use the model file ${path}: ${problem.reason}.`);
      return path;
    }
    const { resolveModelFile } = await loadNodeLlamaCpp();
    // node-llama-cpp retries an unreachable server without end: a watchdog aborts the
    // download when nothing arrives for `stallMs` (from the start, or since the last bytes).
    const stallMs = settings.downloadStallMs ?? DEFAULT_DOWNLOAD_STALL_MS;
    const watchdog = new AbortController();
    let received = 0;
    let timer = setTimeout(() => watchdog.abort(), stallMs);
    const onCancel = (): void => watchdog.abort();
    hooks.signal?.addEventListener('abort', onCancel, { once: true });
    // The signal does not stop node-llama-cpp's connection retries: the watchdog also ends the wait itself.
    const gaveUp = new Promise<never>((_, reject) => watchdog.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    gaveUp.catch(() => undefined);
    try {
      return await Promise.race([gaveUp, resolveModelFile(settings.path, {
        ...(settings.modelsDir !== undefined ? { directory: settings.modelsDir } : {}),
        cli: false,
        onProgress: ({ downloadedSize, totalSize }) => {
          if (downloadedSize > received) {
            received = downloadedSize;
            clearTimeout(timer);
            timer = setTimeout(() => watchdog.abort(), stallMs);
          }
          hooks.onDownloadProgress?.({ uri: settings.path, downloadedSize, totalSize });
        },
        signal: watchdog.signal,
      })]);
    } catch (error) {
      if (hooks.signal?.aborted === true) throw new BackendError('cancelled', `Download of ${settings.path} was cancelled.`);
      if (watchdog.signal.aborted) throw new BackendError('model-not-found', stalledDownloadMessage(settings.path, received, stallMs));
      throw new BackendError('model-not-found', `Could not resolve or download ${settings.path}: ${(error as Error).message}`, { cause: error });
    } finally {
      clearTimeout(timer);
      hooks.signal?.removeEventListener('abort', onCancel);
    }
  }

  private async load(settings: LocalModelSettings, hooks: EngineHooks): Promise<LoadedModel> {
    const path = await this.resolvePath(settings, hooks);
    const nlc = await loadNodeLlamaCpp();
    let llama: Llama;
    try {
      llama = await this.llamaFor(settings.gpu, settings.threads);
    } catch (error) {
      throw gpuError(settings.gpu, error, nlc);
    }
    // Context size does not matter for the weights; the thread count does (see llamaKey).
    const gpuLayers = settings.gpuLayers ?? 'auto';
    // The file's revision too: a file replaced at the same path is other weights (see modelFor).
    const weightsKey = JSON.stringify([LocalEngine.llamaKey(settings.gpu, settings.threads), path, gpuLayers, fileRevision(path)]);
    const weights = this.acquireWeights(weightsKey, path, () => {
      hooks.onLoad?.(path, true);
      const loading = this.loadWeights(llama, path, gpuLayers);
      const ended = (): void => hooks.onLoad?.(path, false);
      loading.then(ended, ended);
      return loading;
    });
    let model: LlamaModel;
    try {
      model = await weights.loading;
    } catch (error) {
      await this.releaseWeights(weights);
      throw error;
    }
    const adapterProblem = settings.lora === undefined ? undefined : modelFileProblem(settings.lora.path);
    if (adapterProblem !== undefined) {
      await this.releaseWeights(weights);
      throw new BackendError(adapterProblem.kind === 'missing' ? 'model-not-found' : 'model-invalid', `Cannot use the LoRA adapter ${settings.lora?.path ?? ''}: ${adapterProblem.kind === 'missing' ? 'file not found' : adapterProblem.reason}.`);
    }
    let context: LlamaContext;
    try {
      context = await model.createContext({
        ...(settings.contextSize !== undefined ? { contextSize: settings.contextSize } : {}),
        ...(settings.lora !== undefined ? { lora: { adapters: [{ filePath: settings.lora.path, scale: settings.lora.scale }] } } : {}),
        ...(settings.threads !== undefined ? { threads: usableThreads(settings.threads) } : {}),
        sequences: 1,
      });
    } catch (error) {
      this.heldByFailedLoad.add(model);
      await this.releaseWeights(weights);
      if (error instanceof nlc.InsufficientMemoryError) throw new BackendError('out-of-memory', `Not enough memory for a context of ${settings.contextSize ?? 'auto'} tokens with ${path}: ${error.message}. Lower the profile's contextSize (or gpuLayers).`, { cause: error });
      throw new BackendError('model-invalid', `Could not create a context for ${path}: ${(error as Error).message}`, { cause: error });
    }
    const sequence = context.getSequence();
    const chat = new nlc.LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
    const completion = new nlc.LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
    return { path, weights, model, context, sequence, chat, completion, queue: Promise.resolve(), lastUsed: Date.now() };
  }

  private async loadWeights(llama: Llama, path: string, gpuLayers: NonNullable<LocalModelSettings['gpuLayers']>): Promise<LlamaModel> {
    const nlc = await loadNodeLlamaCpp();
    try {
      return await this.loadModelIn(llama, { modelPath: path, gpuLayers });
    } catch (error) {
      if (error instanceof nlc.InsufficientMemoryError) throw new BackendError('out-of-memory', `Not enough memory to load ${path}: ${error.message}. Try fewer GPU layers or a smaller model.`, { cause: error });
      const structure = ggufStructureProblem(path);
      if (structure !== undefined) throw new BackendError('model-invalid', `Could not load the GGUF model ${path}: ${structure}. Download or copy it again.`, { cause: error });
      throw new BackendError('model-invalid', `Could not load the GGUF model ${path}: ${(error as Error).message.replace(/\.$/, '')}. Is the file complete and a GGUF model llama.cpp supports?`, { cause: error });
    }
  }

  /**
   * The loaded model for `settings`. Its key holds the model file's (and adapter's) size and
   * modification time, as the step cache's does (localModelRevision): a GGUF replaced at the same
   * path (a fine-tune exported again) is loaded afresh, not answered by the weights of the file it
   * replaced, whose answers the step cache would then keep under the new file's key. The context
   * of the file it replaced is freed at once when nothing uses it.
   */
  private modelFor(settings: LocalModelSettings, hooks: EngineHooks): { key: string; loaded: Promise<LoadedModel>; fresh: boolean } {
    const settingsKey = JSON.stringify([settings.path, settings.modelsDir, settings.gpu, settings.gpuLayers, settings.threads, settings.contextSize, settings.lora ?? null]);
    const key = JSON.stringify([settingsKey, localModelRevision(settings)]);
    const existing = this.models.get(key);
    if (existing) return { key, loaded: existing, fresh: false };
    const replaced = this.latestKeys.get(settingsKey);
    this.latestKeys.set(settingsKey, key);
    if (replaced !== undefined) void this.freeIfIdle(replaced);
    const loaded = this.load(settings, hooks);
    this.models.set(key, loaded);
    loaded.then(
      (m) => this.ready.set(key, m),
      () => this.models.delete(key),
    );
    return { key, loaded, fresh: true };
  }

  private async grammarFor(constraint: OutputConstraint | undefined, llama: Llama): Promise<LlamaGrammar | undefined> {
    if (!constraint) return undefined;
    // The steps of a chain run again and again with the same contracts: compile once.
    const key = JSON.stringify(constraint);
    let cache = this.grammars.get(llama);
    if (!cache) this.grammars.set(llama, (cache = new Map()));
    let grammar = cache.get(key);
    if (!grammar) {
      grammar = this.compileGrammar(constraint, llama);
      if (cache.size >= 64) cache.delete(cache.keys().next().value as string);
      cache.set(key, grammar);
      const owner = cache;
      grammar.catch(() => owner.delete(key));
    }
    return grammar;
  }

  private async compileGrammar(constraint: OutputConstraint, llama: Llama): Promise<LlamaGrammar> {
    const { LlamaGrammar } = await loadNodeLlamaCpp();
    try {
      switch (constraint.kind) {
        case 'labels':
          return new LlamaGrammar(llama, { grammar: labelsGrammar(constraint.labels) });
        case 'list':
          return new LlamaGrammar(llama, { grammar: listGrammar(constraint.minItems, constraint.maxItems) });
        case 'json-schema':
          // node-llama-cpp supports a subset of JSON Schema; it throws on the rest.
          return await llama.createGrammarForJsonSchema(constraint.schema as Parameters<Llama['createGrammarForJsonSchema']>[0]);
      }
    } catch (error) {
      throw new BackendError('constraint-unsupported', `The ${constraint.kind} output constraint cannot be turned into a grammar: ${(error as Error).message}`, { cause: error });
    }
  }

  async generate(request: WorkerGenerateParams, hooks: EngineHooks = {}): Promise<WorkerGenerateResult> {
    const started = Date.now();
    const { key, loaded: loading, fresh } = this.modelFor(request.model, hooks);
    this.claims.set(key, (this.claims.get(key) ?? 0) + 1);
    try {
      const loaded = await loading;
      if (fresh) await this.evictBeyondLimit(key);
      return await this.generateWith(loaded, request, hooks, fresh ? Date.now() - started : 0);
    } finally {
      const left = (this.claims.get(key) ?? 1) - 1;
      if (left > 0) this.claims.set(key, left);
      else this.claims.delete(key);
    }
  }

  private async generateWith(loaded: LoadedModel, request: WorkerGenerateParams, hooks: EngineHooks, loadMs: number): Promise<WorkerGenerateResult> {
    // One request at a time per sequence. A waiter cancelled in the queue leaves
    // at once; the one after it still waits for the request ahead of both.
    const previous = loaded.queue.catch(() => undefined);
    let release!: () => void;
    const done = new Promise<void>((r) => (release = r));
    loaded.queue = previous.then(() => done);
    try {
      await waitUnlessAborted(previous, hooks.signal);
      return await this.run(loaded, request, hooks, loadMs);
    } finally {
      release();
      loaded.lastUsed = Date.now();
    }
  }

  /**
   * The prompt must leave room in the context; the answer is bounded to what is left
   * (and by default to a quarter of the context, see defaultMaxTokens), so that it never
   * generates past its context through context shifting (the next step's prompt would
   * then not fit).
   */
  private outputBound(loaded: LoadedModel, promptTokens: number, asked: number | undefined): number {
    const size = loaded.context.contextSize;
    if (promptTokens >= size) {
      throw new BackendError(
        'prompt-too-long',
        `The prompt is ${promptTokens} tokens long but the context of ${loaded.path} holds ${size}. ` +
          "Give a larger context (--context N with coi run, coi test, coi eval or coi finetune eval; the coi.local.contextSize setting in VS Code for chains without one, or `context N` in the chain's local model profile) or shorten the input.",
      );
    }
    return Math.min(asked ?? defaultMaxTokens(size), size - promptTokens);
  }

  private async run(loaded: LoadedModel, request: WorkerGenerateParams, hooks: EngineHooks, loadMs: number): Promise<WorkerGenerateResult> {
    const started = Date.now();
    const grammar = await this.grammarFor(request.constraint, loaded.model.llama);
    if (request.model.reusePrefix === false) await loaded.sequence.clearHistory();
    const meter = loaded.sequence.tokenMeter.getState();
    const p = request.params ?? {};
    const options = {
      ...(hooks.onText ? { onTextChunk: hooks.onText } : {}),
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
      ...(p.topK !== undefined ? { topK: p.topK } : {}),
      ...(p.topP !== undefined ? { topP: p.topP } : {}),
      ...(p.seed !== undefined ? { seed: p.seed } : {}),
      ...(p.stop && p.stop.length > 0 ? { customStopTriggers: [...p.stop] } : {}),
      ...(grammar ? { grammar } : {}),
    };
    let text: string;
    let reason: string;
    let promptTokens: number;
    // The sequence keeps the longest common prefix of its tokens and the new prompt.
    const before = loaded.sequence.contextTokens;
    let reused = 0;
    try {
      let tokens: readonly number[];
      if (request.prompt.kind === 'chat') {
        const history = toHistory(request.prompt.messages);
        tokens = loaded.chat.chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(loaded.model.tokenizer);
        const maxTokens = this.outputBound(loaded, tokens.length, p.maxTokens);
        reused = commonPrefixLength(before, tokens);
        const response = await loaded.chat.generateResponse(history, { ...options, maxTokens });
        text = response.response;
        reason = response.metadata.stopReason;
      } else {
        const bos = loaded.model.tokens.bos;
        tokens = [...(bos !== null ? [bos] : []), ...loaded.model.tokenize(request.prompt.text)];
        const maxTokens = this.outputBound(loaded, tokens.length, p.maxTokens);
        reused = commonPrefixLength(before, tokens);
        const response = await loaded.completion.generateCompletionWithMeta(request.prompt.text, { ...options, maxTokens });
        text = response.response;
        reason = response.metadata.stopReason;
      }
      promptTokens = tokens.length;
    } catch (error) {
      if (error instanceof BackendError) throw error;
      if (isAbort(error, hooks.signal)) throw new BackendError('cancelled', 'The generation was cancelled.');
      const nlc = await loadNodeLlamaCpp();
      if (error instanceof nlc.InsufficientMemoryError) throw new BackendError('out-of-memory', `Out of memory while generating with ${loaded.path}: ${error.message}`, { cause: error });
      throw error;
    }
    const completionTokens = loaded.sequence.tokenMeter.diff(meter).usedOutputTokens;
    const evaluatedPromptTokens = promptTokens - reused;
    return { text, promptTokens, completionTokens, evaluatedPromptTokens, durationMs: Date.now() - started, loadMs, stopReason: stopReasonOf(reason) };
  }

  /** Token counts with the model's tokenizer: loads its vocabulary only (no weights, no context), then frees it. */
  async tokenize(params: WorkerTokenizeParams, hooks: EngineHooks = {}): Promise<WorkerTokenizeResult> {
    const path = await this.resolvePath({ path: params.path, ...(params.modelsDir !== undefined ? { modelsDir: params.modelsDir } : {}) }, hooks);
    const llama = await this.llamaFor(undefined, undefined);
    let model: LlamaModel;
    try {
      model = await this.loadModelIn(llama, { modelPath: path, vocabOnly: true });
    } catch (error) {
      const structure = ggufStructureProblem(path);
      throw new BackendError('model-invalid', `Could not read the tokenizer of ${path}: ${structure !== undefined ? `${structure}.` : `${(error as Error).message.replace(/\.$/, '')}. Is the file a complete GGUF model?`}`, { cause: error });
    }
    try {
      const bos = model.tokens.bos === null ? 0 : 1;
      const counts: number[] = [];
      for (const text of params.texts) {
        if (hooks.signal?.aborted === true) throw new BackendError('cancelled', 'Token counting was cancelled.');
        counts.push(bos + model.tokenize(text).length);
      }
      return { counts, trainContextSize: statedTrainContextSize(model) };
    } finally {
      await model.dispose();
    }
  }

  async unload(): Promise<void> {
    const models = [...this.models.values()];
    this.models.clear();
    this.ready.clear();
    for (const pending of models) {
      const m = await pending.catch(() => undefined); // A failed load has nothing to free.
      if (m) await this.free(m);
    }
  }

  async dispose(): Promise<void> {
    await this.unload();
    for (const pending of this.llamas.values()) {
      const llama = await pending.catch(() => undefined); // One that failed to start has nothing to free.
      if (llama !== undefined) await this.disposeEvenIfHeld(llama, 'llama.cpp');
    }
    this.llamas.clear();
  }
}
