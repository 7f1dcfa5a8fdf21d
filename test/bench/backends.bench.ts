/**
 * Backend benchmarks (tiny test model, one thread):
 *  1. Generation speed through the worker process vs node-llama-cpp called
 *     directly in this process, same model and settings, interleaved in one run;
 *     the ratio worker/direct (target ≥ 0.95).
 *  2. The cost of a 3-step chain whose prompts share a long system prompt, with
 *     and without prefix reuse (ms and prompt tokens evaluated).
 */
import { LocalBackend } from '../../core/backends/local/localBackend';
import { WorkerHost } from '../../core/backends/local/workerHost';
import { loadNodeLlamaCpp } from '../../core/backends/local/nodeLlamaCpp';
import type { LocalModelSettings } from '../../core/backends/local/protocol';
import type { Prompt } from '../../core/backends/types';
import { tinyModelPath } from '../rig/tinyModel';
import { workerScriptPath } from '../rig/worker';
import { summarize, verdict } from './stats';

const TOKENS = 512;
const SAMPLES = 11;
const PROMPT = 'A chain of instructions turns one input into an output in several steps. The first step';

function median(values: readonly number[]): number {
  return summarize(values).medianMs;
}

async function throughput(host: WorkerHost, settings: LocalModelSettings): Promise<void> {
  const backend = new LocalBackend({ host, model: settings });
  const nlc = await loadNodeLlamaCpp();
  const llama = await nlc.getLlama({ gpu: false, maxThreads: 1, build: 'never' });
  const model = await llama.loadModel({ modelPath: settings.path });
  const context = await model.createContext({ contextSize: settings.contextSize ?? 2048, threads: 1 });
  const completion = new nlc.LlamaCompletion({ contextSequence: context.getSequence() });

  const prompt: Prompt = { kind: 'completion', text: PROMPT };
  const params = { maxTokens: TOKENS, temperature: 0 };
  const direct = async (): Promise<number> => {
    const start = performance.now();
    let tokens = 0;
    await completion.generateCompletion(PROMPT, { ...params, onToken: (t) => (tokens += t.length), onTextChunk: () => undefined });
    return tokens / ((performance.now() - start) / 1000);
  };
  const viaWorker = async (stream: boolean): Promise<number> => {
    const start = performance.now();
    const result = await backend.generate({ prompt, params, ...(stream ? { onText: () => undefined } : {}) });
    return result.completionTokens / ((performance.now() - start) / 1000);
  };
  // Warm up both paths (model load, first evaluation).
  await direct();
  await viaWorker(false);
  const directRates: number[] = [];
  const workerRates: number[] = [];
  const streamRates: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    directRates.push(await direct());
    workerRates.push(await viaWorker(false));
    streamRates.push(await viaWorker(true));
  }
  const d = median(directRates);
  const w = median(workerRates);
  const s = median(streamRates);
  // Ratios of neighbouring samples cancel most of the drift of a shared machine.
  const pairRatio = (rates: readonly number[]): number => median(rates.map((r, i) => r / (directRates[i] ?? NaN)));
  console.log(`generation, ${TOKENS} tokens per call, ${SAMPLES} interleaved samples (median tokens/s; ratio = median of paired ratios):`);
  console.log(`  node-llama-cpp in this process : ${d.toFixed(0)}`);
  const workerRatio = pairRatio(workerRates);
  console.log(`  through the worker             : ${w.toFixed(0)}  ratio ${workerRatio.toFixed(3)} (target >= 0.95: ${verdict(workerRatio >= 0.95)})`);
  console.log(`  through the worker, streaming  : ${s.toFixed(0)}  ratio ${pairRatio(streamRates).toFixed(3)}`);
  await context.dispose();
  await model.dispose();
  await llama.dispose();
}

async function prefixReuse(host: WorkerHost, settings: LocalModelSettings): Promise<void> {
  const system = 'You are a careful assistant. You follow each instruction of a chain exactly, keep the facts of the input, and answer briefly. '.repeat(8);
  const steps = ['Summarize the input in one sentence.', 'Translate the summary into French.', 'Give the translation a short title.'];
  const runChain = async (backend: LocalBackend): Promise<{ ms: number; evaluated: number; prompt: number }> => {
    let previous = 'The meeting moved to Thursday because the room was booked; the agenda stays the same.';
    let evaluated = 0;
    let promptTokens = 0;
    const start = performance.now();
    for (const step of steps) {
      const result = await backend.generate({
        prompt: { kind: 'chat', messages: [{ role: 'system', content: system }, { role: 'user', content: `${step}\n\nInput:\n${previous}` }] },
        params: { maxTokens: 16, temperature: 0 },
      });
      previous = result.text;
      evaluated += result.evaluatedPromptTokens;
      promptTokens += result.promptTokens;
    }
    return { ms: performance.now() - start, evaluated, prompt: promptTokens };
  };
  const withReuse = new LocalBackend({ host, model: settings });
  const withoutReuse = new LocalBackend({ host, model: { ...settings, reusePrefix: false } });
  await runChain(withReuse);
  await runChain(withoutReuse);
  const reuse: { ms: number; evaluated: number; prompt: number }[] = [];
  const noReuse: { ms: number; evaluated: number; prompt: number }[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    reuse.push(await runChain(withReuse));
    noReuse.push(await runChain(withoutReuse));
  }
  const r = median(reuse.map((x) => x.ms));
  const n = median(noReuse.map((x) => x.ms));
  console.log(`3-step chain sharing a ${Math.round((reuse[0]?.prompt ?? 0) / 3)}-token-average prompt (system prompt shared), median of ${SAMPLES}:`);
  console.log(`  without prefix reuse: ${n.toFixed(1)} ms, ${median(noReuse.map((x) => x.evaluated))} of ${noReuse[0]?.prompt} prompt tokens evaluated`);
  console.log(`  with prefix reuse   : ${r.toFixed(1)} ms, ${median(reuse.map((x) => x.evaluated))} of ${reuse[0]?.prompt} prompt tokens evaluated  (${(n / r).toFixed(2)}x faster)`);
}

export async function run(): Promise<void> {
  const host = new WorkerHost({ workerPath: workerScriptPath(), idleTimeoutMs: 0 });
  // Separate model entries (the settings differ) so the two benchmarks do not share a sequence.
  // The test model's shape, widened (256 wide, 4 layers, about 20 MB) so that
  // model work, not per-call overhead, dominates as with real models.
  const path = tinyModelPath('bench', { embeddingLength: 256, blockCount: 4, headCount: 4, feedForwardLength: 768 });
  console.log(`model: generated test GGUF, embedding 256, 4 layers, feed-forward 768; threads 1, CPU`);
  const settings: LocalModelSettings = { path, threads: 1, gpu: 'cpu', contextSize: 2048 };
  try {
    await throughput(host, settings);
    await prefixReuse(host, { ...settings, contextSize: 2047 });
  } finally {
    await host.dispose();
  }
}

if (require.main === module) {
  run().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
