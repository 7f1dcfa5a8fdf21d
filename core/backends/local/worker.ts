/**
 * The local model worker process (bundled to dist/worker.js). It holds
 * node-llama-cpp and the loaded models, and answers the JSON-RPC requests of
 * protocol.ts over the Node IPC channel. llama.cpp may abort the whole process
 * on a bad model: that is why this runs apart from the extension and the CLI.
 * It exits when the parent goes away (the IPC channel closes).
 */
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, ResponseError } from 'vscode-jsonrpc/node';
import { BackendError } from '../types';
import { LocalEngine } from './engine';
import {
  cancelNotification,
  describeRequest,
  downloadProgressNotification,
  generateRequest,
  modelLoadNotification,
  textChunkNotification,
  tokenizeRequest,
  unloadRequest,
  type WorkerErrorData,
} from './protocol';

/** A JSON-RPC error code outside the reserved ranges; the backend code rides in `data`. */
const BACKEND_ERROR = 1;

function toResponseError(error: unknown): ResponseError<WorkerErrorData> {
  if (error instanceof BackendError) return new ResponseError(BACKEND_ERROR, error.message, { backendCode: error.code });
  const message = error instanceof Error ? error.message : String(error);
  return new ResponseError(BACKEND_ERROR, `Local model error: ${message}`, { backendCode: 'bad-response' });
}

/**
 * Sends streamed text at most every STREAM_FLUSH_MS: one IPC message per token
 * would halve the generation speed of a small model; 20 updates a second is
 * plenty for a person watching.
 */
const STREAM_FLUSH_MS = 50;

class ChunkBatcher {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (text: string) => void,
    private readonly intervalMs = STREAM_FLUSH_MS,
  ) {}

  add(text: string): void {
    this.pending += text;
    if (this.intervalMs <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.send(text);
  }
}

function main(): void {
  if (!process.send) {
    console.error('The CoI model worker must be started by CoI Studio (it talks over an IPC channel).');
    process.exit(2);
  }
  const log = (line: string): void => void process.stderr.write(line + '\n');
  const engine = new LocalEngine(log);
  const connection = createMessageConnection(new IPCMessageReader(process), new IPCMessageWriter(process));
  const running = new Map<number, AbortController>();

  connection.onRequest(describeRequest, async (params) => {
    try {
      return await engine.describe(params);
    } catch (error) {
      return toResponseError(error);
    }
  });

  connection.onRequest(generateRequest, async (params) => {
    const controller = new AbortController();
    running.set(params.requestId, controller);
    const chunks = new ChunkBatcher((text) => void connection.sendNotification(textChunkNotification, { requestId: params.requestId, text }), params.streamIntervalMs);
    try {
      return await engine.generate(params, {
        signal: controller.signal,
        ...(params.stream ? { onText: (text: string) => chunks.add(text) } : {}),
        onDownloadProgress: (p) => void connection.sendNotification(downloadProgressNotification, { requestId: params.requestId, ...p }),
        onLoad: (path, loading) => void connection.sendNotification(modelLoadNotification, { path, loading }),
      });
    } catch (error) {
      return toResponseError(error);
    } finally {
      // Chunks and the response share one ordered channel: all text arrives first.
      chunks.flush();
      running.delete(params.requestId);
    }
  });

  connection.onRequest(tokenizeRequest, async (params) => {
    try {
      return await engine.tokenize(params);
    } catch (error) {
      return toResponseError(error);
    }
  });

  connection.onRequest(unloadRequest, async () => {
    await engine.unload();
  });

  connection.onNotification(cancelNotification, ({ requestId }) => running.get(requestId)?.abort());

  // The parent is gone (closed the channel or died): nothing left to serve.
  process.on('disconnect', () => process.exit(0));
  connection.onClose(() => process.exit(0));
  connection.listen();
}

main();
