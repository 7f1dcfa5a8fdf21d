/**
 * Which server gets which API key, as a user runs the CLI (the bundled `coi` in a child process,
 * the OpenAI-protocol test server recording each request's Authorization header): $OPENAI_API_KEY
 * goes only to api.openai.com; another server gets a key only through --api-key-env (or a
 * profile's api_key_env), for `coi run`, `coi eval` and the judge of `coi test` alike.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync } from './cliProcess';
import { serverAndFolder } from './serverFolder';

const SECRET = 'sk-openai-secret-0123456789';
const CHAIN = 'chain st\ninput x: text\n\nstep a {\n  instruction "Say hello."\n}\n';

/** Every file under `dir` (run records, eval stores) with its text. */
function filesUnder(dir: string): { path: string; text: string }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [{ path, text: readFileSync(path, 'utf8') }];
  });
}

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

void describe('a server that echoes the API key back in its error', () => {
  const KEY = 'sk-echoed-back-9f8e7d6c5b4a';
  const fixture = serverAndFolder({ 'st.coi': CHAIN, 'rows.jsonl': '{"x":"a"}\n{"x":"b"}\n' });
  /** Every chat request answered with `status`, its body quoting the Authorization header (a 500 asks for a wait too long to retry). */
  const echoing = (status: number): void =>
    fixture.server.setFaultChooser(({ headers }) => ({ kind: 'status', status, retryAfter: '3600', message: `Incorrect API key provided: ${String(headers.authorization)}.` }));
  const env = { COI_MODEL: '', MYKEY: KEY };
  const assertNoKey = (where: string, text: string): void => assert.ok(!text.includes(KEY), `the key is in ${where}:\n${text}`);

  void test('coi run (401 and 500): the key is [key] on stderr and in the run record', async () => {
    try {
      for (const status of [401, 500]) {
        echoing(status);
        const cache = join(fixture.dir, `cache-${status}`);
        const r = await coiAsync(['run', 'st.coi', '-i', 'x', '--model', 'openai:tiny', '--base-url', fixture.server.baseURL, '--api-key-env', 'MYKEY', '--no-cache'], { cwd: fixture.dir, env: { ...env, COI_CACHE_DIR: cache } });
        assert.equal(r.code, 1, r.stderr);
        assert.equal(fixture.server.requests.at(-1)?.headers.authorization, `Bearer ${KEY}`, 'the key was sent');
        assertNoKey('stderr', r.stderr);
        assert.match(r.stderr, status === 401 ? /rejected the API key \(401\).*The server says: Incorrect API key provided: Bearer \[key\]\./ : /answered HTTP 500; it asks to wait 1 h\. The server says: Incorrect API key provided: Bearer \[key\]\./);
        const records = filesUnder(join(cache, 'runs'));
        assert.equal(records.length, 1, 'one run record');
        assertNoKey(records[0]!.path, records[0]!.text);
        assert.match(records[0]!.text, /Bearer \[key\]/);
      }
    } finally {
      fixture.server.setFaultChooser(undefined);
    }
  });

  void test('coi eval (500, then 401): the key is [key] on stderr and nowhere in the store', async () => {
    try {
      for (const status of [500, 401]) {
        echoing(status);
        const out = join(fixture.dir, `ev-${status}`);
        const r = await coiAsync(['eval', 'st.coi', '--dataset', 'rows.jsonl', '--model', 'openai:tiny', '--base-url', fixture.server.baseURL, '--api-key-env', 'MYKEY', '--no-cache', '--out', out], { cwd: fixture.dir, env: { ...env, COI_CACHE_DIR: join(fixture.dir, 'cache-eval') } });
        // A 500 fails the items (kept in the store, exit 0); a 401 stops the evaluation (exit 1).
        assert.equal(r.code, status === 401 ? 1 : 0, r.stderr);
        assertNoKey('stderr', r.stderr);
        if (status === 401) assert.match(r.stderr, /Bearer \[key\]/);
        const stored = filesUnder(out);
        assert.ok(stored.length > 0, 'a store was written');
        for (const file of stored) assertNoKey(file.path, file.text);
        if (status === 500) assert.match(stored.find((f) => f.path.endsWith('results.jsonl'))?.text ?? '', /Bearer \[key\]/, 'the failed items keep the (redacted) error');
      }
    } finally {
      fixture.server.setFaultChooser(undefined);
    }
  });
});

void describe('a secret in a base URL (credentials, a key in the query) is refused before anything runs', () => {
  const PASSWORD = 'hunter2-in-the-url';
  const fixture = serverAndFolder({ 'st.coi': CHAIN, 'rows.jsonl': '{"x":"a"}\n', 'judged.coi': `${CHAIN}\ntest "greets" {\n  given x = "go"\n  expect a judge "Says hello."\n}\n` });
  const env = { COI_MODEL: '', MYKEY: 'sk-mine' };
  const withPassword = (url: string): string => url.replace('http://', `http://bob:${PASSWORD}@`);
  /** Runs coi with a fresh cache folder: refused with exit 2, no request sent, no run record, the secret not repeated. */
  const refused = async (args: readonly string[], message: RegExp, secret = PASSWORD): Promise<void> => {
    const cache = join(tempDir(), 'cache');
    const from = fixture.server.requests.length;
    const r = await coiAsync(args, { cwd: fixture.dir, env: { ...env, COI_CACHE_DIR: cache } });
    assert.equal(r.code, 2, `${args.join(' ')}\n${r.stderr}`);
    assert.match(r.stderr, message);
    assert.ok(!r.stderr.includes(secret), r.stderr);
    assert.equal(fixture.server.requests.length, from, 'nothing was sent');
    assert.ok(!existsSync(join(cache, 'runs')), 'no run record');
  };

  void test("coi check: a profile's base_url with a user name and password, or with ?api_key=, is COI505 at the URL", async () => {
    const profile = (name: string, url: string): string => `model ${name} {\n  provider openai\n  base_url "${url}"\n  model "tiny"\n}\n\n`;
    writeFileSync(join(fixture.dir, 'cred.coi'), CHAIN.replace('\n\n', `\n\n${profile('api', withPassword(fixture.server.baseURL))}${profile('q', `${fixture.server.baseURL}?api_key=sk-in-the-query`)}`));
    const checked = await coiAsync(['check', 'cred.coi'], { cwd: fixture.dir, env });
    assert.equal(checked.code, 1, checked.stdout);
    assert.match(checked.stdout, /cred\.coi:6:12: error COI505: 'base_url' holds a user name and password \(USER:PASSWORD@HOST\), which run records, caches and messages would keep: name the environment variable that holds the key with `api_key_env "NAME"` instead\./);
    assert.match(checked.stdout, /cred\.coi:12:12: error COI505: 'base_url' holds a key in its query \(\?api_key=…\)/);
    assert.ok(!checked.stdout.includes(PASSWORD) && !checked.stdout.includes('sk-in-the-query'), checked.stdout);
    await refused(['run', 'cred.coi', '-i', 'x'], /'cred\.coi' has 2 errors.*\n.*COI505: 'base_url' holds a user name and password/);
  });

  void test('--base-url, --judge-base-url and --endpoint with credentials or a key in the query: exit 2 (coi run, test, eval)', async () => {
    const run = ['run', 'st.coi', '-i', 'x', '--model', 'openai:tiny', '--no-cache'];
    await refused([...run, '--base-url', withPassword(fixture.server.baseURL)], /coi run: --base-url holds a user name and password \(USER:PASSWORD@HOST\), which run records, caches and messages would keep: name the environment variable that holds the key with --api-key-env VAR instead\./);
    await refused([...run, '--base-url', `${fixture.server.baseURL}?api_key=sk-query-secret`], /--base-url holds a key in its query \(\?api_key=…\)/, 'sk-query-secret');
    await refused([...run, '--base-url', `${fixture.server.baseURL}?KEY=sk-query-secret`], /--base-url holds a key in its query \(\?KEY=…\)/, 'sk-query-secret');
    // Other names a key goes by: Azure API Management's subscription key, a SAS signature, Azure Functions' code, tokens (any case).
    for (const name of ['subscription-key', 'Subscription-Key', 'sig', 'auth_token', 'access_token', 'token', 'code', 'api_token', 'x-api-key']) {
      await refused([...run, '--base-url', `${fixture.server.baseURL}?api-version=1&${name}=sk-query-secret`], new RegExp(`--base-url holds a key in its query \\(\\?${name}=…\\)`), 'sk-query-secret');
    }
    await refused(['test', 'judged.coi', '--model', 'openai:tiny', '--base-url', fixture.server.baseURL, '--no-cache', '--judge-model', 'openai:judge', '--judge-base-url', withPassword(fixture.server.baseURL)], /coi test: --judge-base-url holds a user name and password .* with --judge-api-key-env VAR instead\./);
    const evaluate = ['eval', 'st.coi', '--dataset', 'rows.jsonl', '--model', 'openai:tiny', '--no-cache', '--out', join(fixture.dir, 'ev')];
    await refused([...evaluate, '--base-url', withPassword(fixture.server.baseURL)], /coi eval: --base-url holds a user name and password/);
    await refused([...evaluate, '--base-url', fixture.server.baseURL, '--endpoint', withPassword(fixture.server.baseURL)], /coi eval: --endpoint holds a user name and password/);
    assert.ok(!existsSync(join(fixture.dir, 'ev')), 'no evaluation store');
  });
});

void describe('--api-key-header and api_key_header: the header the key goes in (Azure OpenAI reads api-key)', () => {
  const KEY = 'azure-key-0123456789abcdef';
  let azureLike: OpenAITestServer;
  let dir: string;
  before(async () => {
    azureLike = await startOpenAITestServer({ apiKey: KEY, apiKeyHeader: 'api-key', reply: () => 'Hello.' });
    dir = tempDir();
    writeFileSync(join(dir, 'st.coi'), CHAIN);
    writeFileSync(join(dir, 'rows.jsonl'), '{"x":"a"}\n{"x":"b"}\n');
  });
  after(() => azureLike.close());
  const env = (more: Record<string, string> = {}): Record<string, string> => ({ COI_MODEL: '', COI_CACHE_DIR: join(dir, 'cache'), OPENAI_API_KEY: SECRET, AZURE_KEY: KEY, ...more });
  const run = (more: readonly string[], extraEnv?: Record<string, string>): ReturnType<typeof coiAsync> =>
    coiAsync(['run', 'st.coi', '-i', 'x', '--model', 'openai:tiny', '--base-url', `${azureLike.baseURL}?api-version=2024-06-01`, '--api-key-env', 'AZURE_KEY', '--no-cache', ...more], { cwd: dir, env: env(extraEnv) });
  /** The key headers of the chat requests since `from`: [api-key, authorization]. */
  const headersSince = (from: number): [unknown, unknown][] => azureLike.requests.slice(from).filter((r) => r.path === '/v1/chat/completions').map((r) => [r.headers['api-key'], r.headers.authorization]);

  void test('coi run --api-key-header api-key sends `api-key: KEY` and no Authorization; without it the key goes as Bearer and the 401 names the option', async () => {
    const from = azureLike.requests.length;
    // The SDK's debug log prints every request's headers: the key is not among them.
    const r = await run(['--api-key-header', 'api-key'], { OPENAI_LOG: 'debug' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Hello\./);
    assert.deepEqual(headersSince(from), [[KEY, undefined]]);
    assert.match(r.stdout + r.stderr, /sending request/, 'the SDK did log the request');
    assert.ok(!(r.stdout + r.stderr).includes(KEY), 'the key is not printed');

    const again = azureLike.requests.length;
    const bearer = await run([]);
    assert.equal(bearer.code, 1, bearer.stderr);
    assert.deepEqual(headersSince(again), [[undefined, `Bearer ${KEY}`]]);
    assert.match(bearer.stderr, /rejected the API key \(401\).*The key went in the Authorization header, as Bearer; for a server that reads it from another header, name it with `api_key_header "NAME"` in a model profile or --api-key-header NAME\./);
    assert.ok(!bearer.stderr.includes(KEY), 'the key is not in the error');
  });

  void test('a profile\'s api_key_header, and coi eval --api-key-header', async () => {
    const profile = `model azure {\n  provider openai\n  base_url "${azureLike.baseURL}?api-version=2024-06-01"\n  model "tiny"\n  api_key_env "AZURE_KEY"\n  api_key_header "api-key"\n}\n\n`;
    writeFileSync(join(dir, 'profiled.coi'), CHAIN.replace('\n\n', `\n\n${profile}`));
    const from = azureLike.requests.length;
    const p = await coiAsync(['run', 'profiled.coi', '-i', 'x', '--no-cache'], { cwd: dir, env: env() });
    assert.equal(p.code, 0, p.stderr);
    assert.deepEqual(headersSince(from), [[KEY, undefined]]);

    const again = azureLike.requests.length;
    const e = await coiAsync(['eval', 'st.coi', '--dataset', 'rows.jsonl', '--model', 'openai:tiny', '--base-url', azureLike.baseURL, '--api-key-env', 'AZURE_KEY', '--api-key-header', 'api-key', '--no-cache', '--out', 'store'], { cwd: dir, env: env() });
    assert.equal(e.code, 0, e.stderr);
    assert.deepEqual(headersSince(again), [[KEY, undefined], [KEY, undefined]]);
  });

  void test("coi eval --resume DIR: the store keeps the NAMES of --api-key-env and --api-key-header (never the key); the header is used again, the variable only when given again (a store never picks which variable is sent)", async () => {
    writeFileSync(join(dir, 'four.jsonl'), ['first-row', 'stop-here-2', 'stop-here-3', 'stop-here-4'].map((x) => JSON.stringify({ x })).join('\n') + '\n');
    const stored = (): { item: string; error?: string }[] =>
      readFileSync(join(dir, 'resumable', 'results.jsonl'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { item: string; error?: string });
    // Interrupted: the server fails the last three rows (every try), which stops the evaluation with them unrecorded.
    azureLike.setFaultChooser(({ body }) => (JSON.stringify(body).includes('stop-here') ? { kind: 'status', status: 500, retryAfter: '0' } : undefined));
    let stopped;
    try {
      stopped = await coiAsync(['eval', 'st.coi', '--dataset', 'four.jsonl', '--model', 'openai:tiny', '--base-url', azureLike.baseURL, '--api-key-env', 'AZURE_KEY', '--api-key-header', 'api-key', '--no-cache', '--concurrency', '1', '--out', 'resumable'], { cwd: dir, env: env() });
    } finally {
      azureLike.setFaultChooser(undefined);
    }
    assert.equal(stopped.code, 1, stopped.stderr);
    assert.match(stopped.stderr, /failed 3 items in a row/);
    assert.match(stopped.stderr, /coi eval --resume resumable --api-key-env AZURE_KEY\n/, 'the hint names the variable, which a resume must be given');
    assert.equal(stored().length, 1, 'the first row is done');
    const config = JSON.parse(readFileSync(join(dir, 'resumable', 'eval.json'), 'utf8')) as { settings?: { apiKeyEnv?: string; apiKeyHeader?: string } };
    assert.equal(config.settings?.apiKeyEnv, 'AZURE_KEY');
    assert.equal(config.settings?.apiKeyHeader, 'api-key');

    // Given again on the resume, the options win over the store's names: this variable holds a wrong key, so the server refuses it.
    const overridden = azureLike.requests.length;
    const wrong = await coiAsync(['eval', '--resume', 'resumable', '--api-key-env', 'WRONG_KEY'], { cwd: dir, env: env({ WRONG_KEY: 'not-the-key-0123' }) });
    assert.equal(wrong.code, 1, wrong.stderr);
    assert.match(wrong.stderr, /rejected the API key \(401\)/);
    assert.ok(headersSince(overridden).length > 0 && headersSince(overridden).every(([header, authorization]) => header === 'not-the-key-0123' && authorization === undefined), 'the given variable, in the kept header');
    assert.equal(stored().length, 1, 'nothing recorded for a refused key');

    // Only --resume DIR: refused before any request, with the command that resumes it.
    const asked = azureLike.requests.length;
    const refused = await coiAsync(['eval', '--resume', 'resumable'], { cwd: dir, env: env() });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /The evaluation in resumable sent its server \(http:\/\/127\.0\.0\.1:\d+\/v1\) the key in \$AZURE_KEY: give --api-key-env AZURE_KEY again to resume it \(coi eval --resume resumable --api-key-env AZURE_KEY\)\. A store, which may come from someone else, never chooses which of your variables is sent to its server\./,
    );
    assert.equal(azureLike.requests.length, asked, 'nothing sent');

    // The variable given again: the key goes in the kept header.
    const from = azureLike.requests.length;
    const resumed = await coiAsync(['eval', '--resume', 'resumable', '--api-key-env', 'AZURE_KEY', '--json'], { cwd: dir, env: env() });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /Resuming st-four: 4 items/);
    assert.deepEqual(headersSince(from), [[KEY, undefined], [KEY, undefined], [KEY, undefined]], 'the three missing rows, the key accepted in api-key');
    assert.deepEqual(stored().map((r) => [r.item, r.error]).sort(), [['row 1', undefined], ['row 2', undefined], ['row 3', undefined], ['row 4', undefined]]);
    for (const file of filesUnder(join(dir, 'resumable'))) assert.ok(!file.text.includes(KEY), `the key is not written to ${file.path}`);
    assert.ok(!(stopped.stderr + wrong.stderr + refused.stderr + resumed.stderr + resumed.stdout).includes(KEY), 'nor printed');
  });

  void test('--api-key-header refused (exit 2): not a header name, a key given instead, a header that carries something else, without --model openai:', async () => {
    const cases: [readonly string[], RegExp][] = [
      [['--api-key-header', 'api key'], /--api-key-header must be an HTTP header name \(such as api-key, x-api-key or Authorization\), not 'api key'\./],
      [['--api-key-header', 'api-key:'], /--api-key-header must be an HTTP header name/],
      [['--api-key-header', 'sk-abcdefghijklmnop'], /--api-key-header is the NAME of the header the key goes in \(such as api-key or Authorization\), not a key \('sk-a…'\)/],
      [['--api-key-header', 'Content-Type'], /--api-key-header cannot be 'Content-Type': that header carries something else/],
    ];
    for (const [more, message] of cases) {
      const from = azureLike.requests.length;
      const r = await run(more);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /abcdefghijklmnop/, 'the key is not echoed');
      assert.equal(azureLike.requests.length, from, 'no request was made');
    }
    const local = await coiAsync(['run', 'st.coi', '-i', 'x', '--model', './m.gguf', '--api-key-header', 'api-key'], { cwd: dir, env: env() });
    assert.equal(local.code, 2, local.stderr);
    assert.match(local.stderr, /--api-key-header goes with --model openai:MODEL_ID \(a model profile names its header with `api_key_header`\)/);
  });
});

void describe("coi run, test and eval warn where a chain file's profiles send an API key (COI510, COI511), and still run", () => {
  // The profile the run uses sends OpenAI's key to the test server (COI510: another host, a local
  // one included); the profile no step uses would send a key over plain http (COI511).
  const FOREIGN = (baseUrl: string): string =>
    'chain foreign\ninput x: text\n\n' +
    `model local {\n  provider openai\n  base_url "${baseUrl}"\n  model "tiny"\n  api_key_env "OPENAI_API_KEY"\n}\n\n` +
    'model unused {\n  provider openai\n  base_url "http://example.invalid/v1"\n  model "tiny"\n  api_key_env "OTHER_KEY"\n}\n\n' +
    'step a {\n  instruction "Say hello."\n}\n\ntest "greets" {\n  given x = "go"\n  expect a contains "Hello"\n}\n';
  const fixture = serverAndFolder({ 'rows.jsonl': '{"x":"a"}\n' });
  before(() => writeFileSync(join(fixture.dir, 'foreign.coi'), FOREIGN(fixture.server.baseURL)));
  const env = { COI_MODEL: '', OPENAI_API_KEY: SECRET, OTHER_KEY: 'sk-other-0123456789' };
  const coi = (args: readonly string[]): ReturnType<typeof coiAsync> => coiAsync([...args, '--no-cache'], { cwd: fixture.dir, env: { ...env, COI_CACHE_DIR: join(fixture.dir, 'cache') } });
  /** The line `coi check` prints for the COI510 of profile `local` (its api_key_env, line 8). */
  const warning = (): string =>
    `foreign.coi:8:15: warning COI510: $OPENAI_API_KEY is OpenAI's key, and this profile would send it to ${new URL(fixture.server.baseURL).host}: name a variable of this server's own (\`api_key_env "LOCAL_KEY"\`), or no \`api_key_env\` at all for a local server that needs no key.\n`;
  /** The run warned once about the profile it used, never about the one it did not, and printed no key; the chat requests it made since `from` carried the key. */
  const warnedAndSent = (r: { code: number | null; stderr: string }, from: number, requests: number): void => {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.split(warning()).length - 1, 1, `the COI510 line once on stderr:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /COI511|example\.invalid/, 'the profile the run does not use is not its concern');
    assert.ok(!r.stderr.includes(SECRET) && !r.stderr.includes(env.OTHER_KEY), 'no key is printed');
    assert.deepEqual(keysSent(fixture.server, from), Array<string>(requests).fill(`Bearer ${SECRET}`), 'a warning, not a refusal: the requests were made');
  };

  void test('coi check lists the same line', async () => {
    const checked = await coiAsync(['check', 'foreign.coi'], { cwd: fixture.dir, env });
    assert.ok(checked.stdout.includes(warning()), checked.stdout);
  });

  void test('coi run: the warning before the run starts, on stderr (--json keeps stdout JSON)', async () => {
    let from = fixture.server.requests.length;
    const r = await coi(['run', 'foreign.coi', '-i', 'x']);
    warnedAndSent(r, from, 1);
    assert.ok(r.stderr.indexOf(warning()) < r.stderr.indexOf('Running foreign'), r.stderr);
    from = fixture.server.requests.length;
    const json = await coi(['run', 'foreign.coi', '-i', 'x', '--json']);
    warnedAndSent(json, from, 1);
    assert.equal((JSON.parse(json.stdout) as { status: string }).status, 'ok');
  });

  void test('coi test --reporter json: the warning on stderr, the report on stdout', async () => {
    const from = fixture.server.requests.length;
    const r = await coi(['test', 'foreign.coi', '--reporter', 'json']);
    warnedAndSent(r, from, 1);
    assert.deepEqual((JSON.parse(r.stdout) as { status: string }[]).map((t) => t.status), ['passed']);
  });

  void test('coi eval --json (the tests of the file, and the chain with --dataset): the warning on stderr, the report on stdout', async () => {
    for (const source of [['foreign.coi'], ['foreign.coi', '--dataset', 'rows.jsonl']]) {
      const from = fixture.server.requests.length;
      const r = await coi(['eval', ...source, '--profile', 'local', '--json', '--out', join(tempDir(), 'store')]);
      warnedAndSent(r, from, 1);
      assert.equal(typeof JSON.parse(r.stdout), 'object', r.stdout);
    }
  });

  /** foreign.coi with 1,001 COI509 warnings (`model` set again and again) ahead of its COI510, now on line 1009. */
  const writePadded = (): void => writeFileSync(join(fixture.dir, 'padded.coi'), FOREIGN(fixture.server.baseURL).replace('  model "tiny"\n', '  model "tiny"\n'.repeat(1002)));

  void test('coi check of a file with more than 1,000 other warnings ahead of it: the COI510 line is still listed, within the cap (VS Code keeps 1,000)', async () => {
    writePadded();
    const checked = await coiAsync(['check', 'padded.coi'], { cwd: fixture.dir, env });
    assert.ok(checked.stdout.includes(warning().replace('foreign.coi:8:15:', 'padded.coi:1009:15:')), checked.stdout.slice(-2000));
    assert.match(checked.stdout, /padded\.coi:1014:12: warning COI511: /);
    // Left out: three COI509 and the step's COI210 note; 1,000 problems kept, the two key warnings among them.
    assert.match(checked.stdout, /info COI000: 4 more problems in this file are not shown \(3 warnings, 1 info\): at most 1,000 problems are shown per file, errors first, after every warning about where an API key would be sent\.\n/);
    assert.equal(checked.stdout.match(/^padded\.coi:\d+:\d+: /gm)?.length, 1001, 'the 1,000 kept (the 2 key warnings among them) and the note');
  });

  void test('a file with more than 1,000 other warnings ahead of it (COI509, `model` set again and again): the warning is still said', async () => {
    // The cap keeps a file's first 1,000 problems, the key-destination warnings always among them.
    writePadded();
    const from = fixture.server.requests.length;
    const r = await coi(['run', 'padded.coi', '-i', 'x']);
    warnedAndSent({ ...r, stderr: r.stderr.replace('padded.coi:1009:15:', 'foreign.coi:8:15:') }, from, 1);
    assert.doesNotMatch(r.stderr, /COI509/, 'only the key-destination warnings');
  });

  void test("--model openai:... --base-url: the file's profiles are not used, so no warning", async () => {
    const model = ['--model', 'openai:tiny', '--base-url', fixture.server.baseURL];
    for (const args of [['run', 'foreign.coi', '-i', 'x', ...model], ['test', 'foreign.coi', ...model], ['eval', 'foreign.coi', ...model, '--out', join(tempDir(), 'store')]]) {
      const r = await coi(args);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /COI51[01]/, `${args[0]!}: ${r.stderr}`);
    }
  });
});
