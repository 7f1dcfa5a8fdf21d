/**
 * Which model a composed run uses. It is one generation, so it cannot honour a
 * different `model NAME` per step: the steps' profile when they agree, else the
 * chain's default profile with a record warning. Two OpenAI-compatible profiles
 * point at the 127.0.0.1 test server with different model ids, so the requests
 * the server received say which profile ran.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Chain, ModelProfile } from '../../core/chain/model';
import { OpenAIBackend } from '../../core/backends/openai/openaiBackend';
import type { ModelBackend } from '../../core/backends/types';
import { runChain } from '../../core/runner/run';
import { runChainTest } from '../../core/expectations/runTest';
import type { RunOptions } from '../../core/runner/types';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { makeChain, type StepSpec } from './helpers';

const NO_SPAN = { start: 0, end: 0 };
const MARKED = 'Task 1 output and task 2 input: Rain is expected on Tuesday.\nTask 2 output: Il pleuvra mardi.';

interface ChatBody {
  readonly model: string;
  readonly temperature?: number;
}

void describe('composed runs and the steps\' model profiles', () => {
  let server: OpenAITestServer;
  let backends: Map<string, ModelBackend>;
  before(async () => {
    server = await startOpenAITestServer({ models: ['tiny', 'tiny-b'] });
    backends = new Map([
      ['a', new OpenAIBackend({ baseURL: server.baseURL, model: 'tiny', apiKey: 'test-key' })],
      ['b', new OpenAIBackend({ baseURL: server.baseURL, model: 'tiny-b', apiKey: 'test-key' })],
    ]);
  });
  after(async () => {
    await Promise.all([...backends.values()].map((b) => b.dispose()));
    await server.close();
  });

  const profile = (name: string, model: string, temperature: number): ModelProfile => ({
    name,
    provider: 'openai',
    baseUrl: server.baseURL,
    model,
    sampling: { temperature, maxTokens: 30 },
    span: NO_SPAN,
  });
  /** A two-step chain whose default profile is `a` (model tiny, temperature 0) beside `b` (model tiny-b, temperature 0.5). */
  const chainWith = (steps: readonly StepSpec[]): Chain => ({ ...makeChain(steps), profiles: [profile('a', 'tiny', 0), profile('b', 'tiny-b', 0.5)], defaultProfile: 'a' });
  const resolver: RunOptions['backend'] = (name) => backends.get(name ?? 'a')!;

  /** Runs composed with the server replying MARKED; returns the record and the bodies of the chat requests it made. */
  const runComposed = async (chain: Chain, options: Partial<RunOptions> = {}) => {
    const before = server.requests.length;
    server.injectFaults([{ kind: 'reply', content: MARKED }]);
    const record = await runChain(chain, { backend: resolver, inputs: { text: 'Heavy rain on Tuesday.' }, mode: 'composed', ...options });
    const bodies = server.requests.slice(before).filter((r) => r.path === '/v1/chat/completions').map((r) => r.body as ChatBody);
    return { record, bodies };
  };

  void test('every step on profile b: the one generation runs on b (its model and its sampling), no warning', async () => {
    const { record, bodies } = await runComposed(chainWith([{ id: 'summary', profile: 'b' }, { id: 'french', profile: 'b' }]));
    assert.equal(record.status, 'ok', record.error);
    assert.deepEqual(bodies.map((b) => b.model), ['tiny-b']);
    assert.equal(bodies[0]!.temperature, 0.5);
    assert.match(record.model, /^tiny-b@/);
    assert.equal(record.composed?.profile, 'b');
    assert.equal(record.warnings, undefined);
    assert.deepEqual(record.steps.map((s) => s.output), ['Rain is expected on Tuesday.', 'Il pleuvra mardi.']);
  });

  void test('no step names a profile: the default profile a runs it, no warning', async () => {
    const { record, bodies } = await runComposed(chainWith([{ id: 'summary' }, { id: 'french' }]));
    assert.equal(record.status, 'ok', record.error);
    assert.deepEqual(bodies.map((b) => b.model), ['tiny']);
    assert.equal(bodies[0]!.temperature, 0);
    assert.equal(record.composed?.profile, 'a');
    assert.equal(record.warnings, undefined);
  });

  void test('steps on different profiles: the default profile runs it and the record says why', async () => {
    const { record, bodies } = await runComposed(chainWith([{ id: 'summary', profile: 'b' }, { id: 'french' }]));
    assert.equal(record.status, 'ok', record.error);
    assert.deepEqual(bodies.map((b) => b.model), ['tiny']);
    assert.equal(bodies[0]!.temperature, 0);
    assert.match(record.model, /^tiny@/);
    assert.deepEqual(record.warnings, [
      'The steps use different model profiles (b for summary, a for french); a composed run is one generation, so it runs on the default profile (a).',
    ]);
  });

  void test('only the steps up to --to count: a later step on another profile does not change the model', async () => {
    const chain = chainWith([{ id: 'summary', profile: 'b' }, { id: 'french', profile: 'b' }, { id: 'tweet', profile: 'a' }]);
    const before = server.requests.length;
    server.injectFaults([{ kind: 'reply', content: MARKED }]);
    const record = await runChain(chain, { backend: resolver, inputs: { text: 'Heavy rain on Tuesday.' }, mode: 'composed', stopAfter: 'french' });
    const models = server.requests.slice(before).map((r) => (r.body as ChatBody).model);
    assert.equal(record.status, 'ok', record.error);
    assert.deepEqual(models, ['tiny-b']);
    assert.equal(record.warnings, undefined);
  });

  void test('the run\'s default profile (coi run --profile b) is the one a mixed composed run falls back to', async () => {
    const chain = chainWith([{ id: 'summary', profile: 'a' }, { id: 'french' }]);
    const { record, bodies } = await runComposed(chain, { backend: (name) => backends.get(name ?? 'b')!, defaultProfile: 'b' });
    assert.equal(record.status, 'ok', record.error);
    assert.deepEqual(bodies.map((b) => b.model), ['tiny-b']);
    assert.equal(bodies[0]!.temperature, 0.5);
    assert.match(record.warnings?.[0] ?? '', /\(a for summary, b for french\).*runs on the default profile \(b\)\.$/);
  });

  void test('a test block\'s model line: its profile\'s model and sampling run the steps that name none', async () => {
    const chain = chainWith([{ id: 'summary' }, { id: 'french' }]);
    const before = server.requests.length;
    const result = await runChainTest(chain, { name: 'on b', inputs: { text: 'Rain.' }, expectations: [], profile: 'b', span: NO_SPAN }, { backend: resolver, params: { maxTokens: 4 } });
    const bodies = server.requests.slice(before).map((r) => r.body as ChatBody);
    assert.equal(result.run?.status, 'ok', result.error ?? result.run?.error);
    assert.deepEqual(bodies.map((b) => [b.model, b.temperature]), [['tiny-b', 0.5], ['tiny-b', 0.5]]);
  });

  void test('stepwise runs honour each step\'s profile and carry no record warning', async () => {
    const before = server.requests.length;
    const record = await runChain(chainWith([{ id: 'summary', profile: 'b' }, { id: 'french' }]), { backend: resolver, inputs: { text: 'Rain.' }, params: { maxTokens: 4 } });
    const models = server.requests.slice(before).map((r) => (r.body as ChatBody).model);
    assert.equal(record.status, 'ok', record.error);
    assert.deepEqual(models, ['tiny-b', 'tiny']);
    assert.equal(record.warnings, undefined);
  });
});
