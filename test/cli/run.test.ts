/**
 * `coi run` and `coi test` end to end: the bundled CLI (`node bin/coi.js`) as a
 * user runs it, with the tiny generated model and the OpenAI test server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../../core/runner/types';
import { repoPath } from '../helpers/paths';
import { tinyModelPath } from '../rig/tinyModel';
import { workerScriptPath } from '../rig/worker';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync, type CliResult } from '../cli/cliProcess';
import { tempDir } from '../helpers/tempDir';

const fixture = (name: string): string => repoPath('test', 'fixtures', 'runner', name);

/** `coi ...args` from the repository root, with no COI_MODEL from the environment. */
const coi = (args: readonly string[], env: Record<string, string> = {}, onStdout?: (stdout: string, child: ChildProcess) => void): Promise<CliResult> =>
  coiAsync(args, { cwd: repoPath(), env: { COI_MODEL: '', ...env }, onStdout });

void describe('coi run / coi test (bundled CLI)', () => {
  let cacheDir: string;
  let model: string;
  before(() => {
    workerScriptPath(); // builds dist/worker.js when it is missing or stale (coiAsync does dist/cli.js)
    model = tinyModelPath();
    cacheDir = tempDir();
  });
  const env = (): Record<string, string> => ({ COI_CACHE_DIR: cacheDir });
  const local = (): string[] => ['--model', model, '--threads', '1'];

  void test('coi run streams step outputs to stdout, step names to stderr, and exits 0', async () => {
    const r = await coi(['run', fixture('two-steps.coi'), '--input', 'I loved it.', ...local()], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /▸ summary\n\s+✓ summary \(/);
    assert.match(r.stderr, /▸ sentiment\n\s+✓ sentiment/);
    assert.match(r.stderr, /Done: 2 steps/);
    assert.match(r.stdout.trim().split('\n').at(-1)!, /^(positive|negative)$/);
  });

  void test('--json prints the run record; an unchanged re-run comes from the cache with zero model calls', async () => {
    const args = ['run', fixture('two-steps.coi'), '--input', 'article=A cached input.', ...local(), '--json'];
    const first = await coi(args, env());
    assert.equal(first.code, 0, first.stderr);
    const record = JSON.parse(first.stdout) as RunRecord;
    assert.equal(record.status, 'ok');
    assert.deepEqual(record.steps.map((s) => s.id), ['summary', 'sentiment']);
    for (const step of record.steps) {
      assert.equal(typeof step.output, 'string');
      assert.equal(step.cached, false);
      assert.equal(typeof step.durationMs, 'number');
      assert.ok(step.completionTokens > 0);
    }
    const second = JSON.parse((await coi(args, env())).stdout) as RunRecord;
    assert.equal(second.modelCalls, 0);
    assert.deepEqual(second.steps.map((s) => s.cached), [true, true]);
    assert.deepEqual(second.steps.map((s) => s.output), record.steps.map((s) => s.output));
    // Both runs were recorded on disk.
    const saved = readdirSync(join(cacheDir, 'runs'));
    assert.ok(saved.includes(`${record.id}.json`) && saved.includes(`${second.id}.json`));
    const noCache = JSON.parse((await coi([...args, '--no-cache'], env())).stdout) as RunRecord;
    assert.equal(noCache.modelCalls, 2);
  });

  void test('named inputs, @file inputs and usage errors (exit 2)', async () => {
    const dir = tempDir();
    const question = join(dir, 'q.txt');
    writeFileSync(question, 'Which roads?\n');
    const ok = await coi(['run', fixture('two-inputs.coi'), '-i', 'article=The storm closed roads.', '-i', `question=@${question}`, ...local(), '--json'], env());
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((JSON.parse(ok.stdout) as RunRecord).inputs, { article: 'The storm closed roads.', question: 'Which roads?' });

    const unnamed = await coi(['run', fixture('two-inputs.coi'), '-i', 'just a value', ...local()], env());
    assert.equal(unnamed.code, 2);
    assert.match(unnamed.stderr, /The chain has 2 inputs \(article, question\): name each one/);
    const typo = await coi(['run', fixture('two-inputs.coi'), '-i', 'articel=x', '-i', 'question=y', ...local()], env());
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /no input 'articel' \(did you mean 'article'\?\)/);
    const broken = await coi(['run', fixture('broken.coi'), '-i', 'x', ...local()], env());
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /\n {2}\S*broken\.coi:6:8: error COI205: Unknown reference 'nowhere'/, 'the line coi check prints, severity included');
  });

  void test('a step without max_tokens is bounded by what is left of the context: cut, warned, and the chain finishes', async () => {
    const r = await coi(['run', fixture('unbounded.coi'), '-i', 'A short article.', ...local(), '--context', '256', '--no-cache', '--json'], env());
    assert.equal(r.code, 0, r.stderr);
    const record = JSON.parse(r.stdout) as RunRecord;
    assert.equal(record.status, 'ok');
    for (const step of record.steps) {
      assert.equal(step.finishReason, 'length', step.id);
      assert.ok(step.completionTokens > 0 && step.completionTokens <= 64, `${step.id}: ${step.completionTokens} tokens`);
      assert.match(step.warnings?.join('\n') ?? '', /output was cut at \d+ tokens \(finish reason: length\); raise the step's max_tokens or give --max-tokens N/);
    }
    const streamed = await coi(['run', fixture('unbounded.coi'), '-i', 'A short article.', ...local(), '--max-tokens', '5', '--no-cache'], env());
    assert.equal(streamed.code, 0, streamed.stderr);
    assert.match(streamed.stderr, /✓ ramble \([^)]*5 tokens\)\n\s+⚠ ramble: the output was cut at 5 tokens \(finish reason: length\)/);
  });

  void test('an answer cut by what the prompt leaves of the context, short of --max-tokens, is warned about as such: a larger context, not a larger max_tokens', async () => {
    const chain = join(tempDir(), 'one-step.coi');
    writeFileSync(chain, 'chain one_step\ninput article: text\n\nstep ramble {\n  instruction "Write about the article."\n  output text\n  temperature 0\n}\n');
    const r = await coi(['run', chain, '-i', 'A short article.', ...local(), '--context', '256', '--max-tokens', '100000', '--no-cache'], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /⚠ ramble: the output was cut at \d+ tokens \(finish reason: length\): it filled what the prompt left of the model's context, short of the 100000 tokens asked; give a larger context \(--context N, or `context N` in the model profile\) or shorten the input\./,
    );
    assert.doesNotMatch(r.stderr, /raise the step's max_tokens/);
  });

  void test('a prompt longer than the context names the options that change it', async () => {
    const long = 'The storm closed three roads and the river rose. '.repeat(40);
    const r = await coi(['run', fixture('unbounded.coi'), '-i', long, ...local(), '--context', '64', '--no-cache'], env());
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /The prompt is \d+ tokens long but the context of .* holds \d+\. Give a larger context \(--context N with coi run, coi test, coi eval or coi finetune eval; the coi\.local\.contextSize setting in VS Code for chains without one, or `context N` in the chain's local model profile\) or shorten the input\./);
  });

  void test('coi test --junit-file naming a directory fails before any test runs (exit 2)', async () => {
    const dir = tempDir();
    const r = await coi(['test', fixture('two-steps.coi'), ...local(), '--junit-file', dir], env());
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--junit-file '.*': it is a directory: name the XML file to write\./);
    assert.doesNotMatch(r.stderr, /▸/);
  });

  void test('usage errors of the run options, before any model is loaded (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['--from', 'sentiment', '--to', 'summary', ...local()], /--from sentiment comes after --to summary: nothing would be generated afresh\. Give a --to step at or after 'sentiment'\./],
      [['--model', 'openai:gpt-4o-mini', '--base-url', 'notaurl'], /--base-url 'notaurl' is not a URL: give http:\/\/HOST:PORT\/v1 or https:\/\/\.\.\./],
      [['--max-tokens', '0', ...local()], /--max-tokens must be a whole number from 1 to/],
      [['--context', 'lots', ...local()], /--context must be a whole number from/],
      [['--mode', 'stepwise', '--mode', 'composed', ...local()], /--mode is given 2 times with different values \('stepwise', 'composed'\): give it once\./],
      // Which of two pinned outputs was meant is not for the CLI to guess (the last one used to win silently).
      [['--pin', 'summary=foo', '--pin', 'summary=bar', ...local()], /The pinned output of step 'summary' is given twice \(--pin summary=\.\.\. once each\)\./],
    ];
    for (const [extra, message] of cases) {
      const r = await coi(['run', fixture('two-steps.coi'), '-i', 'x', ...extra], { ...env(), OPENAI_API_KEY: 'k' });
      assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /Running /);
    }
  });

  void test('without any model it says exactly how to configure one (exit 2)', async () => {
    const r = await coi(['run', fixture('two-steps.coi'), '-i', 'x'], env());
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--model path\/to\/model\.gguf/);
    assert.match(r.stderr, /--model openai:MODEL_ID --base-url URL/);
    assert.match(r.stderr, /COI_MODEL=/);
    // COI_MODEL is the documented default.
    const viaEnv = await coi(['run', fixture('two-steps.coi'), '-i', 'x', '--threads', '1', '--json'], { ...env(), COI_MODEL: model });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.equal((JSON.parse(viaEnv.stdout) as RunRecord).model, model);
  });

  void test('openai: without a key for api.openai.com says which variable to set, before any call (exit 2)', async () => {
    const r = await coi(['run', fixture('two-steps.coi'), '-i', 'x', '--model', 'openai:gpt-4o-mini'], { ...env(), OPENAI_API_KEY: '' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /No API key for https:\/\/api\.openai\.com\/v1: set the OPENAI_API_KEY environment variable/);
    assert.doesNotMatch(r.stderr, /Running /);
  });

  void test('--mode composed with --pin or --from is a usage error before anything runs (exit 2)', async () => {
    const pin = await coi(['run', fixture('two-steps.coi'), '-i', 'x', ...local(), '--mode', 'composed', '--pin', 'summary=mine'], env());
    assert.equal(pin.code, 2, pin.stderr);
    assert.match(pin.stderr, /--mode composed with --pin: A composed run generates the whole chain in one model call, so it cannot use pinned outputs \(summary\): run stepwise for that \(--mode stepwise\)\./);
    assert.doesNotMatch(pin.stderr, /Running /);
    const from = await coi(['run', fixture('two-steps.coi'), '-i', 'x', ...local(), '--mode', 'composed', '--from', 'sentiment'], env());
    assert.equal(from.code, 2, from.stderr);
    assert.match(from.stderr, /--mode composed with --from: .*cannot use a re-run from "sentiment"/);
  });

  void test('Ctrl-C cancels the run cleanly (exit 130, the record says cancelled)', async () => {
    let sent = false;
    const r = await coi(['run', fixture('long.coi'), '-i', 'x', ...local(), '--no-cache'], env(), (stdout, child) => {
      if (!sent && stdout.length > 20) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    assert.ok(sent, 'output streamed before the interrupt');
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /Cancelling/);
    assert.match(r.stderr, /Cancelled: /);
  });

  void test('coi test: text report, exit 1 on a failing expectation, JSON reporter and the JUnit file', async () => {
    const text = await coi(['test', fixture('two-steps.coi'), ...local()], env());
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /✓ test\/fixtures\/runner\/two-steps\.coi:17 sentiment is a label/);
    assert.match(text.stdout, /✗ test\/fixtures\/runner\/two-steps\.coi:23 summary mentions a word it cannot know/);
    assert.match(text.stdout, /✗ line 25: summary contains "zzzz-never-written" failed\n\s+expected:\n\s+zzzz-never-written\n\s+actual:/);
    assert.match(text.stderr, /1 passed, 1 failed/);

    const junitFile = join(tempDir(), 'report', 'coi.xml');
    const json = await coi(['test', fixture('two-steps.coi'), ...local(), '--reporter', 'json', '--junit-file', junitFile], env());
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as { test: string; status: string; expectations: { status: string; line: number }[] }[];
    assert.deepEqual(report.map((t) => [t.test, t.status]), [
      ['sentiment is a label', 'passed'],
      ['summary mentions a word it cannot know', 'failed'],
    ]);
    assert.deepEqual(report[1]!.expectations.map((e) => [e.line, e.status]), [
      [25, 'failed'],
      [26, 'passed'],
    ]);
    const xml = readFileSync(junitFile, 'utf8');
    assert.match(xml, /<testsuites name="coi test" tests="2" failures="1" errors="0">/);
    assert.match(xml, /<testcase name="sentiment is a label" [^>]*line="17"[^>]*\/>/);
    assert.match(xml, /<testcase name="summary mentions a word it cannot know"[^>]*>\n\s+<failure message="summary contains &quot;zzzz-never-written&quot; failed"/);

    const passing = await coi(['test', fixture('two-steps.coi'), ...local(), '--filter', 'is a label'], env());
    assert.equal(passing.code, 0, passing.stdout + passing.stderr);
    const broken = await coi(['test', fixture('broken.coi'), ...local()], env());
    assert.equal(broken.code, 2);
    const missing = await coi(['test', 'no-such-file.coi'], env());
    assert.equal(missing.code, 2);
  });

  void describe('against the OpenAI-compatible test server', () => {
    let server: OpenAITestServer;
    before(async () => (server = await startOpenAITestServer({ models: ['tiny', 'tiny-b'] })));
    after(async () => server.close());

    void test('--model openai:ID --base-url URL: the label step fails validation (exit 1), the key comes from --api-key-env', async () => {
      const r = await coi(['run', fixture('two-steps.coi'), '-i', 'I loved it.', '--model', 'openai:tiny', '--base-url', server.baseURL, '--api-key-env', 'COI_TEST_KEY', '--no-cache', '--json'], {
        ...env(),
        COI_TEST_KEY: 'sk-test-123',
      });
      assert.equal(r.code, 1, r.stderr);
      const record = JSON.parse(r.stdout) as RunRecord;
      assert.equal(record.steps[0]!.status, 'ok');
      assert.equal(record.steps[1]!.status, 'failed');
      assert.match(record.steps[1]!.error!.message, /broke its output contract \(label \[positive, negative\]\)/);
      const auth = server.requests.at(-1)!.headers.authorization;
      assert.equal(auth, 'Bearer sk-test-123');
    });

    void test('a step whose call breaks or times out keeps the text streamed so far (partialOutput) and the time it took', async () => {
      const run = (...more: string[]): Promise<CliResult> =>
        coi(['run', fixture('two-steps.coi'), '-i', 'I loved it.', '--model', 'openai:tiny', '--base-url', server.baseURL, '--no-cache', '--json', ...more], { ...env(), OPENAI_API_KEY: 'x' });
      // The tiny model answers; the connection is cut after its second chunk.
      server.injectFaults([{ kind: 'broken-stream', afterChunks: 2 }]);
      const cut = await run();
      assert.equal(cut.code, 1, cut.stderr);
      const broken = (JSON.parse(cut.stdout) as RunRecord).steps[0]!;
      assert.equal(broken.status, 'failed');
      assert.equal(broken.output, undefined);
      assert.ok((broken.partialOutput ?? '').length > 0, JSON.stringify(broken));
      assert.ok(broken.durationMs > 0);
      // Headers, then silence: the step fails at its --timeout, and says how long it waited.
      server.injectFaults([{ kind: 'stall', afterHeaders: true }]);
      const stalled = await run('--timeout', '1');
      assert.equal(stalled.code, 1, stalled.stderr);
      const timedOut = (JSON.parse(stalled.stdout) as RunRecord).steps[0]!;
      assert.match(timedOut.error?.message ?? '', /did not finish within 1 s/);
      assert.equal(timedOut.partialOutput, undefined);
      assert.ok(timedOut.durationMs >= 1000, `${timedOut.durationMs} ms`);
    });

    void test('a composed generation whose call breaks keeps the text streamed so far (partialOutput), on stdout, in --json and in the saved record, as a stepwise step does', async () => {
      const runsDir = join(cacheDir, 'runs');
      const run = (...more: string[]): Promise<CliResult> =>
        coi(['run', fixture('two-steps.coi'), '-i', 'I loved it.', '--mode', 'composed', '--model', 'openai:tiny', '--base-url', server.baseURL, '--no-cache', ...more], { ...env(), OPENAI_API_KEY: 'x' });
      // The tiny model writes no `Task i output` markers: what it streamed is the first step's part.
      server.injectFaults([{ kind: 'broken-stream', afterChunks: 3 }]);
      const cut = await run('--json');
      assert.equal(cut.code, 1, cut.stderr);
      const record = JSON.parse(cut.stdout) as RunRecord;
      assert.deepEqual(record.steps.map((s) => s.status), ['failed', 'failed']);
      assert.match(record.steps[0]!.error?.message ?? '', /^The composed generation: /);
      assert.ok((record.steps[0]!.partialOutput ?? '').length > 0, JSON.stringify(record.steps[0]));
      assert.equal(record.steps[1]!.partialOutput, undefined);
      assert.ok(record.steps[1]!.durationMs > 0);
      // The record keeps the one generation too: its prompt and all it streamed, with no raw output (it never ended).
      assert.ok((record.composed?.partialOutput ?? '').length > 0, JSON.stringify(record.composed));
      assert.ok(record.composed!.partialOutput!.includes(record.steps[0]!.partialOutput!));
      assert.equal(record.composed?.rawOutput, undefined);

      // Streaming: the text is on stdout as it came, and the saved record keeps it.
      const before = new Set(readdirSync(runsDir));
      server.injectFaults([{ kind: 'broken-stream', afterChunks: 3 }]);
      const streamed = await run();
      assert.equal(streamed.code, 1, streamed.stderr);
      assert.match(streamed.stderr, /✗ summary: The composed generation: /);
      const saved = readdirSync(runsDir).filter((name) => !before.has(name));
      assert.equal(saved.length, 1, saved.join(', '));
      const kept = (JSON.parse(readFileSync(join(runsDir, saved[0]!), 'utf8')) as RunRecord).steps[0]!;
      assert.ok((kept.partialOutput ?? '').length > 0, JSON.stringify(kept));
      assert.equal(kept.partialOutput, streamed.stdout.trim());
      const savedComposed = (JSON.parse(readFileSync(join(runsDir, saved[0]!), 'utf8')) as RunRecord).composed;
      // All of it, as streamed (stdout adds the newline that ends the line).
      assert.ok(streamed.stdout.startsWith(savedComposed?.partialOutput ?? '\0'), JSON.stringify(savedComposed));
      assert.equal(savedComposed?.partialOutput?.trim(), streamed.stdout.trim());
    });

    void test('coi test: a server that fails (HTTP 500, 400) or is not there makes each test an error, not a failed expectation; a broken contract still fails', async () => {
      const testWith = (baseURL: string, reporter: string, ...more: string[]): Promise<CliResult> =>
        coi(['test', fixture('two-steps.coi'), '--model', 'openai:tiny', '--base-url', baseURL, '--no-cache', '--reporter', reporter, ...more], { ...env(), OPENAI_API_KEY: 'x' });
      server.setFaultChooser(() => ({ kind: 'status', status: 500, retryAfter: '0', message: 'the server broke' }));
      try {
        const junit = await testWith(server.baseURL, 'junit');
        assert.equal(junit.code, 1, junit.stderr);
        assert.match(junit.stdout, /<testsuites name="coi test" tests="2" failures="0" errors="2">/);
        assert.match(junit.stdout, /<testcase name="summary mentions a word it cannot know"[^>]*>\n\s+<error message="Step &quot;summary&quot;: [^"]*HTTP 500[^"]*" \/>/);
        assert.doesNotMatch(junit.stdout, /<failure/);

        server.setFaultChooser(() => ({ kind: 'status', status: 400, message: 'bad request' }));
        const json = await testWith(server.baseURL, 'json');
        assert.equal(json.code, 1, json.stderr);
        const report = JSON.parse(json.stdout) as { status: string; error?: string; expectations: unknown[] }[];
        assert.deepEqual(report.map((t) => t.status), ['error', 'error']);
        assert.match(report[0]!.error ?? '', /^Step "summary": .*HTTP 400/);
        assert.deepEqual(report[0]!.expectations, []);
        assert.match(json.stderr, /0 passed, 0 failed, 2 errors — 2 tests in 1 file\./);
      } finally {
        server.setFaultChooser(undefined);
      }

      const closed = await startOpenAITestServer();
      const nowhere = closed.baseURL;
      await closed.close();
      const text = await testWith(nowhere, 'text');
      assert.equal(text.code, 1, text.stderr);
      assert.match(text.stdout, /✗ test\/fixtures\/runner\/two-steps\.coi:17 sentiment is a label \(.*\)\n    error: Step "summary": /);
      assert.doesNotMatch(text.stdout, /✗ line \d+:/);
      assert.match(text.stderr, /0 passed, 0 failed, 2 errors — 2 tests in 1 file\./);

      // The model answers, but not one of the labels: the chain's fault, a failed test.
      const contract = await testWith(server.baseURL, 'json', '--filter', 'is a label');
      assert.equal(contract.code, 1, contract.stderr);
      assert.deepEqual((JSON.parse(contract.stdout) as { status: string }[]).map((t) => t.status), ['failed']);
    });

    void test('a rate limit waited out is shown on stderr (the server, the reason, the wait), and the run succeeds', async () => {
      const english = 'The storm will reach the coast tonight.';
      server.injectFaults([{ kind: 'status', status: 429, retryAfter: '0' }, { kind: 'status', status: 503, retryAfter: '0' }, { kind: 'reply', content: english }]);
      const r = await coi(['run', fixture('french-summary.coi'), '-i', 'A storm is coming.', '--model', 'openai:tiny', '--base-url', server.baseURL, '--no-cache'], { ...env(), OPENAI_API_KEY: 'sk-test' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), english);
      const at = server.baseURL.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      // The second retry follows within 5 s: counted, not printed.
      assert.match(r.stderr, new RegExp(`tiny at ${at}: HTTP 429; trying again in 0 ms \\(retry 1\\)\n`));
      assert.doesNotMatch(r.stderr, /retry 2/);
    });

    void test("an output the provider cut short (its content filter, an error there) is kept with a ⚠ line saying so, and not cached; a refusal fails the step quoting the model's words, once", async () => {
      const file = join(tempDir(), 'storm.coi');
      writeFileSync(file, 'chain storm\ninput article: text\n\nstep summary {\n  instruction "Summarize the article."\n}\n');
      const cache = tempDir();
      // Each case its own input: the whole answer the cache keeps is another case's cache miss.
      let input = 'A storm is coming.';
      const run = (...extra: string[]): Promise<CliResult> =>
        coi(['run', file, '-i', input, '--model', 'openai:tiny', '--base-url', server.baseURL, ...extra], { COI_CACHE_DIR: cache, OPENAI_API_KEY: 'sk-test' });
      const cases: [finish: string, recorded: string, line: RegExp][] = [
        ['content_filter', 'content-filter', /\n {2}✓ summary \([^)]*, 4 tokens\)\n {2}⚠ summary: the provider's content filter cut the output after 4 tokens \(finish reason: content_filter\); what came before is kept, incomplete\.\n/],
        ['error', 'provider-error', /\n {2}✓ summary \([^)]*, 4 tokens\)\n {2}⚠ summary: the provider ended the output with an error after 4 tokens \(finish reason: error\); what came before is kept, incomplete: run the step again\.\n/],
      ];
      for (const [finish, recorded, line] of cases) {
        input = `A storm is coming (${finish}).`;
        server.injectFaults([{ kind: 'reply', content: 'The storm will reach', finishReason: finish }]);
        const cut = await run();
        assert.equal(cut.code, 0, cut.stderr);
        assert.equal(cut.stdout.trim(), 'The storm will reach');
        assert.match(cut.stderr, line);
        // Not cached: the same run asks the model again, and gets its whole answer.
        server.injectFaults([{ kind: 'reply', content: 'The storm will reach the coast tonight.' }]);
        const again = await run();
        assert.equal(again.stdout.trim(), 'The storm will reach the coast tonight.');
        assert.match(again.stderr, /Done: 1 step, 0 cached, 1 model call/);
        assert.doesNotMatch(again.stderr, /⚠/);
        server.injectFaults([{ kind: 'reply', content: 'The storm will reach', finishReason: finish }]);
        const step = (JSON.parse((await run('--json', '--no-cache')).stdout) as RunRecord).steps[0]!;
        assert.deepEqual([step.status, step.output, step.finishReason], ['ok', 'The storm will reach', recorded]);
        assert.match(step.warnings?.[0] ?? '', new RegExp(`\\(finish reason: ${finish}\\)`));
      }

      server.injectFaults([{ kind: 'refusal', refusal: "I'm sorry, but I can't help with that." }]);
      const before = server.count('/v1/chat/completions');
      const refused = await run('--no-cache');
      assert.equal(refused.code, 1, refused.stderr);
      assert.equal(refused.stdout, '');
      assert.match(refused.stderr, /\n {2}✗ Step "summary": The server at http:\/\/127\.0\.0\.1:\d+\/v1 \(model tiny\) sent the model's refusal instead of an answer\. The model says: I'm sorry, but I can't help with that\.\n/);
      assert.doesNotMatch(refused.stderr, /trying again/);
      assert.equal(server.count('/v1/chat/completions') - before, 1, 'not retried');
      server.injectFaults([{ kind: 'refusal', refusal: "I'm sorry, but I can't help with that." }]);
      const record = JSON.parse((await run('--json', '--no-cache')).stdout) as RunRecord;
      assert.deepEqual([record.status, record.steps[0]!.error?.backendCode], ['failed', 'refused']);
    });

    void test('a `text lang=fr` step answered in English is accepted with a warning: ⚠ on stderr, `warnings` in the record', async () => {
      const english = 'The storm will reach the coast tonight and the authorities have asked the people who live near the river to leave their homes.';
      const french = "La tempête atteindra la côte ce soir et les autorités ont demandé aux habitants qui vivent près de la rivière de quitter leurs maisons.";
      const run = (json: boolean): Promise<CliResult> =>
        coi(['run', fixture('french-summary.coi'), '-i', 'A storm is coming.', '--model', 'openai:tiny', '--base-url', server.baseURL, '--no-cache', ...(json ? ['--json'] : [])], { ...env(), OPENAI_API_KEY: 'sk-test' });

      server.injectFaults([{ kind: 'reply', content: english }]);
      const streamed = await run(false);
      assert.equal(streamed.code, 0, streamed.stderr);
      assert.equal(streamed.stdout.trim(), english);
      assert.match(streamed.stderr, /✓ summary .*\n\s+⚠ summary: the output reads as English, not French \(\d+ of \d+ words are common en words\)\n/);

      server.injectFaults([{ kind: 'reply', content: english }]);
      const record = JSON.parse((await run(true)).stdout) as RunRecord;
      assert.equal(record.status, 'ok');
      assert.match(record.steps[0]!.warnings?.[0] ?? '', /^the output reads as English, not French/);

      server.injectFaults([{ kind: 'reply', content: french }]);
      const clean = await run(false);
      assert.equal(clean.code, 0, clean.stderr);
      assert.doesNotMatch(clean.stderr, /⚠/);
    });

    void test('--mode composed with steps on different profiles runs the default profile and says so: ⚠ on stderr, `warnings` in the record', async () => {
      /** Two profiles on the test server (models tiny and tiny-b); `summary` runs on SUMMARY_PROFILE, `french` on the default. */
      const chainFile = (summaryProfile: string): string => {
        const file = join(tempDir(), 'profiles.coi');
        const profile = (name: string, model: string): string => `model ${name} {\n  provider openai\n  base_url "${server.baseURL}"\n  model "${model}"\n  api_key_env "COI_TEST_KEY"\n}\n`;
        writeFileSync(file, `chain profiles\ninput article: text\n\n${profile('a', 'tiny')}${profile('b', 'tiny-b')}\nstep summary {\n  instruction "Summarize the article."\n  model ${summaryProfile}\n}\n\nstep french {\n  instruction "Translate the summary into French."\n}\n`);
        return file;
      };
      const marked = 'Task 1 output and task 2 input: Rain on Tuesday.\nTask 2 output: Pluie mardi.';
      const run = async (file: string, extra: readonly string[]): Promise<{ result: CliResult; models: string[] }> => {
        const before = server.requests.length;
        server.injectFaults([{ kind: 'reply', content: marked }]);
        const result = await coi(['run', file, '-i', 'Heavy rain on Tuesday.', '--mode', 'composed', '--no-cache', ...extra], { ...env(), COI_TEST_KEY: 'sk-test' });
        return { result, models: server.requests.slice(before).map((r) => (r.body as { model: string }).model) };
      };

      const mixed = chainFile('b');
      const streamed = await run(mixed, []);
      assert.equal(streamed.result.code, 0, streamed.result.stderr);
      assert.deepEqual(streamed.models, ['tiny']);
      assert.match(streamed.result.stderr, /\n⚠ The steps use different model profiles \(b for summary, a for french\); a composed run is one generation, so it runs on the default profile \(a\)\.\nDone: 2 steps/);

      const json = await run(mixed, ['--json']);
      const record = JSON.parse(json.result.stdout) as RunRecord;
      assert.equal(record.status, 'ok', record.error);
      assert.match(record.warnings?.[0] ?? '', /^The steps use different model profiles \(b for summary, a for french\)/);

      // Every step on profile a (french has no `model` line: the default, a): no warning.
      const agreeing = await run(chainFile('a'), []);
      assert.equal(agreeing.result.code, 0, agreeing.result.stderr);
      assert.deepEqual(agreeing.models, ['tiny']);
      assert.doesNotMatch(agreeing.result.stderr, /⚠/);
      // --profile b makes b the default: the mixed chain now agrees on b.
      const onB = await run(mixed, ['--profile', 'b']);
      assert.equal(onB.result.code, 0, onB.result.stderr);
      assert.deepEqual(onB.models, ['tiny-b']);
      assert.doesNotMatch(onB.result.stderr, /⚠/);
      // --model puts every profile on one model: only their sampling differs, and the warning says so.
      const oneModel = await run(mixed, ['--model', 'openai:tiny-b', '--base-url', server.baseURL]);
      assert.equal(oneModel.result.code, 0, oneModel.result.stderr);
      assert.deepEqual(oneModel.models, ['tiny-b']);
      assert.match(oneModel.result.stderr, /\n⚠ The steps use different model profiles \(b for summary, a for french\); a composed run is one generation, so it runs on the sampling of the default profile \(a\)\.\n/);
    });
  });
});
