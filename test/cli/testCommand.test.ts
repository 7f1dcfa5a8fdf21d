/**
 * `coi test` as a user runs it (the bundled CLI in a child process): the JUnit file
 * never replaces a tested chain, a full disk is one line, a model several files use
 * is loaded once, a cancelled test is judged on nothing, and model outputs cannot
 * drive the terminal. Also `coi check`/`coi export` writing to /dev/full.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type ChatBody, type OpenAITestServer } from '../rig/openaiServer';
import { tinyModelPath } from '../rig/tinyModel';
import { workerScriptPath } from '../rig/worker';
import { coi, coiAsync, coiWithFileSizeLimit, ensureBundle } from './cliProcess';

const CHAIN = (name: string): string =>
  `chain ${name}\ninput x: text\nstep a {\n  instruction "Repeat the text."\n  output text\n  max_tokens 8\n}\ntest "${name} test" {\n  given x = "go"\n  expect a equals "nothing-like-this"\n}\n`;

function chainFile(dir: string, name: string): string {
  const path = join(dir, `${name}.coi`);
  writeFileSync(path, CHAIN(name));
  return path;
}

/** `coi ARGS` with standard output on `stdoutPath` (a file or a device such as /dev/full). */
function coiTo(stdoutPath: string, args: readonly string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  ensureBundle();
  const out = openSync(stdoutPath, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), ...args], { cwd, env: { ...process.env, COI_DEBUG: '' }, stdio: ['ignore', out, 'pipe'] });
    closeSync(out);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

void test('--junit-file replaces the previous report only once the new one is whole: a write that fails leaves it as it was', { skip: process.platform === 'win32' ? 'ulimit is POSIX' : false }, () => {
  const dir = tempDir();
  // Chains with an error each: their report needs no model, and 40 of them make some 10 KB of XML.
  const names = Array.from({ length: 40 }, (_, i) => `broken-${String(i).padStart(2, '0')}.coi`);
  for (const name of names) writeFileSync(join(dir, name), 'chain broken\nstep s {\n  instruction "x"\n  from nowhere\n}\n');
  const previous = '<testsuites name="the previous report"/>\n';
  writeFileSync(join(dir, 'junit.xml'), previous);
  const failed = coiWithFileSizeLimit(['test', ...names, '--junit-file', 'junit.xml'], dir, 2);
  assert.equal(failed.code, 2, failed.stderr);
  assert.match(failed.stderr, /^coi test: Cannot write the JUnit report to '.*junit\.xml': the file is larger than the system allows/m);
  assert.equal(readFileSync(join(dir, 'junit.xml'), 'utf8'), previous, 'the previous report is whole');
  assert.deepEqual(readdirSync(dir).sort(), [...names, 'junit.xml'].sort(), 'no temporary is left behind');
});

void test('a model option that is wrong is a usage error (exit 2) whatever the files hold: a file without tests too, before anything runs', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'untested.coi'), 'chain untested\ninput x: text\nstep a {\n  instruction "Repeat the text."\n  output text\n}\n');
  chainFile(dir, 'tested');
  const cases: [string[], RegExp][] = [
    [['--model', 'openai:tiny', '--base-url', 'not-a-url'], /^coi test: --base-url 'not-a-url' is not a URL: /],
    [['--base-url', 'not-a-url'], /^coi test: --base-url 'not-a-url' is not a URL: /],
    [['--model', 'missing.gguf'], /^coi test: --model: cannot read the model '.*missing\.gguf'/],
    [['--model', 'openai:tiny', '--threads', '0'], /^coi test: --threads must be a whole number from 1 to 1024 \(got '0'\)\./],
    [['--model', 'openai:tiny', '--profile', 'fast'], /^coi test: Give either --model or --profile, not both\./],
    [['--judge-model', 'openai:judge', '--judge-base-url', 'nowhere'], /^coi test: --judge-base-url 'nowhere' is not a URL: /],
  ];
  for (const [options, message] of cases) {
    // Alone, and before a file with tests: the same error, not a pass of the untested file.
    for (const files of [['untested.coi'], ['untested.coi', 'tested.coi']]) {
      const r = coi(['test', ...files, ...options], { cwd: dir, env: { COI_MODEL: '', OPENAI_API_KEY: 'sk-test' } });
      assert.equal(r.code, 2, `${options.join(' ')} (${files.join(', ')}): ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /passed/, 'no test ran, no summary');
      assert.equal(r.stdout, '');
    }
  }
});

void describe('coi test (bundled CLI)', () => {
  let server: OpenAITestServer;
  let cacheDir: string;
  before(async () => {
    server = await startOpenAITestServer({ models: ['tiny'] });
    cacheDir = tempDir();
  });
  after(async () => server.close());
  const openai = (): string[] => ['--model', 'openai:tiny', '--base-url', server.baseURL, '--no-cache'];
  const env = (): Record<string, string> => ({ COI_MODEL: '', COI_CACHE_DIR: cacheDir, OPENAI_API_KEY: 'sk-test' });

  void test('--junit-file naming a tested file, by its name or through a link, is refused before anything runs (exit 2, the file kept)', async () => {
    const dir = tempDir();
    const victim = chainFile(dir, 'victim');
    symlinkSync(victim, join(dir, 'report.xml'));
    const before = server.count();
    for (const target of ['victim.coi', './victim.coi', join(dir, 'report.xml')]) {
      const r = await coiAsync(['test', 'victim.coi', ...openai(), '--junit-file', target], { cwd: dir, env: env() });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /coi test: --junit-file '.*': it is one of the files being tested: name another file\./);
      assert.equal(readFileSync(victim, 'utf8'), CHAIN('victim'));
    }
    assert.equal(server.count(), before, 'no model call');
  });

  void test('a cancelled test (SIGTERM) is an error naming the signal, with no expectation judged (JSON and JUnit)', async () => {
    const dir = tempDir();
    chainFile(dir, 'slow');
    const junit = join(dir, 'junit.xml');
    server.setFaultChooser(() => ({ kind: 'stall' }));
    try {
      const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const before = server.count();
        const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), 'test', 'slow.coi', ...openai(), '--reporter', 'json', '--junit-file', junit], { cwd: dir, env: { ...process.env, COI_DEBUG: '', ...env() } });
        let stdout = '';
        let stderr = '';
        // Once the request is at the (stalled) server, the test is mid-run.
        const poll = setInterval(() => {
          if (server.count() > before) {
            clearInterval(poll);
            child.kill('SIGTERM');
          }
        }, 20);
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => (clearInterval(poll), resolve({ code, stdout, stderr })));
      });
      assert.equal(r.code, 143, r.stderr);
      const report = JSON.parse(r.stdout) as { status: string; error?: string; expectations: unknown[] }[];
      assert.equal(report.length, 1);
      assert.equal(report[0]!.status, 'error');
      assert.equal(report[0]!.error, 'Cancelled (SIGTERM) before the test finished.');
      assert.deepEqual(report[0]!.expectations, []);
      assert.match(readFileSync(junit, 'utf8'), /<error message="Cancelled \(SIGTERM\) before the test finished\." \/>/);
    } finally {
      server.setFaultChooser(undefined);
    }
  });

  // Before, a judge call had neither the run's --timeout nor the silence limit: it waited 10 minutes.
  // A judge that cannot judge blames no one: the test is an error (as when its model call fails),
  // unless another expectation failed on the chain's answer.
  void test('a judge that sends its headers and then nothing fails within --timeout, saying so: the test is an error, not a failure', { timeout: 60_000 }, async (t) => {
    const dir = tempDir();
    const judged = CHAIN('judged').replace('expect a equals "nothing-like-this"', 'expect a judge "Says go."');
    const alsoWrong = judged.replace(/test "judged test" \{[\s\S]*\}\n$/, 'test "also wrong" {\n  given x = "go"\n  expect a equals "stop"\n  expect a judge "Says go."\n}\n');
    writeFileSync(join(dir, 'judged.coi'), judged + alsoWrong.slice(alsoWrong.indexOf('test "also wrong"')));
    const isJudge = (body: unknown): boolean => JSON.stringify(body).includes('strict evaluator');
    server.setFaultChooser(({ body }) => (isJudge(body) ? { kind: 'stall', afterHeaders: true } : { kind: 'reply', content: 'go' }));
    const junit = join(dir, 'junit.xml');
    try {
      const r = await coiAsync(['test', 'judged.coi', ...openai(), '--judge-model', 'openai:tiny', '--timeout', '2', '--reporter', 'json', '--junit-file', junit], { cwd: dir, env: env(), onSpawn: (child) => t.signal.addEventListener('abort', () => child.kill()) });
      assert.equal(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout) as { test: string; status: string; error?: string; expectations: { status: string; message: string }[] }[];
      const [undecided, wrong] = report;
      assert.equal(undecided!.expectations[0]!.status, 'error');
      assert.match(undecided!.expectations[0]!.message, /did not finish within 2 s \(the time limit\)/);
      assert.equal(undecided!.status, 'error');
      assert.equal((undecided!.expectations[0] as { expected?: string }).expected, 'Says go.', 'what the judge was asked stays in view');
      assert.match(undecided!.error ?? '', /^An expectation could not be decided: a judge "Says go\.": .*did not finish within 2 s/);
      // Beside an expectation the answer failed, the test failed.
      assert.equal(wrong!.test, 'also wrong');
      assert.equal(wrong!.status, 'failed');
      assert.match(r.stderr, /1 failed, 1 error — 2 tests in 1 file\./);
      const xml = readFileSync(junit, 'utf8');
      assert.match(xml, /failures="1" errors="1"/);
      assert.match(xml, /<testcase name="judged test"[^>]*>\n {6}<error message="An expectation could not be decided/);
    } finally {
      server.setFaultChooser(undefined);
    }
  });

  void test('the text report shows control characters of outputs and test names escaped; JSON keeps them', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ctl.coi'), CHAIN('ctl').replace('"ctl test"', '"bell\\u0007 test"'));
    const answer = 'red \u001b[31mALERT\u001b[0m\rover\u009b2J end\tok';
    server.setReplier(() => answer);
    try {
      const text = await coiAsync(['test', 'ctl.coi', ...openai()], { cwd: dir, env: env() });
      assert.equal(text.code, 1, text.stderr);
      assert.doesNotMatch(text.stdout + text.stderr, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      assert.ok(text.stdout.includes('red \\u001b[31mALERT\\u001b[0m\\rover\\u009b2J end\tok'), text.stdout);
      assert.ok(text.stdout.includes('bell\\u0007 test'), text.stdout);
      const json = await coiAsync(['test', 'ctl.coi', ...openai(), '--reporter', 'json'], { cwd: dir, env: env() });
      const report = JSON.parse(json.stdout) as { expectations: { actual?: string }[] }[];
      assert.equal(report[0]!.expectations[0]!.actual, answer);
    } finally {
      server.setReplier(undefined);
    }
  });

  void test('a judge that answers neither yes nor no fails the expectation, `not judge` too, saying what it answered', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'judged.coi'), CHAIN('judged').replace('expect a equals "nothing-like-this"', 'expect a judge "Says go."\n  expect a not judge "Names a fruit."'));
    const isJudge = (body: unknown): boolean => JSON.stringify(body).includes('strict evaluator');
    server.setFaultChooser(({ body }) => ({ kind: 'reply', content: isJudge(body) ? 'Perhaps.' : 'go' }));
    try {
      const r = await coiAsync(['test', 'judged.coi', ...openai(), '--judge-model', 'openai:tiny', '--reporter', 'json'], { cwd: dir, env: env() });
      assert.equal(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout) as { status: string; expectations: { negated: boolean; status: string; message: string }[] }[];
      assert.equal(report[0]!.status, 'failed');
      for (const e of report[0]!.expectations) {
        assert.equal(e.status, 'failed', `negated ${e.negated}: ${e.message}`);
        assert.match(e.message, /the judge answered "Perhaps\.", not yes or no/);
      }
    } finally {
      server.setFaultChooser(undefined);
    }
  });

  void test("a step that broke its output contract shows the model's answer as the actual output (text, JSON and JUnit)", async () => {
    const dir = tempDir();
    const schema = `'{"type": "object", "required": ["name", "age"]}'`;
    writeFileSync(join(dir, 'person.coi'), CHAIN('person').replace('output text', `output json schema=${schema}`).replace('expect a equals "nothing-like-this"', 'expect a valid_json\n  expect output contains "Ann"'));
    const answer = '{"name": "Ann"}';
    server.setFaultChooser(() => ({ kind: 'reply', content: answer }));
    try {
      const junit = join(dir, 'junit.xml');
      const text = await coiAsync(['test', 'person.coi', ...openai(), '--junit-file', junit], { cwd: dir, env: env() });
      assert.equal(text.code, 1, text.stderr);
      assert.match(text.stdout, /line 10: a valid_json: Step "a" broke its output contract \(json\).*required property 'age'\.\n {8}actual:\n {10}\{"name": "Ann"\}\n/);
      assert.match(text.stdout, /line 11: output contains "Ann": .*\n {8}expected:\n {10}Ann\n {8}actual:\n {10}\{"name": "Ann"\}\n/);
      assert.match(readFileSync(junit, 'utf8'), /actual: \{&quot;name&quot;: &quot;Ann&quot;\}/);
      const json = await coiAsync(['test', 'person.coi', ...openai(), '--reporter', 'json'], { cwd: dir, env: env() });
      const report = JSON.parse(json.stdout) as { expectations: { status: string; actual?: string }[] }[];
      assert.deepEqual(report[0]!.expectations.map((e) => [e.status, e.actual]), [['failed', answer], ['failed', answer]]);
    } finally {
      server.setFaultChooser(undefined);
    }
  });

  void test('equals compares typed outputs as values, and a `not` expectation the contract settles is a warning that lets the file run', async () => {
    const dir = tempDir();
    const steps = [
      ['n', 'Count the words of the text.', 'output number', '42'],
      ['b', 'Is the text short? Answer true or false.', 'output boolean', 'Yes'],
      ['s', 'Classify the sentiment of the text.', 'output label [positive, negative]', 'positive'],
      ['j', 'Write the count as a JSON object.', 'output json', '```json\n{"b":[1,2],"a":1}\n```'],
    ] as const;
    const chain = [
      'chain typed',
      'input x: text',
      ...steps.map(([id, instruction, output]) => `step ${id} {\n  instruction "${instruction}"\n  from x\n  ${output}\n}`),
      'test "typed" {',
      '  given x = "go"',
      '  expect n equals "42.0"',
      '  expect b equals TRUE',
      `  expect j equals '{"a": 1, "b": [1, 2]}'`,
      `  expect output equals '{"b": [1, 2], "a": 1.0}'`,
      '  expect s not label "maybe"',
      '  expect s not equals "maybe"',
      '}',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'typed.coi'), chain);
    const answerFor = (body: unknown): string => steps.find(([, instruction]) => JSON.stringify(body).includes(instruction))?.[3] ?? 'unexpected';
    server.setFaultChooser(({ body }) => ({ kind: 'reply', content: answerFor(body) }));
    try {
      const r = await coiAsync(['test', 'typed.coi', ...openai(), '--reporter', 'json'], { cwd: dir, env: env() });
      assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
      const report = JSON.parse(r.stdout) as { status: string; expectations: { status: string; message: string; actual?: string }[] }[];
      assert.equal(report[0]!.status, 'passed');
      assert.deepEqual(
        report[0]!.expectations.map((e) => [e.status, e.actual]),
        [
          ['passed', '42'],
          ['passed', 'true'],
          ['passed', '{"b":[1,2],"a":1}'],
          ['passed', '{"b":[1,2],"a":1}'],
          ['passed', 'positive'],
          ['passed', 'positive'],
        ],
      );
    } finally {
      server.setFaultChooser(undefined);
    }
  });

  void test('the text report cuts a long output after 600 characters, never inside one (an emoji stays whole)', async () => {
    const dir = tempDir();
    chainFile(dir, 'long');
    server.setFaultChooser(() => ({ kind: 'reply', content: `${'a'.repeat(599)}😀${'b'.repeat(100)}` }));
    try {
      const r = await coiAsync(['test', 'long.coi', ...openai()], { cwd: dir, env: env() });
      assert.equal(r.code, 1, r.stderr);
      assert.ok(r.stdout.includes(`${'a'.repeat(599)}😀… (100 more characters; --reporter json shows all)\n`), r.stdout);
      assert.ok(!r.stdout.includes('\ufffd'), 'no replacement character');
    } finally {
      server.setFaultChooser(undefined);
    }
  });

  void test('standard output on a full disk (/dev/full) is one line on stderr and exit 74, never a stack trace', { skip: !existsSync('/dev/full') && 'no /dev/full' }, async () => {
    const dir = tempDir();
    chainFile(dir, 'ok');
    for (const args of [['check', 'ok.coi', '--format', 'json'], ['export', 'ok.coi'], ['test', 'ok.coi', ...openai(), '--reporter', 'json']]) {
      const r = await coiTo('/dev/full', args, dir);
      assert.equal(r.code, 74, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /^coi: Cannot write the output: no space left on device \(ENOSPC\)\.$/m);
      assert.doesNotMatch(r.stderr, /\n\s+at |Error:|node:internal/);
    }
  });

  void test('a local model that several files use is loaded once for the whole command', async () => {
    workerScriptPath();
    const model = tinyModelPath();
    const dir = tempDir();
    chainFile(dir, 'one');
    chainFile(dir, 'two');
    const r = await coiAsync(['test', 'one.coi', 'two.coi', '--model', model, '--threads', '1', '--no-cache'], { cwd: dir, env: env() });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\d passed, \d failed — 2 tests in 2 files\./);
    assert.equal(r.stderr.match(/local model .* on /g)?.length, 1, r.stderr);
  });

  void test('a local judge says where it ran, after the test that first asked it, also when it is the steps\' own model or a later file\'s', async () => {
    workerScriptPath();
    const model = tinyModelPath();
    const dir = tempDir();
    chainFile(dir, 'a-plain');
    writeFileSync(join(dir, 'b-judged.coi'), CHAIN('judged').replace('expect a equals "nothing-like-this"', 'expect a judge "Says go."'));
    server.setFaultChooser(() => ({ kind: 'reply', content: 'go' }));
    try {
      // The steps on the server, the judge local: its line follows the judged test (the first file's made the judge).
      const apart = await coiAsync(['test', 'a-plain.coi', 'b-judged.coi', ...openai(), '--judge-model', model, '--threads', '1'], { cwd: dir, env: env() });
      assert.match(apart.stderr, /^▸ b-judged\.coi › judged test\nlocal model [^\n]*\.gguf on CPU \(1 thread\)$/m, apart.stderr);
      // The same GGUF for the steps and the judge: one backend, one line.
      const shared = await coiAsync(['test', 'b-judged.coi', '--model', model, '--judge-model', model, '--threads', '1', '--no-cache'], { cwd: dir, env: env() });
      assert.equal(shared.stderr.match(/^local model [^\n]* on CPU \(1 thread\)$/gm)?.length, 1, shared.stderr);
    } finally {
      server.setFaultChooser(undefined);
    }
  });

  // A test needs only the inputs its chain's steps read, as `coi run` does (core's inputsNeeded):
  // `notes`, which no step reads (COI207), need not be given; a value given for it is no part of a prompt.
  void test('a test that gives no value for an input no step reads runs and passes; one that gives it runs the same', async () => {
    const dir = tempDir();
    const chain =
      'chain unread\ninput article: text\ninput notes: text\n' +
      'step summary {\n  instruction "Summarize the article."\n  output text\n  max_tokens 8\n}\n' +
      'test "no notes" {\n  given article = "Rain on Tuesday."\n  expect summary equals "Rain."\n}\n' +
      'test "with notes" {\n  given article = "Rain on Tuesday."\n  given notes = "Unread remark."\n  expect summary equals "Rain."\n}\n';
    writeFileSync(join(dir, 'unread.coi'), chain);
    server.setReplier(() => 'Rain.');
    try {
      const before = server.count();
      const r = await coiAsync(['test', 'unread.coi', ...openai(), '--reporter', 'json'], { cwd: dir, env: env() });
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as { test: string; status: string }[];
      assert.deepEqual(report.map((t) => [t.test, t.status]), [['no notes', 'passed'], ['with notes', 'passed']]);
      const prompts = server.chatRequests(before).map((request) => JSON.stringify((request.body as ChatBody).messages));
      assert.equal(prompts.length, 2);
      for (const prompt of prompts) {
        assert.match(prompt, /Rain on Tuesday\./);
        assert.doesNotMatch(prompt, /Unread remark/);
      }
    } finally {
      server.setReplier(undefined);
    }
  });
});
