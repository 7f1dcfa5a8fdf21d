/**
 * Evaluation benchmarks (issue 9), `npm run bench -- eval`:
 *  1. Scoring the 588 CoI2 test records (ROUGE-L of every step, the final and the
 *     whole output, exact match), then the report from a store of those results
 *     (read results.jsonl, bootstrap intervals, breakdowns). Goal: well under a second.
 *     Skipped, with one line, without ../shared.
 *  2. Evaluation overhead over the bare backend calls: the same prompts sent with
 *     `backend.generate` one after another, and through `runEvaluation`
 *     (concurrency 1, no cache, a store written), against the OpenAI test server
 *     answering at once; alternated in one process. Goal: ≤ 5 %.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenAIBackend } from '../../core/backends/openai/openaiBackend';
import type { GenerateRequest, GenerateResult, ModelBackend } from '../../core/backends/types';
import { createEvalConfig } from '../../core/eval/config';
import { itemsFromDataset, itemsFromRecords } from '../../core/eval/items';
import { computeReport } from '../../core/eval/report';
import { scoreRun } from '../../core/eval/score';
import { openEvalStore } from '../../core/eval/store';
import { runEvaluation } from '../../core/eval/evaluate';
import type { EvalItem, EvalModelPlan } from '../../core/eval/types';
import { runChain } from '../../core/runner/run';
import type { RunRecord } from '../../core/runner/types';
import { checkDocument } from '../../core/check/index';
import { startOpenAITestServer } from '../rig/openaiServer';
import { sharedDataPath } from '../helpers/paths';
import { summarize } from './stats';

export async function run(): Promise<void> {
  await scoringCoi2();
  await overhead();
}

/** A run record as the runner writes it, with these outputs (a word changed in each). */
function recordWith(item: EvalItem): RunRecord {
  const outputs = item.chain.steps.map((s) => (item.references[s.id] ?? '').replace(/\b(\w+)\b/, 'altered'));
  return {
    version: 1,
    id: `bench-${item.id}`,
    chain: item.chain.name,
    mode: 'stepwise',
    template: 'chat',
    backend: 'openai',
    model: 'bench',
    inputs: item.inputs,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 10,
    status: 'ok',
    steps: item.chain.steps.map((s, i) => ({ id: s.id, index: i, status: 'ok', output: outputs[i]!, rawOutput: outputs[i]!, cached: false, pinned: false, durationMs: 5, promptTokens: 20, completionTokens: 10, definitionHash: '' })),
    output: outputs[outputs.length - 1]!,
    modelCalls: item.chain.steps.length,
  };
}

function verdict(valueMs: number, goalMs: number): string {
  return valueMs <= goalMs ? `goal < ${goalMs} ms: met` : `goal < ${goalMs} ms: MISSED`;
}

async function scoringCoi2(): Promise<void> {
  const file = sharedDataPath('coi2_test.json');
  if (!existsSync(file)) {
    console.log('scoring CoI2: skipped (../shared/data/coi/coi2_test.json is not here)');
    return;
  }
  const items = itemsFromRecords(readFileSync(file, 'utf8'), 'json', { source: 'coi2_test.json' });
  const records = items.map(recordWith);
  const scoreTimes: number[] = [];
  let results = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    results = [];
    for (const [index, item] of items.entries()) results.push(await scoreRun(item, 'bench', 'stepwise', records[index]!));
    scoreTimes.push(performance.now() - started);
  }
  const dir = mkdtempSync(join(tmpdir(), 'coi-bench-eval-'));
  try {
    const config = createEvalConfig({ name: 'coi2', source: { kind: 'records', files: [file] }, models: [{ key: 'bench', label: 'bench', identity: { backend: 'openai', model: 'bench' } }], modes: ['stepwise'], template: 'chat', items, toolVersion: 'bench' });
    const store = openEvalStore(join(dir, 'store'), config);
    for (const result of results) store.append(result);
    store.close();
    const reportTimes: number[] = [];
    let mean = 0;
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const report = computeReport(join(dir, 'store'));
      reportTimes.push(performance.now() - started);
      mean = report.groups[0]!.metrics['final.rougeL']!.mean;
    }
    const score = summarize(scoreTimes).medianMs;
    const report = summarize(reportTimes).medianMs;
    console.log(`scoring 588 CoI2 records (ROUGE-L per step, final, whole; exact): median ${score.toFixed(1)} ms (${verdict(score, 1000)})`);
    console.log(`report from a store of 588 results (read, 1000-resample bootstrap per metric, breakdowns): median ${report.toFixed(1)} ms (${verdict(report, 1000)}); final ROUGE-L mean ${mean.toFixed(1)}`);
    console.log(`together: ${(score + report).toFixed(1)} ms = ${((score + report) / 1000).toFixed(2)}× the one-second goal`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Records every request it passes on (to replay the same prompts bare). */
class RecordingBackend implements ModelBackend {
  readonly requests: GenerateRequest[] = [];
  constructor(readonly inner: ModelBackend) {}
  get identity(): ModelBackend['identity'] {
    return this.inner.identity;
  }
  generate(request: GenerateRequest): Promise<GenerateResult> {
    this.requests.push(request);
    return this.inner.generate(request);
  }
  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

const ITEMS = 40;

async function overhead(): Promise<void> {
  const server = await startOpenAITestServer({ reply: () => 'A short answer.' });
  const backend = new RecordingBackend(new OpenAIBackend({ baseURL: server.baseURL, model: 'tiny', apiKey: 'bench' }));
  const chain = checkDocument('chain bench\ninput text: text\n\nstep summary {\n  instruction "Summarize the text."\n}\n\nstep title {\n  instruction "Write a title for the summary."\n}\n').chain;
  const rows = Array.from({ length: ITEMS }, (_, i) => JSON.stringify({ text: `Report ${i}: the harbour reopened after the storm.` })).join('\n');
  const items = itemsFromDataset(chain, rows, 'jsonl', { source: 'bench', display: 'bench.coi' });
  const model: EvalModelPlan = { config: { key: 'tiny', label: 'tiny', identity: backend.identity }, resolverFor: () => () => backend, concurrency: 1 };
  const config = createEvalConfig({ name: 'bench', source: { kind: 'dataset', files: ['bench.jsonl'] }, models: [model.config], modes: ['stepwise'], template: 'chat', items, toolVersion: 'bench' });
  const root = mkdtempSync(join(tmpdir(), 'coi-bench-eval-'));
  let runs = 0;
  const viaEvaluation = async (): Promise<void> => {
    const summary = await runEvaluation({ config, items, models: [model] }, { out: join(root, `run-${runs++}`) });
    if (summary.failures > 0 || summary.done !== ITEMS) throw new Error(`evaluation failed: ${JSON.stringify(summary)}`);
  };
  try {
    await viaEvaluation();
    const prompts = backend.requests.map((r) => ({ prompt: r.prompt, params: r.params }));
    const inner = backend.inner;
    const bare = async (): Promise<void> => {
      for (const request of prompts) await inner.generate({ ...request, onText: () => undefined });
    };
    // The runner alone on the same items (what `coi run` costs), to show what evaluation adds on top.
    const viaRunner = async (): Promise<void> => {
      for (const item of items) {
        const record = await runChain(item.chain, { backend: inner, inputs: item.inputs, events: { onStepText: () => undefined } });
        if (record.status !== 'ok') throw new Error(record.error);
      }
    };
    const fns = [bare, viaRunner, viaEvaluation];
    const times = new Map<() => Promise<void>, number[]>(fns.map((fn) => [fn, []]));
    for (let i = 0; i < 5; i++) for (const fn of fns) await fn();
    for (let i = 0; i < 21; i++) {
      // Rotate the order so drift (GC, other processes) hits all three alike.
      for (const fn of [...fns.slice(i % 3), ...fns.slice(0, i % 3)]) {
        const started = performance.now();
        await fn();
        times.get(fn)!.push(performance.now() - started);
      }
    }
    const [b, r, e] = fns.map((fn) => summarize(times.get(fn)!).medianMs) as [number, number, number];
    const overheadPct = ((e - b) / b) * 100;
    const perCall = (ms: number): string => `${ms.toFixed(1)} ms (${(ms / prompts.length).toFixed(3)} ms/call)`;
    console.log(`${ITEMS} items × 2 steps = ${prompts.length} calls to the OpenAI test server (answering at once), medians of 21:`);
    console.log(`  bare backend.generate            ${perCall(b)}  ratio 1.000`);
    console.log(`  runChain per item (the runner)   ${perCall(r)}  ratio ${(r / b).toFixed(3)}`);
    console.log(`  runEvaluation (+ scoring, store) ${perCall(e)}  ratio ${(e / b).toFixed(3)}; over the runner ${(e / r).toFixed(3)}`);
    console.log(`  evaluation overhead over bare calls: ${overheadPct.toFixed(1)} % (goal ≤ 5 %: ${overheadPct <= 5 ? 'met' : 'MISSED'})`);
  } finally {
    rmSync(root, { recursive: true, force: true });
    await backend.dispose();
    await server.close();
  }
}
