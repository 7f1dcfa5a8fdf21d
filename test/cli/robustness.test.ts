// Regression tests from trying to break the bundled `coi` command: binary files,
// closed pipes, odd option values, missing models, Ctrl-C, output folders.
// Each test is one bug that was found and fixed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findSystemPython } from '../../core/finetune/python';
import { repoPath } from '../helpers/paths';
import { tinyModelPath } from '../rig/tinyModel';
import { workerScriptPath } from '../rig/worker';
import { startOpenAITestServer } from '../rig/openaiServer';
import { tempDir } from '../helpers/tempDir';
import { hfModelFolder, readyTrainingEnv } from '../helpers/finetuneInputs';
import { coi, coiAsync, coiForAnotherUser, ensureBundle } from './cliProcess';

const TWO_STEPS = ['chain two', 'input article: text', '', 'step summary {', '  instruction "Summarize the article."', '  output text', '}', '', 'step title {', '  instruction "Write a title for the summary."', '  output text', '}', ''].join('\n');

const RECORD = JSON.stringify([{ instruction: 'Summarize and then translate', input: 'x', output: 'Task 1 output and task 2 input: y\nTask 2 output: z' }]);

/** No stack trace and no Node internals in what the user sees. */
function assertNoTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at |node:internal|node:events|Unhandled/, stderr);
}

/** Whether a Python that `coi finetune setup` can use is on this machine. */
function hasPython(): boolean {
  try {
    findSystemPython();
    return true;
  } catch {
    return false;
  }
}

/** Whether a process runs (a zombie waiting to be reaped does not). */
function alive(pid: number): boolean {
  const ps = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' });
  const state = ps.stdout.trim();
  return state !== '' && !state.startsWith('Z');
}

void describe('coi robustness (bundled CLI)', () => {
  void it('refuses a binary file in one line instead of thousands of diagnostics (check, export, run)', () => {
    const dir = tempDir();
    const gguf = readFileSync(tinyModelPath());
    writeFileSync(join(dir, 'model.coi'), gguf);
    writeFileSync(join(dir, 'ok.coi'), TWO_STEPS);
    const check = coi(['check', 'model.coi', 'ok.coi'], { cwd: dir });
    assert.equal(check.code, 2);
    assert.equal(check.stdout, '', 'no diagnostics for the binary file');
    assert.match(check.stderr, /coi check: cannot read 'model\.coi': it is a binary file/);
    assert.match(check.stderr, /1 file checked: no problems, 1 file unreadable\./);
    assertNoTrace(check.stderr);
    const json = coi(['check', '--format', 'json', 'model.coi', 'ok.coi'], { cwd: dir });
    assert.deepEqual(JSON.parse(json.stdout), []);
    assert.equal(coi(['export', 'model.coi'], { cwd: dir }).code, 2);
    const run = coi(['run', 'model.coi', '--model', 'openai:x'], { cwd: dir });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /Cannot read 'model\.coi': it is a binary file/);
  });

  void it('devices and huge files are refused instead of read forever (check, import, run @file)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok.coi'), TWO_STEPS);
    writeFileSync(join(dir, 'huge.coi'), '');
    truncateSync(join(dir, 'huge.coi'), 65 * 1024 * 1024); // sparse: no disk used
    const check = coi(['check', '/dev/zero', 'huge.coi', 'ok.coi'], { cwd: dir });
    assert.equal(check.code, 2);
    assert.match(check.stderr, /cannot read '\/dev\/zero': it is a device, not a file\./);
    assert.match(check.stderr, /cannot read 'huge\.coi': it is larger than 64 MiB/);
    assert.match(check.stderr, /1 file checked: no problems, 2 files unreadable\./);
    assert.equal(coi(['import', '/dev/urandom', '--out', 'x'], { cwd: dir }).code, 2);
    const input = coi(['run', 'ok.coi', '-i', '@/dev/zero', '--model', 'openai:x'], { cwd: dir });
    assert.equal(input.code, 2);
    assert.match(input.stderr, /Cannot read input 'article' from '\/dev\/zero': it is a device/);
  });

  void it('a schema_file that is a device or a FIFO is COI218 at once, not read until memory runs out or waited on forever', () => {
    const dir = tempDir();
    const json = (file: string): string => `  output json schema_file="${file}"`;
    const chain = ['chain schemas', 'input text: text', '', 'step a {', '  instruction "Extract."', json('/dev/zero'), '}', '', 'step b {', '  instruction "Extract again."', json('fifo'), '}', ''].join('\n');
    writeFileSync(join(dir, 'schemas.coi'), chain);
    assert.equal(spawnSync('mkfifo', [join(dir, 'fifo')]).status, 0);
    const check = coi(['check', 'schemas.coi'], { cwd: dir });
    assert.equal(check.code, 1, check.stderr);
    assert.match(check.stdout, /schemas\.coi:6:\d+: error COI218: Schema file '\/dev\/zero' cannot be read/);
    assert.match(check.stdout, /schemas\.coi:11:\d+: error COI218: Schema file 'fifo' cannot be read/);
    assertNoTrace(check.stderr);
  });

  void it('a folder that cannot be listed is one unreadable line, for a directory argument as for a glob, and the rest is checked', () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'locked'));
    mkdirSync(join(dir, 'ok'));
    writeFileSync(join(dir, 'ok', 'two.coi'), TWO_STEPS);
    chmodSync(join(dir, 'locked'), 0o000);
    // root lists any folder: coi runs as nobody there.
    const { bin, asUser } = coiForAnotherUser();
    for (const arg of ['.', '**/*.coi']) {
      const check = spawnSync(process.execPath, [bin, 'check', arg], { cwd: dir, encoding: 'utf8', env: { ...process.env, COI_DEBUG: '' }, timeout: 60_000, ...asUser });
      assert.equal(check.status, 2, check.stderr);
      assert.match(check.stderr, /^coi check: cannot read 'locked': permission denied\.$/m);
      assert.match(check.stderr, /^1 file checked: no problems, 1 file unreadable\.$/m, 'ok/two.coi is still checked');
    }
  });

  void it('invalid UTF-8 is a warning with its line and column, not a silent U+FFFD (check, export; import refuses it: importExport.test.ts)', () => {
    const dir = tempDir();
    const text = Buffer.from(TWO_STEPS, 'utf8');
    const at = text.indexOf('step');
    writeFileSync(join(dir, 'latin1.coi'), Buffer.concat([text.subarray(0, at), Buffer.from('# caf\xe9\n', 'latin1'), text.subarray(at)]));
    const line = TWO_STEPS.slice(0, at).split('\n').length;
    const check = coi(['check', 'latin1.coi'], { cwd: dir });
    assert.match(check.stderr, new RegExp(`coi check: warning: latin1\\.coi:${line}:6: invalid UTF-8 \\(byte 0xE9 at offset ${at + 5}\\); it is read as U\\+FFFD`));
    const exported = coi(['export', 'latin1.coi'], { cwd: dir });
    assert.match(exported.stderr, /coi export: warning: latin1\.coi:\d+:6: invalid UTF-8/);
    writeFileSync(join(dir, 'ok.coi'), `# café ✓\n${TWO_STEPS}`);
    const valid = coi(['check', 'ok.coi'], { cwd: dir });
    assert.equal(valid.code, 0, valid.stderr);
    assert.doesNotMatch(valid.stderr, /UTF-8/);
  });

  void it('a folder that cannot be created is an error, not an endless loop (/proc): --out of import, export, eval and dataset, the job folder, $COI_CACHE_DIR', { skip: existsSync('/proc/self') ? false : 'no /proc on this system' }, () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'r.json'), JSON.stringify([{ instruction: 'A. and then B.', input: 'x', output: 'Task 1 output and task 2 input: a\nTask 2 output: b' }]));
    writeFileSync(join(dir, 'ok.coi'), TWO_STEPS);
    writeFileSync(join(dir, 'tested.coi'), `${TWO_STEPS}\ntest "one" {\n  given article = "x"\n  expect output contains "x"\n}\n`);
    writeFileSync(join(dir, 'rows.jsonl'), JSON.stringify({ instruction: 'Summarize the text.', input: 'Rain fell.', output: 'It rained.' }) + '\n');
    const model = ['--model', tinyModelPath(), '--threads', '1', '--max-tokens', '2'];
    const cases: { argv: string[]; cwd?: string; env?: Record<string, string>; code: number; message: RegExp }[] = [
      { argv: ['import', 'r.json', '--out', '/proc/coi-x/y'], code: 2, message: /coi import: Cannot write into '\/proc\/coi-x\/y': no such file or directory\./ },
      { argv: ['export', 'ok.coi', '--out', '/proc/coi-x/y.json'], code: 2, message: /coi export: Cannot write '\/proc\/coi-x\/y\.json': no such file or directory\./ },
      {
        argv: ['eval', 'tested.coi', '--model', 'openai:tiny', '--base-url', 'http://127.0.0.1:9/v1', '--out', '/proc/coi-x/store'],
        env: { OPENAI_API_KEY: 'test-key' },
        code: 2,
        // /proc is dr-xr-xr-x: read-only to coi even for root (checkWritableFolder), before any mkdir.
        message: /coi eval: Cannot write the evaluation store '\/proc\/coi-x\/store': permission denied \(read-only\)\./,
      },
      { argv: ['dataset', 'build', 'rows.jsonl', '--out', '/proc/coi-x/set'], code: 2, message: /coi dataset: Cannot write the training set to '\/proc\/coi-x\/set': no such file or directory\./ },
      { argv: ['finetune', 'start', '--base', hfModelFolder(dir), '--data', join(dir, 'rows.jsonl')], cwd: '/proc', env: readyTrainingEnv(), code: 2, message: /coi finetune: Cannot create the job folder \/proc\/\.coi-jobs: no such file or directory\./ },
      // Setup looks for Python ≥ 3.10 before it makes the environment's folder.
      ...(hasPython() ? [{ argv: ['finetune', 'setup'], env: { COI_CACHE_DIR: '/proc/coi-x' }, code: 2, message: /coi finetune: Cannot create the folder '\/proc\/coi-x': no such file or directory\./ }] : []),
      // The run itself succeeds: only its record cannot be kept (and the step cache is passed over).
      { argv: ['run', 'ok.coi', '-i', 'x', ...model], env: { COI_CACHE_DIR: '/proc/coi-x' }, code: 0, message: /^Note: the step cache and the run record cannot be written \(\/proc\/coi-x: permission denied\): no answer of this run is kept for the next, and the run is not recorded \(\$COI_CACHE_DIR chooses the folder\)\.$/m },
    ];
    for (const { argv, cwd, env, code, message } of cases) {
      const result = coi(argv, { cwd: cwd ?? dir, env: { COI_MODEL: '', ...env }, timeoutMs: 60_000 });
      assert.notEqual(result.code, null, `${argv.join(' ')}: still running after 60 s (killed)`);
      assert.equal(result.code, code, `${argv.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assertNoTrace(result.stderr);
    }
  });

  void it('`coi help --help` shows the main help', () => {
    const r = coi(['help', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: coi COMMAND/m);
  });

  void it('--max-warnings and --threads take whole numbers only', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok.coi'), TWO_STEPS);
    const warnings = coi(['check', '--max-warnings', '1.5', 'ok.coi'], { cwd: dir });
    assert.equal(warnings.code, 2);
    assert.match(warnings.stderr, /--max-warnings must be a whole number of at least 0 \(got '1\.5'\)/);
    const threads = coi(['run', 'ok.coi', '-i', 'x', '--model', tinyModelPath(), '--threads', '0.5'], { cwd: dir });
    assert.equal(threads.code, 2);
    assert.match(threads.stderr, /--threads must be a whole number from 1 to 1024/);
  });

  void it('number options take decimal numbers only: 0x10, 0b1, 0o7, Infinity or blanks are refused, naming the option and the value', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok.coi'), TWO_STEPS);
    writeFileSync(join(dir, 'rows.jsonl'), ['a', 'b', 'c', 'd'].map((x) => JSON.stringify({ instruction: `Say ${x}.`, input: '', output: x })).join('\n') + '\n');
    const refusals: [string[], RegExp][] = [
      [['check', 'ok.coi', '--max-warnings', '0x10'], /--max-warnings must be a whole number of at least 0 \(got '0x10', not a decimal number\)/],
      [['check', 'ok.coi', '--max-warnings', '0b1'], /--max-warnings must be a whole number of at least 0 \(got '0b1', not a decimal number\)/],
      [['dataset', 'build', 'rows.jsonl', '--out', 'o', '--seed', '0o7'], /--seed must be a whole number from 0 to 4294967295 \(got '0o7', not a decimal number\)/],
      [['dataset', 'build', 'rows.jsonl', '--out', 'o', '--validation', ' 0.2'], /--validation must be a number from 0 to 0\.5 \(got ' 0\.2', not a decimal number\)/],
      [['run', 'ok.coi', '-i', 'x', '--model', 'openai:x', '--timeout', 'Infinity'], /--timeout must be a number from 0 to \d+ \(got 'Infinity', not a decimal number\)/],
      [['run', 'ok.coi', '-i', 'x', '--model', 'openai:x', '--max-tokens', '1_000'], /--max-tokens must be a whole number from 1 to 1000000 \(got '1_000'\)/],
    ];
    for (const [args, message] of refusals) {
      const r = coi(args, { cwd: dir });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.equal(existsSync(join(dir, 'o')), false);
    // What the docs write: signs, a decimal point with or without digits before it, exponents.
    assert.equal(coi(['check', 'ok.coi', '--max-warnings', '1e1'], { cwd: dir }).code, 0);
    const built = coi(['dataset', 'build', 'rows.jsonl', '--out', 'o', '--validation', '2.5e-1', '--seed', '+7', '--json'], { cwd: dir });
    assert.equal(built.code, 0, built.stderr);
    const { validationShare, seed, validation } = JSON.parse(built.stdout) as { validationShare: number; seed: number; validation: number };
    assert.deepEqual({ validationShare, seed, validation }, { validationShare: 0.25, seed: 7, validation: 1 });
    assert.equal(coi(['dataset', 'build', 'rows.jsonl', '--out', 'o', '--validation', '.5'], { cwd: dir }).code, 0);
  });

  void it('a value starting with "-" gets a hint to write --name=VALUE', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok.coi'), TWO_STEPS);
    const r = coi(['run', 'ok.coi', '--input', '- a bullet', '--model', 'openai:x'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /A value that starts with '-' goes after '=': "--input=- a bullet"\./);
    // The hint is not given when the next word is another option.
    const missing = coi(['run', 'ok.coi', '--input', '--json'], { cwd: dir });
    assert.match(missing.stderr, /Option --input needs a value \(NAME=VALUE\)\.\n/);
  });

  void it('--model naming a FIFO, a device, an empty, a cut-short or a corrupt GGUF, one of a GGUF version llama.cpp does not read, or a link loop says what it is (once), exit 2, nothing read or run', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok.coi'), TWO_STEPS);
    spawnSync('mkfifo', [join(dir, 'fifo.gguf')]);
    writeFileSync(join(dir, 'empty.gguf'), '');
    const whole = readFileSync(tinyModelPath());
    writeFileSync(join(dir, 'cut.gguf'), whole.subarray(0, 20));
    const changed = (name: string, change: (bytes: Buffer) => void): void => {
      const bytes = Buffer.from(whole);
      change(bytes);
      writeFileSync(join(dir, name), bytes);
    };
    changed('v99.gguf', (b) => b.writeUInt32LE(99, 4));
    changed('count.gguf', (b) => b.writeBigUInt64LE(2n ** 40n, 8));
    symlinkSync('loop.gguf', join(dir, 'loop.gguf'));
    for (const [model, why] of [
      ['fifo.gguf', 'is not a regular file \\(a FIFO\\)'],
      ['/dev/zero', 'is not a regular file \\(a character device\\)'],
      ['empty.gguf', 'the file is empty'],
      ['cut.gguf', 'the file is cut short \\(20 bytes; not a whole GGUF model\\)'],
      ['v99.gguf', 'GGUF version 99 is not supported by the bundled llama\\.cpp \\(it reads versions 2 and 3\\)'],
      ['count.gguf', `its header is corrupt at byte 8 \\(it declares 1099511627776 tensors, more than a file of ${whole.length} bytes can hold\\)`],
      ['loop.gguf', 'too many symbolic links \\(a link that points back to itself, directly or through others\\)'],
    ] as const) {
      const r = coi(['run', 'ok.coi', '-i', 'x', '--model', model, '--threads', '1'], { cwd: dir });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`--model: cannot read the model '[^']*${model.replace('.', '\\.')}': ${why}\\.`));
      assert.doesNotMatch(r.stderr, /Running|cannot be read/);
    }
  });

  void it("a model profile's missing GGUF is a usage error at the file:line of its path, before anything runs; an unused profile is not checked", () => {
    const dir = tempDir();
    const chain = (path: string, unused = ''): string =>
      `chain p\nmodel m {\n  provider local\n  path "${path}"\n  threads 1\n}\n${unused}input a: text\nstep s {\n  instruction "Say hi."\n}\n`;
    writeFileSync(join(dir, 'p.coi'), chain('models/missing.gguf'));
    const r = coi(['run', 'p.coi', '-i', 'x'], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /p\.coi:4:3: model profile 'm': cannot read the model 'models\/missing\.gguf': no such file or directory\./);
    assert.doesNotMatch(r.stderr, /Running/);
    assert.equal(existsSync(join(dir, '.coi-cache', 'runs')), false, 'no run record for a run that never started');
    // A second profile no step uses may name a file that is not there (yet).
    copyFileSync(tinyModelPath(), join(dir, 'tiny.gguf'));
    writeFileSync(join(dir, 'q.coi'), chain('tiny.gguf', 'model other {\n  provider local\n  path "elsewhere.gguf"\n}\n'));
    const ok = coi(['run', 'q.coi', '-i', 'x', '--max-tokens', '2'], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
  });

  void it('--model naming a missing GGUF (or a folder) is a usage error before anything runs; a --filter matching nothing fails', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok.coi'), TWO_STEPS);
    for (const [model, why] of [['missing.gguf', 'no such file or directory'], ['.', 'is a directory']] as const) {
      const r = coi(['run', 'ok.coi', '-i', 'x', '--model', model, '--threads', '1'], { cwd: dir });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`--model: cannot read the model '.*': ${why}`));
      assert.doesNotMatch(r.stderr, /Running/);
      assert.equal(existsSync(join(dir, '.coi-cache', 'runs')), false, 'no run record for a run that never started');
    }
    writeFileSync(join(dir, 'judged.coi'), TWO_STEPS + 'test "t" {\n  given article = "x"\n  expect summary judge "Is it short?"\n}\n');
    const filtered = coi(['test', 'judged.coi', '--model', tinyModelPath(), '--filter', 'no-such-test'], { cwd: dir });
    assert.equal(filtered.code, 1, filtered.stderr);
    assert.match(filtered.stderr, /coi test: no test name contains 'no-such-test'\./);
    const viaEnv = coi(['run', 'ok.coi', '-i', 'x'], { cwd: dir, env: { COI_MODEL: 'missing.gguf' } });
    assert.equal(viaEnv.code, 2);
    assert.match(viaEnv.stderr, /COI_MODEL: cannot read the model/);
    const judge = coi(['test', 'judged.coi', '--model', tinyModelPath(), '--threads', '1', '--judge-model', 'missing.gguf'], { cwd: dir });
    assert.equal(judge.code, 2, judge.stderr);
    assert.match(judge.stderr, /--judge-model: cannot read the model '.*missing\.gguf'/);
  });

  void it('import --test-set into a folder is refused; --test-set and export --out create missing folders', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'records.json'), RECORD);
    mkdirSync(join(dir, 'chains'));
    const intoDir = coi(['import', 'records.json', '--test-set', 'chains', '--force'], { cwd: dir });
    assert.equal(intoDir.code, 2);
    assert.match(intoDir.stderr, /--test-set 'chains' is a directory/);
    const nested = coi(['import', 'records.json', '--test-set', 'a/b/set.coi'], { cwd: dir });
    assert.equal(nested.code, 0, nested.stderr);
    assert.ok(existsSync(join(dir, 'a', 'b', 'set.coi')));
    const exported = coi(['export', 'a/b/set.coi', '--out', 'c/d/records.json'], { cwd: dir });
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal((JSON.parse(readFileSync(join(dir, 'c', 'd', 'records.json'), 'utf8')) as unknown[]).length, 1);
  });

  void it('a folder linked back to its parent is walked once; a file named with glob characters is taken as named', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'chains', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'chains', 'sub', 'two.coi'), TWO_STEPS);
    symlinkSync('..', join(dir, 'chains', 'sub', 'up'));
    for (const arg of ['chains', 'chains/**/*.coi']) {
      const r = coi(['check', arg], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^1 file checked: no problems\.$/m, `${arg}: ${r.stderr}`);
    }
    writeFileSync(join(dir, 'notes{v2}.coi'), TWO_STEPS);
    const literal = coi(['check', 'notes{v2}.coi'], { cwd: dir });
    assert.equal(literal.code, 0, literal.stderr);
  });

  void it('run: an input given twice, --profile without profiles and a bare openai: are usage errors', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok.coi'), TWO_STEPS);
    const twice = coi(['run', 'ok.coi', '-i', 'article=1', '-i', 'x', '--model', 'openai:x'], { cwd: dir });
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /Input 'article' is given twice/);
    // On a one-input chain, a misspelt NAME= is not silently taken as the text.
    const typo = coi(['run', 'ok.coi', '-i', 'artcle=@news.txt', '--model', 'openai:x'], { cwd: dir });
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /The chain has no input 'artcle' \(did you mean 'article'\?\); its input is article\./);
    const profile = coi(['run', 'ok.coi', '-i', 'x', '--profile', 'fast'], { cwd: dir });
    assert.equal(profile.code, 2);
    assert.match(profile.stderr, /--profile fast: the file declares no model profiles/);
    const bare = coi(['run', 'ok.coi', '-i', 'x', '--model', 'openai:'], { cwd: dir });
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /openai: needs a model id/);
  });

  void it('coi test: a broken file is reported (exit 2, an error suite in JUnit) and the other files still run; long outputs are cut in the text report', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'chains'));
    const good = [
      'chain good',
      'model tiny {',
      '  provider local',
      `  path ${JSON.stringify(tinyModelPath())}`,
      '  temperature 0',
      '  max_tokens 400',
      '}',
      'input article: text',
      'step summary {',
      '  instruction "Summarize the article."',
      '  output text',
      '}',
      'test "never" {',
      '  given article = "The cat sat on the mat."',
      '  expect summary contains "zzzz-never-written"',
      '}',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'chains', 'good.coi'), good);
    writeFileSync(join(dir, 'chains', 'bad.coi'), 'chain bad\nstep s {\n  instruction "x"\n  from nowhere\n}\n');
    const r = coi(['test', 'chains', '--threads', '1', '--no-cache', '--junit-file', 'out/junit.xml'], { cwd: dir, env: { COI_MODEL: '' } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /coi test: 'chains\/bad\.coi' has 1 error; fix it before running:\n  chains\/bad\.coi:4:8: error COI205/);
    assert.match(r.stderr, /0 passed, 1 failed — 1 test in 1 file; 1 file with errors not run\./);
    assert.match(r.stdout, /✗ chains\/good\.coi:13 never/);
    assert.match(r.stdout, /… \(\d+ more characters; --reporter json shows all\)/);
    const junit = readFileSync(join(dir, 'out', 'junit.xml'), 'utf8');
    assert.match(junit, /<testsuites name="coi test" tests="2" failures="1" errors="1">/);
    assert.match(junit, /<testsuite name="chains\/bad\.coi"[^>]*errors="1"[^>]*>\n\s+<testcase name="load"[^>]*>\n\s+<error message="'chains\/bad\.coi' has 1 error; fix it before running:">/);
    assert.ok(junit.indexOf('name="chains/good.coi"') < 0 && junit.includes('<testsuite name="good"'), 'the good file ran as its own suite');
  });

  void it('coi test interrupted by Ctrl-C: exit 130, the unfinished test is an error (cancelled), not a failure', async () => {
    ensureBundle();
    workerScriptPath();
    const dir = tempDir();
    writeFileSync(
      join(dir, 'long.coi'),
      ['chain long', 'input a: text', '', 'step story {', '  instruction "Write a very long story."', '}', '', 'test "story" {', '  given a = "x"', '  expect story contains "zzzz"', '}', ''].join('\n'),
    );
    const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), 'test', 'long.coi', '--model', tinyModelPath(), '--threads', '1', '--no-cache', '--junit-file', 'junit.xml'], {
      cwd: dir,
      env: { ...process.env, COI_DEBUG: '', COI_MODEL: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('▸ long.coi › story') && !stderr.includes('Cancelling')) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 130, stderr);
    assert.match(stdout, /✗ long\.coi:8 story \(.*\)\n    error: Cancelled \(Ctrl-C\) before the test finished\./);
    assert.match(readFileSync(join(dir, 'junit.xml'), 'utf8'), /failures="0" errors="1"/);
    assert.match(stderr, /0 passed, 0 failed, 1 error \(cancelled\)/);
  });

  void it('--timeout ends a model call to a server that never answers (no hang); bad values are usage errors', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok.coi'), TWO_STEPS);
    const bad = coi(['run', 'ok.coi', '-i', 'x', '--model', 'openai:tiny', '--timeout=soon'], { cwd: dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--timeout must be a number from 0 to \d+ \(got 'soon'\)/);
    const server = await startOpenAITestServer({ modelPath: tinyModelPath() });
    try {
      server.injectFaults([{ kind: 'stall' }, { kind: 'stall' }, { kind: 'stall' }, { kind: 'stall' }, { kind: 'stall' }]);
      const { code, stderr } = await coiAsync(['run', 'ok.coi', '-i', 'x', '--model', 'openai:tiny', '--base-url', server.baseURL, '--timeout', '0.5', '--no-cache'], {
        cwd: dir,
        env: { OPENAI_API_KEY: 'k' },
      });
      assert.equal(code, 1, stderr);
      assert.match(stderr, /✗ Step "summary": The server at http:\/\/127\.0\.0\.1:\d+\/v1 \(model tiny\) did not finish within 500 ms \(the time limit\); change the limit with --timeout SECONDS/);
      assertNoTrace(stderr);
    } finally {
      await server.close();
    }
  });

  void it('--mode composed on a model that writes no markers: said once, at the first step; the next refers to it (exit 1, JSON record valid)', () => {
    const dir = tempDir();
    const chain = TWO_STEPS.replace('input article: text', `model tiny {\n  provider local\n  path ${JSON.stringify(tinyModelPath())}\n  temperature 0\n  max_tokens 30\n}\ninput article: text`);
    writeFileSync(join(dir, 'composed.coi'), chain);
    const r = coi(['run', 'composed.coi', '-i', 'The cat sat.', '--mode', 'composed', '--threads', '1', '--no-cache'], { cwd: dir, env: { COI_MODEL: '' } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\n✗ summary: the composed output cannot be split: No step markers found: expected 'Task 1 output and task 2 input:' … 'Task 2 output:'\./);
    assert.match(r.stderr, /\n✗ title: the same error as summary\n/);
    assert.match(r.stderr, /\nFailed at steps summary, title \(their errors are above\): 2 steps, 0 cached, 1 model call, .*\. Record: \S+\.json\n$/);
    assert.equal(r.stderr.split('the composed output cannot be split').length, 2, `the missing markers said once:\n${r.stderr}`);
    const json = coi(['run', 'composed.coi', '-i', 'The cat sat.', '--mode', 'composed', '--threads', '1', '--json'], { cwd: dir, env: { COI_MODEL: '' } });
    assert.equal(json.code, 1);
    const record = JSON.parse(json.stdout) as { status: string; mode: string; steps: { status: string }[] };
    assert.equal(record.mode, 'composed');
    assert.deepEqual(record.steps.map((s) => s.status), ['failed', 'failed']);
  });

  void it('a server that refuses connections fails the step with the URL after bounded retries (exit 1)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok.coi'), TWO_STEPS);
    const r = coi(['run', 'ok.coi', '-i', 'x', '--model', 'openai:x', '--base-url', 'http://127.0.0.1:1/v1'], { cwd: dir, env: { OPENAI_API_KEY: 'k' } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /✗ Step "summary": Could not reach http:\/\/127\.0\.0\.1:1\/v1.*Is the server running and the base URL right\?\n/);
    assertNoTrace(r.stderr);
  });

  void it('a failed step\'s error is said once, on its ✗ line; the last line names the step (stepwise and composed)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok.coi'), TWO_STEPS);
    const run = (mode: string): ReturnType<typeof coi> => coi(['run', 'ok.coi', '-i', 'x', '--model', 'openai:x', '--base-url', 'http://127.0.0.1:1/v1', '--mode', mode], { cwd: dir, env: { OPENAI_API_KEY: 'k' } });
    const once = (stderr: string): void => assert.equal(stderr.split('Could not reach http://127.0.0.1:1/v1').length, 2, `the error said once:\n${stderr}`);

    const stepwise = run('stepwise');
    assert.equal(stepwise.code, 1, stepwise.stderr);
    once(stepwise.stderr);
    assert.match(stepwise.stderr, /\n▸ summary\n {2}✗ Step "summary": Could not reach http:\/\/127\.0\.0\.1:1\/v1: .*Is the server running and the base URL right\?\nFailed at step summary \(its error is above\): 1 step, 0 cached, 1 model call, [^\n]+\. Record: \S+\.json\n$/);

    const composed = run('composed');
    assert.equal(composed.code, 1, composed.stderr);
    once(composed.stderr);
    assert.match(composed.stderr, /\n✗ summary: The composed generation: Could not reach http:\/\/127\.0\.0\.1:1\/v1: .*\?\n✗ title: the same error as summary\nFailed at steps summary, title \(their errors are above\): 2 steps, [^\n]+\n$/);
  });

  void it('stops quietly when standard output is closed early (`| head`): exit 141, no stack trace', async () => {
    ensureBundle();
    const dir = tempDir();
    // Thousands of diagnostics (1,000 listed per file, so ten files): far more than a pipe buffer holds.
    for (let i = 0; i < 10; i++) writeFileSync(join(dir, `noisy${i}.coi`), 'chain noisy\n' + '@ stray\n'.repeat(2_000));
    const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), 'check', '.'], { cwd: dir, env: { ...process.env, COI_DEBUG: '' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy()); // the reader goes away
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 141, stderr);
    assertNoTrace(stderr);
  });

  void it('`coi run ... | head -1`: the run stops quietly at the closed output, exit 141, and keeps what finished (its record, the step cache)', async () => {
    ensureBundle();
    const dir = tempDir();
    writeFileSync(join(dir, 'two.coi'), TWO_STEPS);
    // The second step is answered only once the reader has gone: it never finishes (the output closes as it starts, or while its call waits).
    let readerGone: () => void = () => undefined;
    const gone = new Promise<void>((resolve) => (readerGone = resolve));
    const server = await startOpenAITestServer({
      reply: async ({ messages }) => {
        if (!messages.some((m) => m.content.includes('Write a title'))) return 'Summary.';
        await gone;
        return 'A title for the summary, word by word.';
      },
    });
    try {
      const args = ['run', 'two.coi', '-i', 'The cat sat.', '--model', 'openai:tiny', '--base-url', server.baseURL];
      const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), ...args], { cwd: dir, env: { ...process.env, COI_DEBUG: '', OPENAI_API_KEY: 'k' } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.once('data', () => {
        child.stdout.destroy(); // `head -1` has its line and goes away
        readerGone();
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 141, stderr);
      assertNoTrace(stderr);
      assert.match(stderr, /\n {2}✓ summary \(/);
      const saved = /\nStopped, standard output closed: 2 steps, 0 cached, [^\n]*\. The finished step is in the step cache: running the same command again reuses it\. Record: (\S+\.json)\n$/.exec(stderr);
      assert.ok(saved !== null, stderr);
      const record = JSON.parse(readFileSync(join(dir, saved[1]!), 'utf8')) as { status: string; steps: { id: string; status: string; output?: string }[] };
      assert.equal(record.status, 'cancelled');
      assert.deepEqual(record.steps.map((s) => [s.id, s.status, s.output]), [['summary', 'ok', 'Summary.'], ['title', 'cancelled', undefined]]);
      // The finished step was kept: the same command, not piped, asks the model for the title only.
      const before = server.chatRequests().length;
      const again = await coiAsync(args, { cwd: dir, env: { OPENAI_API_KEY: 'k' } });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /✓ summary \(cached/);
      assert.equal(server.chatRequests().length - before, 1);
    } finally {
      await server.close();
    }
  });

  void it('`coi test --junit-file r.xml | head -1`: the tests that finished are in the JUnit report (exit 141, no trace); a run whose every test finished is not said to be stopped', async () => {
    ensureBundle();
    const test = (name: string, input: string): string => `test "${name}" {\n  given article = "${input}"\n  expect summary equals "Summary."\n}\n`;
    /** `coi test` of the tests named, its standard output closed by its reader once the first test's line came; the second test answered only then. */
    const closedAfterFirst = async (tests: readonly [string, string][]): Promise<{ code: number | null; stderr: string; junit: string }> => {
      const dir = tempDir();
      writeFileSync(join(dir, 'two.coi'), TWO_STEPS.replace(/step title \{[^}]*\}\n/, '') + tests.map(([name, input]) => test(name, input)).join(''));
      let readerGone: () => void = () => undefined;
      const gone = new Promise<void>((resolve) => (readerGone = resolve));
      const server = await startOpenAITestServer({
        reply: async ({ messages }) => {
          if (messages.some((m) => m.content.includes('two'))) await gone;
          return 'Summary.';
        },
      });
      try {
        const args = ['test', 'two.coi', '--model', 'openai:tiny', '--base-url', server.baseURL, '--junit-file', 'report.xml'];
        const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), ...args], { cwd: dir, env: { ...process.env, COI_DEBUG: '', OPENAI_API_KEY: 'k' } });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.stdout.once('data', () => {
          child.stdout.destroy();
          readerGone();
        });
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        return { code, stderr, junit: readFileSync(join(dir, 'report.xml'), 'utf8') };
      } finally {
        await server.close();
      }
    };
    // The last test finishes, and the write of its line finds the reader gone: every test finished.
    const whole = await closedAfterFirst([['first', 'one'], ['second', 'two']]);
    assert.equal(whole.code, 141, whole.stderr);
    assertNoTrace(whole.stderr);
    assert.match(whole.stderr, /\n2 passed, 0 failed — 2 tests in 1 file\.\n$/);
    assert.match(whole.junit, /<testsuites [^>]*tests="2" failures="0" errors="0"/);
    assert.match(whole.junit, /<testcase [^>]*name="first"/);
    assert.match(whole.junit, /<testcase [^>]*name="second"/);
    // A test left to run: the run stopped there, and says so.
    const cut = await closedAfterFirst([['first', 'one'], ['second', 'two'], ['third', 'three']]);
    assert.equal(cut.code, 141, cut.stderr);
    assertNoTrace(cut.stderr);
    assert.match(cut.stderr, /\n2 passed, 0 failed \(stopped, standard output closed\) — 2 tests in 1 file\.\n$/);
    assert.match(cut.junit, /<testsuites [^>]*tests="2" failures="0" errors="0"/);
    assert.doesNotMatch(cut.junit, /name="third"/);
  });

  void it('`coi run ... > /dev/full`: the run stops at the failed write as a cancel does, says why in one line, exit 74, and keeps its record', { skip: !existsSync('/dev/full') && 'no /dev/full' }, async () => {
    ensureBundle();
    const dir = tempDir();
    writeFileSync(join(dir, 'two.coi'), TWO_STEPS);
    // The first output written fails (the summary's); the second step, should the run reach it, is answered only once the failure has been said: it never finishes.
    let writeFailed: () => void = () => undefined;
    const failed = new Promise<void>((resolve) => (writeFailed = resolve));
    const server = await startOpenAITestServer({
      reply: async ({ messages }) => {
        if (!messages.some((m) => m.content.includes('Write a title'))) return 'Summary.';
        await failed;
        return 'A title for the summary.';
      },
    });
    try {
      const args = ['run', 'two.coi', '-i', 'The cat sat.', '--model', 'openai:tiny', '--base-url', server.baseURL];
      const full = openSync('/dev/full', 'w');
      const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), ...args], { cwd: dir, env: { ...process.env, COI_DEBUG: '', OPENAI_API_KEY: 'k' }, stdio: ['ignore', full, 'pipe'] });
      closeSync(full);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('Cannot write the output')) writeFailed();
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 74, stderr);
      assertNoTrace(stderr);
      // Said once, in one line, and the run's own last line says where it stopped and where its record is.
      assert.deepEqual(stderr.match(/.*Cannot write the output.*/g), ['coi: Cannot write the output: no space left on device (ENOSPC).'], stderr);
      const saved = /\nStopped, standard output failed: \d steps?, 0 cached, [^\n]*\. Record: (\S+\.json)\n$/.exec(stderr);
      assert.ok(saved !== null, stderr);
      const record = JSON.parse(readFileSync(join(dir, saved[1]!), 'utf8')) as { status: string; steps: { id: string; status: string }[] };
      assert.equal(record.status, 'cancelled');
      assert.notEqual(record.steps.find((s) => s.id === 'title')?.status, 'ok');
    } finally {
      await server.close();
    }
  });

  void it('`coi check ... > /dev/full`: the failed write is said once, and the summary then says the report was not all written (exit 74); with nothing to report, nothing failed', { skip: !existsSync('/dev/full') && 'no /dev/full' }, async () => {
    ensureBundle();
    const dir = tempDir();
    writeFileSync(join(dir, 'broken.coi'), 'chain broken\nstep s {\n  instruction "x"\n  output text\n  from nowhere\n}\n');
    writeFileSync(join(dir, 'ok.coi'), TWO_STEPS);
    const checkToFull = async (files: readonly string[]): Promise<{ code: number | null; stderr: string }> => {
      const full = openSync('/dev/full', 'w');
      const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), 'check', ...files], { cwd: dir, env: { ...process.env, COI_DEBUG: '' }, stdio: ['ignore', full, 'pipe'] });
      closeSync(full);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      return { code, stderr };
    };
    const failed = await checkToFull(['broken.coi', 'ok.coi']);
    assert.equal(failed.code, 74, failed.stderr);
    assert.equal(failed.stderr, 'coi: Cannot write the output: no space left on device (ENOSPC).\nStopped, standard output failed: 1 error, 0 warnings in 1 file (2 files checked), not all written.\n');
    // No diagnostics: nothing is written, so nothing can fail (as `true > /dev/full`).
    const clean = await checkToFull(['ok.coi']);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stderr, '1 file checked: no problems.\n');
  });

  void it('`coi check ... | head -c 100`: the summary waits for the report to go out and says it was cut (exit 141); read whole, the usual summary', async () => {
    ensureBundle();
    const dir = tempDir();
    // Far more diagnostics than a pipe holds: the reader goes away while most of them are still to come.
    const steps = Array.from({ length: 250 }, (_, i) => `step s${i} {\n  instruction "x"\n  output text\n  from nowhere${i}\n}\n`).join('');
    for (let f = 0; f < 40; f++) writeFileSync(join(dir, `f${f}.coi`), `chain c${f}\n${steps}`);
    const check = async (readAll: boolean): Promise<{ code: number | null; stderr: string }> => {
      const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), 'check', '.'], { cwd: dir, env: { ...process.env, COI_DEBUG: '' } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.on('data', () => {
        if (!readAll) child.stdout.destroy(); // `head -c 100` has its bytes and goes away
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      return { code, stderr };
    };
    const cut = await check(false);
    assert.equal(cut.code, 141, cut.stderr);
    assertNoTrace(cut.stderr);
    assert.equal(cut.stderr, 'Stopped, standard output closed: 10000 errors, 0 warnings in 40 files (40 files checked), not all written.\n');
    const whole = await check(true);
    assert.equal(whole.code, 1, whole.stderr);
    assert.equal(whole.stderr, '10000 errors, 0 warnings in 40 files (40 files checked).\n');
  });

  void it('`coi dataset convert ... | head -c 100`: what is said afterwards is true, the output was cut (exit 141); read whole, `Converted N examples`', async () => {
    ensureBundle();
    const dir = tempDir();
    // Far more than a pipe holds: the reader goes away while most of it is still to come.
    const rows = Array.from({ length: 5_000 }, (_, i) => JSON.stringify({ instruction: `Summarize ${i} and then translate`, input: 'x'.repeat(100), output: 'Task 1 output and task 2 input: y\nTask 2 output: z' }));
    writeFileSync(join(dir, 'big.jsonl'), rows.join('\n') + '\n');
    const convert = async (readAll: boolean): Promise<{ code: number | null; stderr: string; read: number }> => {
      const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), 'dataset', 'convert', 'big.jsonl', '--to', 'openai-chat'], { cwd: dir, env: { ...process.env, COI_DEBUG: '' } });
      let stderr = '';
      let read = 0;
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.on('data', (d: Buffer) => {
        read += d.length;
        if (!readAll) child.stdout.destroy(); // `head -c 100` has its bytes and goes away
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      return { code, stderr, read };
    };
    const cut = await convert(false);
    assert.equal(cut.code, 141, cut.stderr);
    assertNoTrace(cut.stderr);
    assert.equal(cut.stderr, 'Stopped, standard output closed: 5000 examples converted from alpaca-jsonl to openai-chat, not all written.\n');
    const whole = await convert(true);
    assert.equal(whole.code, 0, whole.stderr);
    assert.equal(whole.stderr, 'Converted 5000 examples from alpaca-jsonl to openai-chat.\n');
    assert.ok(whole.read > cut.read, `${whole.read} > ${cut.read}`);
  });

  /** Interrupts a streaming run with `signal`: the exit code must be `code`, the record kept, the worker gone. */
  async function interruptMidRun(signal: 'SIGINT' | 'SIGTERM', code: number): Promise<void> {
    ensureBundle();
    workerScriptPath();
    const dir = tempDir();
    writeFileSync(join(dir, 'long.coi'), ['chain long', 'input a: text', '', 'step story {', '  instruction "Write a very long story."', '}', ''].join('\n'));
    const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), 'run', 'long.coi', '-i', 'x', '--model', tinyModelPath(), '--threads', '1', '--no-cache'], {
      cwd: dir,
      env: { ...process.env, COI_DEBUG: '', COI_MODEL: '' },
    });
    let stderr = '';
    let workerPid: number | undefined;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Once text streams, the worker is loaded and generating: find it, then interrupt.
    child.stdout.once('data', () => {
      const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' });
      workerPid = Number(ps.stdout.trim().split('\n')[0]);
      child.kill(signal);
    });
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(exitCode, code, stderr);
    assert.match(stderr, /Cancelled: /);
    assertNoTrace(stderr);
    const runs = readdirSync(join(dir, '.coi-cache', 'runs'));
    assert.equal(runs.length, 1);
    const record = JSON.parse(readFileSync(join(dir, '.coi-cache', 'runs', runs[0]!), 'utf8')) as { status: string };
    assert.equal(record.status, 'cancelled');
    assert.ok(workerPid !== undefined && Number.isInteger(workerPid) && workerPid > 0, 'the run had a worker process');
    // The worker exits with its parent (IPC disconnect); give it a bounded moment.
    const deadline = Date.now() + 10_000;
    while (alive(workerPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(workerPid), false, `worker ${workerPid} still running`);
  }

  void it('Ctrl-C mid-run: exit 130, the cancelled run is recorded, and the model worker process is gone', () => interruptMidRun('SIGINT', 130));

  void it('SIGTERM mid-run: exit 143 (not 130), still cancelled cleanly: record kept, worker gone', () => interruptMidRun('SIGTERM', 143));

  void it('a chain with no steps is a usage error, with no "Running ..." line before it', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'empty.coi'), 'chain empty\ninput a: text\n');
    const r = coi(['run', 'empty.coi', '-i', 'x', '--model', 'openai:tiny', '--base-url', 'http://127.0.0.1:1/v1'], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^coi run: 'empty\.coi' declares no steps: a chain needs at least one `step` block to run\./);
    assert.doesNotMatch(r.stderr, /Running /);
  });
});
