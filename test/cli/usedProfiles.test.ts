/**
 * The checks `coi run` and `coi eval` make before a run (a local profile's model file must be
 * there, the key-destination warnings COI510/COI511) look at the profiles the run uses and no
 * others: a composed run is one generation on one profile, `--to STEP` runs only the steps up to
 * STEP, a step given with `--pin STEP=...` is not generated, and a default profile that every step
 * replaces is not used. The bundled CLI in a child
 * process, against the OpenAI-protocol test server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync, type CliResult } from './cliProcess';
import { coiWithKeys, openaiProfileBlock } from './profileChecks';

/** The server's answer to every request: the composed markers of two steps (a stepwise step takes it whole). */
const MARKED = 'Task 1 output and task 2 input: Rain on Tuesday.\nTask 2 output: Pluie mardi.';

void describe('the checks before a run look at the profiles it uses (--mode composed, --to, --pin)', () => {
  let server: OpenAITestServer;
  let dir: string;
  before(async () => {
    server = await startOpenAITestServer({ reply: () => MARKED });
    dir = tempDir();
    writeFileSync(join(dir, 'rows.jsonl'), '{"article":"Heavy rain on Tuesday."}\n');
  });
  after(async () => server.close());

  const openaiProfile = (name: string, keyVariable: string): string => openaiProfileBlock(server.baseURL, name, keyVariable);
  const coi = (args: readonly string[]): Promise<CliResult> => coiWithKeys(dir, args);

  void test("--mode composed: a step's local profile whose model file is missing is not used (the steps disagree: the default runs), so the run is not refused; stepwise it is", async () => {
    // Line 13: the `path` line of profile `gone`; `summary` runs on it, `french` on the default `api`.
    const chain =
      'chain mixed\ninput article: text\n\n' +
      openaiProfile('api', 'COI_TEST_KEY') +
      'model gone {\n  provider local\n  path "models/missing.gguf"\n}\n\n' +
      'step summary {\n  instruction "Summarize the article."\n  model gone\n}\n\nstep french {\n  instruction "Translate the summary into French."\n}\n';
    writeFileSync(join(dir, 'mixed.coi'), chain);
    const refusal = /mixed\.coi:13:3: model profile 'gone': cannot read the model 'models\/missing\.gguf': no such file or directory\./;

    const composed = await coi(['run', 'mixed.coi', '-i', 'Heavy rain on Tuesday.', '--mode', 'composed']);
    assert.equal(composed.code, 0, composed.stderr);
    assert.equal(composed.stdout.trim(), MARKED, 'the one generation, streamed');
    assert.match(composed.stderr, /⚠ The steps use different model profiles \(gone for summary, api for french\); a composed run is one generation, so it runs on the default profile \(api\)\./);
    assert.doesNotMatch(composed.stderr, /missing\.gguf/);

    const stepwise = await coi(['run', 'mixed.coi', '-i', 'Heavy rain on Tuesday.']);
    assert.equal(stepwise.code, 2, stepwise.stderr);
    assert.match(stepwise.stderr, refusal);
    assert.doesNotMatch(stepwise.stderr, /Running/);

    // coi eval checks what its --mode runs: composed alone is not refused, both modes are.
    const evalComposed = await coi(['eval', 'mixed.coi', '--dataset', 'rows.jsonl', '--profile', 'api', '--mode', 'composed', '--out', join(tempDir(), 'store')]);
    assert.equal(evalComposed.code, 0, evalComposed.stderr);
    const evalBoth = await coi(['eval', 'mixed.coi', '--dataset', 'rows.jsonl', '--profile', 'api', '--mode', 'both', '--out', join(tempDir(), 'store')]);
    assert.equal(evalBoth.code, 2, evalBoth.stderr);
    assert.match(evalBoth.stderr, refusal);
  });

  void test("every step names its own profile: the file's default profile is not used, so neither its missing model file nor its missing key stops coi run, coi eval or coi test, and the run names the steps' model", async () => {
    // The default (the first profile) is `gone`, a local model that is not there (its `path` on line 6), or
    // `hosted`, api.openai.com without a key; every step and the test name `api`, the test server.
    const steps =
      'step summary {\n  instruction "Summarize the article."\n  model api\n}\n\nstep french {\n  instruction "Translate the summary into French."\n  model api\n}\n\n' +
      'test "rain" {\n  model api\n  given article = "Heavy rain on Tuesday."\n  expect output contains "Pluie"\n}\n';
    const gone = 'model gone {\n  provider local\n  path "models/missing.gguf"\n}\n\n';
    const hosted = 'model hosted {\n  provider openai\n  base_url "https://api.openai.com/v1"\n  model "gpt-4o-mini"\n}\n\n';
    writeFileSync(join(dir, 'own.coi'), 'chain own\ninput article: text\n\n' + gone + openaiProfile('api', 'COI_TEST_KEY') + steps);
    writeFileSync(join(dir, 'ownkey.coi'), 'chain ownkey\ninput article: text\n\n' + hosted + openaiProfile('api', 'COI_TEST_KEY') + steps);
    const withoutOpenAIKey = (args: readonly string[]): Promise<CliResult> =>
      coiAsync([...args, '--no-cache'], { cwd: dir, env: { COI_MODEL: '', COI_TEST_KEY: 'sk-test', OPENAI_API_KEY: '', COI_CACHE_DIR: join(dir, 'cache') } });

    for (const file of ['own.coi', 'ownkey.coi']) {
      const run = await withoutOpenAIKey(['run', file, '-i', 'Heavy rain on Tuesday.']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, new RegExp(`^Running ${file.replace('.coi', '')} with tiny at ${server.baseURL.replace(/[.]/g, '\\.')}\n`), 'the model the steps run on, not the unused default');
      assert.doesNotMatch(run.stderr, /missing\.gguf|No API key|gpt-4o-mini/);
      assert.match(run.stderr, /Done: 2 steps, 0 cached, 2 model calls/);

      const json = await withoutOpenAIKey(['run', file, '-i', 'Heavy rain on Tuesday.', '--json']);
      assert.equal(json.code, 0, json.stderr);
      const record = JSON.parse(json.stdout) as { backend: string; model: string };
      assert.deepEqual([record.backend, record.model], ['openai', `tiny@${server.baseURL}`], 'the record names the model the steps ran on');

      const evaluated = await withoutOpenAIKey(['eval', file, '--dataset', 'rows.jsonl', '--out', join(tempDir(), 'store')]);
      assert.equal(evaluated.code, 0, evaluated.stderr);
      const tested = await withoutOpenAIKey(['test', file]);
      assert.equal(tested.code, 0, tested.stderr);
      assert.match(tested.stdout, /✓ \S+\.coi:\d+ rain /);
    }

    // A step on the default (here: `french` without `model api`) uses it, and the check stops the run at its `path` line.
    writeFileSync(join(dir, 'own.coi'), 'chain own\ninput article: text\n\n' + gone + openaiProfile('api', 'COI_TEST_KEY') + steps.replace('French."\n  model api\n', 'French."\n'));
    const onDefault = await withoutOpenAIKey(['run', 'own.coi', '-i', 'Heavy rain on Tuesday.']);
    assert.equal(onDefault.code, 2, onDefault.stderr);
    assert.match(onDefault.stderr, /own\.coi:6:3: model profile 'gone': cannot read the model 'models\/missing\.gguf': no such file or directory\./);
  });

  void test('--to STEP: the key warning (COI510) of a profile only a later step uses is not printed; without --to it is', async () => {
    // Profile `foreign` (its api_key_env on line 15) would send OpenAI's key to the test server; only step `title` uses it.
    const chain =
      'chain later\ninput article: text\n\n' +
      openaiProfile('plain', 'COI_TEST_KEY') +
      openaiProfile('foreign', 'OPENAI_API_KEY') +
      'step summary {\n  instruction "Summarize the article."\n}\n\nstep title {\n  instruction "Write a title for the summary."\n  model foreign\n}\n';
    writeFileSync(join(dir, 'later.coi'), chain);
    const warning = /later\.coi:15:15: warning COI510: \$OPENAI_API_KEY is OpenAI's key, and this profile would send it to 127\.0\.0\.1:\d+/;

    const first = await coi(['run', 'later.coi', '-i', 'Heavy rain on Tuesday.', '--to', 'summary']);
    assert.equal(first.code, 0, first.stderr);
    assert.doesNotMatch(first.stderr, /COI510/);

    const whole = await coi(['run', 'later.coi', '-i', 'Heavy rain on Tuesday.']);
    assert.equal(whole.code, 0, whole.stderr);
    assert.match(whole.stderr, warning);
  });

  void test("a hosted API profile without its key that only a step names stops the run before any request (exit 2); with --to before that step it runs", async () => {
    const chain =
      'chain hosted\ninput article: text\n\n' +
      openaiProfile('plain', 'COI_TEST_KEY') +
      'model hosted {\n  provider openai\n  base_url "https://api.openai.com/v1"\n  model "gpt-4o-mini"\n}\n\n' +
      'step summary {\n  instruction "Summarize the article."\n}\n\nstep title {\n  instruction "Write a title for the summary."\n  model hosted\n}\n';
    writeFileSync(join(dir, 'hosted.coi'), chain);
    const withoutKey = (args: readonly string[]): Promise<CliResult> =>
      coiAsync([...args, '--no-cache'], { cwd: dir, env: { COI_MODEL: '', COI_TEST_KEY: 'sk-test', OPENAI_API_KEY: '', COI_CACHE_DIR: join(dir, 'cache') } });
    const before = server.count();
    const whole = await withoutKey(['run', 'hosted.coi', '-i', 'Heavy rain on Tuesday.']);
    assert.equal(whole.code, 2, whole.stderr);
    assert.match(whole.stderr, /No API key for https:\/\/api\.openai\.com\/v1: set the OPENAI_API_KEY environment variable/);
    assert.equal(server.count() - before, 0, 'no step ran: the test server received no request');

    const first = await withoutKey(['run', 'hosted.coi', '-i', 'Heavy rain on Tuesday.', '--to', 'summary']);
    assert.equal(first.code, 0, first.stderr);
  });

  // A pinned step is given, not generated: the run never asks its profile for a backend (as with a
  // step after --to), so neither its model file nor its key destination is checked.
  void test('--pin STEP: the profile only that step names is not checked (a missing model file, a key warning); unpinned it is', async () => {
    // Line 13: the `path` line of profile `gone`; line 20: the api_key_env of `foreign`. Both are named by pinned steps only.
    const chain =
      'chain pinned\ninput article: text\n\n' +
      openaiProfile('api', 'COI_TEST_KEY') +
      'model gone {\n  provider local\n  path "models/missing.gguf"\n}\n\n' +
      openaiProfile('foreign', 'OPENAI_API_KEY') +
      'step summary {\n  instruction "Summarize the article."\n  model gone\n}\n\n' +
      'step title {\n  instruction "Write a title for the summary."\n  model foreign\n}\n\n' +
      'step french {\n  instruction "Translate the title into French."\n}\n';
    writeFileSync(join(dir, 'pinned.coi'), chain);
    const refusal = /pinned\.coi:13:3: model profile 'gone': cannot read the model 'models\/missing\.gguf': no such file or directory\./;
    const warning = /pinned\.coi:20:15: warning COI510: \$OPENAI_API_KEY is OpenAI's key/;

    const before = server.chatRequests().length;
    const pinned = await coi(['run', 'pinned.coi', '--pin', 'summary=Rain on Tuesday.', '--pin', 'title=Rain', '--json']);
    assert.equal(pinned.code, 0, pinned.stderr);
    assert.doesNotMatch(pinned.stderr, /missing\.gguf|COI510/);
    const record = JSON.parse(pinned.stdout) as { status: string; steps: { id: string; pinned: boolean }[] };
    assert.deepEqual(record.steps.map((step) => [step.id, step.pinned]), [['summary', true], ['title', true], ['french', false]]);
    assert.equal(server.chatRequests(before).length, 1, 'one model call: the step that is not pinned');

    // Only `summary` pinned: `title` runs on `foreign`, whose key warning is printed.
    const titleRuns = await coi(['run', 'pinned.coi', '--pin', 'summary=Rain on Tuesday.']);
    assert.equal(titleRuns.code, 0, titleRuns.stderr);
    assert.doesNotMatch(titleRuns.stderr, /missing\.gguf/);
    assert.match(titleRuns.stderr, warning);

    const unpinned = await coi(['run', 'pinned.coi', '-i', 'Heavy rain on Tuesday.']);
    assert.equal(unpinned.code, 2, unpinned.stderr);
    assert.match(unpinned.stderr, refusal);
  });
});
