/**
 * client/eval/plan.ts, the pure helpers of the editor's evaluation commands:
 * whether a store is interrupted (what CoI: Resume Evaluation offers), the store
 * folder name, the model keys written to eval.json (the same as `coi eval`, so
 * a store resumes from either), and item paths.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createEvalConfig } from '../../core/eval/config';
import type { EvalConfig, EvalResult } from '../../core/eval/types';
import type { ModelProfile } from '../../core/chain/model';
import { displayPath } from '../../core/syntax';
import { modelConfigOf, modesOf, statusText, storeFolderName, storeProgress, usesChain } from '../../client/eval/plan';

const span = { start: 0, end: 0 };
const api: ModelProfile = { name: 'api', provider: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'tiny', apiKeyEnv: 'OPENAI_API_KEY', sampling: {}, span };
const local: ModelProfile = { name: 'm.gguf', provider: 'local', path: '/models/m.gguf', sampling: {}, span };

function config(itemCount: number, models: readonly string[], modes: EvalConfig['modes']): EvalConfig {
  const items = Array.from({ length: itemCount }, (_, i) => ({ id: `item ${i}`, chain: { name: 'c', profiles: [], inputs: [], steps: [], tests: [] }, inputs: {}, references: {}, categories: [] }));
  return createEvalConfig({
    name: 'c',
    source: { kind: 'tests', files: ['/w/c.coi'] },
    models: models.map((key) => ({ key, label: key, identity: { backend: 'openai', model: key } })),
    modes,
    template: 'chat',
    items,
    toolVersion: '0.0.0',
  });
}

function result(item: string, model: string, mode: 'stepwise' | 'composed', error?: string): EvalResult {
  return { item, model, mode, chainLength: 1, steps: [], final: {}, splitFailed: false, tokensIn: 0, tokensOut: 0, latencyMs: 0, modelCalls: 1, cached: false, runId: 'r', ...(error !== undefined ? { error } : {}) };
}

void describe('storeProgress: what a store holds against items × models × modes', () => {
  const cases: readonly { name: string; config: EvalConfig; results: EvalResult[]; expected: { expected: number; done: number; failures: number; interrupted: boolean } }[] = [
    { name: 'an empty store', config: config(3, ['a'], ['stepwise']), results: [], expected: { expected: 3, done: 0, failures: 0, interrupted: true } },
    {
      name: 'a complete store with a failure',
      config: config(2, ['a'], ['stepwise', 'composed']),
      results: [result('item 0', 'a', 'stepwise'), result('item 0', 'a', 'composed'), result('item 1', 'a', 'stepwise', 'HTTP 500'), result('item 1', 'a', 'composed')],
      expected: { expected: 4, done: 4, failures: 1, interrupted: false },
    },
    {
      name: 'a repeated triple counts once',
      config: config(2, ['a'], ['stepwise']),
      results: [result('item 0', 'a', 'stepwise'), result('item 0', 'a', 'stepwise')],
      expected: { expected: 2, done: 1, failures: 0, interrupted: true },
    },
    {
      name: 'results of another model or mode do not count',
      config: config(1, ['a', 'b'], ['stepwise']),
      results: [result('item 0', 'a', 'stepwise'), result('item 0', 'c', 'stepwise'), result('item 0', 'b', 'composed')],
      expected: { expected: 2, done: 1, failures: 0, interrupted: true },
    },
  ];
  for (const c of cases) void test(c.name, () => assert.deepEqual(storeProgress(c.config, c.results), c.expected));
});

void describe('model keys as coi eval writes them', () => {
  void test('a file profile is profile:NAME, labelled by its name', () => {
    assert.deepEqual(modelConfigOf({ kind: 'profile', name: 'api', profile: api }), { key: 'profile:api', label: 'api', profile: 'api', identity: { backend: 'openai', model: 'tiny@http://127.0.0.1:9/v1' } });
  });
  void test('a spec is its own key; an openai: spec keeps its base URL', () => {
    assert.deepEqual(modelConfigOf({ kind: 'spec', spec: 'openai:tiny', baseUrl: 'http://127.0.0.1:9/v1', profile: { ...api, name: 'openai:tiny' } }), {
      key: 'openai:tiny',
      label: 'openai:tiny',
      spec: 'openai:tiny',
      baseUrl: 'http://127.0.0.1:9/v1',
      identity: { backend: 'openai', model: 'tiny@http://127.0.0.1:9/v1' },
    });
    assert.deepEqual(modelConfigOf({ kind: 'spec', spec: './m.gguf', profile: local }), { key: './m.gguf', label: './m.gguf', spec: './m.gguf', identity: { backend: 'local', model: '/models/m.gguf' } });
  });
});

void describe('names and paths', () => {
  void test('the store folder: a timestamp without colons, then the name made safe for a folder', () => {
    assert.equal(storeFolderName('dock news/v2', new Date('2026-12-05T01:02:03.456Z')), '2026-12-05T01-02-03-456Z-dock-news-v2');
  });
  void test('item paths are relative inside the workspace, with /, and absolute outside it', () => {
    assert.equal(displayPath(join('/w', 'sub', 'c.coi'), '/w'), 'sub/c.coi');
    assert.equal(displayPath('/elsewhere/c.coi', '/w'), '/elsewhere/c.coi');
    assert.equal(displayPath('/w/..notes.coi', '/w'), '..notes.coi', 'a name starting with two dots is still inside');
    assert.equal(displayPath('/w/../x.coi', '/w'), '/w/../x.coi');
  });
  void test('modes of the pick', () => {
    assert.deepEqual(modesOf('both'), ['stepwise', 'composed']);
    assert.deepEqual(modesOf('composed'), ['composed']);
  });
  void test('the status bar shows progress and failures only when there are some', () => {
    assert.equal(statusText('dock', 3, 8, 0), '$(beaker~spin) Eval dock: 3/8');
    assert.equal(statusText('dock', 3, 8, 2), '$(beaker~spin) Eval dock: 3/8, 2 failed');
  });
});

void describe('what a source uses', () => {
  void test("this chain's tests and a dataset bound to it use the open chain; a records file does not (it is neither checked nor saved)", () => {
    assert.equal(usesChain('tests'), true);
    assert.equal(usesChain('dataset'), true);
    assert.equal(usesChain('records'), false);
  });
});
