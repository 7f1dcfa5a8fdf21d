/**
 * Whether a model can still serve the evaluation. Without this, a model that
 * cannot answer at all (nothing listens at its URL, the API key is refused, the
 * GGUF file is corrupt) fails every item in a fraction of a second, and the store
 * fills with failures that count as done, so `--resume` cannot redo them.
 *
 * - A run that failed for a reason of the model's (`model`: it cannot be loaded or
 *   reached, the server refuses the key or does not know the model) stops the
 *   evaluation at once: every other item would fail the same way. It is not
 *   recorded, so a resume runs it.
 * - A failure of the server's (`server`: HTTP 5xx past the backend's retries, a
 *   timeout, a garbled answer, a crashed worker, out of memory) may be the item's
 *   (a prompt that crashes the server) or the server's (it went down, restarted, its
 *   worker was killed). It is held back: when the model then answers another item,
 *   the item runs once more, and a second such failure is the item's own, recorded;
 *   when `FAILURES_IN_A_ROW` items in a row failed so, the model is down and the
 *   evaluation stops, the held items unrecorded. (Held items still there when the
 *   evaluation ends are recorded: nothing showed the model down.)
 * - Anything else (HTTP 400, a prompt too long for the context, the model's refusal of
 *   the item) is the item's, recorded as it happens.
 */
import type { RunRecord } from '../runner/types';

export const FAILURES_IN_A_ROW = 3;

export interface FailureBearing {
  readonly on: 'model' | 'server';
  /** The backend's message, without the runner's `Step "id": ` before it. */
  readonly message: string;
}

/** What a failed run says about its model (see the module comment), or undefined: the item's failure, or none. */
export function failureBearing(record: RunRecord): FailureBearing | undefined {
  for (const step of record.steps) {
    const error = step.error;
    if (error?.code !== 'backend') continue;
    const on = bearingOf(error.backendCode, error.status);
    // The backend's words, not the step's: the same for every step and item.
    if (on !== undefined) return { on, message: error.message.replace(/^Step "[^"]*": /, '') };
  }
  return undefined;
}

function bearingOf(code: string | undefined, status: number | undefined): FailureBearing['on'] | undefined {
  switch (code) {
    case 'model-not-found':
    case 'model-invalid':
    case 'runtime-unavailable':
      return 'model';
    case 'server-rejected':
      // No status: the server could not be reached. 401/403: the key is refused.
      if (status === undefined || status === 401 || status === 403) return 'model';
      return status >= 500 ? 'server' : undefined;
    case 'timed-out':
    case 'rate-limited':
    case 'bad-response':
    case 'worker-crashed':
    case 'out-of-memory':
      return 'server';
    // The model answered, declining this item: it is up.
    case 'refused':
    default:
      return undefined;
  }
}

/** Server failures held back per model, until the model answers again or is found down. */
export class ModelHealth<T> {
  private readonly held = new Map<string, T[]>();

  /** `model` answered: what it held are the items' own failures (the caller records them). */
  answered(model: string): readonly T[] {
    const held = this.held.get(model);
    if (held === undefined) return [];
    this.held.delete(model);
    return held;
  }

  /** A server failure of `model`, held; true when it is the `FAILURES_IN_A_ROW`th in a row (the model is down). */
  serverFailed(model: string, failure: T): boolean {
    const held = this.held.get(model) ?? [];
    held.push(failure);
    this.held.set(model, held);
    return held.length >= FAILURES_IN_A_ROW;
  }

  /** Everything still held (the evaluation ended and nothing showed these models down). */
  drain(): T[] {
    const all = [...this.held.values()].flat();
    this.held.clear();
    return all;
  }
}
