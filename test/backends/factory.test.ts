/**
 * createBackend: model profiles become working backends; local ones share one
 * worker process in this process.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, dirname } from 'node:path';
import type { ModelProfile } from '../../core/chain/model';
import { createBackend, describeLocalBackend, disposeSharedWorkerHosts, sharedWorkerHost } from '../../core/backends';
import { tinyModelPath } from '../rig/tinyModel';
import { workerScriptPath } from '../rig/worker';
import { startOpenAITestServer } from '../rig/openaiServer';

const span = { start: 0, end: 0 };
const prompt = { kind: 'chat', messages: [{ role: 'user', content: 'Hello.' }] } as const;

void describe('createBackend', () => {
  after(async () => {
    await disposeSharedWorkerHosts();
  });

  void test('local profiles (paths relative to the .coi folder) share one worker', async () => {
    const model = tinyModelPath();
    const profile = (name: string, temperature: number): ModelProfile => ({ name, provider: 'local', path: basename(model), threads: 1, gpu: 'cpu', contextSize: 1024, sampling: { temperature, maxTokens: 8 }, span });
    const workerPath = workerScriptPath();
    const a = createBackend(profile('a', 0), { workerPath, baseDir: dirname(model) });
    const b = createBackend(profile('b', 0), { workerPath, baseDir: dirname(model) });
    assert.equal(a.identity.backend, 'local');
    assert.equal(a.identity.model, model);
    const [ra, rb] = await Promise.all([a.generate({ prompt }), b.generate({ prompt })]);
    assert.equal(ra.text, rb.text);
    assert.ok(ra.completionTokens <= 8);
    const host = sharedWorkerHost(workerPath);
    assert.equal(host.startCount, 1);
    const info = await describeLocalBackend(a);
    assert.equal(info?.gpu, false);
    assert.equal(info?.pid, host.pid);
  });

  void test('an OpenAI-compatible profile reads its key from the named variable', async () => {
    const server = await startOpenAITestServer({ apiKey: 'sk-from-env' });
    try {
      const profile: ModelProfile = { name: 'remote', provider: 'openai', baseUrl: server.baseURL, model: 'tiny', apiKeyEnv: 'COI_TEST_KEY', sampling: { maxTokens: 4 }, span };
      const backend = createBackend(profile, { env: { COI_TEST_KEY: 'sk-from-env' } });
      assert.equal(backend.identity.backend, 'openai');
      const result = await backend.generate({ prompt });
      assert.ok(result.text.length > 0);
      assert.equal(server.requests.at(-1)?.headers.authorization, 'Bearer sk-from-env');
    } finally {
      await server.close();
    }
  });
});
