/**
 * Several OpenAI-compatible endpoints serving one model (vLLM, llama.cpp server, Ollama
 * replicas): the evaluation spreads that model's items over them, `concurrency` at a time on
 * each. An endpoint whose call fails for a reason of its own (modelHealth.ts `failureBearing`:
 * unreachable, the key refused, 5xx, timed out, rate-limited past the retries, garbage) is
 * taken out of the pool for a cooldown that doubles with each failure in a row; the item goes
 * back to the queue and runs elsewhere, so nothing is lost and nothing is scored twice. After
 * the cooldown one item probes the endpoint; a success puts it back. When every endpoint has
 * failed `FAILURES_IN_A_ROW` times in a row the evaluation stops (resumable): nothing it
 * could still run would succeed. An item that failed so `FAILURES_IN_A_ROW` times while
 * the pool served other items since its first failure is the item's failure (a prompt that
 * makes every server answer 500), recorded as such instead of going round for ever.
 */
import { FAILURES_IN_A_ROW } from './modelHealth';

const MAX_COOLDOWN_MS = 60_000;

/** One endpoint's standing in the pool and what it did this session. */
export class EndpointState {
  served = 0;
  failedAttempts = 0;
  failuresInARow = 0;
  /** When it may be tried again (ms, `now()` clock); 0: in the pool. */
  downUntil = 0;
  lastError: string | undefined;
  /** One of its slots is probing it after a cooldown: the others wait for the verdict. */
  probing = false;
  /** When its current time out of the pool began (`now()` clock); undefined while in it. */
  private outSince: number | undefined;
  /** Time out of the pool in the periods that ended. */
  private outEndedMs = 0;

  constructor(
    readonly url: string,
    private readonly cooldownMs: number,
  ) {}

  get exhausted(): boolean {
    return this.failuresInARow >= FAILURES_IN_A_ROW;
  }

  /** A success puts it back in the pool (at once: a run started before a failure may end within the cooldown). */
  succeeded(now: number): void {
    this.endOutPeriod(now);
    this.downUntil = 0;
    this.served++;
    this.failuresInARow = 0;
    this.probing = false;
  }

  failed(error: string, now: number): void {
    this.failedAttempts++;
    this.failuresInARow++;
    this.lastError = error;
    this.probing = false;
    const cooldown = Math.min(MAX_COOLDOWN_MS, this.cooldownMs * 2 ** (this.failuresInARow - 1));
    // A failure within a cooldown (another of its runs) lengthens the period; after it, starts a new one.
    if (now >= this.downUntil) this.endOutPeriod(now);
    this.outSince ??= now;
    this.downUntil = Math.max(this.downUntil, now + cooldown);
  }

  /**
   * Time it really spent out of the pool up to `now`: each period counts until its
   * cooldown ended, a success put it back, or `now` (the end of the run), whichever came
   * first; overlapping cooldowns count once. Never more than the time since its first failure.
   */
  outMsAt(now: number): number {
    return this.outEndedMs + this.openOutMs(now);
  }

  private openOutMs(now: number): number {
    return this.outSince === undefined ? 0 : Math.max(0, Math.min(this.downUntil, now) - this.outSince);
  }

  private endOutPeriod(now: number): void {
    this.outEndedMs += this.openOutMs(now);
    this.outSince = undefined;
  }
}

/** What `EvalRunSummary.endpoints` reports per endpoint. */
export interface EndpointSummary {
  readonly url: string;
  readonly served: number;
  readonly failedAttempts: number;
  /** Time out of the pool this session (see `EndpointState.outMsAt`). */
  readonly outMs: number;
  readonly lastError?: string;
}

/** What `state` did this session, as of `now` (the end of the run). */
export function endpointSummary(state: EndpointState, now: number): EndpointSummary {
  return { url: state.url, served: state.served, failedAttempts: state.failedAttempts, outMs: Math.round(state.outMsAt(now)), ...(state.lastError !== undefined ? { lastError: state.lastError } : {}) };
}

/**
 * A signal that the queue of a pooled model changed (an item came back, a run ended): idle
 * slots wait on it instead of polling, and a cooldown's end wakes them too.
 */
export class QueueChange {
  private waiters: (() => void)[] = [];

  notify(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
  }

  /** Resolves at the next change, after `ms` at the latest, or when `signal` aborts. */
  wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }
}

/**
 * The servers an `openai:` model's items are spread over: its own base URL first, then the
 * evaluation's other endpoints (`coi eval --endpoint`, kept in eval.json); empty when there
 * is no other (the model runs on its base URL alone, unpooled). The CLI and the editor both
 * resume a store on these.
 */
export function endpointPool(baseUrl: string, endpoints: readonly string[] | undefined): string[] {
  const extra = (endpoints ?? []).filter((url) => url !== baseUrl);
  return extra.length === 0 ? [] : [baseUrl, ...new Set(extra)];
}
