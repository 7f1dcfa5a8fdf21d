/**
 * A composed run is one generation, so a step's own sampling (`temperature`, `max_tokens`,
 * `seed`... in a step block) cannot apply to it: the run says so in one warning line naming the
 * steps and keys (⚠ on standard error, `warnings` in the record) and sends its profile's sampling
 * unchanged. The bundled CLI in a child process, against the OpenAI-protocol test server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../../core/runner/types';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import type { CliResult } from './cliProcess';
import { coiWithKeys, openaiProfileBlock } from './profileChecks';

const MARKED = 'Task 1 output and task 2 input: Rain on Tuesday.\nTask 2 output: Pluie mardi.';

interface ChatBody {
  readonly temperature?: number;
  readonly seed?: number;
  readonly max_tokens?: number;
  readonly max_completion_tokens?: number;
}

void describe("--mode composed and the steps' own sampling", () => {
  let server: OpenAITestServer;
  let dir: string;
  before(async () => {
    server = await startOpenAITestServer({ reply: () => MARKED });
    dir = tempDir();
  });
  after(async () => server.close());

  /** `coi run FILE ...` with the server's key; the result and the bodies of the chat requests it made. */
  const run = async (file: string, extra: readonly string[]): Promise<{ result: CliResult; bodies: ChatBody[] }> => {
    const before = server.requests.length;
    const result = await coiWithKeys(dir, ['run', file, '-i', 'Heavy rain on Tuesday.', ...extra]);
    const bodies = server.requests.slice(before).filter((r) => r.path === '/v1/chat/completions').map((r) => r.body as ChatBody);
    return { result, bodies };
  };

  void test('one ⚠ line names the steps whose sampling a composed run does not use; the generation keeps its profile\'s sampling; stepwise runs use them and say nothing', async () => {
    // Profile `api` samples at temperature 0.2; `summary` sets its own temperature and seed, `french` its
    // max_tokens and the profile's own temperature (the same value: nothing of it is lost).
    const profile = openaiProfileBlock(server.baseURL, 'api', 'COI_TEST_KEY').replace(/\n}\n\n$/, '\n  temperature 0.2\n}\n\n');
    writeFileSync(
      join(dir, 'sampled.coi'),
      'chain sampled\ninput article: text\n\n' +
        profile +
        'step summary {\n  instruction "Summarize the article."\n  temperature 0.9\n  seed 7\n}\n\n' +
        'step french {\n  instruction "Translate the summary into French."\n  max_tokens 40\n  temperature 0.2\n}\n',
    );
    const warning = "⚠ A composed run is one generation, so the steps' own sampling is not used (temperature, seed of summary; max_tokens of french): it applies to stepwise runs.\n";

    const composed = await run('sampled.coi', ['--mode', 'composed']);
    assert.equal(composed.result.code, 0, composed.result.stderr);
    assert.ok(composed.result.stderr.includes(`✓ french\n${warning}Done: 2 steps`), composed.result.stderr);
    assert.equal(composed.result.stderr.split('⚠').length - 1, 1, 'one warning line');
    assert.equal(composed.bodies.length, 1);
    assert.equal(composed.bodies[0]!.temperature, 0.2, "the profile's temperature, not a step's");
    assert.equal(composed.bodies[0]!.seed, undefined, "no step's seed");

    const json = await run('sampled.coi', ['--mode', 'composed', '--json']);
    const record = JSON.parse(json.result.stdout) as RunRecord;
    assert.equal(record.status, 'ok', record.error);
    assert.deepEqual(record.warnings, [warning.slice(2, -1)]);

    // --max-tokens replaces every step's max_tokens in either mode: french's is not lost to the composed run.
    const capped = await run('sampled.coi', ['--mode', 'composed', '--max-tokens', '50']);
    assert.equal(capped.result.code, 0, capped.result.stderr);
    assert.match(capped.result.stderr, /⚠ A composed run is one generation, so the steps' own sampling is not used \(temperature, seed of summary\): it applies to stepwise runs\.\n/);

    const stepwise = await run('sampled.coi', []);
    assert.equal(stepwise.result.code, 0, stepwise.result.stderr);
    assert.doesNotMatch(stepwise.result.stderr, /⚠/);
    assert.deepEqual(stepwise.bodies.map((b) => [b.temperature, b.seed]), [[0.9, 7], [0.2, undefined]]);
  });

  void test('no step sets its own sampling: no warning', async () => {
    writeFileSync(join(dir, 'plain.coi'), 'chain plain\ninput article: text\n\n' + openaiProfileBlock(server.baseURL, 'api', 'COI_TEST_KEY') + 'step summary {\n  instruction "Summarize the article."\n}\n\nstep french {\n  instruction "Translate the summary into French."\n}\n');
    const composed = await run('plain.coi', ['--mode', 'composed']);
    assert.equal(composed.result.code, 0, composed.result.stderr);
    assert.doesNotMatch(composed.result.stderr, /⚠/);
  });
});
