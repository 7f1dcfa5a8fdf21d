/**
 * Starts and supervises the local model worker process (worker.ts, bundled to
 * dist/worker.js): started on the first request, reused, stopped after an idle
 * time, started again after a crash. When the worker dies with requests in
 * flight (a native abort in llama.cpp, SIGKILL, out of memory), those requests
 * fail with `worker-crashed`, the exit code or signal and the last lines the
 * worker printed; the next request starts a fresh worker.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, ResponseError, type MessageConnection, type NotificationType, type RequestType } from 'vscode-jsonrpc/node';
import { BackendError, type BackendErrorCode } from '../types';
import { ggufStructureProblem } from './modelFile';
import { cancelNotification, describeRequest, downloadProgressNotification, modelLoadNotification, textChunkNotification, tokenizeRequest, unloadRequest, type DownloadProgress, type WorkerDescribeParams, type WorkerErrorData, type WorkerInfo, type WorkerTokenizeParams, type WorkerTokenizeResult } from './protocol';

export interface WorkerHostOptions {
  /** The worker script: dist/worker.js (or out/core/backends/local/worker.js). */
  readonly workerPath: string;
  /** Stop the worker after this long without requests (default 5 minutes; 0 = never). */
  readonly idleTimeoutMs?: number;
  /** The Node binary for the worker (default: this process's). */
  readonly execPath?: string;
  /** Node options for the worker (e.g. `--max-old-space-size`). */
  readonly execArgv?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Each line the worker prints (llama.cpp logs, warnings). */
  readonly onLog?: (line: string) => void;
  /** How many of the worker's last output lines go into a crash message (default 12). */
  readonly crashTailLines?: number;
  /** Called when a worker process ends (idle stop, crash, dispose). */
  readonly onWorkerExit?: (exit: { readonly pid: number | undefined; readonly code: number | null; readonly signal: NodeJS.Signals | null }) => void;
}

export interface RequestHooks {
  readonly requestId?: number;
  readonly onText?: (text: string) => void;
  readonly onDownloadProgress?: (progress: DownloadProgress) => void;
}

interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface RunningWorker {
  readonly process: ChildProcess;
  readonly connection: MessageConnection;
  readonly exited: Promise<ExitInfo>;
  readonly outputTail: string[];
  pending: number;
  stopping: boolean;
  /** Models whose weights the worker is loading now (a crash meanwhile is the model's). */
  readonly loading: Set<string>;
  /** Rejecters of the requests in flight, called when the process ends. */
  readonly onExit: Set<(exit: ExitInfo) => void>;
}

// Typed as a record so the compiler says when BackendErrorCode gains a code this list lacks.
const KNOWN_CODES: Readonly<Record<BackendErrorCode, true>> = {
  'model-not-found': true,
  'model-invalid': true,
  'out-of-memory': true,
  'server-rejected': true,
  'rate-limited': true,
  'timed-out': true,
  cancelled: true,
  'worker-crashed': true,
  'constraint-unsupported': true,
  'prompt-too-long': true,
  'runtime-unavailable': true,
  refused: true,
  'bad-response': true,
};

const FATAL_LLAMA_ERROR = 'llama.cpp hit a fatal error, often a model file it cannot handle';

function describeExit(exit: ExitInfo): string {
  if (exit.signal === 'SIGKILL') return 'was killed (SIGKILL: out of memory, or stopped by another program)';
  // llama.cpp's GGML_ASSERT calls abort(): the parent sees the signal (a shell reports it as exit code 134).
  if (exit.signal === 'SIGABRT') return `aborted (SIGABRT: ${FATAL_LLAMA_ERROR})`;
  if (exit.signal) return `was stopped by signal ${exit.signal}`;
  if (exit.code === 134) return `aborted (exit code 134: ${FATAL_LLAMA_ERROR})`;
  return `exited with code ${exit.code ?? 'unknown'}`;
}

/**
 * The source checkout the worker script belongs to: the nearest folder above it with a
 * package.json, when scripts/build.mjs is beside that (an installed extension or CLI has
 * no scripts/). Undefined for an installation.
 */
function sourceCheckoutOf(workerPath: string): string | undefined {
  for (let dir = dirname(workerPath), depth = 0; depth < 6; dir = dirname(dir), depth++) {
    if (existsSync(join(dir, 'package.json'))) return existsSync(join(dir, 'scripts', 'build.mjs')) ? dir : undefined;
    if (dirname(dir) === dir) break;
  }
  return undefined;
}

/** The worker script is not there: in a checkout, build it; an installation lacking it is broken. */
function missingWorkerMessage(workerPath: string): string {
  const checkout = sourceCheckoutOf(workerPath);
  const what = `The local model worker script is missing: ${workerPath}.`;
  if (checkout !== undefined) return `${what} Build it with \`node scripts/build.mjs\` in ${checkout}.`;
  return `${what} This CoI Studio installation is incomplete: reinstall CoI Studio (the VS Code extension, or the package that provides the coi command).`;
}

export class WorkerHost {
  private worker: RunningWorker | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly handlers = new Map<number, RequestHooks>();
  private requestCounter = 0;
  private disposed = false;
  /** How many worker processes this host has started (tests and diagnostics). */
  startCount = 0;

  constructor(private readonly options: WorkerHostOptions) {}

  /** The running worker's process id, if one is running. */
  get pid(): number | undefined {
    return this.worker?.process.pid;
  }

  nextRequestId(): number {
    return ++this.requestCounter;
  }

  private start(): RunningWorker {
    if (!existsSync(this.options.workerPath)) {
      throw new BackendError('worker-crashed', missingWorkerMessage(this.options.workerPath));
    }
    const env = { ...(this.options.env ?? process.env) };
    // Inside VS Code, process.execPath is Electron: make it behave as plain Node.
    if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
    const child = fork(this.options.workerPath, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [...(this.options.execArgv ?? [])],
      ...(this.options.execPath ? { execPath: this.options.execPath } : {}),
      env,
      serialization: 'json',
    });
    this.startCount++;
    const outputTail: string[] = [];
    const keep = this.options.crashTailLines ?? 12;
    const collect = (stream: Readable | null): void => {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (data: string) => {
        const lines = (partial + data).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (line.trim() === '') continue;
          outputTail.push(line);
          if (outputTail.length > keep) outputTail.shift();
          this.options.onLog?.(line);
        }
      });
    };
    collect(child.stdout);
    collect(child.stderr);
    const exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: child.exitCode, signal: child.signalCode }));
    });
    const connection = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
    connection.onNotification(textChunkNotification, ({ requestId, text }) => this.handlers.get(requestId)?.onText?.(text));
    connection.onNotification(downloadProgressNotification, ({ requestId, ...progress }) => this.handlers.get(requestId)?.onDownloadProgress?.(progress));
    const loading = new Set<string>();
    connection.onNotification(modelLoadNotification, ({ path, loading: started }) => void (started ? loading.add(path) : loading.delete(path)));
    connection.onError(() => undefined); // Surfaced through the exit of the process.
    connection.listen();
    const worker: RunningWorker = { process: child, connection, exited, outputTail, pending: 0, stopping: false, loading, onExit: new Set() };
    void exited.then((exit) => {
      for (const fail of worker.onExit) fail(exit);
      connection.dispose();
      if (this.worker === worker) this.worker = undefined;
      this.options.onWorkerExit?.({ pid: child.pid, ...exit });
    });
    this.setReferenced(worker, false);
    return worker;
  }

  /** While idle the worker must not keep the caller's process alive. */
  private setReferenced(worker: RunningWorker, referenced: boolean): void {
    const child = worker.process as ChildProcess & { channel?: { ref(): void; unref(): void } };
    const streams = [child.stdout, child.stderr] as (Readable & { ref?: () => void; unref?: () => void })[];
    if (referenced) {
      child.ref();
      child.channel?.ref();
      for (const s of streams) s?.ref?.();
    } else {
      child.unref();
      child.channel?.unref();
      for (const s of streams) s?.unref?.();
    }
  }

  private ensureWorker(): RunningWorker {
    if (this.disposed) throw new BackendError('worker-crashed', 'The local model backend was disposed.');
    if (!this.worker || this.worker.stopping) this.worker = this.start();
    return this.worker;
  }

  private crashError(worker: RunningWorker, exit: ExitInfo | undefined): BackendError {
    if (worker.stopping) return new BackendError('cancelled', `The local model worker (pid ${worker.process.pid ?? '?'}) was stopped while handling the request.`);
    const how = exit ? describeExit(exit) : 'stopped answering';
    const tail = worker.outputTail.length > 0 ? ` Last output:\n${worker.outputTail.join('\n')}` : '';
    // Died while loading weights: that model cannot be loaded (and would kill every worker that tries), not a passing crash.
    const model = [...worker.loading][0];
    if (model !== undefined) {
      // A file cut short or with a corrupt header says so (the walk only reads the header), instead of the question.
      const structure = ggufStructureProblem(model);
      const why = structure !== undefined ? `: ${structure}. Download or copy it again.` : '. Is the file a complete GGUF model llama.cpp supports?';
      return new BackendError('model-invalid', `Could not load the GGUF model ${model}: the local model worker (pid ${worker.process.pid ?? '?'}) ${how} while loading it${why} The next request starts a new worker.${tail}`, { cause: exit });
    }
    return new BackendError('worker-crashed', `The local model worker (pid ${worker.process.pid ?? '?'}) ${how} while handling the request. The next request starts a new worker.${tail}`, { cause: exit });
  }

  private toBackendError(error: ResponseError<WorkerErrorData>): BackendError {
    const code = error.data?.backendCode;
    return new BackendError(code && Object.hasOwn(KNOWN_CODES, code) ? (code as BackendErrorCode) : 'bad-response', error.message);
  }

  /** Sends one request to the worker (starting it if needed); rejects with a BackendError. */
  async request<P, R>(type: RequestType<P, R, WorkerErrorData>, params: P, hooks: RequestHooks = {}): Promise<R> {
    const worker = this.ensureWorker();
    worker.pending++;
    this.clearIdleTimer();
    this.setReferenced(worker, true);
    if (hooks.requestId !== undefined) this.handlers.set(hooks.requestId, hooks);
    let failOnExit: ((exit: ExitInfo) => void) | undefined;
    try {
      return await new Promise<R>((resolve, reject) => {
        failOnExit = (exit) => reject(this.crashError(worker, exit));
        worker.onExit.add(failOnExit);
        worker.connection.sendRequest(type, params as never).then(resolve, async (error: unknown) => {
          if (error instanceof ResponseError && (error.data as WorkerErrorData | undefined)?.backendCode) {
            reject(this.toBackendError(error as ResponseError<WorkerErrorData>));
            return;
          }
          // The connection broke: wait for the exit to report how the worker died.
          const exit = await Promise.race([worker.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000).unref())]);
          reject(this.crashError(worker, exit));
        });
      });
    } finally {
      if (failOnExit) worker.onExit.delete(failOnExit);
      if (hooks.requestId !== undefined) this.handlers.delete(hooks.requestId);
      worker.pending--;
      if (worker.pending === 0 && this.worker === worker) {
        this.setReferenced(worker, false);
        this.scheduleIdleStop();
      }
    }
  }

  /** Asks the worker to stop a running request (it answers with a `cancelled` error). */
  cancel(requestId: number): void {
    const worker = this.worker;
    if (worker && !worker.stopping) void worker.connection.sendNotification(cancelNotification, { requestId }).catch(() => undefined);
  }

  notify<P>(type: NotificationType<P>, params: P): void {
    void this.worker?.connection.sendNotification(type, params as never).catch(() => undefined);
  }

  /** What the worker chose (GPU, devices, VRAM, threads, loaded models). */
  describe(params: WorkerDescribeParams = {}): Promise<WorkerInfo> {
    return this.request(describeRequest, params);
  }

  /** Token counts of texts with a GGUF model's tokenizer (its vocabulary only is loaded). */
  tokenize(params: WorkerTokenizeParams): Promise<WorkerTokenizeResult> {
    return this.request(tokenizeRequest, params);
  }

  /** Frees every loaded model and context in the worker (it keeps running). */
  async unload(): Promise<void> {
    if (this.worker) await this.request(unloadRequest, {});
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private scheduleIdleStop(): void {
    const idle = this.options.idleTimeoutMs ?? 5 * 60_000;
    if (idle <= 0) return;
    this.clearIdleTimer();
    this.idleTimer = setTimeout(() => void this.stop(), idle);
    this.idleTimer.unref();
  }

  /** Kills the worker at once (a stuck request, or tests) — only if it is still `onlyPid` when given. Pending requests fail as crashed. */
  kill(signal: NodeJS.Signals = 'SIGKILL', onlyPid?: number): void {
    if (onlyPid !== undefined && this.worker?.process.pid !== onlyPid) return;
    this.worker?.process.kill(signal);
  }

  /** Stops the worker gracefully (closing the channel makes it exit), killing it if it lingers. */
  async stop(): Promise<void> {
    this.clearIdleTimer();
    const worker = this.worker;
    if (!worker) return;
    worker.stopping = true;
    this.worker = undefined;
    worker.connection.dispose();
    if (worker.process.connected) worker.process.disconnect();
    const timer = setTimeout(() => worker.process.kill('SIGKILL'), 3000);
    await worker.exited;
    clearTimeout(timer);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stop();
  }
}
