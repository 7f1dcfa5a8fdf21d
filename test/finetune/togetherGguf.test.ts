/**
 * A Together job's result comes back as a GGUF the local backend loads: the tiny HF Llama
 * of python/make_tiny_hf_model.py served (zstd tar, as Together packs results) by the
 * project's Together-protocol test server, downloaded by the real `coi`, converted by
 * llama.cpp's converter in the training environment, loaded and run by node-llama-cpp.
 * Needs the cached training environment (`coi finetune setup`); skips with one line without it.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { jobDir, listJobIds, readState, venvLocation } from '../../core/finetune';
import { loadNodeLlamaCpp } from '../../core/backends/local/nodeLlamaCpp';
import { coiAsync } from '../cli/cliProcess';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { resultArchive, startTogetherTestServer } from '../rig/togetherServer';
import { coi2Excerpt } from '../helpers/finetuneInputs';

const data = coi2Excerpt;
const venv = venvLocation();

void test('a completed Together job is converted to GGUF in its folder, and node-llama-cpp generates with it', { skip: venv.ready ? false : 'skipped: no training environment here (coi finetune setup makes it)' }, async () => {
  const model = join(tempDir(), 'tiny-hf');
  const text = join(tempDir(), 'text.txt');
  const records = readFileSync(data, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { prompt: string; completion: string });
  writeFileSync(text, records.map((r) => `${r.prompt}\n${r.completion}`).join('\n'));
  const made = spawnSync(venv.python, [repoPath('python', 'make_tiny_hf_model.py'), model, text], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const server = await startTogetherTestServer({ apiKey: 'key-for-gguf-test', result: resultArchive(model), steps: 2 });
  try {
    const workspace = tempDir();
    const result = await coiAsync(['finetune', 'start', '--engine', 'together', '--base', 'org/tiny', '--data', data, '--yes', '--wait'], {
      cwd: workspace,
      env: { TOGETHER_API_KEY: 'key-for-gguf-test', TOGETHER_BASE_URL: server.baseURL, COI_TOGETHER_POLL_MS: '0' },
    });
    assert.equal(result.code, 0, result.stderr);
    const [id] = listJobIds(workspace);
    const state = readState(jobDir(workspace, id ?? ''));
    assert.equal(state.status, 'completed', state.message);
    assert.ok(state.ggufPath !== undefined && existsSync(state.ggufPath), `no GGUF: ${state.message ?? ''}`);
    assert.equal(state.ggufPath, join(jobDir(workspace, id ?? ''), 'model-f16.gguf'));

    const nlc = await loadNodeLlamaCpp();
    const llama = await nlc.getLlama({ gpu: false, maxThreads: 1, build: 'never' });
    const loaded = await llama.loadModel({ modelPath: state.ggufPath });
    const context = await loaded.createContext({ contextSize: 512, threads: 1 });
    const completion = new nlc.LlamaCompletion({ contextSequence: context.getSequence() });
    const tokens: string[] = [];
    await completion.generateCompletion(records[0]?.prompt ?? '', { maxTokens: 8, temperature: 0, onTextChunk: (chunk) => void tokens.push(chunk) });
    await context.dispose();
    await loaded.dispose();
    assert.ok(tokens.length > 0, 'the converted model generated');
  } finally {
    await server.close();
  }
});
