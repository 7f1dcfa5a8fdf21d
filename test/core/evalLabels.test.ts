import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayLabels } from '../../core/eval/labels';
import type { EvalModelConfig } from '../../core/eval/types';

const spec = (s: string): EvalModelConfig => ({ key: s, label: s, spec: s, identity: { backend: 'local', model: s } });
const labelsOf = (...models: EvalModelConfig[]): string[] => [...displayLabels(models).values()];

void test('a local model is named by its file, a LoRA model as base + adapter', () => {
  assert.deepEqual(labelsOf(spec('/home/me/models/qwen2.5-0.5b-q4.gguf'), spec('/home/me/jobs/run-3/base.gguf?lora=/home/me/jobs/run-3/adapter.gguf&scale=0.5')), ['qwen2.5-0.5b-q4.gguf', 'base.gguf + adapter.gguf ×0.5']);
  assert.deepEqual(labelsOf(spec('C:\\models\\tiny.gguf?lora=C:\\jobs\\a\\lora.gguf')), ['tiny.gguf + lora.gguf']);
});

void test('profiles, openai: and hf: models keep their names', () => {
  const profile: EvalModelConfig = { key: 'profile:fast', label: 'fast', profile: 'fast', identity: { backend: 'local', model: '/m/a.gguf' } };
  assert.deepEqual(labelsOf(profile, spec('openai:gpt-4o-mini'), spec('hf:org/repo/model.Q4_K_M.gguf')), ['fast', 'openai:gpt-4o-mini', 'hf:org/repo/model.Q4_K_M.gguf']);
});

void test('two files of one name get the folders that tell them apart, and only they', () => {
  assert.deepEqual(labelsOf(spec('/jobs/run-1/out/model-f16.gguf'), spec('/jobs/run-2/out/model-f16.gguf'), spec('/models/base.gguf')), ['run-1/out/model-f16.gguf', 'run-2/out/model-f16.gguf', 'base.gguf']);
  // The same file given two ways cannot be told apart by its path: the specs as given.
  assert.deepEqual(labelsOf(spec('/m/a.gguf'), spec('/m//a.gguf')), ['/m/a.gguf', '/m//a.gguf']);
});
