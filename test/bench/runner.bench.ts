/**
 * Runner benchmarks (issue 5):
 * - overhead of the runner over the bare backend for a 3-step chain: the same
 *   three prompts, through `runChain` and straight to `backend.generate`,
 *   measured alternately in the same process (target <= 5%);
 * - re-running an unchanged 20-step chain from the step cache (target < 50 ms,
 *   zero model calls).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GenerateRequest } from '../../core/backends/types';
import { StepCache } from '../../core/runner/cache';
import { runChain } from '../../core/runner/run';
import { CountingBackend, makeChain, tinyLocalBackend } from '../runner/helpers';
import { formatSummary, summarize, verdict } from './stats';

const INPUTS = { text: 'The storm closed three roads on Tuesday and the schools stayed shut.' };

export async function run(): Promise<void> {
  const tiny = tinyLocalBackend(16);
  try {
    const counting = new CountingBackend(tiny.backend);
    await overhead(counting);
    await cachedRerun(counting);
  } finally {
    await tiny.dispose();
  }
}

async function overhead(backend: CountingBackend): Promise<void> {
  const chain = makeChain([{ id: 'summary' }, { id: 'rewrite' }, { id: 'title', contract: { kind: 'text', maxWords: 200 } }]);
  // The prompts the runner sends, captured once, replayed bare.
  const first = backend.prompts.length;
  await runChain(chain, { backend, inputs: INPUTS });
  const requests: GenerateRequest[] = backend.prompts.slice(first).map((r) => ({ prompt: r.prompt, params: r.params ?? {} }));
  const bare = async (): Promise<void> => {
    for (const request of requests) await backend.generate({ ...request, onText: () => undefined });
  };
  const viaRunner = async (): Promise<void> => {
    const record = await runChain(chain, { backend, inputs: INPUTS, events: { onStepText: () => undefined } });
    if (record.status !== 'ok') throw new Error(record.error);
  };
  for (let i = 0; i < 3; i++) {
    await bare();
    await viaRunner();
  }
  const bareMs: number[] = [];
  const runnerMs: number[] = [];
  for (let i = 0; i < 30; i++) {
    // Alternate the order so drift (thermal, other processes) hits both alike.
    const order = i % 2 === 0 ? [bare, viaRunner] : [viaRunner, bare];
    for (const fn of order) {
      const started = performance.now();
      await fn();
      (fn === bare ? bareMs : runnerMs).push(performance.now() - started);
    }
  }
  const b = summarize(bareMs);
  const r = summarize(runnerMs);
  console.log(formatSummary('3-step chain, bare backend.generate x3', b));
  console.log(formatSummary('3-step chain, runChain (no cache)', r));
  const overhead = ((r.medianMs - b.medianMs) / b.medianMs) * 100;
  console.log(`runner overhead: ${overhead.toFixed(1)}% of the median (target <= 5%: ${verdict(overhead <= 5)})`);
}

async function cachedRerun(backend: CountingBackend): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'coi-bench-cache-'));
  try {
    const chain = makeChain(Array.from({ length: 20 }, (_, i) => ({ id: `step${i + 1}`, instruction: `Rewrite the text, pass ${i + 1}.` })));
    const cache = new StepCache(dir);
    const warm = await runChain(chain, { backend, inputs: INPUTS, cache });
    if (warm.status !== 'ok') throw new Error(warm.error);
    const callsBefore = backend.calls;
    const durations: number[] = [];
    for (let i = 0; i < 50; i++) {
      // A fresh cache object each time: the entries are read from disk, as in a new CLI process.
      const started = performance.now();
      const record = await runChain(chain, { backend, inputs: INPUTS, cache: new StepCache(dir) });
      durations.push(performance.now() - started);
      if (record.modelCalls !== 0) throw new Error('a cached re-run called the model');
    }
    const rerun = summarize(durations);
    console.log(`${formatSummary('20-step chain re-run from the on-disk cache', rerun)} (target median < 50 ms: ${verdict(rerun.medianMs < 50)})`);
    console.log(`model calls during the 50 cached re-runs: ${backend.calls - callsBefore}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
