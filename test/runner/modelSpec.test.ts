// `--model SPEC`: the forms a user types, turned into the profile the runner uses, and the
// identity stores and caches key on (base and base + adapter are two models).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resolveApiKey } from '../../core/backends';
import { profileFromModelSpec, profileIdentity } from '../../core/runner';

const cwd = '/work/project';

void test('a GGUF path, an hf: URI and openai:MODEL_ID', () => {
  assert.deepEqual(profileIdentity(profileFromModelSpec('models/base.gguf', { cwd })), { backend: 'local', model: join(cwd, 'models/base.gguf') });
  assert.deepEqual(profileIdentity(profileFromModelSpec('openai:gpt-4o-mini', { baseUrl: 'http://127.0.0.1:9/v1' })), { backend: 'openai', model: 'gpt-4o-mini@http://127.0.0.1:9/v1' });
  const hf = profileFromModelSpec('hf:user/repo:Q4_K_M');
  assert.ok(hf.provider === 'local' && hf.lora === undefined);
});

void test('base.gguf?lora=adapter.gguf: the adapter on the base, both resolved against the working folder, scale 1 unless &scale=', () => {
  const tuned = profileFromModelSpec('base.gguf?lora=out/adapter-f16.gguf', { cwd });
  assert.ok(tuned.provider === 'local');
  assert.equal(tuned.path, join(cwd, 'base.gguf'));
  assert.deepEqual(tuned.lora, { path: join(cwd, 'out/adapter-f16.gguf'), scale: 1 });
  const half = profileFromModelSpec('/abs/base.gguf?lora=/abs/a.gguf&scale=0.5', { cwd });
  assert.ok(half.provider === 'local');
  assert.deepEqual(half.lora, { path: '/abs/a.gguf', scale: 0.5 });
  assert.deepEqual(profileIdentity(half), { backend: 'local', model: '/abs/base.gguf + lora /abs/a.gguf × 0.5' });
  assert.notDeepEqual(profileIdentity(half), profileIdentity(profileFromModelSpec('/abs/base.gguf', { cwd })));
});

void test('a malformed ?lora= spec is refused with the form to use', () => {
  assert.throws(() => profileFromModelSpec('?lora=a.gguf'), /name the base model before \?lora=/);
  assert.throws(() => profileFromModelSpec('base.gguf?lora='), /needs the adapter's GGUF file/);
  assert.throws(() => profileFromModelSpec('base.gguf?lora=a.gguf&scale=-1'), /only &scale=N \(a number ≥ 0\)/);
  assert.throws(() => profileFromModelSpec('base.gguf?lora=a.gguf&rank=4'), /not 'rank=4'/);
});

void test("openai:MODEL_ID's key (the CLI's --model and the editor's selected model): $OPENAI_API_KEY for api.openai.com only, another host only a named variable", () => {
  const env = { OPENAI_API_KEY: 'sk-openai', MINE: 'sk-mine' };
  const keyOf = (options: Parameters<typeof profileFromModelSpec>[1]): string | undefined => {
    const profile = profileFromModelSpec('openai:m', options);
    assert.equal(profile.provider, 'openai');
    return profile.provider === 'openai' ? resolveApiKey(profile, env) : undefined;
  };
  assert.equal(keyOf({}), 'sk-openai');
  for (const baseUrl of ['http://127.0.0.1:9/v1', 'http://localhost:11434/v1', 'https://llm.example.com/v1']) {
    assert.equal(keyOf({ baseUrl }), undefined, baseUrl);
    assert.equal(keyOf({ baseUrl, apiKeyEnv: 'MINE' }), 'sk-mine', baseUrl);
  }
});
