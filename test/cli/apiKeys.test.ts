/**
 * Which server gets which API key, as a user runs the CLI (the bundled `coi` in a child process,
 * the OpenAI-protocol test server recording each request's Authorization header): $OPENAI_API_KEY
 * goes only to api.openai.com; another server gets a key only through --api-key-env (or a
 * profile's api_key_env), for `coi run`, `coi eval` and the judge of `coi test` alike.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync } from './cliProcess';

const SECRET = 'sk-openai-secret-0123456789';
const CHAIN = 'chain st\ninput x: text\n\nstep a {\n  instruction "Say hello."\n}\n';

/** The Authorization headers of the chat requests a server got since `from`. */
const keysSent = (server: OpenAITestServer, from: number): (string | undefined)[] =>
  server.requests.slice(from).filter((r) => r.path === '/v1/chat/completions').map((r) => r.headers.authorization as string | undefined);

void describe('API keys sent by the CLI', () => {
  let server: OpenAITestServer;
  let keyed: OpenAITestServer;
  let dir: string;
  before(async () => {
    server = await startOpenAITestServer({ reply: () => 'Hello.' });
    keyed = await startOpenAITestServer({ apiKey: 'sk-mine', reply: () => 'Hello.' });
    dir = tempDir();
    writeFileSync(join(dir, 'st.coi'), CHAIN);
  });
  after(async () => {
    await server.close();
    await keyed.close();
  });
  const env = (more: Record<string, string> = {}): Record<string, string> => ({ COI_MODEL: '', COI_CACHE_DIR: join(dir, 'cache'), OPENAI_API_KEY: SECRET, ...more });
  const run = (baseUrl: string, more: readonly string[], extraEnv?: Record<string, string>): ReturnType<typeof coiAsync> =>
    coiAsync(['run', 'st.coi', '-i', 'x', '--model', 'openai:tiny', '--base-url', baseUrl, '--no-cache', ...more], { cwd: dir, env: env(extraEnv) });

  void test('coi run: $OPENAI_API_KEY is not sent to --base-url (localhost either); --api-key-env VAR sends $VAR', async () => {
    const local = server.baseURL.replace('127.0.0.1', 'localhost');
    for (const url of [server.baseURL, local]) {
      const from = server.requests.length;
      const r = await run(url, []);
      assert.equal(r.code, 0, r.stderr);
      const sent = keysSent(server, from);
      assert.equal(sent.length, 1);
      assert.ok(!String(sent[0]).includes(SECRET), `OpenAI's key went to ${url}: ${String(sent[0])}`);
    }
    const from = server.requests.length;
    const named = await run(server.baseURL, ['--api-key-env', 'MYKEY'], { MYKEY: 'sk-mine' });
    assert.equal(named.code, 0, named.stderr);
    assert.deepEqual(keysSent(server, from), ['Bearer sk-mine']);
  });

  void test('a server that wants a key and got none answers 401: the step error says to name it with --api-key-env', async () => {
    const r = await run(keyed.baseURL, []);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /rejected the request: it needs an API key and none is set \(401\): name the environment variable that holds it \(`--api-key-env VAR` with --model openai:\.\.\., `api_key_env "VAR"` in a model profile; \$OPENAI_API_KEY goes only to api\.openai\.com\)/);
    const ok = await run(keyed.baseURL, ['--api-key-env', 'MYKEY'], { MYKEY: 'sk-mine' });
    assert.equal(ok.code, 0, ok.stderr);
  });

  void test('--api-key-env refused (exit 2): a variable not set, a key given instead of a name, without --model openai:', async () => {
    const cases: [readonly string[], RegExp][] = [
      [['--api-key-env', 'NOT_SET_ANYWHERE'], /--api-key-env NOT_SET_ANYWHERE: the environment variable NOT_SET_ANYWHERE is not set/],
      [['--api-key-env', 'sk-abcdefghijklmnop'], /--api-key-env takes the NAME of the environment variable that holds the key \(such as MY_SERVER_KEY\), not 'sk-a…'/],
    ];
    for (const [more, message] of cases) {
      const r = await run(server.baseURL, more);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /abcdefghijklmnop/, 'the key is not echoed');
    }
    const local = await coiAsync(['run', 'st.coi', '-i', 'x', '--model', './m.gguf', '--api-key-env', 'MYKEY'], { cwd: dir, env: env({ MYKEY: 'k' }) });
    assert.equal(local.code, 2, local.stderr);
    assert.match(local.stderr, /--api-key-env goes with --model openai:MODEL_ID/);
  });

  void test('coi eval: --base-url and --endpoint get no $OPENAI_API_KEY; --api-key-env sends the key to each of them', async () => {
    const other = await startOpenAITestServer({ reply: () => 'Hello.' });
    try {
      writeFileSync(join(dir, 'rows.jsonl'), ['{"x":"a"}', '{"x":"b"}', '{"x":"c"}', '{"x":"d"}'].join('\n') + '\n');
      const evaluate = (out: string, more: readonly string[], extraEnv?: Record<string, string>): ReturnType<typeof coiAsync> =>
        coiAsync(['eval', 'st.coi', '--dataset', 'rows.jsonl', '--model', 'openai:tiny', '--base-url', server.baseURL, '--endpoint', other.baseURL, '--concurrency', '1', '--no-cache', '--out', out, ...more], { cwd: dir, env: env(extraEnv) });
      const [fromA, fromB] = [server.requests.length, other.requests.length];
      const plain = await evaluate('plain', []);
      assert.equal(plain.code, 0, plain.stderr);
      const sent = [...keysSent(server, fromA), ...keysSent(other, fromB)];
      assert.equal(sent.length, 4);
      assert.ok(sent.every((h) => !String(h).includes(SECRET)), sent.join(', '));

      const [againA, againB] = [server.requests.length, other.requests.length];
      const named = await evaluate('named', ['--api-key-env', 'MYKEY'], { MYKEY: 'sk-mine' });
      assert.equal(named.code, 0, named.stderr);
      const a = keysSent(server, againA);
      const b = keysSent(other, againB);
      assert.ok(a.length > 0 && b.length > 0, `both servers served (${a.length}, ${b.length})`);
      assert.ok([...a, ...b].every((h) => h === 'Bearer sk-mine'), [...a, ...b].join(', '));
    } finally {
      await other.close();
    }
  });
});

void describe('coi test: a judge on a server of its own (--judge-base-url, --judge-api-key-env)', () => {
  let chainServer: OpenAITestServer;
  let judgeServer: OpenAITestServer;
  let dir: string;
  before(async () => {
    chainServer = await startOpenAITestServer({ apiKey: 'sk-chain', reply: () => 'Hello there.' });
    judgeServer = await startOpenAITestServer({ apiKey: 'sk-judge', models: ['judge'], reply: () => 'yes' });
    dir = tempDir();
    // The chain runs on its own profile; only the judge comes from the command line.
    const profile = `model api {\n  provider openai\n  base_url "${chainServer.baseURL}"\n  model "tiny"\n  api_key_env "CHAIN_KEY"\n}\n\n`;
    writeFileSync(join(dir, 'judged.coi'), `${CHAIN.replace('\n\n', `\n\n${profile}`)}\ntest "greets" {\n  given x = "go"\n  expect a judge "Says hello."\n}\n`);
  });
  after(async () => {
    await chainServer.close();
    await judgeServer.close();
  });
  const env = { COI_MODEL: '', COI_CACHE_DIR: '', OPENAI_API_KEY: SECRET, CHAIN_KEY: 'sk-chain', JKEY: 'sk-judge' };
  const testWith = (more: readonly string[]): ReturnType<typeof coiAsync> => coiAsync(['test', 'judged.coi', '--no-cache', '--reporter', 'json', ...more], { cwd: dir, env: { ...env, COI_CACHE_DIR: join(dir, 'cache') } });

  void test('the judge runs at --judge-base-url with the key of --judge-api-key-env; the chain keeps its profile', async () => {
    const from = judgeServer.requests.length;
    const r = await testWith(['--judge-model', 'openai:judge', '--judge-base-url', judgeServer.baseURL, '--judge-api-key-env', 'JKEY']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as { status: string; expectations: { status: string; message: string }[] }[];
    assert.deepEqual(report.map((t) => [t.status, t.expectations.map((e) => e.status)]), [['passed', ['passed']]]);
    assert.deepEqual(keysSent(judgeServer, from), ['Bearer sk-judge']);

    // An openai: judge with an openai: --model and no server of its own shares --base-url and --api-key-env.
    const again = judgeServer.requests.length;
    const shared = await testWith(['--model', 'openai:judge', '--base-url', judgeServer.baseURL, '--api-key-env', 'JKEY', '--judge-model', 'openai:judge']);
    assert.equal(shared.code, 0, shared.stdout + shared.stderr);
    assert.deepEqual(keysSent(judgeServer, again), ['Bearer sk-judge', 'Bearer sk-judge'], 'the chain, then the judge');
  });

  void test('without --judge-api-key-env the judge server gets no key (not $OPENAI_API_KEY): its 401 is the test error', async () => {
    const from = judgeServer.requests.length;
    const r = await testWith(['--judge-model', 'openai:judge', '--judge-base-url', judgeServer.baseURL]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const sent = keysSent(judgeServer, from);
    assert.equal(sent.length, 1);
    assert.ok(!String(sent[0]).includes(SECRET), String(sent[0]));
    assert.match(r.stdout, /needs an API key and none is set \(401\): name the environment variable that holds it \(`--api-key-env VAR`/);
  });

  void test('refused (exit 2): --base-url without --model points to --judge-base-url; --judge-base-url with a judge that is not openai:', async () => {
    const shared = await testWith(['--judge-model', 'openai:judge', '--base-url', judgeServer.baseURL]);
    assert.equal(shared.code, 2, shared.stderr);
    assert.match(shared.stderr, /--base-url goes with --model openai:MODEL_ID; the judge's server is --judge-base-url URL\./);
    const local = await testWith(['--judge-model', './judge.gguf', '--judge-base-url', judgeServer.baseURL]);
    assert.equal(local.code, 2, local.stderr);
    assert.match(local.stderr, /--judge-base-url goes with --judge-model openai:MODEL_ID\./);
    const notUrl = await testWith(['--judge-model', 'openai:judge', '--judge-base-url', 'nowhere']);
    assert.equal(notUrl.code, 2, notUrl.stderr);
    assert.match(notUrl.stderr, /--judge-base-url 'nowhere' is not a URL/);
  });
});
