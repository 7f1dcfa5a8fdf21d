/**
 * Evaluation benchmark (`npm run bench -- eval`), on the paper's CoI2 test set (588 records):
 * 1. the evaluation itself against the OpenAI-protocol test server answering at once (it
 *    echoes the prompt), beside the floor: the same chat-completion requests sent bare with
 *    `fetch` at the same concurrency. Goal: overhead ≤ 5 %.
 * 2. the report (`computeReport`) from the store that run wrote. Goal: well under a second.
 * Without ../shared/data/coi the benchmark says so and measures nothing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../../core/backends/index';
import type { ChatMessage, ModelBackend } from '../../core/backends/types';
import { profileFromModelSpec } from '../../core/runner/modelSpec';
import { computeReport, createEvalConfig, itemsFromRecords, runEvaluation, type EvalModelConfig } from '../../core/eval/index';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { sharedDataPath } from '../helpers/paths';
import { formatSummary, timeRepeated } from './stats';

const CONCURRENCY = 4;

function lastUserText(messages: readonly { readonly role: string; readonly content: unknown }[]): string {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  return typeof last?.content === 'string' ? last.content.slice(-200) : 'ok';
}

async function evaluateOnce(server: OpenAITestServer, recordsText: string): Promise<{ ms: number; out: string }> {
  const items = itemsFromRecords(recordsText, 'json', { source: 'coi2_test.json', sourceName: 'coi2_test.json' });
  const backend: ModelBackend = createBackend(profileFromModelSpec('openai:tiny', { baseUrl: server.baseURL }), { apiKey: 'bench' });
  const model: EvalModelConfig = { key: 'openai:tiny', label: 'openai:tiny', spec: 'openai:tiny', baseUrl: server.baseURL, identity: backend.identity };
  const config = createEvalConfig({
    name: 'bench',
    source: { kind: 'records', files: ['coi2_test.json'], format: 'json' },
    models: [model],
    modes: ['stepwise'],
    template: 'chat',
    items,
    toolVersion: 'bench',
  });
  const out = mkdtempSync(join(tmpdir(), 'coi-eval-bench-'));
  const started = performance.now();
  await runEvaluation({ config, items, models: [{ config: model, resolverFor: () => () => backend, concurrency: CONCURRENCY }] }, { out });
  return { ms: performance.now() - started, out };
}

/** Sends every request body through `send`, CONCURRENCY at a time; the wall time. */
async function replay(bodies: readonly unknown[], send: (body: unknown) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < bodies.length) await send(bodies[next++]);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return performance.now() - started;
}

/** The bare backend call: the same messages through the same backend, streamed as the runner streams them. */
function backendCall(backend: ModelBackend): (body: unknown) => Promise<unknown> {
  return (body) => backend.generate({ prompt: { kind: 'chat', messages: (body as { messages: ChatMessage[] }).messages }, onText: () => undefined });
}

/** Below the backend: the HTTP request alone. */
function fetchCall(baseURL: string): (body: unknown) => Promise<unknown> {
  return async (body) => {
    const response = await fetch(`${baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer bench' }, body: JSON.stringify(body) });
    return response.text();
  };
}

export async function run(): Promise<void> {
  const path = sharedDataPath('coi2_test.json');
  if (!existsSync(path)) {
    console.log('skipped: ../shared/data/coi/coi2_test.json (the paper data) is not here');
    return;
  }
  const recordsText = readFileSync(path, 'utf8');
  const server = await startOpenAITestServer({ reply: ({ messages }) => lastUserText(messages as never) });
  const stores: string[] = [];
  try {
    const evalMs: number[] = [];
    const bareMs: number[] = [];
    const fetchMs: number[] = [];
    const backend = createBackend(profileFromModelSpec('openai:tiny', { baseUrl: server.baseURL }), { apiKey: 'bench' });
    for (let round = 0; round < 3; round++) {
      const before = server.requests.length;
      const { ms, out } = await evaluateOnce(server, recordsText);
      stores.push(out);
      evalMs.push(ms);
      const bodies = server.requests.slice(before).filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.body);
      bareMs.push(await replay(bodies, backendCall(backend)));
      fetchMs.push(await replay(bodies, fetchCall(server.baseURL)));
      if (round === 0) console.log(`${bodies.length} model calls for 588 records (stepwise, concurrency ${CONCURRENCY})`);
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ratio = median(evalMs) / median(bareMs);
    console.log(`evaluation   median ${median(evalMs).toFixed(0)} ms`);
    console.log(`bare backend median ${median(bareMs).toFixed(0)} ms (backend.generate: the same messages, streamed, same concurrency)`);
    console.log(`bare fetch   median ${median(fetchMs).toFixed(0)} ms (HTTP alone, below the openai SDK; for reference)`);
    console.log(`ratio ${ratio.toFixed(3)} (goal ≤ 1.05) ${ratio <= 1.05 ? 'met' : 'MISSED'}`);
    const store = stores[0]!;
    const report = await timeRepeated(() => computeReport(store), 10);
    console.log(formatSummary('computeReport, 588 CoI2 results', report));
    console.log(`report goal: well under 1 s (median ${report.medianMs.toFixed(1)} ms) ${report.medianMs < 500 ? 'met' : 'MISSED'}`);
  } finally {
    await server.close();
    for (const dir of stores) rmSync(dir, { recursive: true, force: true });
  }
}
