/**
 * The header an OpenAI-compatible server's key goes in: `Authorization: Bearer KEY` by default,
 * the bare key in the header a profile names (`api_key_header "api-key"`), and `api-key` by
 * default for Azure OpenAI hosts. Through the real `openai` SDK over HTTP against the
 * OpenAI-protocol test server, which records each request's headers and, like Azure, reads the
 * key from `api-key` only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiKeyHeaderFor, apiKeyHeaderValue, keyHidingLogger, missingApiKeyProblem } from '../../core/backends/openai/apiKey';
import { createBackend } from '../../core/backends/index';
import type { ModelProfile } from '../../core/chain/model';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { rejectsWith } from '../helpers/backends';

const KEY = 'azure-key-0123456789abcdef';
type OpenAIProfile = Extract<ModelProfile, { provider: 'openai' }>;
const profile = (baseUrl: string, apiKeyHeader?: string): OpenAIProfile => ({
  name: 'p',
  provider: 'openai',
  baseUrl,
  model: 'tiny',
  apiKeyEnv: 'AZURE_KEY',
  ...(apiKeyHeader !== undefined ? { apiKeyHeader } : {}),
  sampling: {},
  span: { start: 0, end: 0 },
});
const HI = { prompt: { kind: 'completion' as const, text: 'Hi.' }, params: { maxTokens: 4 } };

void describe('which header the key goes in (pure)', () => {
  void test('Azure OpenAI hosts get api-key by default; every other host Authorization; a chosen header wins', () => {
    for (const url of [
      'https://my-team.openai.azure.com/openai/deployments/gpt4o?api-version=2024-06-01',
      'https://MY-TEAM.OpenAI.Azure.com/openai/v1',
      'https://my-hub.cognitiveservices.azure.com/openai/deployments/d?api-version=2024-10-21',
    ]) {
      assert.equal(apiKeyHeaderFor(url), 'api-key', url);
      assert.equal(apiKeyHeaderFor(url, 'Authorization'), 'Authorization', `${url}: the chosen header wins`);
      assert.ok(missingApiKeyProblem(url, undefined, undefined) !== undefined, `${url} needs a key`);
    }
    for (const url of ['https://api.openai.com/v1', 'http://127.0.0.1:11434/v1', 'https://openai.azure.com.example.com/v1', 'https://azure.com/v1', 'not a url']) {
      assert.equal(apiKeyHeaderFor(url), 'Authorization', url);
    }
    assert.equal(apiKeyHeaderFor('https://llm.example.com/v1', ' x-api-key '), 'x-api-key');
    assert.equal(apiKeyHeaderFor('https://llm.example.com/v1', ''), 'Authorization', 'an empty choice is no choice');
    assert.equal(apiKeyHeaderValue('Authorization', 'k'), 'Bearer k');
    assert.equal(apiKeyHeaderValue('authorization', 'k'), 'Bearer k');
    assert.equal(apiKeyHeaderValue('api-key', 'k'), 'k');
  });

  void test("the SDK's logger gets the key as [key], in messages and in the headers it prints", () => {
    const lines: unknown[][] = [];
    const sink = { error: (...a: unknown[]) => lines.push(a), warn: (...a: unknown[]) => lines.push(a), info: (...a: unknown[]) => lines.push(a), debug: (...a: unknown[]) => lines.push(a) };
    keyHidingLogger(KEY, sink).debug('[log_1] sending request', { method: 'post', headers: { 'api-key': KEY, accept: 'application/json' }, body: [`x ${KEY}`] });
    assert.deepEqual(lines, [['[log_1] sending request', { method: 'post', headers: { 'api-key': '[key]', accept: 'application/json' }, body: ['x [key]'] }]]);
  });
});

void describe('the key on the wire (openai SDK → test server)', () => {
  let azureLike: OpenAITestServer;
  let bearer: OpenAITestServer;
  before(async () => {
    azureLike = await startOpenAITestServer({ apiKey: KEY, apiKeyHeader: 'api-key', reply: () => 'Hello.' });
    bearer = await startOpenAITestServer({ apiKey: KEY, reply: () => 'Hello.' });
  });
  after(async () => {
    await azureLike.close();
    await bearer.close();
  });
  const env = { AZURE_KEY: KEY };

  void test('api_key_header "api-key": the server gets `api-key: KEY` and no Authorization header', async () => {
    const from = azureLike.requests.length;
    const result = await createBackend(profile(azureLike.baseURL, 'api-key'), { env, retry: { maxRetries: 0 } }).generate(HI);
    assert.equal(result.text, 'Hello.');
    const [request, ...more] = azureLike.requests.slice(from);
    assert.equal(more.length, 0);
    assert.equal(request?.headers['api-key'], KEY);
    assert.equal(request?.headers.authorization, undefined, 'no Authorization header (not even the SDK placeholder)');
  });

  void test('any other header name gets the bare key too; without a key no header is sent', async () => {
    const from = bearer.requests.length;
    await rejectsWith(createBackend(profile(bearer.baseURL, 'X-Api-Key'), { env, retry: { maxRetries: 0 } }).generate(HI), 'server-rejected');
    const keyless = createBackend(profile(bearer.baseURL, 'X-Api-Key'), { env: {}, retry: { maxRetries: 0 } });
    await rejectsWith(keyless.generate(HI), 'server-rejected', /it needs an API key and none is set/);
    const [withKey, withoutKey] = bearer.requests.slice(from);
    assert.equal(withKey?.headers['x-api-key'], KEY);
    assert.equal(withKey?.headers.authorization, undefined);
    assert.equal(withoutKey?.headers['x-api-key'], undefined);
    assert.equal(withoutKey?.headers.authorization, undefined);
  });

  void test('without the option: `Authorization: Bearer KEY`, and an api-key server refuses it with a 401 that names the header, never the key', async () => {
    const from = bearer.requests.length;
    const result = await createBackend(profile(bearer.baseURL), { env, retry: { maxRetries: 0 } }).generate(HI);
    assert.equal(result.text, 'Hello.');
    const [request] = bearer.requests.slice(from);
    assert.equal(request?.headers.authorization, `Bearer ${KEY}`);
    assert.equal(request?.headers['api-key'], undefined);
    const explicit = await createBackend(profile(bearer.baseURL, 'authorization'), { env, retry: { maxRetries: 0 } }).generate(HI);
    assert.equal(explicit.text, 'Hello.', 'Authorization named (any case) is Bearer too');

    const error = await rejectsWith(createBackend(profile(azureLike.baseURL), { env, retry: { maxRetries: 0 } }).generate(HI), 'server-rejected', /rejected the API key \(401\)/);
    assert.match(error.message, /The key went in the Authorization header, as Bearer; for a server that reads it from another header, name it with `api_key_header "NAME"` in a model profile or --api-key-header NAME\./);
    assert.ok(!error.message.includes(KEY), error.message);
    const wrongHeader = await rejectsWith(createBackend(profile(azureLike.baseURL, 'x-api-key'), { env, retry: { maxRetries: 0 } }).generate(HI), 'server-rejected');
    assert.match(wrongHeader.message, /The key went in the x-api-key header;/);
    assert.ok(!wrongHeader.message.includes(KEY), wrongHeader.message);
  });
});
