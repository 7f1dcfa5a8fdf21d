/**
 * The model `coi run` names a run by: its `Running CHAIN with MODEL` line and the saved run
 * record's `backend`/`model` come from one rule (core's runProfile), so they agree. A stepwise
 * run is named by its first generated step's profile, even where a later step names the default
 * explicitly; a composed run whose steps disagree, by the default it runs on. Two profiles on the
 * OpenAI-protocol test server with two model ids make the name observable; the bundled CLI in
 * a child process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../../core/runner/types';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync } from './cliProcess';

/** The server's answer to every request: the composed markers of two steps (a stepwise step takes it whole). */
const MARKED = 'Task 1 output and task 2 input: Rain on Tuesday.\nTask 2 output: Pluie mardi.';

void describe("coi run: the 'Running … with' line and the run record name the same model", () => {
  let server: OpenAITestServer;
  before(async () => {
    server = await startOpenAITestServer({ reply: () => MARKED, models: ['alpha', 'beta'] });
  });
  after(async () => server.close());

  /** Profile `alpha` (the file's first, so the default) and `beta`, then these steps. */
  const chainFile = (steps: string): string => {
    const profile = (name: string): string => `model ${name} {\n  provider openai\n  base_url "${server.baseURL}"\n  model "${name}"\n  api_key_env "COI_TEST_KEY"\n}\n\n`;
    return 'chain named\ninput article: text\n\n' + profile('alpha') + profile('beta') + steps;
  };
  const step = (id: string, instruction: string, model?: string): string => `step ${id} {\n  instruction "${instruction}"\n${model !== undefined ? `  model ${model}\n` : ''}}\n\n`;

  /** `coi run FILE ARGS` (recorded in a fresh cache folder): its stderr, the saved record and the models the server was asked for. */
  const run = async (chain: string, args: readonly string[] = []): Promise<{ stderr: string; record: RunRecord; asked: string[] }> => {
    const dir = tempDir();
    writeFileSync(join(dir, 'named.coi'), chain);
    const from = server.requests.length;
    const result = await coiAsync(['run', 'named.coi', '-i', 'Heavy rain on Tuesday.', ...args], { cwd: dir, env: { COI_MODEL: '', COI_TEST_KEY: 'sk-test', COI_CACHE_DIR: join(dir, 'cache') } });
    assert.equal(result.code, 0, result.stderr);
    const saved = readdirSync(join(dir, 'cache', 'runs')).filter((name) => name.endsWith('.json'));
    assert.equal(saved.length, 1, `one run record: ${saved.join(', ')}`);
    const record = JSON.parse(readFileSync(join(dir, 'cache', 'runs', saved[0]!), 'utf8')) as RunRecord;
    const asked = server.chatRequests(from).map((request) => String((request.body as { model?: unknown }).model));
    return { stderr: result.stderr, record, asked };
  };
  const line = (model: string): RegExp => new RegExp(`^Running named with ${model} at ${server.baseURL.replace(/[.]/g, '\\.')}\n`);

  void test('stepwise: the first step names beta, a later step the default alpha explicitly: both name beta, the model called first', async () => {
    const { stderr, record, asked } = await run(chainFile(step('summary', 'Summarize the article.', 'beta') + step('french', 'Translate the summary into French.', 'alpha')));
    assert.deepEqual(asked, ['beta', 'alpha'], 'each step on its own profile');
    assert.match(stderr, line('beta'), 'the line names the first step\'s model, not the default a later step names');
    assert.deepEqual([record.backend, record.model], ['openai', `beta@${server.baseURL}`], 'the record names the same model');
  });

  void test('stepwise: the first step names beta, the second none (the default): both name beta', async () => {
    const { stderr, record, asked } = await run(chainFile(step('summary', 'Summarize the article.', 'beta') + step('french', 'Translate the summary into French.')));
    assert.deepEqual(asked, ['beta', 'alpha']);
    assert.match(stderr, line('beta'));
    assert.equal(record.model, `beta@${server.baseURL}`);
  });

  void test('composed: only the first step names beta, so the steps disagree and the one generation runs on the default alpha: both name alpha', async () => {
    const { stderr, record, asked } = await run(chainFile(step('summary', 'Summarize the article.', 'beta') + step('french', 'Translate the summary into French.')), ['--mode', 'composed']);
    assert.deepEqual(asked, ['alpha'], 'one generation, on the default');
    assert.match(stderr, line('alpha'));
    assert.match(stderr, /⚠ The steps use different model profiles \(beta for summary, alpha for french\); a composed run is one generation, so it runs on the default profile \(alpha\)\./);
    assert.deepEqual([record.model, record.composed?.profile], [`alpha@${server.baseURL}`, 'alpha']);
  });
});
