/**
 * The local engine (core/backends/local/engine.ts) in this process, with the real
 * node-llama-cpp 3.21.1 and a tiny GGUF model: after a model file that llama.cpp refuses to
 * load, the engine still frees everything and returns. node-llama-cpp gives the half-made model
 * a hold on its Llama that only disposing the model releases; once the garbage collector has
 * taken the model, `llama.dispose()` waits forever, on nothing that keeps the process alive (the
 * test runner reports such a wait as a test still pending when the event loop ended). The
 * garbage is collected here on purpose, so that this happens for certain, not by the
 * collector's timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LocalEngine } from '../../core/backends/local/engine';
import { BackendError } from '../../core/backends/types';
import { tinyModelPath } from '../rig/tinyModel';
import { chatPrompt } from '../helpers/backends';
import { tempDir } from '../helpers/tempDir';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects the garbage, letting finalizers and their callbacks run between the passes. */
async function collectGarbage(): Promise<void> {
  for (let pass = 0; pass < 3; pass++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A copy of the tiny model whose architecture is `llamb`: a sound GGUF, which our checks and
 * node-llama-cpp's reader of the header pass, and which llama.cpp refuses to load (it knows no
 * such architecture), with an error rather than an abort.
 */
function refusedModel(): string {
  const bytes = readFileSync(tinyModelPath());
  const key = bytes.indexOf('general.architecture');
  bytes.write('llamb', bytes.indexOf('llama', key + 'general.architecture'.length));
  const file = join(tempDir(), 'unknown-architecture.gguf');
  writeFileSync(file, bytes);
  return file;
}

const refused = (error: unknown): boolean => error instanceof BackendError && error.code === 'model-invalid' && /Failed to load model/.test(error.message);

void test('after a model llama.cpp refuses to load, the engine still serves a sound one, then frees its llama.cpp and returns', async () => {
  const engine = new LocalEngine();
  const model = { path: refusedModel(), threads: 1, contextSize: 256, gpu: 'cpu' as const };
  const prompt = chatPrompt('You answer.', 'x');
  await assert.rejects(engine.generate({ requestId: 1, model, prompt, params: { maxTokens: 2 } }), refused);
  const sound = await engine.generate({ requestId: 2, model: { ...model, path: tinyModelPath() }, prompt, params: { maxTokens: 2 } });
  assert.ok(sound.completionTokens > 0);
  await collectGarbage();
  await engine.dispose();
});

void test('after a model whose tokenizer llama.cpp refuses to load, the engine still frees its llama.cpp and returns', async () => {
  const engine = new LocalEngine();
  await assert.rejects(engine.tokenize({ path: refusedModel(), texts: ['x'] }), refused);
  await collectGarbage();
  await engine.dispose();
});
