/**
 * The model flags of `coi run` work the same way in `coi eval`: what the OpenAI-protocol server
 * receives (model, sampling, max_tokens, the prompt's format), the step cache used or bypassed,
 * the per-call time limit, and where a profile's local model file is found. The bundled CLI in a
 * child process, against the OpenAI-protocol test server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { storedResults } from '../helpers/evalStore';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type ChatBody, type OpenAITestServer } from '../rig/openaiServer';
import { tinyModelPath } from '../rig/tinyModel';
import { coiAsync, type CliResult } from './cliProcess';

const REPLY = 'Pluie mardi.';
const STEP = 'step french {\n  instruction "Translate the article into French."\n}\n\n';
const TEST = 'test "rain" {\n  given article = "Heavy rain on Tuesday."\n  expect output contains "Pluie"\n}\n';

void describe('coi eval applies the model flags as coi run does', () => {
  let server: OpenAITestServer;
  let dir: string;
  before(async () => {
    server = await startOpenAITestServer({ reply: () => REPLY, models: ['tiny', 'tiny-cold'] });
    dir = tempDir();
  });
  after(async () => server.close());

  const openaiProfile = (name: string, model: string, temperature: string): string =>
    `model ${name} {\n  provider openai\n  base_url "${server.baseURL}"\n  model "${model}"\n  temperature ${temperature}\n}\n\n`;
  const coi = (args: readonly string[], cwd = dir): Promise<CliResult> => coiAsync(args, { cwd, env: { COI_MODEL: '', COI_CACHE_DIR: join(dir, 'cache') } });
  const chatRequests = (from: number): ChatBody[] => server.chatRequests(from).map((r) => r.body as ChatBody);

  void test('--profile (its model and sampling), --template alpaca and --max-tokens reach the request; the step cache is used, and --no-cache bypasses it', async () => {
    writeFileSync(join(dir, 'weather.coi'), 'chain weather\ninput article: text\n\n' + openaiProfile('warm', 'tiny', '0.9') + openaiProfile('cold', 'tiny-cold', '0') + STEP + TEST);
    const flags = ['--profile', 'cold', '--template', 'alpaca', '--max-tokens', '7', '--json'];
    const before = server.requests.length;
    const first = await coi(['eval', 'weather.coi', ...flags, '--out', 'first']);
    assert.equal(first.code, 0, first.stderr);
    const [request, ...more] = chatRequests(before);
    assert.equal(more.length, 0, 'one item, one step, one profile: one request');
    assert.equal(request?.model, 'tiny-cold', "the model of --profile cold, not the file's first profile's");
    assert.equal(request?.temperature, 0, "the sampling of --profile cold, not the file's first profile's");
    assert.equal(request?.max_tokens ?? request?.max_completion_tokens, 7);
    assert.equal(request?.messages?.length, 1, 'the Alpaca prompt is one text, without a system message');
    assert.match(request?.messages?.[0]?.content ?? '', /^Below is an instruction that describes a task[^]*### Instruction:\nTranslate the article into French\.\n\n### Input:\n[^]*Heavy rain on Tuesday\.[^]*### Response:\n$/);

    // The same evaluation again: its step comes from the cache; with --no-cache the model is called.
    const cached = await coi(['eval', 'weather.coi', ...flags, '--out', 'cached']);
    assert.equal(cached.code, 0, cached.stderr);
    assert.equal(chatRequests(before).length, 1, 'the second evaluation read the step cache');
    const fresh = await coi(['eval', 'weather.coi', ...flags, '--no-cache', '--out', 'fresh']);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.equal(chatRequests(before).length, 2, '--no-cache called the model');
  });

  void test('--timeout SECONDS limits each model call', async () => {
    writeFileSync(join(dir, 'slow.coi'), 'chain slow\ninput article: text\n\n' + openaiProfile('api', 'tiny', '0') + STEP + TEST);
    server.injectFaults([{ kind: 'stall' }]);
    const started = Date.now();
    const result = await coi(['eval', 'slow.coi', '--timeout', '1', '--no-cache', '--out', 'slow', '--json']);
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds < 60, `gave up after ${seconds} s, not the default 120 s of silence`);
    assert.match(JSON.stringify(storedResults(join(dir, 'slow'))) + result.stderr, /within 1 s/);
  });

  void test("a profile's local model path is relative to its own chain file, not to the first file evaluated", async () => {
    // Two projects, each with its model beside it: b's profile names models/tiny.gguf, which a/ does not have.
    const project = join(tempDir(), 'projects');
    const local = (path: string): string => `model tiny {\n  provider local\n  path "${path}"\n  temperature 0\n}\n\n`;
    for (const [name, path] of [['a', 'tiny.gguf'], ['b', 'models/tiny.gguf']] as const) {
      mkdirSync(join(project, name, 'models'), { recursive: true });
      copyFileSync(tinyModelPath(), join(project, name, path));
      writeFileSync(join(project, name, `${name}.coi`), `chain ${name}\ninput article: text\n\n` + local(path) + STEP + TEST);
    }
    const result = await coi(['eval', 'a/a.coi', 'b/b.coi', '--threads', '1', '--max-tokens', '2', '--no-cache', '--out', 'both', '--json'], project);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /cannot read the model/);
    const results = storedResults(join(project, 'both'));
    assert.equal(results.length, 2);
    assert.deepEqual(results.map((r) => r.error), [undefined, undefined], 'both items ran on their own local model');
  });
});
