/** The API key rule shared by the CLI, the editor and the OpenAI-compatible backend. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isLocalBaseUrl, missingApiKeyProblem, requiresApiKey, resolveApiKey } from '../../core/backends/openai/apiKey';
import { createBackend } from '../../core/backends/index';
import type { ModelProfile } from '../../core/chain/model';
import { rejectsWith } from '../helpers/backends';

const OPENAI = 'https://api.openai.com/v1';
type OpenAIProfile = Extract<ModelProfile, { provider: 'openai' }>;
const openaiProfile = (baseUrl: string, apiKeyEnv?: string): OpenAIProfile => ({
  name: 'p',
  provider: 'openai',
  baseUrl,
  model: 'gpt-4o-mini',
  ...(apiKeyEnv !== undefined ? { apiKeyEnv } : {}),
  sampling: {},
  span: { start: 0, end: 0 },
});

void describe('API keys of OpenAI-compatible servers', () => {
  void test('local servers (Ollama, LM Studio, vLLM on localhost) need no key; OpenAI and Azure do', () => {
    for (const url of ['http://127.0.0.1:11434/v1', 'http://localhost:1234/v1', 'http://[::1]:8000/v1']) {
      assert.ok(isLocalBaseUrl(url), url);
      assert.equal(missingApiKeyProblem(url, undefined, undefined), undefined, url);
    }
    assert.ok(requiresApiKey(OPENAI));
    assert.ok(requiresApiKey('https://my-team.openai.azure.com/openai/deployments/x'));
    assert.ok(!isLocalBaseUrl(OPENAI));
  });

  void test('the key comes from the given one, else the profile variable, else OPENAI_API_KEY for OpenAI only', () => {
    assert.equal(resolveApiKey(openaiProfile(OPENAI, 'MY_KEY'), { MY_KEY: 'k1' }, 'stored'), 'stored');
    assert.equal(resolveApiKey(openaiProfile(OPENAI, 'MY_KEY'), { MY_KEY: 'k1', OPENAI_API_KEY: 'k2' }), 'k1');
    assert.equal(resolveApiKey(openaiProfile(OPENAI), { OPENAI_API_KEY: 'k2' }), 'k2');
    assert.equal(resolveApiKey(openaiProfile(OPENAI), { OPENAI_API_KEY: '' }), undefined, 'an empty variable is no key');
    // OpenAI's key is never sent to another host by default.
    assert.equal(resolveApiKey(openaiProfile('https://llm.example.com/v1'), { OPENAI_API_KEY: 'k2' }), undefined);
  });

  void test('OpenAI without a key fails before any network call, naming the variable and the editor command', async () => {
    const backend = createBackend(openaiProfile(OPENAI, 'TEAM_OPENAI_KEY'), { env: {}, retry: { maxRetries: 0 } });
    const error = await rejectsWith(backend.generate({ prompt: { kind: 'completion', text: 'Hi.' } }), 'server-rejected', /No API key for https:\/\/api\.openai\.com\/v1/);
    assert.match(error.message, /set the TEAM_OPENAI_KEY environment variable/);
    assert.match(error.message, /CoI: Set API Key/);
    assert.equal(error.details?.cause, undefined, 'no request was made');
    const defaultVariable = createBackend(openaiProfile(OPENAI), { env: {}, retry: { maxRetries: 0 } });
    await rejectsWith(defaultVariable.generate({ prompt: { kind: 'completion', text: 'Hi.' } }), 'server-rejected', /set the OPENAI_API_KEY environment variable/);
  });
});
