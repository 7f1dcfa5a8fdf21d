/**
 * A base URL with a query (Azure OpenAI's `…/deployments/NAME?api-version=…`, a proxy's
 * `?tenant=…`) wherever a user gives one: `coi run --base-url`, a profile's `base_url`, the
 * judge's `--judge-base-url` and `coi eval --endpoint`. The real `coi` in a child process against
 * the OpenAI-protocol test servers, which record the path and query of each request.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync } from '../cli/cliProcess';

const CHAIN = 'chain st\ninput x: text\n\nstep a {\n  instruction "Say hello."\n}\n';
const CHAT = '/v1/chat/completions';

/** Path and query of each request a server got since `from`. */
const sentSince = (server: OpenAITestServer, from: number): [string, Readonly<Record<string, string>>][] => server.requests.slice(from).map((r) => [r.path, r.query]);

void describe('a query in a base URL reaches the server after the path (coi run, test, eval)', () => {
  let server: OpenAITestServer;
  let judge: OpenAITestServer;
  let dir: string;
  before(async () => {
    server = await startOpenAITestServer({ reply: () => 'Hello.' });
    judge = await startOpenAITestServer({ models: ['judge'], reply: () => 'yes' });
    dir = tempDir();
    writeFileSync(join(dir, 'st.coi'), CHAIN);
    writeFileSync(join(dir, 'rows.jsonl'), ['{"x":"a"}', '{"x":"b"}', '{"x":"c"}', '{"x":"d"}'].join('\n') + '\n');
  });
  after(async () => {
    await server.close();
    await judge.close();
  });
  const env = (): Record<string, string> => ({ COI_MODEL: '', COI_CACHE_DIR: join(dir, 'cache'), OPENAI_API_KEY: '' });

  void test('coi run --base-url URL?api-version=…, and a profile\'s base_url with a query', async () => {
    const from = server.requests.length;
    const r = await coiAsync(['run', 'st.coi', '-i', 'x', '--model', 'openai:tiny', '--base-url', `${server.baseURL}?api-version=2024-06-01`, '--no-cache'], { cwd: dir, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Hello\./);
    assert.deepEqual(sentSince(server, from), [[CHAT, { 'api-version': '2024-06-01' }]]);

    const profile = `model azure {\n  provider openai\n  base_url "${server.baseURL}/?api-version=2024-06-01&tenant=a"\n  model "tiny"\n}\n\n`;
    writeFileSync(join(dir, 'profiled.coi'), CHAIN.replace('\n\n', `\n\n${profile}`));
    const again = server.requests.length;
    const p = await coiAsync(['run', 'profiled.coi', '-i', 'x', '--no-cache'], { cwd: dir, env: env() });
    assert.equal(p.code, 0, p.stderr);
    assert.deepEqual(sentSince(server, again), [[CHAT, { 'api-version': '2024-06-01', tenant: 'a' }]]);
  });

  void test('coi test --judge-base-url with a query; coi eval --base-url and --endpoint with queries of their own', async () => {
    writeFileSync(join(dir, 'judged.coi'), `${CHAIN}\ntest "greets" {\n  given x = "go"\n  expect a judge "Says hello."\n}\n`);
    const [fromServer, fromJudge] = [server.requests.length, judge.requests.length];
    const t = await coiAsync(['test', 'judged.coi', '--no-cache', '--model', 'openai:tiny', '--base-url', `${server.baseURL}?tenant=chain`, '--judge-model', 'openai:judge', '--judge-base-url', `${judge.baseURL}?tenant=judge`], { cwd: dir, env: env() });
    assert.equal(t.code, 0, t.stdout + t.stderr);
    assert.deepEqual(sentSince(server, fromServer), [[CHAT, { tenant: 'chain' }]]);
    assert.deepEqual(sentSince(judge, fromJudge), [[CHAT, { tenant: 'judge' }]]);

    const other = await startOpenAITestServer({ reply: () => 'Hello.' });
    try {
      const from = server.requests.length;
      const e = await coiAsync(['eval', 'st.coi', '--dataset', 'rows.jsonl', '--model', 'openai:tiny', '--base-url', `${server.baseURL}?tenant=a`, '--endpoint', `${other.baseURL}?tenant=b`, '--concurrency', '1', '--no-cache', '--out', 'store'], { cwd: dir, env: env() });
      assert.equal(e.code, 0, e.stderr);
      const [a, b] = [sentSince(server, from), sentSince(other, 0)];
      assert.ok(a.length > 0 && b.length > 0 && a.length + b.length === 4, `${a.length} and ${b.length} requests`);
      assert.ok(a.every(([path, query]) => path === CHAT && query.tenant === 'a'), JSON.stringify(a));
      assert.ok(b.every(([path, query]) => path === CHAT && query.tenant === 'b'), JSON.stringify(b));
    } finally {
      await other.close();
    }
  });
});
