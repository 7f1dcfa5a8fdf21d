/**
 * Runs an evaluation: every (item, model, mode) triple missing from the store
 * is run through the runner (the step cache included), scored, and appended to
 * the store as it finishes. Models run side by side, each in its lane: an
 * OpenAI-compatible model runs `concurrency` items at once, local models share
 * one lane (the shared worker runs one generation at a time); a model served by several
 * endpoints is spread over them (endpoints.ts). A failure that is the model's or
 * its server's rather than the item's is not recorded as the item's at once
 * (modelHealth.ts): it stops the evaluation, or the item runs once more. Cancelling
 * stops scheduling and aborts the runs in flight; a cancelled run is not written,
 * so a resume runs it again, and every finished triple is in the store exactly once.
 */
import { runChain, RunRequestError } from '../runner/run';
import { failedResult, scoreRun, unscoredResult } from './score';
import { openEvalStore, tripleKey, type EvalStore } from './store';
import type { BackendResolver, RunRecord } from '../runner/types';
import { endpointSummary, EndpointState, QueueChange } from './endpoints';
import { failureBearing, FAILURES_IN_A_ROW, ModelHealth, type FailureBearing } from './modelHealth';
import type { EndpointPlan, EvalItem, EvalMode, EvalModelPlan, EvalPlan, EvalProgressEvent, EvalResult, EvalRunOptions, EvalRunSummary } from './types';

interface Triple {
  readonly item: EvalItem;
  readonly model: EvalModelPlan;
  readonly mode: EvalMode;
}

interface Lane {
  readonly concurrency: number;
  readonly queue: Triple[];
  /** A model served by several endpoints has a lane of its own, spread over them. */
  readonly endpoints?: readonly EndpointPlan[];
}

/** Triples not yet in the store, grouped by lane, items in order. */
function pendingLanes(plan: EvalPlan, store: EvalStore): Map<string, Lane> {
  const lanes = new Map<string, Lane>();
  for (const item of plan.items) {
    for (const model of plan.models) {
      const laneKey = model.lane ?? `model:${model.config.key}`;
      let lane = lanes.get(laneKey);
      if (lane === undefined) {
        lane = { concurrency: Math.max(1, model.lane !== undefined ? 1 : model.concurrency), queue: [], ...(model.endpoints !== undefined && model.endpoints.length > 0 ? { endpoints: model.endpoints } : {}) };
        lanes.set(laneKey, lane);
      }
      for (const mode of plan.config.modes) {
        if (!store.has(item.id, model.config.key, mode)) lane.queue.push({ item, model, mode });
      }
    }
  }
  return lanes;
}

interface TripleOutcome {
  readonly result: EvalResult;
  /** The run failed for a reason of its model or server, not of the item (modelHealth.ts). */
  readonly bearing?: FailureBearing;
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Runs one triple on `resolver`; undefined when it was cancelled (not finished, so not recorded). */
async function runTriple(triple: Triple, plan: EvalPlan, options: EvalRunOptions, resolver: BackendResolver): Promise<TripleOutcome | undefined> {
  const { item, model, mode } = triple;
  const defaultProfile = model.defaultProfile ?? item.test?.profile;
  let record: RunRecord;
  try {
    record = await runChain(item.chain, {
      backend: resolver,
      ...(defaultProfile !== undefined ? { defaultProfile } : {}),
      inputs: item.inputs,
      mode,
      template: plan.config.template,
      ...(options.cache !== undefined ? { cache: options.cache } : {}),
      ...(item.baseDir !== undefined ? { baseDir: item.baseDir } : {}),
      ...(item.file !== undefined ? { file: item.file } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(plan.config.settings?.maxTokens !== undefined ? { params: { maxTokens: plan.config.settings.maxTokens } } : {}),
    });
  } catch (error) {
    if (options.signal?.aborted === true) return undefined;
    const message = error instanceof RunRequestError || error instanceof Error ? error.message : String(error);
    return { result: failedResult(item, model.config.key, mode, message) };
  }
  if (record.status === 'cancelled' || options.signal?.aborted === true) return undefined;
  let result: EvalResult;
  try {
    result = await scoreRun(item, model.config.key, mode, record, {
      ...(options.judge !== undefined ? { judge: options.judge } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  } catch (error) {
    // (Read again: a judge call may have been cancelled since the check above.)
    if (isAborted(options.signal)) return undefined;
    // A scoring problem is not the run's: its outputs are kept, the problem noted.
    return { result: unscoredResult(item, model.config.key, mode, record, error instanceof Error ? error.message : String(error)) };
  }
  const bearing = failureBearing(record);
  return bearing === undefined ? { result } : { result, bearing };
}

/**
 * Runs the evaluation of `plan` into the store `options.out` (created, or
 * continued when it holds the same configuration and data; another one is
 * refused with an EvalStoreError). Resolves when every triple is done, or when
 * cancelled or stopped by `maxFailures`; what finished is in the store.
 */
export async function runEvaluation(plan: EvalPlan, options: EvalRunOptions): Promise<EvalRunSummary> {
  const store = openEvalStore(options.out, plan.config);
  try {
    return await runPending(plan, store, options);
  } finally {
    store.close();
  }
}

async function runPending(plan: EvalPlan, store: EvalStore, options: EvalRunOptions): Promise<EvalRunSummary> {
  const planned = new Set(plan.items.flatMap((item) => plan.models.flatMap((m) => plan.config.modes.map((mode) => tripleKey(item.id, m.config.key, mode)))));
  const previous = store.results.filter((r) => planned.has(tripleKey(r.item, r.model, r.mode)));
  const total = planned.size;
  let done = previous.length;
  let failures = previous.filter((r) => r.error !== undefined).length;
  let ranNow = 0;
  let failedNow = 0;
  let stopped: Exclude<EvalRunSummary['status'], 'complete'> | undefined;
  let stopMessage: string | undefined;
  const emit = (event: EvalProgressEvent): void => options.onProgress?.(event);
  const started = performance.now();
  // This run's failures only: those already in the store are those items' results, and
  // counting them would stop every resume before it ran anything.
  const limitReached = (): boolean => options.maxFailures !== undefined && failedNow >= options.maxFailures;
  emit({ kind: 'start', total, done, failures });

  /** The runs' warnings said so far: each distinct one is sent once, not once per item. */
  const warned = new Set<string>();
  const record = (result: EvalResult): void => {
    store.append(result);
    for (const message of result.warnings ?? []) {
      if (warned.has(message)) continue;
      warned.add(message);
      emit({ kind: 'warning', message, model: result.model, mode: result.mode });
    }
    done++;
    ranNow++;
    if (result.error !== undefined) {
      failures++;
      failedNow++;
    }
    const elapsed = performance.now() - started;
    emit({ kind: 'result', result, total, done, failures, etaMs: (elapsed / ranNow) * (total - done) });
    if (limitReached() && done < total) stopped ??= 'max-failures';
  };
  /** Whether the loop must end: stopped, or cancelled now. */
  const halted = (): boolean => {
    if (stopped !== undefined) return true;
    if (options.signal?.aborted !== true) return false;
    stopped = 'cancelled';
    return true;
  };

  /** A model that cannot serve the evaluation stops it (modelHealth.ts). */
  const modelDown = (model: EvalModelPlan, why: string): void => {
    if (stopped !== undefined) return;
    stopped = 'model-down';
    stopMessage = `${model.config.label} ${why}`;
  };
  const health = new ModelHealth<{ readonly triple: Triple; readonly result: EvalResult }>();
  /** Triples that failed on the server's side once and were run again. */
  const retried = new Set<Triple>();
  const worker = async (lane: Lane): Promise<void> => {
    for (let triple = lane.queue.shift(); triple !== undefined; triple = lane.queue.shift()) {
      if (halted()) return;
      const outcome = await runTriple(triple, plan, options, triple.model.resolverFor(triple.item));
      if (outcome === undefined) {
        stopped ??= 'cancelled';
        return;
      }
      const model = triple.model;
      const bearing = outcome.bearing;
      if (bearing === undefined) {
        // The model answers again: what failed on its server's side runs once more (a
        // restarted server, a crashed worker), and what already had its second chance is the item's.
        for (const held of health.answered(model.config.key)) {
          if (retried.has(held.triple)) record(held.result);
          else {
            retried.add(held.triple);
            lane.queue.unshift(held.triple);
          }
        }
        record(outcome.result);
      } else if (bearing.on === 'model') modelDown(model, `cannot serve the evaluation: ${bearing.message}`);
      else if (health.serverFailed(model.config.key, { triple, result: outcome.result })) modelDown(model, `failed ${FAILURES_IN_A_ROW} items in a row: ${bearing.message}`);
    }
  };

  /** A pooled model: one loop per endpoint slot, all taking from the model's queue (endpoints.ts). */
  const pools: EndpointState[][] = [];
  const pooled = (lane: Lane, endpoints: readonly EndpointPlan[]): Promise<void>[] => {
    const states = endpoints.map((e) => new EndpointState(e.url, options.endpointCooldownMs ?? 2000));
    pools.push(states);
    const change = new QueueChange();
    let inFlight = 0;
    /** Items the pool served; a triple's failed tries, and how many items the pool had served at the first. */
    let served = 0;
    const failing = new Map<Triple, { readonly tries: { url: string; error: string }[]; readonly servedBefore: number }>();
    const slot = async (endpoint: EndpointPlan, state: EndpointState, index: number): Promise<void> => {
      for (;;) {
        if (halted()) return;
        const wait = state.downUntil - performance.now();
        if (wait > 0 || (state.probing && index !== 0)) {
          if (lane.queue.length === 0 && inFlight === 0) return;
          await change.wait(wait > 0 ? wait : 1000, options.signal);
          continue;
        }
        const triple = lane.queue.shift();
        if (triple === undefined) {
          if (inFlight === 0) return change.notify();
          await change.wait(1000, options.signal);
          continue;
        }
        const probe = state.downUntil > 0;
        if (probe) state.probing = true;
        inFlight++;
        const startedAt = Date.now();
        const outcome = await runTriple(triple, plan, options, endpoint.resolverFor(triple.item));
        inFlight--;
        if (outcome === undefined) {
          stopped ??= 'cancelled';
          return change.notify();
        }
        const attempt = { url: endpoint.url, startedAt, finishedAt: Date.now() };
        if (outcome.bearing !== undefined) {
          const error = outcome.bearing.message;
          state.failed(error, performance.now());
          const failed = failing.get(triple) ?? { tries: [], servedBefore: served };
          failed.tries.push({ url: endpoint.url, error });
          failing.set(triple, failed);
          emit({ kind: 'endpoint', url: endpoint.url, state: 'down', error, retryInMs: Math.round(state.downUntil - performance.now()) });
          if (states.every((s) => s.exhausted)) {
            lane.queue.unshift(triple); // not recorded: a resume runs it
            stopped ??= 'endpoints-down';
            stopMessage = `every endpoint failed ${FAILURES_IN_A_ROW} times in a row: ${states.map((s) => `${s.url}: ${s.lastError ?? '?'}`).join('; ')}`;
          } else if (failed.tries.length >= FAILURES_IN_A_ROW && served > failed.servedBefore) {
            // The pool serves other items and this one keeps failing: the item's own failure.
            failing.delete(triple);
            record({ ...outcome.result, endpoint: { ...attempt, failedTries: failed.tries.slice(0, -1) } });
          } else lane.queue.unshift(triple); // first in line for the endpoints still in the pool
          change.notify();
          continue;
        }
        if (probe || state.failuresInARow > 0) emit({ kind: 'endpoint', url: endpoint.url, state: 'up' });
        state.succeeded(performance.now());
        served++;
        const failedTries = failing.get(triple)?.tries;
        failing.delete(triple);
        record({ ...outcome.result, endpoint: { ...attempt, ...(failedTries !== undefined ? { failedTries } : {}) } });
        change.notify();
      }
    };
    return endpoints.flatMap((endpoint, e) => Array.from({ length: Math.max(1, endpoint.concurrency) }, (_, index) => slot(endpoint, states[e] as EndpointState, index)));
  };

  const lanes = [...pendingLanes(plan, store).values()];
  await Promise.all(
    lanes.flatMap((lane) => {
      const endpoints = lane.endpoints;
      if (endpoints !== undefined) return pooled(lane, endpoints);
      return Array.from({ length: Math.min(lane.concurrency, Math.max(1, lane.queue.length)) }, () => worker(lane));
    }),
  );
  if (stopped === undefined && options.signal?.aborted === true && done < total) stopped = 'cancelled';
  // Finished, and nothing showed their models down: the failures still held are the items' own.
  if (stopped === undefined) for (const held of health.drain()) record(held.result);
  if (stopped !== undefined) emit({ kind: 'stopped', reason: stopped, done, total, failures, ...(stopMessage !== undefined ? { message: stopMessage } : {}) });
  const ended = performance.now();
  const endpoints = pools.flat().map((state) => endpointSummary(state, ended));
  return { store: store.dir, status: stopped ?? 'complete', total, done, ranNow, failures, failedNow, ...(endpoints.length > 0 ? { endpoints } : {}), ...(stopMessage !== undefined ? { message: stopMessage } : {}) };
}
