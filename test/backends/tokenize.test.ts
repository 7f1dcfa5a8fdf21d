/**
 * The worker's `coi/tokenize` request (token counts for `coi dataset --tokenizer`):
 * the counts equal node-llama-cpp's own tokenizer on the same GGUF, and a file that
 * is not a model is a clear error, not a crashed worker.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadNodeLlamaCpp } from '../../core/backends/local/nodeLlamaCpp';
import { WorkerHost } from '../../core/backends/local/workerHost';
import { BackendError } from '../../core/backends/types';
import { tempDir } from '../helpers/tempDir';
import { tinyModelPath } from '../rig/tinyModel';
import { workerScriptPath } from '../rig/worker';

const texts = ['', 'Summarize the text.', 'Task 1 output and task 2 input: Roads closed.\nTask 2 output: Routes fermées.', 'naïve café — 東京'];

void describe('worker tokenize', () => {
  let host: WorkerHost;
  before(() => {
    host = new WorkerHost({ workerPath: workerScriptPath(), idleTimeoutMs: 0 });
  });
  after(async () => {
    await host.dispose();
  });

  void test('counts tokens as node-llama-cpp does, the beginning-of-sequence token included', async () => {
    const path = tinyModelPath();
    const result = await host.tokenize({ path, texts });
    const { getLlama } = await loadNodeLlamaCpp();
    const llama = await getLlama({ gpu: false });
    const model = await llama.loadModel({ modelPath: path, vocabOnly: true });
    const bos = model.tokens.bos === null ? 0 : 1;
    assert.deepEqual(result.counts, texts.map((t) => bos + model.tokenize(t).length));
    // The context the GGUF states (llama.context_length), though a vocabulary-only model reports 0 itself.
    assert.equal(result.trainContextSize, model.fileInfo.architectureMetadata.context_length);
    assert.equal(result.trainContextSize, 2048);
    await model.dispose();
    await llama.dispose();
    assert.ok((result.counts[2] ?? 0) > (result.counts[1] ?? 0));
  });

  void test('a file that is not a GGUF model is a model-invalid error; the worker goes on', async () => {
    const bad = join(tempDir(), 'notes.gguf');
    writeFileSync(bad, 'not a model');
    await assert.rejects(host.tokenize({ path: bad, texts }), (error: unknown) => error instanceof BackendError && error.code === 'model-invalid' && /Cannot use the model file \S+notes\.gguf: is not a GGUF file/.test(error.message));
    const again = await host.tokenize({ path: tinyModelPath(), texts: ['ok'] });
    assert.equal(again.counts.length, 1);
  });
});
