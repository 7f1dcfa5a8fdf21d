/**
 * The OpenAI-compatible backend through the real `openai` SDK against the test
 * server (test/rig/openaiServer.ts) on 127.0.0.1, which answers with
 * node-llama-cpp and the tiny model and injects the faults under test.
 */
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import OpenAI, { toFile } from 'openai';
import type { GenerateRequest, Prompt } from '../../core/backends/types';
import { ERROR_BODY_LIMIT, OpenAIBackend, retryAfterMs, type OpenAIBackendOptions } from '../../core/backends/openai/openaiBackend';
import { checkConstraint } from '../../core/backends/constraints';
import { startOpenAITestServer, type Fault, type OpenAITestServer } from '../rig/openaiServer';
import { chatPrompt, rejectsWith } from '../helpers/backends';

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const chat = (user: string): Prompt => chatPrompt('You are a careful assistant.', user);

const CHAT = '/v1/chat/completions';

void describe('OpenAI-compatible backend (openai SDK + local test server)', () => {
  let server: OpenAITestServer;
  const API_KEY = 'sk-test-secret-key';
  const make = (extra: Partial<OpenAIBackendOptions> = {}): OpenAIBackend =>
    new OpenAIBackend({ baseURL: server.baseURL, model: 'tiny', apiKey: API_KEY, defaults: { temperature: 0, maxTokens: 24 }, retry: { baseDelayMs: 10, maxDelayMs: 2000 }, ...extra });

  before(async () => {
    server = await startOpenAITestServer({ apiKey: API_KEY });
  });
  after(async () => {
    await server.close();
  });

  void test('generates a chat completion with token usage', async () => {
    const result = await make().generate({ prompt: chat('Summarize this.') });
    assert.ok(result.text.length > 0);
    assert.ok(result.promptTokens > 5);
    assert.ok(result.completionTokens > 0 && result.completionTokens <= 24);
    assert.equal(result.stopReason, 'length');
  });

  void test('streamed chunks concatenate to the final text, which equals the non-streamed answer', async () => {
    const chunks: string[] = [];
    const streamed = await make().generate({ prompt: chat('Stream please.'), onText: (c) => chunks.push(c) });
    assert.ok(chunks.length > 1);
    assert.equal(chunks.join(''), streamed.text);
    assert.ok(streamed.completionTokens > 0);
    const plain = await make().generate({ prompt: chat('Stream please.') });
    assert.equal(plain.text, streamed.text);
  });

  void test('temperature 0 is deterministic', async () => {
    const request: GenerateRequest = { prompt: chat('Again and again.') };
    assert.equal((await make().generate(request)).text, (await make().generate(request)).text);
  });

  void test('a JSON Schema constraint is sent as response_format and the answer satisfies it', async () => {
    const schema = { type: 'object', properties: { label: { enum: ['spam', 'ham'] }, sure: { type: 'boolean' } }, required: ['label', 'sure'] };
    const constraint = { kind: 'json-schema', schema } as const;
    const before = server.count(CHAT);
    const result = await make().generate({ prompt: chat('Classify.'), constraint, params: { maxTokens: 100 } });
    assert.equal(checkConstraint(constraint, result.text), undefined, result.text);
    const sent = server.requests[before]?.body as { response_format?: { type: string } };
    assert.equal(sent.response_format?.type, 'json_schema');
  });

  void test('a server without structured output gets a prompt hint instead', async () => {
    const plainServer = await startOpenAITestServer({ structuredOutput: false });
    try {
      const backend = new OpenAIBackend({ baseURL: plainServer.baseURL, model: 'tiny', defaults: { maxTokens: 8 } });
      const constraint = { kind: 'json-schema', schema: { type: 'object', properties: { a: { type: 'boolean' } } } } as const;
      const result = await backend.generate({ prompt: chat('JSON please.'), constraint });
      assert.equal(typeof result.text, 'string');
      const last = plainServer.requests.at(-1)?.body as { response_format?: unknown; messages: { content: string }[] };
      assert.equal(last.response_format, undefined);
      assert.match(last.messages.at(-1)?.content ?? '', /JSON Schema/);
      assert.equal(plainServer.count(CHAT), 2, 'refused once, then answered');
    } finally {
      await plainServer.close();
    }
  });

  void test('a model that refuses max_tokens and temperature gets max_completion_tokens and its default temperature', async () => {
    const strict = await startOpenAITestServer({ refuseParams: ['max_tokens', 'temperature', 'stream_options'] });
    try {
      const backend = new OpenAIBackend({ baseURL: strict.baseURL, model: 'tiny', defaults: { temperature: 0, maxTokens: 6 } });
      const result = await backend.generate({ prompt: chat('Hi.') });
      assert.ok(result.completionTokens > 0 && result.completionTokens <= 6);
      const last = strict.requests.at(-1)?.body as Record<string, unknown>;
      assert.equal(last.max_completion_tokens, 6);
      assert.equal(last.max_tokens, undefined);
      assert.equal(last.temperature, undefined);
      assert.equal(strict.count(CHAT), 3, 'two refusals, then the answer');
      // Learned for good: the next request is right the first time.
      await backend.generate({ prompt: chat('Again.') });
      assert.equal(strict.count(CHAT), 4);
      // Streaming without stream_options: usage is counted from the chunks.
      const chunks: string[] = [];
      const streamed = await backend.generate({ prompt: chat('Stream.'), onText: (c) => chunks.push(c) });
      assert.equal(chunks.join(''), streamed.text);
      assert.equal(streamed.completionTokens, chunks.length);
      assert.equal(strict.count(CHAT), 6, 'one refusal of stream_options');
    } finally {
      await strict.close();
    }
  });

  void test('a label constraint adds the labels to the prompt', async () => {
    const before = server.count(CHAT);
    await make().generate({ prompt: chat('Classify the mood.'), constraint: { kind: 'labels', labels: ['happy', 'sad'] } });
    const sent = server.requests[before]?.body as { messages: { role: string; content: string }[] };
    assert.match(sent.messages.at(-1)?.content ?? '', /Classify the mood\.[\s\S]*happy, sad/);
  });

  void test('429 with Retry-After is retried after the asked delay; two calls in all', async () => {
    const delays: number[] = [];
    server.injectFaults([{ kind: 'status', status: 429, retryAfter: '1' }]);
    const before = server.count(CHAT);
    const result = await make({ onRetry: (r) => delays.push(r.delayMs) }).generate({ prompt: chat('Hi.') });
    assert.ok(result.text.length > 0);
    assert.equal(server.count(CHAT) - before, 2);
    assert.deepEqual(delays, [1000]);
  });

  void test('Retry-After as an HTTP date is understood', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now), 3000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '2' }), now), 2000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': '250' }), now), 250);
    assert.equal(retryAfterMs(new Headers({}), now), undefined);
  });

  void test('Retry-After is a non-negative integer of seconds or an HTTP date; anything else is ignored', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const table: [string, number | undefined][] = [
      ['0', 0],
      ['5', 5000],
      ['120', 120_000],
      ['Thu, 01 Jan 2026 00:00:03 GMT', 3000], // IMF-fixdate
      ['Thursday, 01-Jan-26 00:00:04 GMT', 4000], // RFC 850 (obsolete)
      ['Thu Jan  1 00:00:05 2026', 5000], // asctime (obsolete)
      ['Wed, 31 Dec 2025 23:59:00 GMT', 0], // in the past: now
      ['-5', undefined],
      ['1,2', undefined],
      ['1.5', undefined],
      ['"5 "', undefined],
      ['5 s', undefined],
      ['soon', undefined],
      ['1e3', undefined],
      ['Thu, 31 Feb 2026 00:00:00 GMT', undefined],
      ['Thu, 01 Jan 2026 25:00:00 GMT', undefined],
      ['2026-01-01T00:00:05Z', undefined],
      ['Thu, 01 Jan 2026 00:00:05 PST', undefined],
      ['January 1, 2026', undefined],
    ];
    for (const [value, expected] of table) assert.equal(retryAfterMs(new Headers({ 'retry-after': value }), now), expected, value);
    assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': '-5', 'retry-after': '2' }), now), 2000, 'a malformed retry-after-ms is ignored');
  });

  void test('a malformed Retry-After gets the normal back-off, not an immediate retry', async () => {
    server.injectFaults([{ kind: 'status', status: 429, retryAfter: '-5' }]);
    const delays: number[] = [];
    await make({ retry: { baseDelayMs: 400 }, onRetry: (r) => delays.push(r.delayMs) }).generate({ prompt: chat('Hi.') });
    assert.equal(delays.length, 1);
    assert.ok(delays[0]! >= 200, `waited ${delays[0]} ms`);
  });

  void test('500s are retried with back-off until success', async () => {
    server.injectFaults([
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503 },
    ]);
    const before = server.count(CHAT);
    const result = await make().generate({ prompt: chat('Hi.') });
    assert.ok(result.text.length > 0);
    assert.equal(server.count(CHAT) - before, 3);
  });

  void test('persistent 429s end as rate-limited after the bounded retries', async () => {
    server.injectFaults(Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 429, retryAfter: '0' })));
    const before = server.count(CHAT);
    const error = await rejectsWith(make({ retry: { maxRetries: 2, baseDelayMs: 1 } }).generate({ prompt: chat('Hi.') }), 'rate-limited', /429/);
    assert.equal(error.details?.status, 429);
    assert.equal(server.count(CHAT) - before, 3);
  });

  void test('a Retry-After longer than allowed fails at once with the hint', async () => {
    server.injectFaults([{ kind: 'status', status: 429, retryAfter: '120' }]);
    const before = server.count(CHAT);
    const error = await rejectsWith(make().generate({ prompt: chat('Hi.') }), 'rate-limited', /120 s/);
    assert.equal(error.details?.retryAfterMs, 120_000);
    assert.equal(server.count(CHAT) - before, 1);
  });

  void test('a malformed JSON body is a bad-response error, not retried', async () => {
    server.injectFaults([{ kind: 'malformed-json' }]);
    const before = server.count(CHAT);
    await rejectsWith(make().generate({ prompt: chat('Hi.') }), 'bad-response');
    assert.equal(server.count(CHAT) - before, 1);
  });

  void test('a stream broken mid-way is an error after the chunks already seen', async () => {
    server.injectFaults([{ kind: 'broken-stream', afterChunks: 2 }]);
    const chunks: string[] = [];
    const before = server.count(CHAT);
    await rejectsWith(make().generate({ prompt: chat('Hi.'), onText: (c) => chunks.push(c) }), 'bad-response', /stopped answering: the connection was closed in the middle of the answer \(UND_ERR_SOCKET\)\.$/);
    assert.equal(chunks.length, 2);
    assert.equal(server.count(CHAT) - before, 1, 'not retried once text was handed out');
  });

  const sse = (...events: string[]): Fault => ({ kind: 'raw', contentType: 'text/event-stream', body: events.map((e) => `${e}\r\n\r\n`).join('') });
  const delta = (content: string, finish: string | null = null): string => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'tiny', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}`;

  void test('a hand-written event stream (CRLF, keep-alive comments, usage, [DONE]) is read like the SDK reads it', async () => {
    const usage = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'tiny', choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } })}`;
    server.injectFaults([sse(': keep-alive', delta('Hé'), delta('llo 🙂'), delta('', 'length'), usage, 'data: [DONE]', delta('after done'))]);
    const chunks: string[] = [];
    const result = await make().generate({ prompt: chat('Hi.'), onText: (c) => chunks.push(c) });
    assert.deepEqual(chunks, ['Hé', 'llo 🙂']);
    assert.equal(result.text, 'Héllo 🙂');
    assert.equal(result.stopReason, 'length');
    assert.deepEqual([result.promptTokens, result.completionTokens], [7, 3]);
  });

  void test('an error sent inside the stream ends the request with the server\'s message', async () => {
    server.injectFaults([sse(delta('Partial'), `data: ${JSON.stringify({ error: { message: 'The engine overheated', type: 'server_error' } })}`)]);
    const chunks: string[] = [];
    await rejectsWith(make().generate({ prompt: chat('Hi.'), onText: (c) => chunks.push(c) }), 'bad-response', /reported an error while answering: The engine overheated/);
    assert.deepEqual(chunks, ['Partial']);
  });

  void test('a stream event that is not JSON is a bad-response error quoting it', async () => {
    server.injectFaults([sse(delta('Partial'), 'data: <html>502 Bad Gateway</html>')]);
    await rejectsWith(make().generate({ prompt: chat('Hi.'), onText: () => undefined }), 'bad-response', /sent a stream event that is not JSON: "<html>502 Bad Gateway<\/html>"/);
  });

  void test('a stream that ends without a finish reason is a bad-response error', async () => {
    server.injectFaults([sse(delta('Partial'))]);
    await rejectsWith(make().generate({ prompt: chat('Hi.'), onText: () => undefined }), 'bad-response', /ended the stream before the answer was finished/);
  });

  void test('a stream that ends with [DONE] but no finish reason is a whole answer that stopped', async () => {
    server.injectFaults([sse(delta('Hel'), delta('lo.'), 'data: [DONE]')]);
    const chunks: string[] = [];
    const result = await make().generate({ prompt: chat('Hi.'), onText: (c) => chunks.push(c) });
    assert.deepEqual(chunks, ['Hel', 'lo.']);
    assert.deepEqual([result.text, result.stopReason], ['Hello.', 'stop']);
    // Only a usage chunk (an empty answer) before [DONE]: finished too.
    const usage = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'tiny', choices: [], usage: { prompt_tokens: 7, completion_tokens: 0, total_tokens: 7 } })}`;
    server.injectFaults([sse(usage, 'data: [DONE]')]);
    const empty = await make().generate({ prompt: chat('Hi.'), onText: () => undefined });
    assert.deepEqual([empty.text, empty.stopReason, empty.promptTokens], ['', 'stop', 7]);
  });

  void test('a whole JSON completion sent to a streamed request as text/plain, or with no content type, is read as one', async () => {
    const completion = { id: 'c', object: 'chat.completion', created: 0, model: 'tiny', choices: [{ index: 0, message: { role: 'assistant', content: 'All at once.' }, finish_reason: 'length' }], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } };
    for (const contentType of ['text/plain; charset=utf-8', undefined]) {
      server.injectFaults([{ kind: 'raw', contentType, body: JSON.stringify(completion, null, 2) }]);
      const chunks: string[] = [];
      const result = await make().generate({ prompt: chat('Hi.'), onText: (c) => chunks.push(c) });
      assert.deepEqual(chunks, ['All at once.'], String(contentType));
      assert.deepEqual([result.text, result.stopReason, result.promptTokens, result.completionTokens], ['All at once.', 'length', 5, 3]);
    }
    // An error in place of the completion gives the server's words, as under application/json.
    server.injectFaults([{ kind: 'raw', contentType: 'text/plain', body: JSON.stringify({ error: { message: 'The model is overloaded', code: 502 } }) }]);
    await rejectsWith(make().generate({ prompt: chat('Hi.'), onText: () => undefined }), 'bad-response', /reported an error while answering: The model is overloaded\.$/);
    // JSON that is no chat completion is still no event stream.
    server.injectFaults([{ kind: 'raw', contentType: 'text/plain', body: '{"foo": 1}' }]);
    await rejectsWith(make().generate({ prompt: chat('Hi.'), onText: () => undefined }), 'bad-response', /did not answer with an event stream: it sent "\{\\"foo\\": 1\}" \(content type "text\/plain"\)\.$/);
  });

  void test('a 200 answer to a streamed request that is no event stream says so and quotes its first bytes, escaped', async () => {
    server.injectFaults([{ kind: 'raw', contentType: 'text/html', body: '<html>\u001b[31mProxy error</html>\n' }]);
    const error = await rejectsWith(make().generate({ prompt: chat('Hi.'), onText: () => undefined }), 'bad-response', /did not answer with an event stream: it sent "<html>\\u001b\[31mProxy error<\/html>\\n" \(content type "text\/html"\)\.$/);
    assert.doesNotMatch(error.message, /ended the stream|\u001b/);
  });

  void test('an HTTP error gives its status once, the server\'s words, and after retries how many attempts were made', async () => {
    server.injectFaults(Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 500, retryAfter: '0', message: 'boom' })));
    const error = await rejectsWith(make({ retry: { maxRetries: 2, baseDelayMs: 1 } }).generate({ prompt: chat('Hi.') }), 'server-rejected');
    assert.match(error.message, /answered HTTP 500: boom\. Gave up after 3 attempts\.$/);
    server.injectFaults([{ kind: 'status', status: 429, retryAfter: '120', message: 'slow down' }]);
    const limited = await rejectsWith(make().generate({ prompt: chat('Hi.') }), 'rate-limited');
    assert.match(limited.message, /is rate limiting requests \(HTTP 429\); it asks to wait 120 s\. The server says: slow down\.$/);
    assert.doesNotMatch(limited.message, /429 slow|attempts/);
  });

  void test('a server that answers a streamed request with one JSON completion is understood', async () => {
    const completion = { id: 'c', object: 'chat.completion', created: 0, model: 'tiny', choices: [{ index: 0, message: { role: 'assistant', content: 'All at once.' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } };
    server.injectFaults([{ kind: 'raw', contentType: 'application/json; charset=utf-8', body: JSON.stringify(completion) }]);
    const chunks: string[] = [];
    const result = await make().generate({ prompt: chat('Hi.'), onText: (c) => chunks.push(c) });
    assert.deepEqual(chunks, ['All at once.']);
    assert.deepEqual([result.text, result.promptTokens, result.completionTokens], ['All at once.', 5, 3]);
  });

  void test('an answer that is JSON but no chat completion says what was expected', async () => {
    for (const [body, got] of [['null', 'null'], ['[1,2]', 'an array'], ['{"foo": 1}', 'an object without "choices"'], ['{"choices": []}', 'no choices'], ['{"choices": [{"message": null}]}', 'a choice without a text "message"']]) {
      for (const onText of [undefined, () => undefined]) {
        server.injectFaults([{ kind: 'raw', contentType: 'application/json', body: body! }]);
        const error = await rejectsWith(make().generate({ prompt: chat('Hi.'), ...(onText ? { onText } : {}) }), 'bad-response');
        assert.match(error.message, /sent an answer that is not a chat completion: expected a JSON object with "choices": \[\{"message": \{"content": TEXT\}\}\], got /);
        assert.ok(error.message.endsWith(`got ${got}.`), error.message);
      }
    }
  });

  void test('a connection cut before any text is retried', async () => {
    server.injectFaults([{ kind: 'broken-stream', afterChunks: 0 }]);
    const before = server.count(CHAT);
    const result = await make().generate({ prompt: chat('Hi.'), onText: () => undefined });
    assert.ok(result.text.length > 0);
    assert.equal(server.count(CHAT) - before, 2);
  });

  void test('a stalled server ends in timed-out', async () => {
    server.injectFaults([{ kind: 'stall' }]);
    await rejectsWith(make().generate({ prompt: chat('Hi.'), timeoutMs: 300 }), 'timed-out', /did not finish within 300 ms \(the time limit\); change the limit with --timeout/);
    // The server is fine for the next request.
    assert.ok((await make().generate({ prompt: chat('Hi.') })).text.length > 0);
  });

  void test('a streamed request to a stalled server stops after the silence limit, without any time limit given', async () => {
    server.injectFaults([{ kind: 'stall' }]);
    const pending = make({ idleTimeoutMs: 300 }).generate({ prompt: chat('Hi.'), onText: () => undefined });
    await rejectsWith(pending, 'timed-out', /sent nothing for 300 ms before starting its answer: it seems stalled/);
  });

  void test('by default a stalled server is given up after 120 s of silence (simulated clock)', async () => {
    server.injectFaults([{ kind: 'stall' }]);
    const before = server.count(CHAT);
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const pending = make().generate({ prompt: chat('Hi.'), onText: () => undefined });
      while (server.count(CHAT) === before) await new Promise<void>((resolve) => setImmediate(resolve));
      mock.timers.tick(119_000);
      mock.timers.tick(1_000);
      await rejectsWith(pending, 'timed-out', /sent nothing for 120 s/);
    } finally {
      mock.timers.reset();
    }
  });

  void test('by default a request is given up after 10 minutes in all (simulated clock)', async () => {
    server.injectFaults([{ kind: 'stall' }]);
    const before = server.count(CHAT);
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const pending = make().generate({ prompt: chat('Hi.') });
      while (server.count(CHAT) === before) await new Promise<void>((resolve) => setImmediate(resolve));
      mock.timers.tick(600_000);
      await rejectsWith(pending, 'timed-out', /did not finish within 600 s/);
    } finally {
      mock.timers.reset();
    }
  });

  void test('cancelling mid-stream rejects with cancelled', async () => {
    const controller = new AbortController();
    let chunks = 0;
    const pending = make().generate({
      prompt: chat('A long story.'),
      params: { maxTokens: 2000 },
      signal: controller.signal,
      onText: () => {
        if (++chunks === 3) controller.abort();
      },
    });
    await rejectsWith(pending, 'cancelled');
    assert.equal(chunks, 3);
  });

  void test('two requests at once both succeed', async () => {
    const [a, b] = await Promise.all([make().generate({ prompt: chat('One.') }), make().generate({ prompt: chat('Two, longer.') })]);
    assert.equal(a.text, (await make().generate({ prompt: chat('One.') })).text);
    assert.equal(b.text, (await make().generate({ prompt: chat('Two, longer.') })).text);
  });

  void test('the key, organization, extra headers and query parameters reach the server', async () => {
    await make({ organization: 'org-coi', headers: { 'x-coi-test': 'yes' }, query: { 'api-version': '2024-10-21' } }).generate({ prompt: chat('Hi.') });
    const headers = server.requests.at(-1)?.headers ?? {};
    assert.equal(server.requests.at(-1)?.query['api-version'], '2024-10-21');
    assert.equal(headers.authorization, `Bearer ${API_KEY}`);
    assert.equal(headers['openai-organization'], 'org-coi');
    assert.equal(headers['x-coi-test'], 'yes');
  });

  void test('a wrong API key is server-rejected and the key is not in the message', async () => {
    const error = await rejectsWith(make({ apiKey: 'sk-wrong-key' }).generate({ prompt: chat('Hi.') }), 'server-rejected', /401/);
    assert.match(error.message, /rejected the API key/);
    assert.ok(!error.message.includes('sk-wrong-key'));
  });

  void test('a local server that wants a key, given none, says a key is needed and how to set it', async () => {
    const noKey = new OpenAIBackend({ baseURL: server.baseURL, model: 'tiny', apiKeyEnv: 'LOCAL_LLM_KEY', retry: { maxRetries: 0 } });
    const error = await rejectsWith(noKey.generate({ prompt: chat('Hi.') }), 'server-rejected', /needs an API key and none is set \(401\)/);
    assert.match(error.message, /set the LOCAL_LLM_KEY environment variable/);
  });

  void test('an unknown model is model-not-found', async () => {
    await rejectsWith(make({ model: 'no-such-model' }).generate({ prompt: chat('Hi.') }), 'model-not-found', /no-such-model/);
  });

  void test('an unreachable server is server-rejected with the base URL', async () => {
    await rejectsWith(new OpenAIBackend({ baseURL: 'http://127.0.0.1:9/v1', model: 'x', retry: { maxRetries: 0 } }).generate({ prompt: chat('Hi.') }), 'server-rejected', /127\.0\.0\.1:9/);
  });

  void test('a refused connection names the cause (ECONNREFUSED) and the base URL, never the key', async () => {
    const baseURL = `http://127.0.0.1:${await closedPort()}/v1`;
    const backend = new OpenAIBackend({ baseURL, model: 'x', apiKey: 'sk-secret-never-shown', retry: { maxRetries: 0 } });
    const error = await rejectsWith(backend.generate({ prompt: chat('Hi.') }), 'server-rejected', /ECONNREFUSED/);
    assert.ok(error.message.includes(baseURL), error.message);
    assert.match(error.message, /connection refused/);
    assert.ok(!error.message.includes('sk-secret-never-shown'));
  });

  void test('a refused connection or a port fetch blocks fails at once, without retries, saying why', async () => {
    const cases: [string, RegExp][] = [
      [`http://127.0.0.1:${await closedPort()}/v1`, /connection refused: nothing is listening there \(ECONNREFUSED\)/],
      ['http://127.0.0.1:1/v1', /port 1 is one that fetch never connects to \(a blocked port\); run the server on another port/],
    ];
    for (const [baseURL, cause] of cases) {
      const retries: number[] = [];
      const backend = new OpenAIBackend({ baseURL, model: 'x', apiKey: 'k', retry: { baseDelayMs: 10 }, onRetry: (r) => retries.push(r.attempt) });
      const error = await rejectsWith(backend.generate({ prompt: chat('Hi.') }), 'server-rejected', cause);
      assert.ok(error.message.includes(baseURL), error.message);
      assert.deepEqual(retries, [], baseURL);
    }
  });

  void test('a base URL with credentials fails at once, without retries, naming neither the password nor the URL', async () => {
    // fetch refuses such a URL outright; the checks of profiles and options refuse it before (core/chain/baseUrl.ts).
    const retries: number[] = [];
    const baseURL = server.baseURL.replace('http://', 'http://bob:hunter2-secret@');
    const backend = new OpenAIBackend({ baseURL, model: 'tiny', apiKey: API_KEY, retry: { baseDelayMs: 10 }, onRetry: (r) => retries.push(r.attempt) });
    const error = await rejectsWith(backend.generate({ prompt: chat('Hi.') }), 'server-rejected', /The base URL holds a user name and password \(USER:PASSWORD@HOST\).*api_key_env/);
    assert.deepEqual(retries, []);
    assert.ok(!error.message.includes('hunter2-secret'), error.message);
  });

  void test('an error body that quotes the key (a server echoing the Authorization header) says [key] instead', async () => {
    for (const status of [401, 403, 429, 500]) {
      server.setFaultChooser(({ headers }) => ({ kind: 'status', status, retryAfter: '3600', message: `Incorrect API key provided: ${String(headers.authorization)}.` }));
      try {
        const error = await rejectsWith(make().generate({ prompt: chat('Hi.') }), status === 429 ? 'rate-limited' : 'server-rejected', new RegExp(`\\b${status}\\b`));
        assert.ok(!error.message.includes(API_KEY), error.message);
        assert.match(error.message, /Incorrect API key provided: Bearer \[key\]\./);
      } finally {
        server.setFaultChooser(undefined);
      }
    }
    server.setFaultChooser(({ headers }) => ({ kind: 'raw', contentType: 'text/plain', body: `no stream for ${String(headers.authorization)}` }));
    try {
      const error = await rejectsWith(make().generate({ prompt: chat('Hi.'), onText: () => undefined }), 'bad-response', /did not answer with an event stream/);
      assert.ok(!error.message.includes(API_KEY), error.message);
      assert.match(error.message, /no stream for Bearer \[key\]/);
    } finally {
      server.setFaultChooser(undefined);
    }
  });

  void test('a key the server quoted where its words are cut short (300 characters; 80 for an event or a page title) is hidden too, not shown in part', async () => {
    const shownInPart = (message: string): boolean => [...Array(API_KEY.length - 3).keys()].some((i) => message.includes(API_KEY.slice(0, i + 4)));
    const faults: [string, (authorization: string, cut: number) => Fault][] = [
      // The words are cut after 300 characters: the key starts at 300 - cut.
      ['an error body', (authorization, cut) => ({ kind: 'status', status: 400, message: `${'y'.repeat(300 - cut - 'Bearer '.length)}${authorization}` })],
      ['a stream event that is not JSON', (authorization, cut) => ({ kind: 'raw', contentType: 'text/event-stream', body: `data: ${'z'.repeat(80 - cut - 'Bearer '.length)}${authorization}\n\n` })],
      ['an HTML page', (authorization, cut) => ({ kind: 'raw', status: 502, contentType: 'text/html', body: `<html><title>${'w'.repeat(80 - cut - 'Bearer '.length)}${authorization}</title></html>` })],
    ];
    for (const [what, fault] of faults) {
      for (const cut of [4, 9, API_KEY.length - 1]) {
        server.setFaultChooser(({ headers }) => fault(String(headers.authorization), cut));
        try {
          const { message } = await make({ retry: { maxRetries: 0 } })
            .generate({ prompt: chat('Hi.'), onText: () => undefined })
            .then(
              () => assert.fail(`${what}: no error`),
              (e: unknown) => e as Error,
            );
          assert.ok(!shownInPart(message), `${what}, cut after ${cut} characters of the key: ${message}`);
          assert.match(message, /Bearer \[key\]"…/, `${what}: ${message}`);
        } finally {
          server.setFaultChooser(undefined);
        }
      }
    }
  });

  /** An error answer with exactly this JSON body (another server's shape). */
  const errorBody = (status: number, body: unknown): Fault => ({ kind: 'raw', status, contentType: 'application/json', body: JSON.stringify(body) });

  void test("an error body in another server's shape (FastAPI's detail, validation errors, message, an error string) gives the server's words", async () => {
    const cases: [Fault, string, string][] = [
      [errorBody(400, { detail: 'Prompt is too long: 5000 tokens, the model takes 4096' }), 'server-rejected', 'answered HTTP 400: Prompt is too long: 5000 tokens, the model takes 4096.'],
      [
        errorBody(422, { detail: [{ type: 'missing', loc: ['body', 'messages', 0, 'content'], msg: 'Field required', input: { role: 'user', secret: 'PROMPT-TEXT' } }, { type: 'less_than_equal', loc: ['body', 'temperature'], msg: 'Input should be less than or equal to 2', input: 7 }] }),
        'server-rejected',
        'answered HTTP 422: messages.0.content: Field required; temperature: Input should be less than or equal to 2.',
      ],
      [errorBody(502, { message: 'upstream connect error or disconnect/reset before headers' }), 'server-rejected', 'answered HTTP 502: upstream connect error or disconnect/reset before headers.'],
      [errorBody(400, { object: 'error', message: "This model's maximum context length is 2048 tokens.", type: 'BadRequestError', param: null, code: 400 }), 'server-rejected', "answered HTTP 400: This model's maximum context length is 2048 tokens."],
      [errorBody(500, { error: 'CUDA out of memory' }), 'server-rejected', 'answered HTTP 500: CUDA out of memory.'],
      [errorBody(404, { detail: 'Not Found' }), 'model-not-found', 'does not know this model or endpoint (404): Not Found.'],
      [errorBody(403, { detail: { message: 'Tenant suspended' } }), 'server-rejected', 'The server says: Tenant suspended.'],
      [errorBody(400, { detail: 'first line\nsecond line' }), 'server-rejected', 'answered HTTP 400: "first line\\nsecond line".'],
      [errorBody(400, { status: 'failed', reason: 42 }), 'server-rejected', 'answered HTTP 400: {"status":"failed","reason":42}.'],
    ];
    for (const [fault, code, words] of cases) {
      server.injectFaults([fault]);
      const error = await rejectsWith(make({ retry: { maxRetries: 0 } }).generate({ prompt: chat('Hi.') }), code);
      assert.ok(error.message.endsWith(words), `${error.message}\nshould end with\n${words}`);
      assert.doesNotMatch(error.message, /no body|PROMPT-TEXT|\n/);
    }
    // Cut like any words, and the key a server echoes is [key].
    server.injectFaults([errorBody(400, { detail: 'y'.repeat(1000) })]);
    await rejectsWith(make({ retry: { maxRetries: 0 } }).generate({ prompt: chat('Hi.') }), 'server-rejected', /answered HTTP 400: "y{300}"…\.$/);
    server.setFaultChooser(({ headers }) => errorBody(401, { detail: `Invalid token: ${String(headers.authorization)}` }));
    try {
      const error = await rejectsWith(make({ retry: { maxRetries: 0 } }).generate({ prompt: chat('Hi.') }), 'server-rejected', /The server says: Invalid token: Bearer \[key\]\.$/);
      assert.ok(!error.message.includes(API_KEY), error.message);
    } finally {
      server.setFaultChooser(undefined);
    }
  });

  void test("a refusal in vLLM's shape (message, param and code at the top) is understood: max_tokens becomes max_completion_tokens", async () => {
    server.setFaultChooser(({ body }) =>
      (body as { max_tokens?: number } | undefined)?.max_tokens === undefined ? undefined : errorBody(400, { object: 'error', message: "Unsupported parameter: 'max_tokens' is not supported with this model.", type: 'invalid_request_error', param: 'max_tokens', code: 'unsupported_parameter' }),
    );
    try {
      const before = server.count(CHAT);
      const result = await make({ retry: { maxRetries: 0 } }).generate({ prompt: chat('Hi.') });
      assert.ok(result.text.length > 0);
      const sent = server.requests.slice(before).map((r) => Object.keys(r.body as object).filter((k) => k.startsWith('max_')));
      assert.deepEqual(sent, [['max_tokens'], ['max_completion_tokens']]);
    } finally {
      server.setFaultChooser(undefined);
    }
  });

  void test('an error inside the stream as a plain string or in vLLM\'s shape gives its words', async () => {
    server.injectFaults([sse(delta('Partial'), `data: ${JSON.stringify({ error: 'CUDA out of memory' })}`)]);
    await rejectsWith(make().generate({ prompt: chat('Hi.'), onText: () => undefined }), 'bad-response', /reported an error while answering: CUDA out of memory\.$/);
    server.injectFaults([sse(delta('Partial'), `data: ${JSON.stringify({ object: 'error', message: 'The engine died', type: 'InternalServerError', param: null, code: 500 })}`)]);
    await rejectsWith(make().generate({ prompt: chat('Hi.'), onText: () => undefined }), 'bad-response', /reported an error while answering: The engine died\.$/);
  });

  void test("an error reported as llama.cpp's server does (an `error:` line, no data) or as an error event in plain words gives its words", async () => {
    const reports: [string, string][] = [
      ['error: {"code":500,"message":"the request exceeds the available context size","type":"exceed_context_size_error"}\r\n\r\ndata: [DONE]', 'the request exceeds the available context size'],
      ['event: error\r\ndata: Internal failure in the engine', 'Internal failure in the engine'],
    ];
    for (const [report, words] of reports) {
      server.injectFaults([sse(delta('Partial'), report)]);
      const chunks: string[] = [];
      const error = await rejectsWith(make().generate({ prompt: chat('Hi.'), onText: (c) => chunks.push(c) }), 'bad-response');
      assert.ok(error.message.endsWith(`reported an error while answering: ${words}.`), error.message);
      assert.deepEqual(chunks, ['Partial']);
    }
  });

  void test('a 200 answer holding an error instead of a completion (OpenRouter) gives its words, streamed or not', async () => {
    for (const onText of [undefined, () => undefined]) {
      const bodies: [unknown, string][] = [
        [{ error: { code: 502, message: 'Provider returned error', metadata: { provider_name: 'X' } } }, 'Provider returned error'],
        [{ error: 'model is loading' }, 'model is loading'],
        [{ object: 'error', message: 'Engine gone', code: 500 }, 'Engine gone'],
      ];
      for (const [body, words] of bodies) {
        server.injectFaults([{ kind: 'raw', contentType: 'application/json', body: JSON.stringify(body) }]);
        const error = await rejectsWith(make().generate({ prompt: chat('Hi.'), ...(onText ? { onText } : {}) }), 'bad-response');
        assert.ok(error.message.endsWith(`reported an error while answering: ${words}.`), error.message);
      }
    }
  });

  void test('a completion whose message has `content: null` (a reasoning model cut at max_tokens) is an empty answer cut at the limit, as when streamed', async () => {
    const completion = { id: 'c', object: 'chat.completion', created: 0, model: 'tiny', choices: [{ index: 0, message: { role: 'assistant', content: null, reasoning_content: 'Let me think' }, finish_reason: 'length' }], usage: { prompt_tokens: 5, completion_tokens: 24, total_tokens: 29 } };
    for (const onText of [undefined, () => undefined]) {
      server.injectFaults([{ kind: 'raw', contentType: 'application/json', body: JSON.stringify(completion) }]);
      const result = await make().generate({ prompt: chat('Hi.'), ...(onText ? { onText } : {}) });
      assert.deepEqual([result.text, result.stopReason, result.completionTokens], ['', 'length', 24]);
    }
    const streamed = await make().generate({ prompt: chat('Hi.'), onText: () => undefined });
    assert.ok(streamed.text.length > 0, 'the next request is answered as usual');
  });

  void test('a finish reason of content_filter or error is a stop reason of its own, the text before it kept, streamed or not', async () => {
    const cases: [string, string][] = [
      ['content_filter', 'content-filter'],
      ['error', 'provider-error'],
      ['stop', 'stop'],
    ];
    for (const onText of [undefined, () => undefined]) {
      for (const [finish, stopReason] of cases) {
        server.injectFaults([{ kind: 'reply', content: 'The first half of the answer', finishReason: finish }]);
        const result = await make().generate({ prompt: chat('Hi.'), ...(onText ? { onText } : {}) });
        assert.deepEqual([result.text, result.stopReason], ['The first half of the answer', stopReason], `${finish}, ${onText ? 'streamed' : 'whole'}`);
      }
    }
  });

  void test("a refusal (message.refusal with content null, or streamed refusal deltas) fails as refused, once, quoting the model's words", async () => {
    for (const onText of [undefined, () => undefined]) {
      server.injectFaults([{ kind: 'refusal', refusal: "I'm sorry, but I can't help with that." }]);
      const before = server.count(CHAT);
      const chunks: string[] = [];
      const error = await rejectsWith(
        make().generate({ prompt: chat('Hi.'), ...(onText ? { onText: (c: string) => chunks.push(c) } : {}) }),
        'refused',
        /^The server at http:\/\/127\.0\.0\.1:\d+\/v1 \(model tiny\) sent the model's refusal instead of an answer\. The model says: I'm sorry, but I can't help with that\.$/,
      );
      assert.equal(error.details?.status, undefined);
      assert.equal(server.count(CHAT) - before, 1, 'not retried');
      assert.deepEqual(chunks, [], 'the refusal is no output');
    }
  });

  void test('a long refusal, or one with control characters, is quoted cut short and escaped on one line, as server words are', async () => {
    for (const onText of [undefined, () => undefined]) {
      server.injectFaults([{ kind: 'refusal', refusal: `No.\u001b[31m\n${'x'.repeat(400)}` }]);
      const error = await rejectsWith(make().generate({ prompt: chat('Hi.'), ...(onText ? { onText } : {}) }), 'refused');
      assert.ok(error.message.endsWith(`The model says: ${JSON.stringify(`No.\u001b[31m\n${'x'.repeat(300 - 9)}`)}….`), error.message);
      assert.doesNotMatch(error.message, /[\u001b\n]/);
    }
  });

  void test('a 5xx asking for a wait too long to wait for fails at once and says what it asked for', async () => {
    server.injectFaults([{ kind: 'status', status: 503, retryAfter: '7200', message: 'down for maintenance' }]);
    const before = server.count(CHAT);
    const error = await rejectsWith(make().generate({ prompt: chat('Hi.') }), 'server-rejected');
    assert.ok(error.message.endsWith('answered HTTP 503; it asks to wait 2 h. The server says: down for maintenance.'), error.message);
    assert.equal(error.details?.retryAfterMs, 7_200_000);
    assert.equal(server.count(CHAT) - before, 1);
  });

  void test('a Retry-After too long to wait for is said in words, however absurd', async () => {
    const cases: [string, string][] = [
      ['7200', '2 h'],
      ['9'.repeat(400), 'more than a year'],
      ['Fri, 31 Dec 9999 23:59:59 GMT', 'more than a year'],
    ];
    for (const [retryAfter, words] of cases) {
      server.injectFaults([{ kind: 'status', status: 429, retryAfter, message: 'slow down' }]);
      const error = await rejectsWith(make().generate({ prompt: chat('Hi.') }), 'rate-limited');
      assert.ok(error.message.includes(`(HTTP 429); it asks to wait ${words}. The server says: slow down.`), error.message);
    }
  });

  void test("a query in the base URL (Azure's ?api-version=, a proxy's ?tenant=) goes on every request, after the endpoint's path", async () => {
    for (const suffix of ['?api-version=2024-06-01&tenant=a%20b', '/?api-version=2024-06-01&tenant=a%20b#section']) {
      for (const onText of [undefined, (): void => undefined]) {
        const before = server.requests.length;
        const backend = make({ baseURL: `${server.baseURL}${suffix}` });
        const result = await backend.generate({ prompt: chat('Hi.'), ...(onText ? { onText } : {}) });
        assert.ok(result.text.length > 0);
        assert.deepEqual(
          server.requests.slice(before).map((r) => [r.method, r.path, r.query]),
          [['POST', CHAT, { 'api-version': '2024-06-01', tenant: 'a b' }]],
        );
        assert.equal(backend.identity.model, `tiny@${server.baseURL}${suffix}`, 'the base URL is kept as given');
      }
    }
    // The backend's own query parameters add to the URL's, and win on a name both give.
    await make({ baseURL: `${server.baseURL}?api-version=1&tenant=a`, query: { 'api-version': '2' } }).generate({ prompt: chat('Hi.') });
    assert.deepEqual(server.requests.at(-1)?.query, { 'api-version': '2', tenant: 'a' });
    // A key in the query is still refused, before any request.
    const before = server.requests.length;
    const error = await rejectsWith(make({ baseURL: `${server.baseURL}?api-version=1&api_key=sk-in-the-url` }).generate({ prompt: chat('Hi.') }), 'server-rejected', /holds a key in its query \(\?api_key=…\)/);
    assert.ok(!error.message.includes('sk-in-the-url'), error.message);
    assert.equal(server.requests.length, before);
  });

  void test('the server also speaks the models, files and fine-tuning endpoints', async () => {
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: API_KEY, maxRetries: 0 });
    const models = await client.models.list();
    assert.ok(models.data.some((m) => m.id === 'tiny'));
    const jsonl = '{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}\n';
    const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'train.jsonl'), purpose: 'fine-tune' });
    assert.equal(file.bytes, Buffer.byteLength(jsonl));
    assert.equal((await client.files.retrieve(file.id)).filename, 'train.jsonl');
    assert.equal(server.files.get(file.id)?.content.toString(), jsonl);

    const job = await client.fineTuning.jobs.create({ model: 'tiny', training_file: file.id, suffix: 'coi' });
    assert.equal(job.status, 'validating_files');
    const seen: string[] = [];
    let current = job;
    while (!['succeeded', 'failed', 'cancelled'].includes(current.status)) {
      current = await client.fineTuning.jobs.retrieve(job.id);
      seen.push(current.status);
    }
    assert.deepEqual(seen, ['queued', 'running', 'succeeded']);
    assert.ok(current.fine_tuned_model?.startsWith('ft:tiny:coi'));
    const events = await client.fineTuning.jobs.listEvents(job.id, { limit: 50 });
    assert.ok(events.data.some((e) => e.type === 'metrics'));
    assert.match(events.data[0]?.message ?? '', /completed/);
    // The new model answers.
    const tuned = await make({ model: current.fine_tuned_model ?? '' }).generate({ prompt: chat('Hi.') });
    assert.ok(tuned.text.length > 0);

    const second = await client.fineTuning.jobs.create({ model: 'tiny', training_file: file.id });
    const cancelled = await client.fineTuning.jobs.cancel(second.id);
    assert.equal(cancelled.status, 'cancelled');
    server.failNextJob('bad data');
    const third = await client.fineTuning.jobs.create({ model: 'tiny', training_file: file.id });
    await client.fineTuning.jobs.retrieve(third.id);
    const failed = await client.fineTuning.jobs.retrieve(third.id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.message, 'bad data');
    await assert.rejects(client.fineTuning.jobs.create({ model: 'tiny', training_file: 'file-missing' }), (e: unknown) => e instanceof OpenAI.BadRequestError);
  });
});

/** A small HTTP server answering every request with `handle` (the how-manyth request is `n`, from 1). */
async function startRawServer(handle: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<{ baseURL: string; origin: string; requests: { method: string; url: string }[]; close: () => Promise<void> }> {
  const requests: { method: string; url: string }[] = [];
  const server = createHttpServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    req.resume();
    req.on('end', () => handle(req, res, requests.length));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseURL: `${origin}/v1`,
    origin,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const okStream = (res: ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const chunk = (delta: object, finish: string | null): string => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  res.end(`${chunk({ content: 'Fine.' }, null)}${chunk({}, 'stop')}data: [DONE]\n\n`);
};

void describe('OpenAI-compatible backend: answers that go wrong on the wire (small HTTP server)', () => {
  const backend = (baseURL: string, maxRetries = 0): OpenAIBackend => new OpenAIBackend({ baseURL, model: 'm', retry: { maxRetries, baseDelayMs: 1 } });

  void test('a huge error body is read only up to 64 KB, the rest never downloaded, and quoted as one short line', async () => {
    const total = 32 << 20;
    const ends: Promise<{ written: number; finished: boolean }>[] = [];
    const raw = await startRawServer((_req, res) => {
      ends.push(
        new Promise((resolve) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          const piece = Buffer.from(`Out of memory\n${'E'.repeat(65_536 - 14)}`);
          let written = 0;
          const pump = (): void => {
            while (written < total && !res.destroyed) {
              written += piece.length;
              if (!res.write(piece)) return void res.once('drain', pump);
            }
            if (written >= total) res.end();
          };
          res.on('close', () => resolve({ written, finished: res.writableFinished }));
          pump();
        }),
      );
    });
    try {
      const error = await rejectsWith(backend(raw.baseURL, 1).generate({ prompt: chat('Hi.') }), 'server-rejected', /answered HTTP 500: "Out of memory\\nE{286}"…\. Gave up after 2 attempts\.$/);
      assert.ok(error.message.length < 600, `${error.message.length} characters`);
      assert.doesNotMatch(error.message, /\n/);
      const sent = await Promise.all(ends);
      assert.equal(sent.length, 2);
      for (const { written, finished } of sent) {
        assert.equal(finished, false, 'the body was not read to its end');
        assert.ok(written < total / 2, `${written} bytes sent of ${total}`);
      }
    } finally {
      await raw.close();
    }
  });

  void test(`an error body is cut at ${ERROR_BODY_LIMIT / 1024} KB before it is parsed, an HTML page is named with its title, not quoted`, async () => {
    const raw = await startRawServer((req, res) => {
      if (req.url?.startsWith('/html/')) {
        res.writeHead(502, { 'content-type': 'text/html; charset=utf-8' });
        return res.end(`<!DOCTYPE html>\n<html><head><title>\n  502 Bad Gateway </title></head><body><h1>Bad Gateway</h1>${'<p>x</p>'.repeat(700)}</body></html>`);
      }
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'x'.repeat(ERROR_BODY_LIMIT) } }));
    });
    try {
      const html = await rejectsWith(backend(`${raw.origin}/html/v1`).generate({ prompt: chat('Hi.') }), 'server-rejected', /answered HTTP 502: an HTML page titled "502 Bad Gateway"\.$/);
      assert.doesNotMatch(html.message, /<|Bad Gateway<\/h1>/);
      // The JSON is cut, so no longer JSON: its first characters are quoted, escaped.
      await rejectsWith(backend(raw.baseURL).generate({ prompt: chat('Hi.') }), 'server-rejected', /answered HTTP 500: "\{\\"error\\":\{\\"message\\":\\"x{279}"…\.$/);
    } finally {
      await raw.close();
    }
  });

  void test('a connection closed after the headers, before any text, is retried; when it persists the error says so', async () => {
    const cut = (res: ServerResponse): void => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': opening\n\n', () => res.socket?.destroy());
    };
    const raw = await startRawServer((req, res, n) => (req.url?.startsWith('/always/') || n === 1 ? cut(res) : okStream(res)));
    try {
      const retries: string[] = [];
      const result = await new OpenAIBackend({ baseURL: raw.baseURL, model: 'm', retry: { baseDelayMs: 1 }, onRetry: (r) => retries.push(r.reason) }).generate({ prompt: chat('Hi.'), onText: () => undefined });
      assert.equal(result.text, 'Fine.');
      assert.equal(raw.requests.length, 2);
      assert.deepEqual(retries, ['the connection was closed in the middle of the answer (UND_ERR_SOCKET)']);
      await rejectsWith(backend(`${raw.origin}/always/v1`, 1).generate({ prompt: chat('Hi.'), onText: () => undefined }), 'bad-response', /stopped answering: the connection was closed in the middle of the answer \(UND_ERR_SOCKET\)\. Gave up after 2 attempts\.$/);
      // A whole (not streamed) answer cut in the middle is retried too.
      const before = raw.requests.length;
      await rejectsWith(backend(`${raw.origin}/always/v1`, 1).generate({ prompt: chat('Hi.') }), 'bad-response', /the connection was closed in the middle of the answer/);
      assert.equal(raw.requests.length - before, 2);
    } finally {
      await raw.close();
    }
  });

  void test('a redirect is not followed (a POST would become a GET): the error names the base URL to use', async () => {
    const raw = await startRawServer((req, res) => {
      if (req.url?.startsWith('/old/')) {
        res.writeHead(301, { location: `/new/v1${req.url.slice('/old/v1'.length)}` });
        return res.end();
      }
      if (req.url?.startsWith('/login/')) {
        res.writeHead(302, { location: 'https://sso.example/login?next=1' });
        return res.end();
      }
      if (req.method !== 'POST') {
        res.writeHead(405, { 'content-type': 'application/json' });
        return res.end('{"error":{"message":"Method Not Allowed"}}');
      }
      okStream(res);
    });
    try {
      const error = await rejectsWith(backend(`${raw.origin}/old/v1`, 2).generate({ prompt: chat('Hi.') }), 'server-rejected');
      assert.equal(error.message, `The server at ${raw.origin}/old/v1 (model m) redirects to ${raw.origin}/new/v1 (HTTP 301): use that as the base URL.`);
      assert.deepEqual(raw.requests, [{ method: 'POST', url: '/old/v1/chat/completions' }]);
      await rejectsWith(backend(`${raw.origin}/login/v1`).generate({ prompt: chat('Hi.'), onText: () => undefined }), 'server-rejected', /redirects \(HTTP 302\) to https:\/\/sso\.example\/login\?next=1, which is no chat completions endpoint: check the base URL\.$/);
      assert.equal((await backend(`${raw.origin}/new/v1`).generate({ prompt: chat('Hi.'), onText: () => undefined })).text, 'Fine.');
    } finally {
      await raw.close();
    }
  });
});
