/**
 * How the local worker holds memory, through the real worker process and
 * node-llama-cpp 3.21.1: model weights shared by the contexts of several
 * profiles, freed with the last of them, and a context too large for the
 * machine answered with out-of-memory.
 */
import { availableParallelism } from 'node:os';
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { Prompt } from '../../core/backends/types';
import { LocalBackend } from '../../core/backends/local/localBackend';
import { WorkerHost } from '../../core/backends/local/workerHost';
import type { LocalModelSettings, WorkerInfo } from '../../core/backends/local/protocol';
import { tinyModelDir, tinyModelPath, writeTinyModel } from '../rig/tinyModel';
import { workerScriptPath } from '../rig/worker';
import { chatPrompt, rejectsWith } from '../helpers/backends';

const chat = (user: string): Prompt => chatPrompt('You are a careful assistant.', user);

/** The context sizes loaded for `path`, ascending. */
function contextSizes(info: WorkerInfo, path: string): number[] {
  return info.loadedModels
    .filter((m) => m.path === path)
    .map((m) => m.contextSize)
    .sort((a, b) => a - b);
}

/** The weights entries for `path` (one when shared). */
function weightsOf(info: WorkerInfo, path: string): { contexts: number; sizeBytes: number }[] {
  return (info.loadedWeights ?? []).filter((w) => w.path === path);
}

void describe('local worker memory', () => {
  let host: WorkerHost;
  let base: LocalModelSettings;
  const backendFor = (model: Partial<LocalModelSettings>): LocalBackend => new LocalBackend({ host, model: { ...base, ...model }, defaults: { temperature: 0 } });
  const generate = (backend: LocalBackend, user: string) => backend.generate({ prompt: chat(user), params: { maxTokens: 8 } });

  before(() => {
    host = new WorkerHost({ workerPath: workerScriptPath(), idleTimeoutMs: 0 });
    base = { path: tinyModelPath(), threads: 1, gpu: 'cpu' };
  });
  beforeEach(async () => {
    await host.unload();
  });
  after(async () => {
    await host.dispose();
  });

  void test('two profiles on one GGUF with different context sizes both generate on weights loaded once', async () => {
    const small = backendFor({ contextSize: 512 });
    const large = backendFor({ contextSize: 1024 });
    const [a, b] = await Promise.all([generate(small, 'Summarize.'), generate(large, 'Summarize.')]);
    assert.ok(a.text.length > 0 && b.text.length > 0);
    assert.equal(b.text, a.text, 'same weights, same prompt, temperature 0');
    const info = await small.describe();
    assert.deepEqual(contextSizes(info, base.path), [512, 1024]);
    const weights = weightsOf(info, base.path);
    assert.equal(weights.length, 1, JSON.stringify(info.loadedWeights));
    assert.equal(weights[0]?.contexts, 2);
    assert.ok((weights[0]?.sizeBytes ?? 0) > 0);
    // Another thread count is another Llama instance: its own weights. (The worker uses at most the
    // machine's CPU threads: on a one-thread machine 2 threads are 1, the same instance.)
    if (availableParallelism() < 2) return;
    await generate(backendFor({ contextSize: 512, threads: 2 }), 'Summarize.');
    const withThreads = await small.describe();
    assert.deepEqual(weightsOf(withThreads, base.path).map((w) => w.contexts).sort(), [1, 2]);
  });

  void test('an evicted context leaves the other on the same weights working; the weights go with the last one', async () => {
    const other = writeTinyModel(join(tinyModelDir(), 'memory-other.gguf'), { seed: 99 });
    const small = backendFor({ contextSize: 512 });
    const large = backendFor({ contextSize: 1024 });
    await generate(small, 'First.');
    await generate(large, 'Second.');
    // The worker keeps three contexts: the fourth evicts the least recently used (512).
    const otherSmall = backendFor({ path: other, contextSize: 512 });
    const otherMid = backendFor({ path: other, contextSize: 768 });
    await generate(otherSmall, 'Other one.');
    await generate(otherMid, 'Other two.');
    let info = await large.describe();
    assert.deepEqual(contextSizes(info, base.path), [1024]);
    assert.deepEqual(weightsOf(info, base.path).map((w) => w.contexts), [1]);
    assert.ok((await generate(large, 'Still here?')).text.length > 0);

    // Once the 1024 context is the least recently used, the next load evicts it, and the weights with it.
    await generate(otherSmall, 'Other one again.');
    await generate(otherMid, 'Other two again.');
    await generate(backendFor({ path: other, contextSize: 1024 }), 'Other three.');
    info = await large.describe();
    assert.deepEqual(contextSizes(info, base.path), []);
    assert.deepEqual(weightsOf(info, base.path), [], JSON.stringify(info.loadedWeights));
    assert.deepEqual(weightsOf(info, other).map((w) => w.contexts), [3]);

    // Used again, they load again.
    assert.ok((await generate(small, 'Back?')).text.length > 0);
    assert.deepEqual(weightsOf(await small.describe(), base.path).map((w) => w.contexts), [1]);
    await host.unload();
    info = await small.describe();
    assert.deepEqual(info.loadedModels, []);
    assert.deepEqual(info.loadedWeights, []);
  });

  void test('a context too large for the machine is out-of-memory with what to change; the worker goes on', async () => {
    // node-llama-cpp estimates a context's memory before allocating it and throws
    // InsufficientMemoryError when it exceeds free RAM + swap. The estimate itself
    // takes memory per token (about 50 bytes: gigabytes for the tiny model, whose
    // KV cache is 512 bytes a token), so use a deep model whose KV cache is 32 KiB a
    // token: four times the machine's RAM is then a few million tokens.
    const layers = 64;
    const embedding = 128;
    const deep = writeTinyModel(join(tinyModelDir(), 'memory-deep.gguf'), { blockCount: layers, embeddingLength: embedding, headCount: 4, feedForwardLength: 64 });
    const kvBytesPerToken = 2 * layers * embedding * 2; // K and V, f16
    const contextSize = Math.ceil((4 * totalmem()) / kvBytesPerToken);
    assert.ok(contextSize < 2 ** 32, 'a context size llama.cpp can take');

    const normal = backendFor({ contextSize: 512 });
    await generate(normal, 'Warm up.');
    const pid = host.pid;
    const error = await rejectsWith(generate(backendFor({ path: deep, contextSize }), 'Too big.'), 'out-of-memory');
    assert.match(error.message, new RegExp(`context of ${contextSize} tokens`));
    assert.match(error.message, /memory-deep\.gguf/);
    assert.match(error.message, /too large for the available RAM/);
    assert.match(error.message, /Lower the profile's contextSize/);
    assert.equal(host.pid, pid, 'the same worker answered');

    // Nothing of the failed load stays; the same model with a sane context works, and so does the rest.
    const info = await normal.describe();
    assert.deepEqual(weightsOf(info, deep), []);
    assert.deepEqual(contextSizes(info, deep), []);
    assert.ok((await generate(backendFor({ path: deep, contextSize: 512 }), 'Fits.')).text.length > 0);
    assert.ok((await generate(normal, 'Still fine?')).text.length > 0);
    assert.equal(host.pid, pid);
  });
});
