/**
 * The local backend: a GGUF model run by node-llama-cpp in the worker process
 * (see workerHost.ts). Cancellation and timeouts are sent to the worker, which
 * stops generating at the next token; if it does not answer within a grace
 * period it is killed, so a caller is never left waiting.
 */
import { BackendError, type GenerateRequest, type SamplingParams, type ModelBackend } from '../types';
import { generateRequest, type DownloadProgress, type LocalModelSettings, type WorkerGenerateResult, type WorkerInfo } from './protocol';
import type { WorkerHost } from './workerHost';
import { localModelIdentity, localModelRevision } from './modelPath';
import { formatLimit, RAISE_LIMIT } from '../timeLimit';

export interface LocalBackendOptions {
  readonly host: WorkerHost;
  readonly model: LocalModelSettings;
  /** Sampling defaults (the profile's); a request's own params win. */
  readonly defaults?: SamplingParams;
  /** How long the worker may take to stop after a cancel or timeout before it is killed (default 30 s; the caller does not wait for it). */
  readonly cancelGraceMs?: number;
  /** Streamed text arrives at most this often (default 50 ms; 0 = each piece as generated, slower). */
  readonly streamIntervalMs?: number;
  /** Whether `dispose()` also stops the host (when this backend owns it). */
  readonly ownsHost?: boolean;
  readonly onDownloadProgress?: (progress: DownloadProgress) => void;
}

/** The time limit counts from the request: a model loaded for it spends part of the limit on its loading. */
export function localTimeoutMessage(limitMs: number): string {
  return `The local model did not finish within ${formatLimit(limitMs)} (the time limit, which includes loading the model on its first call); ${RAISE_LIMIT}.`;
}

export class LocalBackend implements ModelBackend {
  readonly identity;
  /** node-llama-cpp turns every constraint into a grammar. */
  readonly constrainsDecoding = true;

  constructor(private readonly options: LocalBackendOptions) {
    this.identity = { backend: 'local', model: localModelIdentity(options.model.path, options.model.lora), revision: localModelRevision(options.model) };
  }

  /** What the worker chose for this model's settings (GPU type, devices, VRAM, threads). */
  describe(): Promise<WorkerInfo> {
    return this.options.host.describe({ ...(this.options.model.gpu ? { gpu: this.options.model.gpu } : {}), ...(this.options.model.threads !== undefined ? { threads: this.options.model.threads } : {}) });
  }

  async generate(request: GenerateRequest): Promise<WorkerGenerateResult> {
    const { host } = this.options;
    if (request.signal?.aborted) throw new BackendError('cancelled', 'The generation was cancelled before it started.');
    const requestId = host.nextRequestId();
    // Set once the caller cancelled or the time ran out: no more text is handed out.
    let stopCause: 'cancelled' | 'timed-out' | undefined;
    const params: SamplingParams = { ...this.options.defaults, ...request.params };
    const sent = host.request(
      generateRequest,
      {
        requestId,
        model: this.options.model,
        prompt: request.prompt,
        params,
        ...(request.constraint ? { constraint: request.constraint } : {}),
        stream: request.onText !== undefined,
        ...(this.options.streamIntervalMs !== undefined ? { streamIntervalMs: this.options.streamIntervalMs } : {}),
      },
      {
        requestId,
        ...(request.onText ? { onText: (text: string) => stopCause === undefined && request.onText?.(text) } : {}),
        ...(this.options.onDownloadProgress ? { onDownloadProgress: this.options.onDownloadProgress } : {}),
      },
    );

    const workerPid = host.pid;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let rejectStopped!: (error: BackendError) => void;
    const stopped = new Promise<never>((_, reject) => (rejectStopped = reject));
    const stopError = (): BackendError =>
      stopCause === 'timed-out'
        ? new BackendError('timed-out', localTimeoutMessage(request.timeoutMs ?? 0))
        : new BackendError('cancelled', 'The generation was cancelled.');
    // The caller is answered at once; the worker stops at its next token. One that
    // does not (stuck in a long native call) is killed after the grace period.
    const stop = (cause: 'cancelled' | 'timed-out'): void => {
      if (stopCause) return;
      stopCause = cause;
      host.cancel(requestId);
      rejectStopped(stopError());
      const watchdog = setTimeout(() => host.kill('SIGKILL', workerPid), this.options.cancelGraceMs ?? 30_000);
      watchdog.unref();
      const disarm = (): void => clearTimeout(watchdog);
      sent.then(disarm, disarm);
    };
    const onAbort = (): void => stop('cancelled');
    request.signal?.addEventListener('abort', onAbort, { once: true });
    if (request.timeoutMs !== undefined && request.timeoutMs > 0) timeoutTimer = setTimeout(() => stop('timed-out'), request.timeoutMs);
    try {
      return await Promise.race([sent, stopped]);
    } catch (error) {
      if (stopCause && error instanceof BackendError && (error.code === 'cancelled' || error.code === 'worker-crashed')) throw stopError();
      throw error;
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
      clearTimeout(timeoutTimer);
      sent.catch(() => undefined);
      stopped.catch(() => undefined);
    }
  }

  async dispose(): Promise<void> {
    if (this.options.ownsHost) await this.options.host.dispose();
  }
}
