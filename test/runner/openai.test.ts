/**
 * The runner on the OpenAI-compatible path: the real `openai` SDK against the
 * 127.0.0.1 test server (answering with the tiny model). No grammar reaches a
 * remote server for labels, so a label contract is checked after the fact.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAIBackend } from '../../core/backends/openai/openaiBackend';
import { StepCache } from '../../core/runner/cache';
import { runChain } from '../../core/runner/run';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { makeChain } from './helpers';
import { tempDir } from '../helpers/tempDir';

void describe('runner over the OpenAI-compatible backend', () => {
  let server: OpenAITestServer;
  let backend: OpenAIBackend;
  before(async () => {
    server = await startOpenAITestServer();
    backend = new OpenAIBackend({ baseURL: server.baseURL, model: 'tiny', apiKey: 'test-key', defaults: { temperature: 0, maxTokens: 12 } });
  });
  after(async () => {
    await backend.dispose();
    await server.close();
  });

  void test('a label contract without a grammar: the off-label answer fails that step with a clear error', async () => {
    const chain = makeChain([{ id: 'draft' }, { id: 'sentiment', instruction: 'Classify the sentiment.', contract: { kind: 'label', labels: ['positive', 'negative'] } }]);
    const before = server.count('/v1/chat/completions');
    const record = await runChain(chain, { backend, inputs: { text: 'I loved it.' } });
    assert.equal(server.count('/v1/chat/completions') - before, 2);
    assert.equal(record.steps[0]!.status, 'ok');
    assert.equal(record.steps[1]!.status, 'failed');
    assert.equal(record.steps[1]!.error?.code, 'contract');
    assert.match(record.steps[1]!.error!.message, /Step "sentiment" broke its output contract \(label \[positive, negative\]\): expected one of "positive", "negative", got /);
    // The format hint went into the prompt instead.
    const last = server.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body as { messages: { content: string }[]; response_format?: unknown };
    assert.match(last.messages.at(-1)!.content, /Answer with exactly one of these labels and nothing else: positive, negative\./);
    assert.equal(last.response_format, undefined);
  });

  void test('a JSON contract uses structured output and validates against the schema; the cache spares the server', async () => {
    const schema = { type: 'object', properties: { mood: { enum: ['happy', 'sad'] } }, required: ['mood'], additionalProperties: false };
    const chain = makeChain([{ id: 'mood', instruction: 'Give the mood as JSON.', contract: { kind: 'json', schema } }]);
    const cache = new StepCache(tempDir());
    const first = await runChain(chain, { backend, inputs: { text: 'I loved it.' }, cache, params: { maxTokens: 40 } });
    assert.equal(first.status, 'ok', first.error);
    assert.ok(['happy', 'sad'].includes((JSON.parse(first.steps[0]!.output!) as { mood: string }).mood));
    const body = server.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body as { response_format?: { type: string } };
    assert.equal(body.response_format?.type, 'json_schema');
    const count = server.count('/v1/chat/completions');
    const second = await runChain(chain, { backend, inputs: { text: 'I loved it.' }, cache, params: { maxTokens: 40 } });
    assert.equal(server.count('/v1/chat/completions'), count);
    assert.equal(second.steps[0]!.cached, true);
  });
});
