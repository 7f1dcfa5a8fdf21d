/**
 * Runs an evaluation: every (item, model, mode) triple missing from the store
 * is run through the runner (the step cache included), scored, and appended to
 * the store as it finishes. Models run side by side, each in its lane: an
 * OpenAI-compatible model runs `concurrency` items at once, local models share
 * one lane (the shared worker runs one generation at a time). Cancelling stops
 * scheduling and aborts the runs in flight; a cancelled run is not written, so
 * a resume runs it again, and every finished triple is in the store exactly once.
 */
import { runChain, RunRequestError } from '../runner/run';
import { failedResult, scoreRun } from './score';
import { openEvalStore, tripleKey, type EvalStore } from './store';
import type { EvalItem, EvalMode, EvalModelPlan, EvalPlan, EvalProgressEvent, EvalResult, EvalRunOptions, EvalRunSummary } from './types';

interface Triple {
  readonly item: EvalItem;
  readonly model: EvalModelPlan;
  readonly mode: EvalMode;
}

interface Lane {
  readonly concurrency: number;
  readonly queue: Triple[];
}

/** Triples not yet in the store, grouped by lane, items in order. */
function pendingLanes(plan: EvalPlan, store: EvalStore): Map<string, Lane> {
  const lanes = new Map<string, Lane>();
  for (const item of plan.items) {
    for (const model of plan.models) {
      const laneKey = model.lane ?? `model:${model.config.key}`;
      let lane = lanes.get(laneKey);
      if (lane === undefined) {
        lane = { concurrency: Math.max(1, model.lane !== undefined ? 1 : model.concurrency), queue: [] };
        lanes.set(laneKey, lane);
      }
      for (const mode of plan.config.modes) {
        if (!store.has(item.id, model.config.key, mode)) lane.queue.push({ item, model, mode });
      }
    }
  }
  return lanes;
}

/** Runs one triple; undefined when it was cancelled (not finished, so not recorded). */
async function runTriple(triple: Triple, plan: EvalPlan, options: EvalRunOptions): Promise<EvalResult | undefined> {
  const { item, model, mode } = triple;
  const defaultProfile = model.defaultProfile ?? item.test?.profile;
  try {
    const record = await runChain(item.chain, {
      backend: model.resolverFor(item),
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
    if (record.status === 'cancelled' || options.signal?.aborted === true) return undefined;
    return await scoreRun(item, model.config.key, mode, record, {
      ...(options.judge !== undefined ? { judge: options.judge } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (options.signal?.aborted === true) return undefined;
    const message = error instanceof RunRequestError || error instanceof Error ? error.message : String(error);
    return failedResult(item, model.config.key, mode, message);
  }
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
  let stopped: 'cancelled' | 'max-failures' | undefined;
  const emit = (event: EvalProgressEvent): void => options.onProgress?.(event);
  const started = performance.now();
  const limitReached = (): boolean => options.maxFailures !== undefined && failures >= options.maxFailures;
  emit({ kind: 'start', total, done, failures });
  if (limitReached() && done < total) stopped = 'max-failures';

  const worker = async (lane: Lane): Promise<void> => {
    for (let triple = lane.queue.shift(); triple !== undefined; triple = lane.queue.shift()) {
      if (stopped !== undefined) return;
      if (options.signal?.aborted === true) {
        stopped = 'cancelled';
        return;
      }
      const result = await runTriple(triple, plan, options);
      if (result === undefined) {
        stopped ??= 'cancelled';
        return;
      }
      store.append(result);
      done++;
      ranNow++;
      if (result.error !== undefined) failures++;
      const elapsed = performance.now() - started;
      emit({ kind: 'result', result, total, done, failures, etaMs: (elapsed / ranNow) * (total - done) });
      if (limitReached() && done < total) stopped ??= 'max-failures';
    }
  };
  const lanes = [...pendingLanes(plan, store).values()];
  await Promise.all(lanes.flatMap((lane) => Array.from({ length: Math.min(lane.concurrency, Math.max(1, lane.queue.length)) }, () => worker(lane))));
  if (stopped === undefined && options.signal?.aborted === true && done < total) stopped = 'cancelled';
  if (stopped !== undefined) emit({ kind: 'stopped', reason: stopped, done, total, failures });
  return { store: store.dir, status: stopped ?? 'complete', total, done, ranNow, failures };
}
