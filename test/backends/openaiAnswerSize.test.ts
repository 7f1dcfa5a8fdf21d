/**
 * How much of a successful answer the OpenAI-compatible backend reads: the real `openai` SDK
 * against the test server (test/rig/openaiServer.ts), which writes answers of any size as the
 * client takes them and tells how much it wrote.
 *
 * Apart from openai.test.ts because these answers leave hundreds of MB of garbage: collected in
 * the process where its stalled-server and simulated-clock tests had run (all three are needed),
 * a timer of undici's found its connection collected and threw (`Cannot destructure property
 * 'socket' of 'parser.deref(...)'`, undici #4755), seemingly a real timer that Node's mocked
 * clearTimeout could not clear.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ANSWER_BODY_LIMIT, OpenAIBackend } from '../../core/backends/openai/openaiBackend';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { chatPrompt, rejectsWith } from '../helpers/backends';

const CHAT = '/v1/chat/completions';
const prompt = chatPrompt('You are a careful assistant.', 'Hi.');

void describe('OpenAI-compatible backend: the size of an answer', () => {
  let server: OpenAITestServer;
  const make = (): OpenAIBackend => new OpenAIBackend({ baseURL: server.baseURL, model: 'tiny', retry: { baseDelayMs: 1 } });
  before(async () => {
    server = await startOpenAITestServer();
  });
  after(async () => {
    await server.close();
  });

  void test(`an answer of more than ${ANSWER_BODY_LIMIT / (1024 * 1024)} MB is a bad-response saying so, not retried, the rest never downloaded`, async () => {
    const limit = `${ANSWER_BODY_LIMIT / (1024 * 1024)} MB`;
    const size = ANSWER_BODY_LIMIT + (32 << 20);
    const cases: [stream: boolean, contentLength: boolean, message: RegExp, downloaded: number][] = [
      [false, true, new RegExp(`sent an answer of 96(\\.\\d)? MB \\(its Content-Length\\), more than the ${limit} an answer is read up to: it was not read; give max_tokens, or check that the base URL is the server's OpenAI-compatible API\\.$`), ANSWER_BODY_LIMIT / 4],
      [false, false, new RegExp(`sent an answer of more than ${limit}, the most an answer is read up to: reading stopped there; give max_tokens`), size - (8 << 20)],
      [true, false, new RegExp(`streamed more than ${limit} without finishing its answer, the most an answer is read up to: reading stopped there; give max_tokens`), size - (8 << 20)],
    ];
    for (const [stream, contentLength, message, downloaded] of cases) {
      const sent = new Promise<{ bytes: number; finished: boolean }>((resolve) => server.injectFaults([{ kind: 'huge', bytes: size, contentLength, onClose: resolve }]));
      const before = server.count(CHAT);
      await rejectsWith(make().generate({ prompt, ...(stream ? { onText: () => undefined } : {}) }), 'bad-response', message);
      assert.equal(server.count(CHAT) - before, 1, 'not retried');
      const { bytes, finished } = await sent;
      assert.equal(finished, false, 'the answer was not read to its end');
      assert.ok(bytes < downloaded, `${bytes} bytes sent of ${size}`);
    }
    // A large answer within the limit is read as usual.
    const streamed: string[] = [];
    server.injectFaults([{ kind: 'huge', bytes: 4 << 20, contentLength: true }, { kind: 'huge', bytes: 4 << 20 }]);
    assert.ok((await make().generate({ prompt })).text.length > 4_000_000);
    assert.ok((await make().generate({ prompt, onText: (c) => streamed.push(c) })).text.length > 3_000_000);
    assert.ok(streamed.length > 3000, `${streamed.length} chunks`);
  });

});
