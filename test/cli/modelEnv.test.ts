/**
 * $COI_MODEL=openai:MODEL_ID as the model of a file without profiles: --base-url, --api-key-env
 * and --api-key-header point it at a server (coi run, coi test, coi eval, coi dataset build), and
 * are refused with the reason where they would be ignored. And `coi run --to STEP`: only the
 * inputs the steps up to STEP read are required, and one not given is no part of the run.
 * The bundled CLI in a child process, against the OpenAI-protocol test server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type ChatBody, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync, type CliResult } from './cliProcess';

const KEY = 'sk-server-key-0123456789';
const CHAIN = 'chain weather\ninput article: text\n\nstep summary {\n  instruction "Summarize the article."\n}\n\ntest "rain" {\n  given article = "Heavy rain on Tuesday."\n  expect output contains "Rain"\n}\n';

void describe('$COI_MODEL=openai:MODEL_ID with --base-url and the key options', () => {
  let server: OpenAITestServer;
  let dir: string;
  before(async () => {
    server = await startOpenAITestServer({ reply: () => 'Rain on Tuesday.', models: ['llama3'] });
    dir = tempDir();
    writeFileSync(join(dir, 'weather.coi'), CHAIN);
    writeFileSync(
      join(dir, 'profiled.coi'),
      `chain profiled\ninput article: text\n\nmodel api {\n  provider openai\n  base_url "${server.baseURL}"\n  model "llama3"\n}\n\nstep summary {\n  instruction "Summarize the article."\n}\n\ntest "rain" {\n  given article = "Heavy rain."\n  expect output contains "Rain"\n}\n`,
    );
    const task = (instruction: string, input: string, output: string): string => JSON.stringify({ instruction, input, output });
    writeFileSync(join(dir, 'tasks.jsonl'), [task('Summarize the text.', 'Rain fell all day.', 'It rained.'), task('Translate the text into French.', 'It rained.', 'Il a plu.')].join('\n') + '\n');
  });
  after(async () => server.close());

  const coi = (args: readonly string[], env: Record<string, string>): Promise<CliResult> =>
    coiAsync(args, { cwd: dir, env: { COI_MODEL: '', COI_CACHE_DIR: join(dir, 'cache'), OPENAI_API_KEY: '', MY_KEY: KEY, ...env } });
  const chats = (from: number): { body: ChatBody; headers: Readonly<Record<string, string | string[] | undefined>> }[] =>
    server.chatRequests(from).map((r) => ({ body: r.body as ChatBody, headers: r.headers }));
  const server_ = (): string[] => ['--base-url', server.baseURL, '--api-key-env', 'MY_KEY', '--api-key-header', 'x-api-key'];

  void test('coi run, coi test, coi eval and coi dataset build send $COI_MODEL to --base-url, with the key of --api-key-env in --api-key-header', async () => {
    const env = { COI_MODEL: 'openai:llama3' };
    const commands: (readonly string[])[] = [
      ['run', 'weather.coi', '-i', 'Heavy rain.', '--no-cache', ...server_()],
      ['test', 'weather.coi', '--no-cache', ...server_()],
      ['eval', 'weather.coi', '--no-cache', '--out', 'ev', ...server_()],
      ['dataset', 'build', '--singles', 'tasks.jsonl', '--out', 'ds', '--validation', '0', ...server_()],
    ];
    for (const args of commands) {
      const from = server.requests.length;
      const r = await coi(args, env);
      assert.equal(r.code, 0, `${args[0]!}: ${r.stderr}`);
      const sent = chats(from);
      assert.ok(sent.length > 0, `${args[0]!} reached the server`);
      for (const { body, headers } of sent) {
        assert.equal(body.model, 'llama3');
        assert.equal(headers['x-api-key'], KEY, `${args[0]!}: the key of $MY_KEY in x-api-key`);
        assert.equal(headers.authorization, undefined);
      }
    }
  });

  void test('the checks of --model openai: hold: a secret in the URL is refused; $OPENAI_API_KEY goes to no other server unless named', async () => {
    const secret = await coi(['run', 'weather.coi', '-i', 'x', '--base-url', 'http://user:pw-abcdefghijklmnop@127.0.0.1:9/v1'], { COI_MODEL: 'openai:llama3' });
    assert.equal(secret.code, 2, secret.stderr);
    assert.doesNotMatch(secret.stderr, /abcdefghijklmnop/);
    const from = server.requests.length;
    const noKey = await coi(['run', 'weather.coi', '-i', 'x', '--no-cache', '--base-url', server.baseURL], { COI_MODEL: 'openai:llama3', OPENAI_API_KEY: 'sk-openai-must-stay-home' });
    assert.equal(noKey.code, 0, noKey.stderr);
    const [sent] = chats(from);
    assert.ok(sent !== undefined);
    assert.ok(!JSON.stringify(sent.headers).includes('sk-openai-must-stay-home'), 'no $OPENAI_API_KEY to another host');
    const unset = await coi(['run', 'weather.coi', '-i', 'x', '--base-url', server.baseURL, '--api-key-env', 'NOT_SET_HERE'], { COI_MODEL: 'openai:llama3' });
    assert.equal(unset.code, 2, unset.stderr);
    assert.match(unset.stderr, /--api-key-env NOT_SET_HERE: the environment variable NOT_SET_HERE is not set/);
  });

  void test('refused (exit 2) where they would be ignored, saying why: the file has profiles, --profile, $COI_MODEL not openai: or unset', async () => {
    const cases: [readonly string[], Record<string, string>, RegExp][] = [
      [['run', 'profiled.coi', '-i', 'x', '--base-url', server.baseURL], { COI_MODEL: 'openai:llama3' }, /--base-url goes with --model openai:MODEL_ID .*: this file's model profiles are used, not \$COI_MODEL/],
      [['run', 'profiled.coi', '-i', 'x', '--profile', 'api', '--api-key-env', 'MY_KEY'], { COI_MODEL: 'openai:llama3' }, /--api-key-env goes with .*--profile api runs the file's model profile, which names its key with `api_key_env`/],
      [['run', 'weather.coi', '-i', 'x', '--base-url', server.baseURL], { COI_MODEL: 'model.gguf' }, /\$COI_MODEL is 'model\.gguf', not an openai: model, so --base-url would not be used/],
      [['run', 'weather.coi', '-i', 'x', '--api-key-header', 'x-api-key'], { COI_MODEL: 'hf:user/repo:Q4' }, /\$COI_MODEL is 'hf:user\/repo:Q4', not an openai: model/],
      [['run', 'weather.coi', '-i', 'x', '--model', 'model.gguf', '--base-url', server.baseURL], { COI_MODEL: 'openai:llama3' }, /--base-url goes with --model openai:MODEL_ID: 'model\.gguf' is not an openai: model/],
      [['run', 'weather.coi', '-i', 'x', '--base-url', server.baseURL], {}, /--base-url goes with --model openai:MODEL_ID \(or \$COI_MODEL=openai:MODEL_ID/],
      [['test', 'profiled.coi', '--base-url', server.baseURL], { COI_MODEL: 'openai:llama3' }, /this file's model profiles are used, not \$COI_MODEL/],
      [['eval', 'profiled.coi', '--out', 'ev2', '--base-url', server.baseURL], { COI_MODEL: 'openai:llama3' }, /the chains' model profiles are used, not \$COI_MODEL/],
      [['eval', 'weather.coi', '--out', 'ev3', '--api-key-env', 'MY_KEY'], { COI_MODEL: 'model.gguf' }, /\$COI_MODEL is 'model\.gguf', not an openai: model/],
    ];
    for (const [args, env, message] of cases) {
      const from = server.requests.length;
      const r = await coi(args, env);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(chats(from).length, 0, 'nothing was sent');
    }
  });

  void test('coi test: an openai: judge shares the server of $COI_MODEL=openai: at --base-url', async () => {
    writeFileSync(join(dir, 'judged.coi'), 'chain judged\ninput article: text\n\nstep summary {\n  instruction "Summarize the article."\n}\n\ntest "judged" {\n  given article = "Heavy rain."\n  expect output judge "Mentions rain."\n}\n');
    const from = server.requests.length;
    const r = await coi(['test', 'judged.coi', '--no-cache', '--judge-model', 'openai:llama3', ...server_()], { COI_MODEL: 'openai:llama3' });
    assert.notEqual(r.code, 2, r.stderr);
    assert.ok(chats(from).length >= 2, 'the run and the judge both reached --base-url');
  });
});

void describe('coi run --to STEP: only the inputs of the steps up to STEP', () => {
  let server: OpenAITestServer;
  let dir: string;
  before(async () => {
    server = await startOpenAITestServer({ reply: () => 'Short.' });
    dir = tempDir();
    writeFileSync(
      join(dir, 'two.coi'),
      `chain two\ninput x: text\ninput y: text\n\nmodel api {\n  provider openai\n  base_url "${server.baseURL}"\n  model "tiny"\n}\n\n` +
        'step first {\n  instruction "Shorten it."\n  from x\n}\n\nstep second {\n  instruction "Say it again."\n  from first\n}\n\nstep third {\n  instruction "Join them."\n  from second, y\n}\n',
    );
  });
  after(async () => server.close());

  const coi = (args: readonly string[]): Promise<CliResult> => coiAsync(args, { cwd: dir, env: { COI_MODEL: '', COI_CACHE_DIR: join(dir, 'cache') } });
  const users = (from: number): string[] =>
    server.requests
      .slice(from)
      .filter((r) => r.path === '/v1/chat/completions')
      .map((r) => (r.body as ChatBody).messages?.find((m) => m.role === 'user')?.content ?? '');

  void test('--to second runs without y; the record has no y; the steps are cached as with y given; without --to y is still required', async () => {
    const from = server.requests.length;
    const r = await coi(['run', 'two.coi', '-i', 'x=The long text.', '--to', 'second', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const record = JSON.parse(r.stdout) as { inputs: Record<string, string>; steps: { id: string; status: string; cached: boolean }[] };
    assert.deepEqual(record.inputs, { x: 'The long text.' }, 'y, not given, is no input of the run');
    assert.deepEqual(record.steps.map((s) => s.status), ['ok', 'ok', 'skipped']);
    assert.equal(users(from).length, 2);

    const withY = server.requests.length;
    const again = await coi(['run', 'two.coi', '-i', 'x=The long text.', '-i', 'y=Other.', '--to', 'second', '--json']);
    assert.equal(again.code, 0, again.stderr);
    const cached = JSON.parse(again.stdout) as { steps: { cached: boolean }[] };
    assert.deepEqual(cached.steps.slice(0, 2).map((s) => s.cached), [true, true], 'the cache key of the steps up to --to does not depend on y');
    assert.equal(users(withY).length, 0);

    const all = await coi(['run', 'two.coi', '-i', 'x=The long text.']);
    assert.equal(all.code, 2, all.stderr);
    assert.match(all.stderr, /Missing chain input y: give --input y=\.\.\./);
    const third = await coi(['run', 'two.coi', '-i', 'x=The long text.', '--to', 'third']);
    assert.equal(third.code, 2, third.stderr);
    assert.match(third.stderr, /Missing chain input y/);
  });

  void test('--mode composed --to second: the prompt has x alone, and y is not required', async () => {
    const from = server.requests.length;
    const r = await coi(['run', 'two.coi', '-i', 'x=The long text.', '--to', 'second', '--mode', 'composed', '--no-cache', '--json']);
    assert.notEqual(r.code, 2, r.stderr);
    const [prompt] = users(from);
    assert.ok(prompt !== undefined, 'the composed generation was asked for');
    assert.match(prompt, /The long text\./);
    assert.doesNotMatch(prompt, /\[y\]/);
    const withY = server.requests.length;
    const given = await coi(['run', 'two.coi', '-i', 'x=The long text.', '-i', 'y=Other.', '--to', 'second', '--mode', 'composed', '--no-cache', '--json']);
    assert.notEqual(given.code, 2, given.stderr);
    assert.equal(users(withY)[0], prompt, 'the same prompt with y given: it is read by no step up to --to');
  });
});
