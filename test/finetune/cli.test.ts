// coi finetune on bad input: clear messages with locations and exit codes, no job left
// in a state it cannot leave. None of these needs Python.
import { strict as assert } from 'node:assert';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileAppears } from '../helpers/fileAppears';
import { test } from 'node:test';
import { cancelActiveJob, createJob, jobDir, listJobIds, LORA_DEFAULTS, PAPER_DEFAULTS, processStartIdentity, readConfig, readState, startNewJob, TRAINING_FILE, updateState, venvLocation, type JobState } from '../../core/finetune';
import { coi, coiAsync } from '../cli/cliProcess';
import { runCli } from '../../cli/cli';
import type { CliIO } from '../../cli/io';
import { repoPath } from '../helpers/paths';
import { partialPath } from '../../core/syntax/processes';
import { tempDir } from '../helpers/tempDir';
import { groupLeader, writeCancelledJob, writeCompletedJob } from '../helpers/jobFixture';
import { hfModelFolder, readyTrainingEnv } from '../helpers/finetuneInputs';
import { converterArgs, recordingConverter, standInLlamaCpp, standInVenv } from '../helpers/standInConverter';


const data = repoPath('test', 'fixtures', 'finetune', 'coi2-excerpt.jsonl');
/** A folder the pre-checks take for a Hugging Face model (it has a config.json). */
const model = hfModelFolder();

const usage: readonly { args: readonly string[]; code: number; message: RegExp }[] = [
  { args: ['finetune'], code: 2, message: /Name what to do: setup, start/ },
  { args: ['finetune', 'train'], code: 2, message: /Unknown finetune command 'train'/ },
  { args: ['finetune', 'start', '--data', data], code: 2, message: /Give a CONFIG file, or --base MODEL and --data FILE/ },
  { args: ['finetune', 'start', '--base', 'nowhere', '--data', data], code: 2, message: /Base model folder '[^']*nowhere' not found/ },
  { args: ['finetune', 'start', '--base', model, '--data', data, '--max-steps', '0'], code: 2, message: /--max-steps must be a whole number/ },
  { args: ['finetune', 'start', '--base', model, '--data', data, '--batch-size', '0'], code: 2, message: /--batch-size must be a whole number of at least 1 \(got '0'\)/ },
  { args: ['finetune', 'start', '--base', model, '--data', data, '--grad-accum', '0'], code: 2, message: /--grad-accum must be a whole number of at least 1 \(got '0'\)/ },
  { args: ['finetune', 'start', '--base', model, '--data', data, '--learning-rate', '1e99'], code: 2, message: /--learning-rate must be a number greater than 0 and at most 1 \(got '1e99'\)/ },
  { args: ['finetune', 'start', '--base', model, '--data', data, '--epochs', '1e400'], code: 2, message: /--epochs must be a number greater than 0 \(got '1e400', too large\)/ },
  // A bad option value is named before any file is looked at (here none of them exists).
  { args: ['finetune', 'start', '--epochs', '0x10', '--base', 'nowhere', '--data', 'nowhere.jsonl'], code: 2, message: /^coi finetune: --epochs must be a number greater than 0 \(got '0x10', not a decimal number\)/ },
  { args: ['finetune', 'start', 'missing.coi-finetune.json', '--gpus', '0', '--strategy', 'ddp'], code: 2, message: /^coi finetune: --gpus must be a whole number from 1 to 1024 \(got '0'\)/ },
  { args: ['finetune', 'start', '--base', data, '--data', data], code: 2, message: /Base model '[^']*coi2-excerpt\.jsonl' is a file, not a model folder/ },
  { args: ['finetune', 'start', '--base', model, '--data', '.'], code: 2, message: /Training data '[^']*' is a folder, not a file/ },
  { args: ['finetune', 'status'], code: 2, message: /Name the job to status/ },
  { args: ['finetune', 'resume', 'ft-none'], code: 2, message: /No job 'ft-none'/ },
  { args: ['finetune', 'start', 'missing.coi-finetune.json'], code: 2, message: /Cannot read 'missing.coi-finetune.json': no such file/ },
];

for (const c of usage) {
  void test(`coi ${c.args.join(' ')} → exit ${c.code}`, () => {
    const result = coi(c.args);
    assert.equal(result.code, c.code, result.stderr);
    assert.match(result.stderr, c.message);
  });
}

void test('a config file with mistakes is refused with file:line:column for each, and no job is created', () => {
  const workspace = tempDir();
  writeFileSync(join(workspace, 'run.coi-finetune.json'), '{\n  "baseModel": "m",\n  "data": "d.jsonl",\n  "method": "qlora",\n  "training": { "epochs": -1 }\n}\n');
  const result = coi(['finetune', 'start', 'run.coi-finetune.json'], { cwd: workspace });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /run\.coi-finetune\.json:4:3: error: 'method' must be "full" or "lora"/);
  assert.match(result.stderr, /run\.coi-finetune\.json:5:17: error: 'epochs' must be a number > 0/);
  assert.deepEqual(listJobIds(workspace), []);
});

void test('a CONFIG file that is not UTF-8 is refused at its first bad byte (FILE:LINE:COLUMN, exit 2), as coi dataset build refuses a source: no job is made', () => {
  const workspace = tempDir();
  // The folder the file's Latin-1 "modèles" would name once read as U+FFFD: without the refusal, the job would train on it.
  hfModelFolder(join(workspace, 'mod\uFFFDles'), 'base');
  const text = `{\n  "engine": "slurm",\n  "baseModel": "modèles/base",\n  "data": ${JSON.stringify(data)}\n}\n`;
  writeFileSync(join(workspace, 'latin1.coi-finetune.json'), Buffer.from(text, 'latin1'));
  const result = coi(['finetune', 'start', 'latin1.coi-finetune.json', '--dry-run'], { cwd: workspace, env: { COI_CACHE_DIR: tempDir() } });
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stderr, "coi finetune: latin1.coi-finetune.json:3:20: not UTF-8 text (byte 0xE8 there): read as U+FFFD, it would be written into the job's config so. Save it as UTF-8 (from Latin-1 or Windows-1252, e.g. iconv -f WINDOWS-1252 -t UTF-8). Nothing was written.\n");
  assert.equal(result.stdout, '', 'no job summary or batch script');
  assert.equal(existsSync(join(workspace, '.coi-jobs')), false);
});

void test('values that would make a job train nothing (0 epochs, a learning rate of 0, 0 steps) are refused with the valid range, before any job folder exists', () => {
  const refused: readonly [readonly string[], RegExp][] = [
    [['--epochs', '0'], /^coi finetune: --epochs must be a number greater than 0 \(got '0'\)/],
    [['--epochs=-1'], /--epochs must be a number greater than 0 \(got '-1'\)/],
    // A negative number after the option is its value, refused with the range as after '='.
    [['--max-steps', '-1'], /^coi finetune: --max-steps must be a whole number of at least 1 \(got '-1'\)/],
    [['--learning-rate', '-1e-5'], /^coi finetune: --learning-rate must be a number greater than 0 and at most 1 \(got '-1e-5'\)/],
    [['--learning-rate', '0'], /^coi finetune: --learning-rate must be a number greater than 0 and at most 1 \(got '0'\)/],
    [['--max-steps', '0'], /--max-steps must be a whole number of at least 1 \(got '0'\)/],
  ];
  for (const [options, message] of refused) {
    const workspace = tempDir();
    const result = coi(['finetune', 'start', '--base', model, '--data', data, ...options], { cwd: workspace, env: { COI_CACHE_DIR: tempDir() } });
    assert.equal(result.code, 2, `${options.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(existsSync(join(workspace, '.coi-jobs')), false, `${options.join(' ')}: no job folder`);
  }
  // The same values in a CONFIG file: each located, no job made.
  const workspace = tempDir();
  writeFileSync(join(workspace, 'zero.coi-finetune.json'), JSON.stringify({ baseModel: model, data, method: 'lora', training: { epochs: 0, learningRate: 0, maxSteps: 0, maxLength: 0, warmupRatio: 1 }, lora: { r: 0, alpha: 0 } }, null, 2));
  const result = coi(['finetune', 'start', 'zero.coi-finetune.json'], { cwd: workspace, env: { COI_CACHE_DIR: tempDir() } });
  assert.equal(result.code, 1, result.stderr);
  for (const expected of [/zero\.coi-finetune\.json:6:5: error: 'epochs' must be a number > 0\./, /:7:5: error: 'learningRate' must be a number > 0 and ≤ 1\./, /:8:5: error: 'maxSteps' must be a whole number ≥ 1\./, /:9:5: error: 'maxLength' must be a whole number ≥ 1\./, /:10:5: error: 'warmupRatio' must be a number ≥ 0 and < 1\./, /:13:5: error: 'r' must be a whole number > 0\./, /:14:5: error: 'alpha' must be a whole number > 0\./]) {
    assert.match(result.stderr, expected);
  }
  assert.equal(existsSync(join(workspace, '.coi-jobs')), false);
});

void test('--out (or a CONFIG\'s outputDir) that cannot be the output folder is refused before any job folder exists, and the check leaves nothing behind', () => {
  const workspace = tempDir();
  writeFileSync(join(workspace, 'notes.txt'), 'a file');
  const refused: readonly [string, RegExp][] = [
    ['notes.txt', /^coi finetune: --out '\S+notes\.txt' is a file, not a folder: give the folder for the trained model and its checkpoints\./],
    ['notes.txt/model', /^coi finetune: --out '\S+notes\.txt\/model' cannot be made or written: a parent is not a directory\./],
    // /proc is dr-xr-xr-x: no one may write it, root included (a non-root mkdir there is refused with these words too).
    ['/proc/coi-model/out', /^coi finetune: --out '\/proc\/coi-model\/out' cannot be made or written: permission denied\./],
    // A folder its owner made read-only, refused even for root (whom the file system would let write it).
    ['read-only/model', /^coi finetune: --out '\S+read-only\/model' cannot be made or written: permission denied\./],
  ];
  mkdirSync(join(workspace, 'read-only'));
  chmodSync(join(workspace, 'read-only'), 0o555);
  for (const [out, message] of refused) {
    const result = coi(['finetune', 'start', '--base', model, '--data', data, '--out', out], { cwd: workspace, env: { COI_CACHE_DIR: tempDir() } });
    assert.equal(result.code, 2, `${out}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(existsSync(join(workspace, '.coi-jobs')), false, `${out}: no job folder`);
  }
  assert.deepEqual(readdirSync(join(workspace, 'read-only')), [], 'nothing made in the read-only folder');
  writeFileSync(join(workspace, 'run.coi-finetune.json'), JSON.stringify({ baseModel: model, data, outputDir: 'notes.txt' }));
  const fromFile = coi(['finetune', 'start', 'run.coi-finetune.json'], { cwd: workspace, env: { COI_CACHE_DIR: tempDir() } });
  assert.equal(fromFile.code, 2, fromFile.stderr);
  assert.match(fromFile.stderr, /run\.coi-finetune\.json: outputDir '\S+notes\.txt' is a file, not a folder/);
  // A folder that can be made passes, and is not made by the check (the trainer makes it).
  const accepted = coi(['finetune', 'start', '--base', model, '--data', data, '--out', 'new/out'], { cwd: workspace, env: { COI_CACHE_DIR: tempDir() } });
  assert.match(accepted.stderr, /run 'coi finetune setup' first/, 'past the checks: the launch needs the training environment');
  assert.equal(existsSync(join(workspace, 'new')), false);
  assert.deepEqual(readdirSync(workspace).sort(), ['notes.txt', 'read-only', 'run.coi-finetune.json']);
});

void test('start without the training environment says to run setup before any job is made (no failed job that resume refuses for ever)', () => {
  for (const engine of ['trl', 'slurm']) {
    const workspace = tempDir();
    const result = coi(['finetune', 'start', '--engine', engine, '--base', model, '--data', data, '--max-steps', '1'], { cwd: workspace, env: { COI_CACHE_DIR: tempDir() } });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, engine === 'slurm' ? /^coi finetune: The training environment is not set up: run 'coi finetune setup' first \(on a path every node sees\)\.$/m : /^coi finetune: The training environment is not set up: run 'coi finetune setup' first\.$/m);
    assert.doesNotMatch(result.stderr, /^Job ft-/m, 'no job summary: no job');
    assert.equal(existsSync(join(workspace, '.coi-jobs')), false, `${engine}: no job folder`);
  }
});

void test('a job that sbatch refuses leaves no job folder behind, and says so', () => {
  const workspace = tempDir();
  const bin = tempDir();
  writeFileSync(join(bin, 'sbatch'), '#!/bin/sh\necho "sbatch: error: invalid partition specified: nope" >&2\nexit 1\n');
  writeFileSync(join(bin, 'scontrol'), '#!/bin/sh\necho "ClusterName = fake"\n');
  chmodSync(join(bin, 'sbatch'), 0o755);
  chmodSync(join(bin, 'scontrol'), 0o755);
  const result = coi(['finetune', 'start', '--engine', 'slurm', '--base', model, '--data', data, '--partition', 'nope'], { cwd: workspace, env: { ...readyTrainingEnv(), PATH: `${bin}:${process.env['PATH'] ?? ''}` } });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^coi finetune: sbatch \S+job\.sbatch failed: sbatch: error: invalid partition specified: nope\. Nothing was started: the job folder was removed\.$/m);
  assert.deepEqual(listJobIds(workspace), []);
  assert.deepEqual(readdirSync(join(workspace, '.coi-jobs')), [], 'nothing left in the jobs folder');
});

void test('a base model folder with no config.json is refused before any job (not a tokenizer error from the trainer later)', () => {
  const workspace = tempDir();
  mkdirSync(join(workspace, 'adir'));
  const result = coi(['finetune', 'start', '--base', 'adir', '--data', data, '--max-steps', '1', '--wait'], { cwd: workspace, env: readyTrainingEnv() });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /^coi finetune: Base model folder '\S+\/adir' has no config\.json \(not a Hugging Face model folder/m);
  assert.equal(existsSync(join(workspace, '.coi-jobs')), false);
  // The same in a CONFIG file, located by the file's name.
  writeFileSync(join(workspace, 'run.coi-finetune.json'), JSON.stringify({ baseModel: 'adir', data }));
  const fromFile = coi(['finetune', 'start', 'run.coi-finetune.json'], { cwd: workspace, env: readyTrainingEnv() });
  assert.equal(fromFile.code, 2, fromFile.stderr);
  assert.match(fromFile.stderr, /^coi finetune: run\.coi-finetune\.json: Base model folder '\S+\/adir' has no config\.json/m);
});

void test('--strategy/--gpus/--nodes go into the job config; --gpus without --strategy is a usage error', () => {
  const workspace = tempDir();
  const result = coi(['finetune', 'start', '--base', model, '--data', data, '--strategy', 'deepspeed-zero3', '--gpus', '8', '--nodes', '2'], { cwd: workspace, env: readyTrainingEnv() });
  assert.equal(result.code, 0, result.stderr); // a stand-in python: the job is started, its config kept
  const [id] = listJobIds(workspace);
  assert.ok(id !== undefined);
  assert.deepEqual(readConfig(jobDir(workspace, id)).distributed, { strategy: 'deepspeed-zero3', gpus: 8, nodes: 2 });
  const usage = coi(['finetune', 'start', '--base', model, '--data', data, '--gpus', '2'], { cwd: workspace });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--gpus and --nodes go with --strategy/);
});

// Data that cannot train is refused before a job exists, for every engine (the Python would crash seconds later).
const unreadableData: readonly { name: string; file: string; bytes: string | Buffer; message: RegExp }[] = [
  { name: 'an empty file', file: 'empty.data', bytes: '', message: /empty\.data: no training example could be read \(the file is empty\)/ },
  { name: 'truncated JSON', file: 'truncated.data', bytes: '[{"instruction": "Summarise", "input": "x", "out', message: /truncated\.data:1:\d+: no training example could be read: invalid JSON: [^.]*[^.]\.$/m },
  { name: 'a binary file', file: 'binary.data', bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x0a, 0x00]), message: /binary\.data: no training example could be read: it is a binary file/ },
  // Decoded as usual, its é would become U+FFFD and be trained on without a word.
  { name: 'a Latin-1 file', file: 'latin1.data', bytes: Buffer.from('{"prompt": "Summarise.", "completion": "ok"}\n{"prompt": "café", "completion": "x"}\n', 'latin1'), message: /latin1\.data:2:16: the training data is not UTF-8 text \(byte 0xE9 there\): save it as UTF-8/ },
];
for (const c of unreadableData) {
  void test(`start with ${c.name} as --data is refused and no job is created`, () => {
    const workspace = tempDir();
    writeFileSync(join(workspace, c.file), c.bytes);
    const result = coi(['finetune', 'start', '--base', model, '--data', c.file], { cwd: workspace, env: { COI_CACHE_DIR: tempDir() } });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, c.message);
    assert.doesNotMatch(result.stderr, /Started job/);
    assert.deepEqual(listJobIds(workspace), []);
  });
}

void test('the job converts data of any dataset format into prompt-completion JSONL in its folder, and its config says from where', () => {
  const chatFile = join(tempDir(), 'chat.jsonl');
  const rows = readFileSync(data, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { prompt: string; completion: string });
  const chat = rows.map((r) => JSON.stringify({ messages: [{ role: 'user', content: 'Summarise.' }, { role: 'assistant', content: r.completion }] })).join('\n') + '\n';
  writeFileSync(chatFile, chat + '{"messages": 3}\n');
  for (const [file, format, examples] of [[data, 'trl-prompt-completion', rows.length], [chatFile, 'openai-chat', rows.length]] as const) {
    const workspace = tempDir();
    // A stand-in python: the job starts after its data was converted, and trains nothing.
    const result = coi(['finetune', 'start', '--base', model, '--data', file], { cwd: workspace, env: readyTrainingEnv() });
    assert.equal(result.code, 0, result.stderr);
    const id = listJobIds(workspace)[0] ?? '';
    const config = readConfig(jobDir(workspace, id));
    assert.equal(config.trainingData?.file, join(jobDir(workspace, id), TRAINING_FILE));
    assert.equal(config.trainingData?.format, format);
    assert.equal(config.trainingData?.examples, examples);
    assert.match(result.stderr, new RegExp(`Data: \\S+ \\(${format}, ${examples} examples`));
    const converted = readFileSync(config.trainingData?.file ?? '', 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { prompt: string; completion: string });
    assert.deepEqual(converted.map((r) => r.completion), rows.map((r) => r.completion));
    if (format === 'trl-prompt-completion') assert.deepEqual(converted, rows, 'prompt-completion rows are copied as they were');
    else {
      assert.match(converted[0]?.prompt ?? '', /### Instruction:\nSummarise\.\n\n### Response:\n$/, 'other formats get the Alpaca prompt the paper trained with');
      assert.match(result.stderr, /left out {2}\S*chat\.jsonl:25: "messages" must be a list of messages/);
    }
  }
});

void test('--engine together with --max-steps is a usage error before any job or question', () => {
  const workspace = tempDir();
  writeFileSync(join(workspace, 'train.jsonl'), readFileSync(data));
  const result = coi(['finetune', 'start', '--engine', 'together', '--base', 'some/model', '--data', 'train.jsonl', '--max-steps', '5', '--yes'], { cwd: workspace, env: { TOGETHER_API_KEY: 'k', TOGETHER_BASE_URL: 'http://127.0.0.1:9/v1' } });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /Together trains whole epochs and has no step limit/);
  assert.doesNotMatch(result.stderr, /this uploads your training data/);
  assert.deepEqual(listJobIds(workspace), []);
});

void test('a Together config file with several mistakes gets every one in one go, each at its line and column (file order), the epochs among them', () => {
  const workspace = tempDir();
  writeFileSync(join(workspace, 'train.jsonl'), readFileSync(data));
  writeFileSync(join(workspace, 't.coi-finetune.json'), '{\n  "engine": "together",\n  "baseModel": "org/model",\n  "data": "train.jsonl",\n  "outputDir": "out",\n  "training": { "epochs": 1.5, "saveSteps": 10, "maxSteps": 5 }\n}\n');
  const env = { TOGETHER_API_KEY: 'k', TOGETHER_BASE_URL: 'http://127.0.0.1:9/v1' };
  const result = coi(['finetune', 'start', 't.coi-finetune.json', '--yes'], { cwd: workspace, env });
  assert.equal(result.code, 1, result.stderr);
  assert.equal(
    result.stderr,
    [
      `coi finetune: t.coi-finetune.json:5:3: error: 'outputDir' does not go with "engine": "together" (the result is downloaded into the job folder): leave it out.`,
      't.coi-finetune.json:6:17: error: Together trains whole epochs: epochs must be a whole number ≥ 1, not 1.5.',
      `t.coi-finetune.json:6:32: error: 'saveSteps' does not go with "engine": "together" (the service saves its own checkpoints): leave it out.`,
      't.coi-finetune.json:6:49: error: Together trains whole epochs and has no step limit: leave out maxSteps (--max-steps) and set epochs instead.',
      '',
    ].join('\n'),
  );
  // A local job's file started on Together from the command line: its epochs too, unless --epochs sets them.
  const local = (extra: readonly string[]): string => coi(['finetune', 'start', 't.coi-finetune.json', '--engine', 'together', '--yes', ...extra], { cwd: workspace, env }).stderr;
  writeFileSync(join(workspace, 't.coi-finetune.json'), '{ "baseModel": "org/model", "data": "train.jsonl", "outputDir": "out", "training": { "epochs": 0.5 } }\n');
  assert.match(local([]), /^coi finetune: t\.coi-finetune\.json:1:52: error: 'outputDir' [^\n]*\nt\.coi-finetune\.json:1:86: error: Together trains whole epochs: epochs must be a whole number ≥ 1, not 0\.5\.\n$/);
  assert.doesNotMatch(local(['--epochs', '2']), /epochs must/);
  assert.deepEqual(listJobIds(workspace), []);
});

void test('coi finetune start --engine together without TOGETHER_API_KEY is a usage error (exit 2, as a missing key in coi run), before any upload or job', () => {
  const workspace = tempDir();
  writeFileSync(join(workspace, 'train.jsonl'), readFileSync(data));
  const result = coi(['finetune', 'start', '--engine', 'together', '--base', 'm', '--data', 'train.jsonl'], { cwd: workspace, env: { TOGETHER_API_KEY: '' } });
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stderr, "coi finetune: No Together API key: set TOGETHER_API_KEY in the environment. Nothing was uploaded.\nRun 'coi finetune --help' for usage.\n");
  assert.deepEqual(listJobIds(workspace), []);
});

void test('a Together config file with keys only the local and Slurm engines read is refused at each key (file:line:column), before any question, upload or job', () => {
  const workspace = tempDir();
  writeFileSync(join(workspace, 'train.jsonl'), readFileSync(data));
  writeFileSync(join(workspace, 'run.coi-finetune.json'), '{\n  "engine": "together",\n  "baseModel": "org/model",\n  "data": "train.jsonl",\n  "outputDir": "model",\n  "distributed": { "strategy": "ddp", "gpus": 2 },\n  "training": { "saveSteps": 10 }\n}\n');
  const env = { TOGETHER_API_KEY: 'k', TOGETHER_BASE_URL: 'http://127.0.0.1:9/v1' };
  const result = coi(['finetune', 'start', 'run.coi-finetune.json', '--yes'], { cwd: workspace, env });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^coi finetune: run\.coi-finetune\.json:5:3: error: 'outputDir' does not go with "engine": "together" \(the result is downloaded into the job folder\): leave it out\.$/m);
  assert.match(result.stderr, /^run\.coi-finetune\.json:6:3: error: 'distributed' does not go with "engine": "together" \(the service chooses the hardware\): leave it out\.$/m);
  assert.match(result.stderr, /^run\.coi-finetune\.json:7:17: error: 'saveSteps' does not go with "engine": "together" \(the service saves its own checkpoints\): leave it out\.$/m);
  // A local job's file started on Together from the command line.
  writeFileSync(join(workspace, 'local.coi-finetune.json'), '{ "baseModel": "org/model", "data": "train.jsonl", "outputDir": "model" }\n');
  const switched = coi(['finetune', 'start', 'local.coi-finetune.json', '--engine', 'together', '--yes'], { cwd: workspace, env });
  assert.equal(switched.code, 1, switched.stderr);
  assert.match(switched.stderr, /^coi finetune: local\.coi-finetune\.json:1:52: error: 'outputDir' does not go with --engine together \(the result is downloaded into the job folder\): leave it out\.$/m);
  for (const output of [result.stderr, switched.stderr]) assert.doesNotMatch(output, /this uploads your training data|Uploading/);
  assert.deepEqual(listJobIds(workspace), []);
});

void test('a job folder that cannot be made is exit 2 with the folder and why, not an internal error', () => {
  const workspace = tempDir();
  writeFileSync(join(workspace, '.coi-jobs'), 'a file where the jobs folder should be');
  const result = coi(['finetune', 'start', '--base', model, '--data', data], { cwd: workspace, env: readyTrainingEnv() });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /Cannot create the job folder \S*\.coi-jobs\S*: (a parent is not a directory|already exists)\./);
  assert.doesNotMatch(result.stderr, /internal error/);
});

void test('CONFIG with options: the options override the file\'s keys, and the summary says which', () => {
  const workspace = tempDir();
  writeFileSync(join(workspace, 'run.coi-finetune.json'), JSON.stringify({ baseModel: model, data, method: 'full', training: { maxSteps: 50, learningRate: 0.001, perDeviceBatchSize: 2 } }));
  const result = coi(['finetune', 'start', 'run.coi-finetune.json', '--method', 'lora', '--max-steps', '3', '--learning-rate', '0.5'], { cwd: workspace, env: readyTrainingEnv() });
  assert.equal(result.code, 0, result.stderr); // a stand-in python: the job is started, its config kept
  const config = readConfig(jobDir(workspace, listJobIds(workspace)[0] ?? ''));
  assert.equal(config.method, 'lora');
  assert.equal(config.training.maxSteps, 3);
  assert.equal(config.training.learningRate, 0.5);
  assert.equal(config.training.perDeviceBatchSize, 2, 'keys no option names stay the file\'s');
  assert.match(result.stderr, /Over run\.coi-finetune\.json, from the command line: --method, --max-steps, --learning-rate/);
  const missingBase = coi(['finetune', 'start', 'run.coi-finetune.json', '--base', '../nonexist'], { cwd: workspace });
  assert.equal(missingBase.code, 2);
  assert.match(missingBase.stderr, /Base model folder '[^']*nonexist' not found/);
});

void test('list shows the other jobs when one job folder has a broken state.json, and names it unreadable with why', () => {
  const workspace = tempDir();
  const good = writeCompletedJob(workspace).state.id;
  for (const [id, text] of [['ft-0-empty', ''], ['ft-0-cut', '{bad'], ['ft-0-bogus', '{"id": "ft-0-bogus", "status": "bogus"}']] as const) {
    mkdirSync(jobDir(workspace, id), { recursive: true });
    writeFileSync(join(jobDir(workspace, id), 'state.json'), text);
    writeFileSync(join(jobDir(workspace, id), 'config.json'), '{}');
  }
  const list = coi(['finetune', 'list'], { cwd: workspace });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`^${good}  completed`, 'm'));
  assert.match(list.stdout, /^ft-0-empty {2}unreadable — \S+ft-0-empty\/state\.json cannot be read: not valid JSON/m);
  assert.match(list.stdout, /^ft-0-cut {2}unreadable — \S+ft-0-cut\/state\.json cannot be read: not valid JSON/m);
  assert.match(list.stdout, /^ft-0-bogus {2}unreadable — \S+state\.json is not a job state: its "status" is "bogus"/m);
  const json = JSON.parse(coi(['finetune', 'list', '--json'], { cwd: workspace }).stdout) as (JobState | { id: string; folder: string; unreadable: string })[];
  assert.deepEqual(json.map((e) => ('unreadable' in e ? `${e.id} unreadable` : e.id)).sort(), [good, 'ft-0-bogus unreadable', 'ft-0-cut unreadable', 'ft-0-empty unreadable'].sort());
  const status = coi(['finetune', 'status', 'ft-0-cut'], { cwd: workspace });
  assert.equal(status.code, 2);
  assert.match(status.stderr, /Job 'ft-0-cut': \S+state\.json cannot be read: not valid JSON/);
});

void test('logs --json prints the job, its log file and its lines', () => {
  const workspace = tempDir();
  const id = writeCompletedJob(workspace).state.id;
  const log = join(jobDir(workspace, id), 'log');
  assert.equal(existsSync(log), false);
  assert.deepEqual(JSON.parse(coi(['finetune', 'logs', id, '--json'], { cwd: workspace }).stdout), { job: id, log, lines: [] });
  writeFileSync(log, 'loading\nKeyError: \'text\'\n');
  const result = coi(['finetune', 'logs', id, '--json'], { cwd: workspace });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { job: id, log, lines: ['loading', "KeyError: 'text'"] });
});

void test('gguf --out refuses to write over a file that is not a GGUF, the job\'s own files or a folder; an existing GGUF elsewhere may be replaced', () => {
  const workspace = tempDir();
  const env = { COI_CACHE_DIR: tempDir() }; // no training environment: a GGUF --out that is allowed stops there
  const { folder, state } = writeCompletedJob(workspace);
  mkdirSync(state.resultDir ?? '', { recursive: true });
  const trainingData = join(folder, TRAINING_FILE);
  writeFileSync(trainingData, '{"prompt": "p", "completion": "c"}\n');
  const baseGguf = join(folder, 'base-f16.gguf');
  writeFileSync(baseGguf, 'GGUF base model');
  const refused: readonly [string, RegExp][] = [
    [trainingData, /exists and is not a GGUF file: nothing was written/],
    [baseGguf, /is one of job \S+'s own files, not its converted model/],
    [workspace, /is a folder: give the GGUF file to write/],
  ];
  for (const [out, message] of refused) {
    const result = coi(['finetune', 'gguf', state.id, '--out', out], { cwd: workspace, env });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
  }
  assert.equal(readFileSync(trainingData, 'utf8'), '{"prompt": "p", "completion": "c"}\n');
  assert.equal(readFileSync(baseGguf, 'utf8'), 'GGUF base model');
  assert.equal(readState(folder).ggufPath, state.ggufPath, 'the job still names its own GGUF');
  const elsewhere = join(tempDir(), 'old.gguf');
  writeFileSync(elsewhere, 'GGUF older conversion');
  const replaced = coi(['finetune', 'gguf', state.id, '--out', elsewhere], { cwd: workspace, env });
  assert.equal(replaced.code, 1, replaced.stderr);
  assert.match(replaced.stderr, /training environment is not set up/, 'an existing GGUF passes the check and the conversion is attempted');
});

void test('finetune eval names its own options and commands when refusing, and refuses before any store starts', () => {
  const workspace = tempDir();
  const env = { COI_CACHE_DIR: tempDir() };
  const { folder, state } = writeCompletedJob(workspace);
  const evalRun = (...options: string[]): ReturnType<typeof coi> => coi(['finetune', 'eval', state.id, '--data', data, ...options], { cwd: workspace, env });
  const missingGguf = evalRun();
  assert.equal(missingGguf.code, 2, missingGguf.stderr);
  assert.match(missingGguf.stderr, new RegExp(`GGUF \\S+model-f16\\.gguf is missing \\(moved or deleted\\): run 'coi finetune gguf ${state.id}'`));
  writeFileSync(state.ggufPath ?? '', 'GGUF tuned model');
  const json = join(workspace, 'small.json');
  writeFileSync(json, '{}');
  const refused: readonly [readonly string[], RegExp][] = [
    [['--base-gguf', 'nothere.gguf'], /^coi finetune: --base-gguf: cannot read '\S+nothere\.gguf': no such file/],
    [['--base-gguf', json], /^coi finetune: --base-gguf '\S+small\.json' is not a GGUF file/],
    [['--base-gguf', workspace], /^coi finetune: --base-gguf '\S+' is a folder/],
    [['--threads', '0'], /^coi finetune: --threads must be a whole number from 1 to 1024 \(got '0'\)[^]*coi finetune --help/],
    [['--max-tokens', '0'], /^coi finetune: --max-tokens must be a whole number from 1 to 1000000 \(got '0'\)[^]*coi finetune --help/],
    [[], /^coi finetune: The base model folder \S+\/Qwen\/Qwen2\.5-0\.5B is missing \(moved or deleted\)[^]*--base-gguf FILE/],
  ];
  for (const [options, message] of refused) {
    const result = evalRun(...options);
    assert.equal(result.code, 2, `${options.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /--model|coi eval/, 'no option or command the user did not use');
  }
  assert.equal(existsSync(join(folder, 'eval')), false, 'no evaluation store was started');
});

void test('a CONFIG file that is not valid JSON is located with its control characters written visibly; a binary one is exit 2', () => {
  const workspace = tempDir();
  writeFileSync(join(workspace, 'esc.coi-finetune.json'), '{"baseModel": \u001b[31mRED\u001b[0m}');
  const escaped = coi(['finetune', 'start', 'esc.coi-finetune.json'], { cwd: workspace });
  assert.equal(escaped.code, 1, escaped.stderr);
  assert.match(escaped.stderr, /^coi finetune: esc\.coi-finetune\.json:1:15: error: Not valid JSON: Unexpected token '\\u001b'\.$/m);
  assert.doesNotMatch(escaped.stderr, /\u001b/, 'no raw escape byte reaches the terminal');
  writeFileSync(join(workspace, 'bin.coi-finetune.json'), Buffer.from([0x00, 0x01, 0x7b, 0x0a]));
  const binary = coi(['finetune', 'start', 'bin.coi-finetune.json'], { cwd: workspace });
  assert.equal(binary.code, 2, binary.stderr);
  assert.match(binary.stderr, /^coi finetune: Cannot read 'bin\.coi-finetune\.json': it is a binary file/m);
  assert.equal(existsSync(join(workspace, '.coi-jobs')), false);
});

void test('options a subcommand or an engine would ignore, and extra arguments, are refused naming where they go', () => {
  const workspace = tempDir();
  const { state } = writeCompletedJob(workspace);
  const id = state.id;
  const start = ['finetune', 'start', '--base', model, '--data', data];
  const together = ['finetune', 'start', '--engine', 'together', '--base', 'org/model', '--data', data];
  const refused: readonly [readonly string[], RegExp][] = [
    [['finetune', 'status', id, '--wait'], /^coi finetune: --wait goes with 'coi finetune start' and 'coi finetune resume', not with 'coi finetune status'\.$/m],
    [['finetune', 'cancel', id, '--wait'], /--wait goes with 'coi finetune start' and 'coi finetune resume', not with 'coi finetune cancel'/],
    [['finetune', 'list', '--epochs', '3'], /--epochs goes with 'coi finetune start', not with 'coi finetune list'/],
    [[...start, '--threads', '1', '--mode', 'both', '--outtype', 'q8_0'], /^--threads goes with 'coi finetune eval', not with 'coi finetune start' \(it is the CPU threads of the local models in an evaluation; training uses every CPU it is given\)\.$/m],
    [[...start, '--threads', '1', '--mode', 'both', '--outtype', 'q8_0'], /^(coi finetune: )?--mode goes with 'coi finetune eval', not with 'coi finetune start'\.$/m],
    [[...start, '--threads', '1', '--mode', 'both', '--outtype', 'q8_0'], /^(coi finetune: )?--outtype goes with 'coi finetune gguf', not with 'coi finetune start'\.$/m],
    [[...together, '--strategy', 'ddp', '--gpus', '2'], /--strategy does not go with --engine together \(the service chooses the hardware\)/],
    [[...together, '--save-steps', '5'], /--save-steps does not go with --engine together \(the service saves its own checkpoints\)/],
    [[...together, '--out', 'model'], /--out does not go with --engine together/],
    [[...start, '--yes'], /--yes goes with --engine together \(it confirms the upload\); a trl job uploads nothing/],
    [['finetune', 'status', id, 'b'], /^coi finetune: 'coi finetune status' takes one JOB: 'b' is one too many\.$/m],
    [['finetune', 'list', 'extra'], /'coi finetune list' takes no argument: 'extra' is one too many/],
    [['finetune', 'start', 'f.coi-finetune.json', 'extra.json'], /'coi finetune start' takes one CONFIG file at most: 'extra\.json' is one too many/],
    [['finetune', 'gguf', id, '--wait'], /--wait goes with 'coi finetune start' and 'coi finetune resume', not with 'coi finetune gguf'/],
  ];
  for (const [argv, message] of refused) {
    const result = coi(argv, { cwd: workspace, env: { ...readyTrainingEnv(), TOGETHER_API_KEY: 'k', TOGETHER_BASE_URL: 'http://127.0.0.1:9/v1' } });
    assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message, argv.join(' '));
  }
  assert.deepEqual(listJobIds(workspace), [id], 'no job was made');
  // The combinations the help and the docs show still pass this check (they stop later, at the job id).
  const shown: readonly (readonly string[])[] = [
    ['finetune', 'resume', 'ft-none', '--wait', '--json'],
    ['finetune', 'gguf', 'ft-none', '--outtype', 'q8_0', '--out', 'x.gguf', '--json'],
    ['finetune', 'eval', 'ft-none', '--data', data, '--threads', '1', '--mode', 'both', '--template', 'chat', '--max-tokens', '8', '--json'],
    ['finetune', 'status', 'ft-none', '--json'],
    ['finetune', 'logs', 'ft-none', '--json'],
  ];
  for (const argv of shown) {
    const result = coi(argv, { cwd: workspace });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /No job 'ft-none'/, argv.join(' '));
  }
});

void test('the refusals name the option the value came from, point a .coi file to coi dataset build, and say what COI_PYTHON names', () => {
  const workspace = tempDir();
  const time = coi(['finetune', 'start', '--engine', 'slurm', '--base', model, '--data', data, '--time', '4:00:00 x'], { cwd: workspace });
  assert.equal(time.code, 2, time.stderr);
  assert.match(time.stderr, /^coi finetune: --time must be one word \(no spaces\)\.$/m);
  writeFileSync(join(workspace, 'x.coi'), '# A chain\n');
  const chain = coi(['finetune', 'start', '--base', model, '--data', 'x.coi'], { cwd: workspace, env: readyTrainingEnv() });
  assert.equal(chain.code, 1, chain.stderr);
  assert.match(chain.stderr, /x\.coi: no training example could be read: a \.coi file is a chain, not training data; 'coi dataset build \S+x\.coi --out DIR' makes a dataset from it/);
  assert.doesNotMatch(chain.stderr, /invalid JSON/);
  const setup = coi(['finetune', 'setup'], { cwd: workspace, env: { COI_PYTHON: '/nonexistent/python3', COI_CACHE_DIR: tempDir() } });
  assert.equal(setup.code, 1, setup.stderr);
  assert.match(setup.stderr, /COI_PYTHON names '\/nonexistent\/python3', which is missing or cannot be run as Python/);
  assert.doesNotMatch(setup.stderr, /none was found on PATH/);
  assert.equal(existsSync(join(workspace, '.coi-jobs')), false);
});

void test('--dry-run prints the job summary, then the script for the folder the job would go in, and makes nothing; --json gives both', () => {
  const workspace = tempDir();
  const argv = ['finetune', 'start', '--engine', 'slurm', '--base', model, '--data', data, '--max-steps', '1', '--dry-run'];
  const text = coi(argv, { cwd: workspace, env: { COI_CACHE_DIR: tempDir() } });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stderr, /^Job (ft-\S+) \(not made\):\n {2}Engine: slurm\n[\s\S]* {2}Training: 1 step at most, 3 epochs,[\s\S]*Dry run: nothing was made or submitted\. The script names \S+\.coi-jobs\/ft-\S+, the folder this job would go in \(it does not exist\)\./);
  assert.match(text.stderr, /The training environment is not set up/, 'said, not refused: nothing is submitted');
  const id = /^Job (ft-\S+)/.exec(text.stderr)?.[1] ?? '?';
  assert.match(text.stdout, new RegExp(`^#!/bin/bash\\n[\\s\\S]*#SBATCH --output=\\S+/\\.coi-jobs/${id}/log`));
  const json = coi([...argv, '--json'], { cwd: workspace, env: { COI_CACHE_DIR: tempDir() } });
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { dryRun: boolean; folder: string; summary: string; script: string; config: { training: { maxSteps: number } } };
  assert.equal(parsed.dryRun, true);
  assert.match(parsed.summary, /^Engine: slurm\n/);
  assert.match(parsed.script, /^#!\/bin\/bash\n/);
  assert.ok(parsed.script.includes(parsed.folder));
  assert.equal(parsed.config.training.maxSteps, 1);
  assert.equal(existsSync(join(workspace, '.coi-jobs')), false, 'nothing made');
});

void test("an empty COI_CACHE_DIR counts as unset, an empty XDG_CACHE_HOME too: the Slurm script runs the training environment's Python from coi-studio/ in the cache folder, not from python/ of the working folder", () => {
  const workspace = tempDir();
  const argv = ['finetune', 'start', '--engine', 'slurm', '--base', model, '--data', data, '--dry-run'];
  const python = (cache: string): RegExp => new RegExp(`exec ${join(cache, 'coi-studio', 'python').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[0-9a-f]{16}/bin/python `);
  const xdg = tempDir();
  const fromXdg = coi(argv, { cwd: workspace, env: { COI_CACHE_DIR: '', XDG_CACHE_HOME: xdg } });
  assert.equal(fromXdg.code, 0, fromXdg.stderr);
  assert.match(fromXdg.stdout, python(xdg));
  const home = tempDir();
  const fromHome = coi(argv, { cwd: workspace, env: { COI_CACHE_DIR: '', XDG_CACHE_HOME: '', HOME: home } });
  assert.equal(fromHome.code, 0, fromHome.stderr);
  assert.match(fromHome.stdout, python(join(home, '.cache')));
});

void test('a path with a line break is refused before it reaches the Slurm batch script (it would end its #SBATCH line and run the rest): the workspace, --out', () => {
  for (const name of ['ws\ntouch PWNED #', 'ws\rtouch PWNED #']) {
    const workspace = join(tempDir(), name);
    mkdirSync(workspace);
    const result = coi(['finetune', 'start', '--engine', 'slurm', '--base', model, '--data', data, '--dry-run'], { cwd: workspace, env: { COI_CACHE_DIR: tempDir() } });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`^coi finetune: The workspace "[^"]*${JSON.stringify(name).slice(1, -1).replace(/\\/g, '\\\\')}" holds a line break, which would end its line of the Slurm batch script and run the rest as a command: use a path without one \\(rename the folder\\)\\.$`, 'm'));
    assert.equal(result.stdout, '', 'no script is printed');
    assert.equal(existsSync(join(workspace, '.coi-jobs')), false, 'nothing made');
    assert.equal(existsSync(join(workspace, 'PWNED')), false);
  }
  const workspace = tempDir();
  const out = coi(['finetune', 'start', '--engine', 'slurm', '--base', model, '--data', data, '--out', 'model\n#SBATCH --qos=x', '--dry-run'], { cwd: workspace, env: { COI_CACHE_DIR: tempDir() } });
  assert.equal(out.code, 2, out.stderr);
  assert.match(out.stderr, /^coi finetune: The output folder \(outputDir, --out\) "\S+\/model\\n#SBATCH --qos=x" holds a line break/m);
  assert.equal(out.stdout, '');
});

void test('--dry-run with a one-row data file says "1 example", and "1 unreadable row"', () => {
  const workspace = tempDir();
  const [first = ''] = readFileSync(data, 'utf8').split('\n');
  writeFileSync(join(workspace, 'one.jsonl'), `${first}\n{"prompt": 3}\n`);
  const result = coi(['finetune', 'start', '--engine', 'slurm', '--base', model, '--data', 'one.jsonl', '--dry-run'], { cwd: workspace, env: { COI_CACHE_DIR: tempDir() } });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /\n {2}Data: \S+one\.jsonl \(trl-prompt-completion, 1 example, 1 unreadable row left out; /);
});

void test('gguf checks before converting: a model folder moved or deleted, an --out folder that cannot be written', () => {
  const workspace = tempDir();
  const env = readyTrainingEnv();
  const { state } = writeCompletedJob(workspace);
  const gone = coi(['finetune', 'gguf', state.id], { cwd: workspace, env });
  assert.equal(gone.code, 2, gone.stderr);
  assert.match(gone.stderr, new RegExp(`^coi finetune: Job ${state.id}'s model folder \\S+output/final is missing \\(moved or deleted\\): there is nothing to convert\\.$`, 'm'));
  assert.doesNotMatch(gone.stderr, /Converting/);
  mkdirSync(state.resultDir ?? '', { recursive: true });
  writeFileSync(join(workspace, 'notes.txt'), 'a file');
  const outs: readonly [string, number, RegExp][] = [
    ['notes.txt/model.gguf', 2, /^coi finetune: --out '\S+notes\.txt\/model\.gguf': '\S+notes\.txt' is a file, not a folder; nothing was converted\.$/m],
    ...(existsSync('/proc/self') ? [['/proc/x.gguf', 2, /^coi finetune: --out '\/proc\/x\.gguf': its folder '\/proc' cannot be made or written: [^;]+; nothing was converted\.$/m] as [string, number, RegExp]] : []),
  ];
  for (const [out, code, message] of outs) {
    const result = coi(['finetune', 'gguf', state.id, '--out', out], { cwd: workspace, env });
    assert.equal(result.code, code, result.stderr);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /Converting/);
  }
});

/**
 * A completed job in `workspace` trained on `baseModel`, not converted yet: its result a LoRA
 * adapter (an adapter_config.json) or a full model (a config.json).
 */
function unconvertedJob(workspace: string, baseModel: string, method: 'lora' | 'full'): { id: string; folder: string; resultDir: string } {
  const created = createJob(workspace, { engine: 'trl', baseModel, data, method, training: PAPER_DEFAULTS, ...(method === 'lora' ? { lora: LORA_DEFAULTS } : {}) });
  const folder = jobDir(workspace, created.id);
  const resultDir = join(folder, 'output', 'final');
  mkdirSync(resultDir, { recursive: true });
  writeFileSync(join(resultDir, method === 'lora' ? 'adapter_config.json' : 'config.json'), method === 'lora' ? '{"peft_type": "LORA"}\n' : '{"model_type": "llama"}\n');
  updateState(folder, 'running', { pid: 999_999 });
  updateState(folder, 'completed', { resultDir });
  return { id: created.id, folder, resultDir };
}

void test("gguf (and eval) of a LoRA job whose base model folder was moved says so before converting: the folder, and what to do", () => {
  const workspace = tempDir();
  // The stand-in converter and Python: without the check, the conversion would start and fail in the converter's words.
  const env = standInLlamaCpp(tempDir(), 'process.exit(1);\n');
  standInVenv(env);
  const baseModel = hfModelFolder(tempDir());
  const { id, folder } = unconvertedJob(workspace, baseModel, 'lora');
  rmSync(baseModel, { recursive: true });
  const message = `^coi finetune: Job ${id}'s LoRA adapter is converted with the base model it was trained on, and the base model folder ${baseModel} is missing \\(moved or deleted\\): put it back there \\(or a link to where it is now\\), or give the folder where it is now: 'coi finetune gguf ${id} --base DIR'\\. Nothing was converted\\.$`;
  for (const args of [['gguf', id], ['eval', id, '--data', data]]) {
    const result = coi(['finetune', ...args], { cwd: workspace, env });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(message, 'm'));
    assert.doesNotMatch(result.stderr, /Converting/);
  }
  assert.deepEqual(readdirSync(folder).filter((name) => name.endsWith('.gguf')), []);
  assert.equal(readState(folder).ggufPath, undefined);
});

void test("gguf --base DIR converts a LoRA job's adapter with the base model found there, in place of the recorded folder that was moved; eval reuses that GGUF", () => {
  const workspace = tempDir();
  const record = join(tempDir(), 'converter-args.json');
  const env = standInLlamaCpp(tempDir(), recordingConverter(record));
  standInVenv(env);
  const baseModel = hfModelFolder(tempDir());
  const { id, folder, resultDir } = unconvertedJob(workspace, baseModel, 'lora');
  // The base moved into the workspace: given relative to it, as every path of coi is.
  const moved = join(workspace, 'models', 'base');
  cpSync(baseModel, moved, { recursive: true });
  rmSync(baseModel, { recursive: true });
  const result = coi(['finetune', 'gguf', id, '--base', 'models/base'], { cwd: workspace, env });
  assert.equal(result.code, 0, result.stderr);
  const gguf = join(folder, 'adapter-f16.gguf');
  assert.equal(result.stdout, `${gguf} (LoRA adapter: load it on ${moved} converted to GGUF)\n`);
  const args = converterArgs(record) ?? [];
  assert.equal(args[0], resultDir, 'the adapter is converted');
  assert.equal(args[args.indexOf('--base') + 1], moved, 'with the base model given, not the recorded one');
  assert.equal(readState(folder).ggufPath, gguf, "the job's GGUF");
  // eval takes the adapter's GGUF as converted; only the base model's own GGUF still needs its folder.
  rmSync(record);
  const evaluated = coi(['finetune', 'eval', id, '--data', data], { cwd: workspace, env });
  assert.equal(evaluated.code, 2, evaluated.stderr);
  assert.match(evaluated.stderr, new RegExp(`^coi finetune: The base model folder ${baseModel} is missing \\(moved or deleted\\), so it cannot be converted to GGUF: give the folder where it is now with --base DIR, or its GGUF with --base-gguf FILE\\.$`, 'm'));
  assert.equal(converterArgs(record), undefined, 'nothing converted again');
});

void test("eval --base DIR converts a LoRA job's adapter with that base model (before its evaluation), as gguf --base does", () => {
  const workspace = tempDir();
  const record = join(tempDir(), 'converter-args.json');
  const env = standInLlamaCpp(tempDir(), recordingConverter(record, { fails: true }));
  standInVenv(env);
  const baseModel = hfModelFolder(tempDir());
  const { id, folder, resultDir } = unconvertedJob(workspace, baseModel, 'lora');
  const moved = hfModelFolder(tempDir(), 'downloaded-base');
  rmSync(baseModel, { recursive: true });
  const result = coi(['finetune', 'eval', id, '--data', data, '--base', moved], { cwd: workspace, env });
  // The stand-in converter fails once it has recorded what it was given: no evaluation runs.
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^coi finetune: convert_lora_to_gguf\.py failed \(exit 1\)/m);
  const args = converterArgs(record) ?? [];
  assert.equal(args[0], resultDir);
  assert.equal(args[args.indexOf('--base') + 1], moved);
  assert.equal(readState(folder).ggufPath, undefined);
});

void test('gguf/eval --base that is not a model folder (missing, a file, no config.json) is refused before converting (exit 2), as start --base is; eval --resume refuses it', () => {
  const workspace = tempDir();
  const record = join(tempDir(), 'converter-args.json');
  const env = standInLlamaCpp(tempDir(), recordingConverter(record));
  standInVenv(env);
  const baseModel = hfModelFolder(tempDir());
  const { id, folder } = unconvertedJob(workspace, baseModel, 'lora');
  rmSync(baseModel, { recursive: true });
  writeFileSync(join(workspace, 'notes.txt'), 'a file');
  mkdirSync(join(workspace, 'empty'));
  const cases: readonly [string, string][] = [
    ['nowhere', `Base model folder '${join(workspace, 'nowhere')}' not found \\(a Hugging Face model folder: config\\.json, weights, tokenizer\\)`],
    ['notes.txt', `Base model '${join(workspace, 'notes.txt')}' is a file, not a model folder \\(a Hugging Face model folder: config\\.json, weights, tokenizer\\)`],
    ['empty', `Base model folder '${join(workspace, 'empty')}' has no config\\.json \\(not a Hugging Face model folder: config\\.json, weights, tokenizer\\)`],
  ];
  for (const [given, why] of cases) {
    for (const sub of [['gguf', id], ['eval', id, '--data', data]]) {
      const result = coi(['finetune', ...sub, '--base', given], { cwd: workspace, env });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`^coi finetune: --base: ${why}\\. Nothing was converted\\.$`, 'm'));
      assert.doesNotMatch(result.stderr, /Converting/);
    }
  }
  const resumed = coi(['finetune', 'eval', id, '--resume', 'store', '--base', 'empty'], { cwd: workspace, env });
  assert.equal(resumed.code, 2, resumed.stderr);
  assert.match(resumed.stderr, /^coi finetune: --resume continues the evaluation as it was started \(its eval\.json says what and how\): --base cannot be given with it/m);
  assert.equal(converterArgs(record), undefined, 'the converter never ran');
  assert.deepEqual(readdirSync(folder).filter((name) => name.endsWith('.gguf')), []);
  assert.equal(readState(folder).ggufPath, undefined);
});

void test('gguf --base on a full fine-tune is refused (exit 2): its model is converted on its own, with no base', () => {
  const workspace = tempDir();
  const record = join(tempDir(), 'converter-args.json');
  const env = standInLlamaCpp(tempDir(), recordingConverter(record));
  standInVenv(env);
  const { id, folder, resultDir } = unconvertedJob(workspace, hfModelFolder(tempDir()), 'full');
  const result = coi(['finetune', 'gguf', id, '--base', hfModelFolder(tempDir())], { cwd: workspace, env });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, new RegExp(`^coi finetune: --base gives the base model a LoRA adapter is converted with, and job ${id}'s result is a full model \\(${resultDir}\\), converted on its own: give no --base\\. Nothing was converted\\.$`, 'm'));
  assert.equal(converterArgs(record), undefined, 'the converter never ran');
  assert.equal(readState(folder).ggufPath, undefined);
});

void test("gguf reads a relative base model in a job's config.json against the CLI's working folder (io.cwd), where the trainer reads it, not the process's", async () => {
  const workspace = tempDir();
  assert.notEqual(process.cwd(), workspace);
  const record = join(tempDir(), 'converter-args.json');
  const env = standInLlamaCpp(tempDir(), recordingConverter(record));
  standInVenv(env);
  // `start` records the base absolute; a config.json written by hand may name it relative to the workspace.
  const { id, folder, resultDir } = unconvertedJob(workspace, join('models', 'base'), 'lora');
  const base = hfModelFolder(join(workspace, 'models'), 'base');
  let stderr = '';
  const io: CliIO = { stdout: () => undefined, stderr: (text) => void (stderr += text), cwd: workspace, env, readStdin: () => Promise.resolve(Buffer.alloc(0)) };
  const code = await runCli(['finetune', 'gguf', id], io);
  assert.equal(code, 0, stderr);
  const args = converterArgs(record) ?? [];
  assert.equal(args[0], resultDir, 'the adapter is converted');
  assert.equal(args[args.indexOf('--base') + 1], base, 'with the base model under the workspace');
  assert.equal(readState(folder).ggufPath, join(folder, 'adapter-f16.gguf'));
});

void test('eval --base where nothing would read it (a whole model or a converted adapter, and the base GGUF given or kept) is refused (exit 2), saying why, before the folder is checked', () => {
  const workspace = tempDir();
  const env = { COI_CACHE_DIR: tempDir() };
  const whole = writeCompletedJob(workspace);
  writeFileSync(whole.state.ggufPath ?? '', 'GGUF tuned model');
  const baseGguf = join(tempDir(), 'base.gguf');
  writeFileSync(baseGguf, 'GGUF base model');
  const lora = unconvertedJob(workspace, hfModelFolder(tempDir()), 'lora');
  const adapterGguf = join(lora.folder, 'adapter-f16.gguf');
  writeFileSync(adapterGguf, 'GGUF adapter');
  updateState(lora.folder, 'completed', { ggufPath: adapterGguf });
  const evalRun = (id: string, ...options: string[]): ReturnType<typeof coi> => coi(['finetune', 'eval', id, '--data', data, '--base', 'nowhere', ...options], { cwd: workspace, env });
  const refusal = (id: string, why: string): RegExp => new RegExp(`^coi finetune: --base is the base model folder that a LoRA adapter is converted with and the base model's GGUF is converted from; job ${id} ${why}, so nothing reads it: give no --base\\. Nothing was evaluated\\.$`, 'm');
  const wholeModel = 'trained a whole model \\(its result is a model of its own\\)';
  const given = "--base-gguf gives the base model's GGUF";
  // A whole model's base is still read for the base model's own GGUF: --base is checked (and would be used).
  const read = evalRun(whole.state.id);
  assert.equal(read.code, 2, read.stderr);
  assert.match(read.stderr, /^coi finetune: --base: Base model folder '\S+nowhere' not found/m);
  const keptBase = join(whole.folder, 'base-f16.gguf');
  const cases: readonly [string, readonly string[], RegExp][] = [
    [whole.state.id, ['--base-gguf', baseGguf], refusal(whole.state.id, `${wholeModel} and ${given}`)],
    [lora.id, ['--base-gguf', baseGguf], refusal(lora.id, `has its LoRA adapter as GGUF already \\(${adapterGguf}\\) and ${given}`)],
  ];
  for (const [id, options, message] of cases) {
    const result = evalRun(id, ...options);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
  }
  writeFileSync(keptBase, 'GGUF base model, converted before');
  const kept = evalRun(whole.state.id);
  assert.equal(kept.code, 2, kept.stderr);
  assert.match(kept.stderr, refusal(whole.state.id, `${wholeModel} and keeps its base model's GGUF \\(${keptBase}: delete it to convert the base again\\)`));
  for (const folder of [whole.folder, lora.folder]) assert.equal(existsSync(join(folder, 'eval')), false, 'no evaluation store was started');
});

void test("the editor's Start (startNewJob, core) removes a Slurm job that sbatch refused, as the CLI does", async () => {
  const workspace = tempDir();
  const bin = tempDir();
  writeFileSync(join(bin, 'sbatch'), '#!/bin/sh\necho "sbatch: error: Batch job submission failed: Invalid account" >&2\nexit 1\n');
  chmodSync(join(bin, 'sbatch'), 0o755);
  const { id } = createJob(workspace, { engine: 'slurm', baseModel: model, data, method: 'full', training: PAPER_DEFAULTS });
  await assert.rejects(startNewJob(id, { workspace, env: { ...readyTrainingEnv(), PATH: `${bin}:${process.env['PATH'] ?? ''}` } }), /Invalid account\. Nothing was started: the job folder was removed\./);
  assert.deepEqual(listJobIds(workspace), []);
});

/** Processes whose command line names `folder` after --job-dir: the trainers of that job (Linux's /proc). */
function trainersOf(folder: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`\0--job-dir\0${folder}\0`);
      } catch {
        return false; // ended meanwhile
      }
    })
    .map(Number);
}

void test('a trainer whose start cannot be recorded (state.json not written, as on a full disk) is stopped before its job folder is removed: none is left running without a job', { skip: existsSync('/proc/self/cmdline') ? false : 'reads /proc' }, async (t) => {
  const workspace = tempDir();
  const env = readyTrainingEnv();
  writeFileSync(venvLocation(env).python, '#!/bin/sh\nsleep 600\n'); // a trainer that would run for minutes
  const { id } = createJob(workspace, { engine: 'trl', baseModel: model, data, method: 'full', training: PAPER_DEFAULTS });
  const dir = jobDir(workspace, id);
  t.after(() => trainersOf(dir).forEach((pid) => process.kill(-pid, 'SIGKILL'))); // a trainer leads its own process group
  // state.json is replaced through its temporary, state.json.partial-HOST-PID: a folder there makes that write fail, after the trainer was spawned.
  mkdirSync(partialPath(join(dir, 'state.json')));
  await assert.rejects(startNewJob(id, { workspace, env }), /^FinetuneError: The trainer \(pid \d+\) started, but job ft-\S+'s state\.json could not be written \([^)]+\): it was stopped at once, before it trained anything\. Nothing is left running: the job folder was removed\.$/);
  assert.deepEqual(trainersOf(dir), [], 'no trainer of the job runs');
  assert.deepEqual(listJobIds(workspace), []);
});

void test('coi finetune SUB --help shows that subcommand\'s usage and only the options it takes', () => {
  const setup = coi(['finetune', 'setup', '--help']);
  assert.equal(setup.code, 0, setup.stderr);
  assert.match(setup.stdout, /^coi finetune setup — Make the Python training environment[^\n]*\n\nUsage: coi finetune setup \[--json\]\n/);
  assert.deepEqual(setup.stdout.match(/^ {2}(-\w, )?\s*--[\w-]+/gm)?.map((o) => o.trim()), ['--json', '-h, --help']);
  const gguf = coi(['finetune', 'gguf', '--help']);
  assert.match(gguf.stdout, /--outtype/);
  assert.doesNotMatch(gguf.stdout, /--threads|--wait|Together model name/);
  assert.match(gguf.stdout, /--base DIR +A LoRA job's base model folder, in place of\s+the one the job recorded/);
  assert.match(gguf.stdout, /coi finetune gguf ft-\S+ --outtype q8_0/, 'its example');
  // An option's value before the subcommand is not taken for it.
  const start = coi(['finetune', '--engine', 'slurm', 'start', '--help']);
  assert.match(start.stdout, /^coi finetune start — /);
  // A subcommand that does not exist: the usage error, as without --help, not the whole help.
  const unknown = coi(['finetune', 'train', '--help']);
  assert.equal(unknown.code, 2, unknown.stdout);
  assert.equal(unknown.stdout, '');
  assert.match(unknown.stderr, /^coi finetune: Unknown finetune command 'train': the commands are setup, start, /);
  const whole = coi(['finetune', '--help']);
  assert.match(whole.stdout, /^coi finetune — Fine-tuning jobs: set up, start \(TRL, Slurm or Together; full or LoRA\), follow, cancel, resume, list, convert to GGUF, evaluate against the base\./);
  assert.match(whole.stdout, /--threads[\s\S]*--outtype/, 'every option');
});

void test("coi finetune SUB --help describes each option as that subcommand takes it, in its words only; the whole help names each subcommand's", () => {
  /** An option's help text, its lines joined. */
  const described = (help: string, option: string): string => {
    const match = new RegExp(`^ {2}(?:-\\w, )? *--${option}\\b([^\\n]*(?:\\n {8,}[^\\n]*)*)`, 'm').exec(help);
    assert.ok(match !== null, `--${option} in:\n${help}`);
    return (match[1] ?? '').replace(/\s+/g, ' ').trim();
  };
  const help = (sub: string): string => coi(['finetune', sub, '--help']).stdout;
  assert.equal(described(help('gguf'), 'out'), 'FILE The GGUF file to write (default: model-TYPE.gguf or adapter-TYPE.gguf in the job folder); an existing GGUF there is replaced.');
  assert.equal(described(help('start'), 'out'), 'DIR The output folder of the model and checkpoints (default: in the job folder).');
  assert.equal(described(help('eval'), 'data'), "FILE The held-out records to evaluate on: the paper's records, JSON or JSONL (default: the validation file beside the job's training data).");
  assert.match(described(help('start'), 'data'), /^FILE Training data in any dataset format/);
  assert.equal(described(help('setup'), 'json'), 'Print the training environment as JSON on standard output: {"python", "dir"}.');
  assert.equal(described(help('logs'), 'json'), 'Print {"job", "log", "lines"} on standard output: the job, its log file and its lines.');
  assert.equal(described(help('status'), 'json'), 'Print the job state as JSON on standard output.');
  assert.match(described(help('eval'), 'context'), /^TOKENS Context size of the local models/);
  // No subcommand's help speaks of another subcommand's use of an option.
  for (const sub of ['setup', 'start', 'status', 'logs', 'cancel', 'resume', 'list', 'gguf', 'eval']) {
    assert.doesNotMatch(help(sub).split('\nOptions:\n')[1] ?? '', /\b(setup|start|status|logs|cancel|resume|list|gguf|eval): /, `coi finetune ${sub} --help`);
  }
  const whole = coi(['finetune', '--help']).stdout;
  assert.match(described(whole, 'out'), /^PATH start: the output folder of the model and checkpoints \(default: in the job folder\)\. gguf: the GGUF file to write/);
  assert.match(described(whole, 'partition'), /^NAME start --engine slurm: sbatch --partition\.$/);
  assert.match(described(whole, 'wait'), /^start, resume: follow the job to its end/);
});

void test('a .coi-jobs that is a file: list and status say so (exit 2), not an internal error', () => {
  const workspace = tempDir();
  writeFileSync(join(workspace, '.coi-jobs'), 'x\n');
  for (const args of [['finetune', 'list'], ['finetune', 'status', 'foo'], ['finetune', 'cancel', 'foo']]) {
    const result = coi(args, { cwd: workspace });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, /^coi finetune: \S+\/\.coi-jobs is not a directory: it is a file where coi keeps its fine-tuning jobs/);
    assert.doesNotMatch(result.stderr, /internal error|ENOTDIR/);
  }
});

void test('a job folder without state.json is listed as unreadable, and status, cancel and resume on it exit 2 with why', () => {
  const workspace = tempDir();
  const { state } = writeCompletedJob(workspace);
  rmSync(join(jobDir(workspace, state.id), 'state.json'));
  const list = coi(['finetune', 'list'], { cwd: workspace });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`^${state.id} {2}unreadable — \\S+/state\\.json is missing`, 'm'));
  const json = JSON.parse(coi(['finetune', 'list', '--json'], { cwd: workspace }).stdout) as unknown[];
  assert.deepEqual(json, [{ id: state.id, folder: jobDir(workspace, state.id), unreadable: `${join(jobDir(workspace, state.id), 'state.json')} is missing: the job folder holds no job state (it was deleted, or the folder is not a job's).` }]);
  for (const sub of ['status', 'cancel', 'resume']) {
    const result = coi(['finetune', sub, state.id], { cwd: workspace });
    assert.equal(result.code, 2, `${sub}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`^coi finetune: Job '${state.id}': \\S+/state\\.json is missing`), sub);
  }
});

/** Whether a process runs (not a zombie: one the test has not reaped yet still answers a signal 0). */
function running(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '');
}

void test('a copied job folder is listed under its own name as unreadable, and cancelling it never reaches the original job\'s process', { skip: processStartIdentity(process.pid) === undefined ? 'reads /proc' : false }, (t) => {
  const workspace = tempDir();
  const { state } = writeCompletedJob(workspace);
  const original = jobDir(workspace, state.id);
  const launcher = groupLeader(t);
  // The original job, running: its launcher's process group is the one Cancel signals.
  writeFileSync(join(original, 'state.json'), JSON.stringify({ ...readState(original), status: 'running', pid: launcher, pidStart: processStartIdentity(launcher) }));
  cpSync(original, jobDir(workspace, 'ft-copy'), { recursive: true });
  const list = coi(['finetune', 'list'], { cwd: workspace });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`^ft-copy {2}unreadable — \\S+ft-copy/state\\.json is not a job state: it belongs to job "${state.id}", not to ft-copy`, 'm'));
  assert.match(list.stdout, new RegExp(`^${state.id} {2}running step 40/40`, 'm'));
  assert.equal(list.stdout.split('\n').filter((line) => line.startsWith(`${state.id} `)).length, 1, 'the original is listed once');
  for (const sub of ['status', 'cancel', 'resume']) {
    const result = coi(['finetune', sub, 'ft-copy'], { cwd: workspace });
    assert.equal(result.code, 2, `${sub}: ${result.stderr}`);
    assert.match(result.stderr, /^coi finetune: Job 'ft-copy': \S+state\.json is not a job state: it belongs to job/, sub);
  }
  assert.equal(running(launcher), true, "the original job's process was not signalled");
  assert.equal(readState(original).status, 'running');
});

void test('cancel on a job that has already ended says so on standard error with why it ended and where its log is, and exits 1, as resume refuses', () => {
  const workspace = tempDir();
  const completed = writeCompletedJob(workspace);
  const cancelled = writeCancelledJob(workspace, 5);
  const failed = writeCancelledJob(workspace, 3, new Date('2026-12-03T10:00:00Z'));
  updateState(failed.folder, 'queued');
  updateState(failed.folder, 'failed', { message: 'out of memory' });
  const expected: readonly (readonly [string, string, string])[] = [
    [completed.state.id, 'completed', `Job ${completed.state.id} already completed. Nothing to cancel.`],
    [cancelled.state.id, 'cancelled', `Job ${cancelled.state.id} already cancelled: Cancelled by the user. Nothing to cancel (its log: ${join(cancelled.folder, 'log')}).`],
    [failed.state.id, 'failed', `Job ${failed.state.id} already failed: out of memory. Nothing to cancel (its log: ${join(failed.folder, 'log')}).`],
  ];
  for (const [id, status, message] of expected) {
    const result = coi(['finetune', 'cancel', id], { cwd: workspace });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, `coi finetune: ${message}\n`);
    assert.equal(result.stdout, '');
    assert.equal(readState(jobDir(workspace, id)).status, status);
  }
});

void test('cancel of a job found to have failed when asked (its trainer crashed) says why, in the CLI and in the editor\'s Cancel alike', async () => {
  const workspace = tempDir();
  const { state } = writeCompletedJob(workspace);
  const { id } = createJob(workspace, { ...readConfig(jobDir(workspace, state.id)) });
  const dir = jobDir(workspace, id);
  // Recorded running; its process is gone and its log ends in a Python traceback.
  updateState(dir, 'running', { pid: 999_999 });
  writeFileSync(join(dir, 'log'), 'Traceback (most recent call last):\n  File "coi_train.py", line 1, in <module>\ntorch.OutOfMemoryError: CUDA out of memory.\n');
  const result = coi(['finetune', 'cancel', id], { cwd: workspace });
  assert.equal(result.code, 1, result.stderr);
  const message = `Job ${id} already failed: The training process (pid 999999) ended without finishing: torch.OutOfMemoryError: CUDA out of memory. (see the log). Nothing to cancel (its log: ${join(dir, 'log')}).`;
  assert.equal(result.stderr, `coi finetune: ${message}\n`);
  assert.equal(readState(dir).status, 'failed');
  // The panel's Cancel (client/panel/jobCommands.ts) calls this and shows its message.
  await assert.rejects(cancelActiveJob(id, { workspace }), { message });
});

void test('a state.json or a log that is a folder is exit 2 in words, not an error code or an internal error', () => {
  const workspace = tempDir();
  const { folder, state } = writeCompletedJob(workspace);
  mkdirSync(join(folder, 'log'));
  const logs = coi(['finetune', 'logs', state.id], { cwd: workspace });
  assert.equal(logs.code, 2, logs.stderr);
  assert.equal(logs.stderr, `coi finetune: Cannot read job ${state.id}'s log ${join(folder, 'log')}: is a directory.\n`);
  rmSync(join(folder, 'state.json'));
  mkdirSync(join(folder, 'state.json'));
  const status = coi(['finetune', 'status', state.id], { cwd: workspace });
  assert.equal(status.code, 2, status.stderr);
  assert.equal(status.stderr, `coi finetune: Job '${state.id}': ${join(folder, 'state.json')} cannot be read: is a directory.\n`);
  assert.match(coi(['finetune', 'list'], { cwd: workspace }).stdout, /unreadable — \S+state\.json cannot be read: is a directory\.$/m);
});

void test('--sbatch-arg that sets an option coi\'s batch script sets itself is refused (exit 2) naming it, and no job is made', () => {
  const workspace = tempDir();
  const start = (...options: string[]): ReturnType<typeof coi> => coi(['finetune', 'start', '--engine', 'slurm', '--base', model, '--data', data, '--dry-run', ...options], { cwd: workspace });
  const refused: readonly [readonly string[], string][] = [
    [['--sbatch-arg=--output=/tmp/x'], '--output (-o)'],
    [['--sbatch-arg=--out=/tmp/x'], '--output (-o)'],
    [['--sbatch-arg=-o /tmp/x'], '--output (-o)'],
    [['--sbatch-arg=-Qe/tmp/e'], '--error (-e)'],
    [['--sbatch-arg=--qos=high --job-name=mine'], '--job-name (-J)'],
    [['--sbatch-arg=-D/elsewhere'], '--chdir (-D)'],
    [['--sbatch-arg=--signal=USR2@60'], '--signal'],
    [['--sbatch-arg=--open-mode=truncate'], '--open-mode'],
    [['--sbatch-arg=-N 2'], '--nodes (-N)'],
    [['--partition', 'gpu', '--sbatch-arg=-p debug'], '--partition (-p)'],
    [['--strategy', 'ddp', '--gpus', '2', '--sbatch-arg=--gpus-per-node=4'], '--gpus-per-node'],
  ];
  for (const [options, option] of refused) {
    const result = start(...options);
    assert.equal(result.code, 2, `${options.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`^coi finetune: sbatch option '[^']+' sets ${option.replace(/[()]/g, '\\$&')}, which `), options.join(' '));
    assert.equal(result.stdout, '');
  }
  assert.deepEqual(listJobIds(workspace), [], 'no job folder was made');
  // Options coi does not write (or writes only from a setting not given) go into the script.
  const allowed = start('--sbatch-arg=--qos=high', '--sbatch-arg=-p debug', '--sbatch-arg=--gpus-per-node=1', '--sbatch-arg=--time-min=30');
  assert.equal(allowed.code, 0, allowed.stderr);
  for (const line of ['#SBATCH --qos=high', '#SBATCH -p debug', '#SBATCH --gpus-per-node=1', '#SBATCH --time-min=30']) assert.ok(allowed.stdout.includes(`${line}\n`), line);
  assert.equal(allowed.stdout.match(/^#SBATCH --output=/gm)?.length, 1);
  // The same in a config file: its line and column (exit 1, as its other mistakes).
  writeFileSync(join(workspace, 'run.coi-finetune.json'), `{"engine": "slurm", "baseModel": ".", "data": ${JSON.stringify(data)},\n "slurm": {"sbatchArgs": ["-e err.txt"]}}`);
  const fromFile = coi(['finetune', 'start', 'run.coi-finetune.json', '--dry-run'], { cwd: workspace });
  assert.equal(fromFile.code, 1, fromFile.stderr);
  assert.match(fromFile.stderr, /^coi finetune: run\.coi-finetune\.json:2:12: error: sbatch option '-e err\.txt' sets --error \(-e\), which coi's batch script sets itself/);
});

/** A stand-in trainer: logs `steps` (step numbers) in metrics.jsonl, then ends completed, as coi_train.py does. */
function trainerLogging(steps: readonly number[]): string {
  const lines = steps.map((step) => `echo '{"step": ${step}, "loss": 0.5, "maxSteps": 10}' >> "$job/metrics.jsonl"`);
  return ['while [ "$1" != --job-dir ]; do shift; done', 'job="$2"', ...lines, `echo '{"status": "completed", "resultDir": "'"$job"'/output/final"}' > "$job/exit.json"`].join('\n');
}

void test('resume --wait shows the steps of this run, not again those of the runs before it (a long job has thousands)', () => {
  const workspace = tempDir();
  const { id } = createJob(workspace, { engine: 'trl', baseModel: model, data, method: 'full', training: PAPER_DEFAULTS });
  const dir = jobDir(workspace, id);
  updateState(dir, 'running', { pid: 999_999 });
  updateState(dir, 'cancelled', { message: 'Stopped at step 8 (SIGTERM).', lastCheckpoint: { path: join(dir, 'output', 'checkpoint-8'), step: 8 } });
  writeFileSync(join(dir, 'metrics.jsonl'), [1, 2, 3, 4, 5, 6, 7, 8].map((step) => JSON.stringify({ step, loss: 2, maxSteps: 10 })).join('\n') + '\n');
  const result = coi(['finetune', 'resume', id, '--wait'], { cwd: workspace, env: readyTrainingEnv(trainerLogging([9, 10])) });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stderr.match(/^step \d+\/10\b.*$/gm), ['step 9/10  loss 0.5000', 'step 10/10  loss 0.5000']);
  assert.match(result.stdout, new RegExp(`^${id}  completed step 10/10`));
});

void test('Ctrl-C or SIGTERM while the job folder is being made (a large dataset converted into it, the batch script shown) removes it: no job is left queued that nothing runs and resume refuses', async () => {
  for (const [signal, code, name] of [['SIGINT', 130, 'Ctrl-C'], ['SIGTERM', 143, 'SIGTERM']] as const) {
    const workspace = tempDir();
    // The cluster's name is asked once the job folder is made, before sbatch: this scontrol answers when the test says.
    const bin = tempDir();
    const release = join(bin, 'release');
    execFileSync('mkfifo', [release]);
    writeFileSync(join(bin, 'scontrol'), `#!/bin/sh\n: > "${join(bin, 'asked')}"\nread answer < "${release}"\necho "ClusterName = fake"\n`);
    writeFileSync(join(bin, 'sbatch'), '#!/bin/sh\necho "sbatch: not to be reached" >&2\nexit 1\n');
    chmodSync(join(bin, 'scontrol'), 0o755);
    chmodSync(join(bin, 'sbatch'), 0o755);
    const asked = fileAppears(join(bin, 'asked'));
    let child: ChildProcess | undefined;
    const run = coiAsync(['finetune', 'start', '--engine', 'slurm', '--base', model, '--data', data], { cwd: workspace, env: { ...readyTrainingEnv(), PATH: `${bin}:${process.env['PATH'] ?? ''}` }, onSpawn: (spawned) => (child = spawned) });
    await asked;
    assert.equal(listJobIds(workspace).length, 1, 'the job folder is there while the script is shown');
    child?.kill(signal);
    writeFileSync(release, 'go\n');
    const result = await run;
    assert.equal(result.code, code, result.stderr);
    assert.match(result.stderr, new RegExp(`^coi finetune: Cancelled \\(${name}\\) before job ft-\\S+ started: nothing was started, and its folder was removed\\.$`, 'm'));
    assert.deepEqual(listJobIds(workspace), [], `${signal}: no job folder left`);
  }
});

void test('training data given where the CONFIG file goes is told so (exit 2), not refused key by key as a config file', () => {
  const workspace = tempDir();
  const result = coi(['finetune', 'start', data, '--base', model], { cwd: workspace, env: readyTrainingEnv() });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, new RegExp(`^coi finetune: '${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' is training data, not a CONFIG file \\(\\*\\.coi-finetune\\.json\\): give it with --data \\S+coi2-excerpt\\.jsonl\\.\\n`));
  const alone = coi(['finetune', 'start', data], { cwd: workspace, env: readyTrainingEnv() });
  assert.equal(alone.code, 2, alone.stderr);
  assert.match(alone.stderr, /give it with --data \S+coi2-excerpt\.jsonl \(and the base model with --base MODEL\)\.\n/);
  assert.equal(existsSync(join(workspace, '.coi-jobs')), false, 'no job folder');
});

void test('Ctrl-C or SIGTERM while the job is launched (sbatch has not answered yet) is not lost: with --wait the job is cancelled at once, without it coi says once that the job runs on (never `Cancelling...`) and how to follow and stop it; exit 130 or 143', async () => {
  for (const [wait, signal, code, name] of [[true, 'SIGINT', 130, 'Ctrl-C'], [false, 'SIGTERM', 143, 'SIGTERM'], [false, 'SIGINT', 130, 'Ctrl-C']] as const) {
    const workspace = tempDir();
    // A Slurm on PATH whose sbatch answers when the test says; the job then waits in its queue until scancel.
    const bin = tempDir();
    const release = join(bin, 'release');
    execFileSync('mkfifo', [release]);
    const tools: Record<string, string> = {
      scontrol: 'echo "ClusterName = fake"',
      sbatch: `: > "${join(bin, 'asked')}"\nread answer < "${release}"\necho 42`,
      squeue: 'echo PENDING',
      scancel: `echo "$@" >> "${join(bin, 'scancelled')}"`,
    };
    for (const [tool, body] of Object.entries(tools)) {
      writeFileSync(join(bin, tool), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, tool), 0o755);
    }
    const asked = fileAppears(join(bin, 'asked'));
    let child: ChildProcess | undefined;
    let noticed: () => void = () => undefined;
    const cancelling = new Promise<void>((resolve) => (noticed = resolve));
    const onSpawn = (spawned: ChildProcess): void => {
      child = spawned;
      let stderr = '';
      // What coi says as it takes the signal (the words are checked below): with --wait the job is cancelled once launched, without it coi waits for the launch to end.
      spawned.stderr?.on('data', (chunk: Buffer) => void ((stderr += chunk.toString()), /\n(Cancelling|(Ctrl-C|SIGTERM): coi ends once job)/.test(stderr) && noticed()));
    };
    const run = coiAsync(['finetune', 'start', '--engine', 'slurm', '--base', model, '--data', data, ...(wait ? ['--wait'] : [])], { cwd: workspace, env: { ...readyTrainingEnv(), PATH: `${bin}:${process.env['PATH'] ?? ''}` }, onSpawn });
    await asked;
    child?.kill(signal);
    // coi took the signal while sbatch runs (or ended by it: the result says how).
    const ended = await Promise.race([cancelling.then(() => false), run.then(() => true)]);
    writeFileSync(release, 'go\n');
    const result = await run;
    assert.equal(ended, false, `${signal}: coi ended by the signal (exit ${String(result.code)}), saying: ${result.stderr}`);
    assert.equal(result.code, code, result.stderr);
    const [id = ''] = listJobIds(workspace);
    const state = readState(jobDir(workspace, id));
    assert.equal(state.slurmJobId, '42');
    const scancelled = existsSync(join(bin, 'scancelled')) ? readFileSync(join(bin, 'scancelled'), 'utf8') : '';
    if (wait) {
      assert.equal(scancelled, '42\n', 'the job was cancelled');
      assert.equal(state.status, 'cancelled');
      assert.match(result.stderr, new RegExp(`\\nJob ${id} stopped before it saved a checkpoint \\(nothing to resume from\\)`));
    } else {
      assert.equal(scancelled, '', 'the job runs on');
      assert.equal(state.status, 'queued');
      assert.match(result.stdout, new RegExp(`^${id}  queued`));
      // Said once, when the launch is done; at the signal, only that coi waits for it.
      const again = signal === 'SIGINT' ? ' \\(Ctrl-C again to quit at once\\)' : '';
      assert.match(result.stderr, new RegExp(`\\n${name}: coi ends once job ${id}'s launch is done${again}\\ncoi finetune: ${name} came while job ${id} was launched \\(Slurm job 42\\): it was not cancelled and runs on in the background\\. Follow it with 'coi finetune status ${id}'; stop it with 'coi finetune cancel ${id}'\\.\\n$`));
      assert.doesNotMatch(result.stderr, /Cancelling/);
    }
  }
});
