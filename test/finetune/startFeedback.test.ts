// coi finetune start as a person sees it: the progress of a large dataset read and converted
// into the job folder, a CONFIG file's value that an option overrides (not refused: the option's
// is the one used), and a second Ctrl-C while --wait follows a job. No Python: a stand-in trainer.
import { strict as assert } from 'node:assert';
import { type ChildProcess } from 'node:child_process';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileAppears } from '../helpers/fileAppears';
import { test } from 'node:test';
import { DATA_PROGRESS_MIN_BYTES, trainingDataProgress } from '../../cli/commands/finetune';
import { REDRAW_LINE, type CliIO } from '../../cli/io';
import { jobDir, listJobIds, readConfig } from '../../core/finetune';
import { coi, coiAsync, coiOnTerminal, terminalAvailable } from '../cli/cliProcess';
import { coi2Excerpt, hfModelFolder, readyTrainingEnv } from '../helpers/finetuneInputs';
import { tempDir } from '../helpers/tempDir';

const data = coi2Excerpt;
const model = hfModelFolder();

/** The fixture's rows repeated into a file just over the size that shows progress; returns its path and row count. */
function largeData(): { file: string; rows: number } {
  const text = readFileSync(data, 'utf8');
  const copies = Math.ceil((DATA_PROGRESS_MIN_BYTES + 1) / Buffer.byteLength(text));
  const file = join(tempDir(), 'large.jsonl');
  writeFileSync(file, text.repeat(copies));
  return { file, rows: text.split('\n').filter((line) => line !== '').length * copies };
}

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

void test('start with a large dataset: off a terminal, one line as the reading starts and one as the conversion does, on standard error; nothing with --json or for a small file', () => {
  const { file, rows } = largeData();
  const workspace = tempDir();
  const result = coi(['finetune', 'start', '--base', model, '--data', file], { cwd: workspace, env: readyTrainingEnv() });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stderr.split('\n');
  const progress = lines.filter((line) => /^(Reading|Converting) /.test(line));
  assert.deepEqual(progress, [`Reading the training data ${file} (${Math.round(DATA_PROGRESS_MIN_BYTES / 1e6)} MB)...`, `Converting ${rows} examples for the trainer...`]);
  assert.ok(lines.indexOf(progress[1] ?? '') < lines.findIndex((line) => line.startsWith('Job ft-')), 'shown before the job summary');
  assert.doesNotMatch(result.stdout, /Reading|Converting/);
  assert.equal(readFileSync(join(jobDir(workspace, listJobIds(workspace)[0] ?? ''), 'train.prompt-completion.jsonl'), 'utf8').split('\n').filter((line) => line !== '').length, rows);

  const json = coi(['finetune', 'start', '--base', model, '--data', file, '--json'], { cwd: tempDir(), env: readyTrainingEnv() });
  assert.equal(json.code, 0, json.stderr);
  assert.doesNotMatch(json.stderr, /Reading the training data|Converting \d+ examples/);
  const small = coi(['finetune', 'start', '--base', model, '--data', data], { cwd: tempDir(), env: readyTrainingEnv() });
  assert.equal(small.code, 0, small.stderr);
  assert.doesNotMatch(small.stderr, /Reading the training data|Converting \d+ examples/);
});

void test('start with a large dataset on a terminal: one line redrawn with the percentage read, then converted, each ended with its time', { skip: terminalAvailable() ? false : 'needs script (util-linux)' }, async () => {
  const { file, rows } = largeData();
  const result = await coiOnTerminal(['finetune', 'start', '--base', model, '--data', file], { cwd: tempDir(), env: readyTrainingEnv(), stderrToo: true });
  assert.equal(result.code, 0, result.stdout);
  const reading = `Reading the training data ${file} (${Math.round(DATA_PROGRESS_MIN_BYTES / 1e6)} MB)`;
  // Redrawn in place: each state after the carriage return and erase-line of the one before.
  assert.match(result.stdout, new RegExp(`${escaped(REDRAW_LINE + reading)}: 100%${escaped(REDRAW_LINE + reading)}: done \\(\\d+\\.\\d s\\)\\n`));
  assert.match(result.stdout, new RegExp(`${escaped(REDRAW_LINE)}Converting ${rows} examples for the trainer: 100%${escaped(REDRAW_LINE)}Converting ${rows} examples for the trainer: done \\(\\d+\\.\\d s\\)\\n`));
  assert.match(result.stdout, /\nJob ft-\S+:\n/);
});

void test("the progress line is redrawn at most every 100 ms (and at the end), so a fast conversion is not slowed by the terminal", () => {
  const file = join(tempDir(), 'sized.jsonl');
  writeFileSync(file, '');
  truncateSync(file, DATA_PROGRESS_MIN_BYTES);
  const written: string[] = [];
  const io: CliIO = { stdout: () => undefined, stderr: (text) => void written.push(text), cwd: '/', env: {}, stderrIsTTY: true, readStdin: () => Promise.resolve(Buffer.alloc(0)) };
  let now = 0;
  const progress = trainingDataProgress(io, file, () => now);
  for (let done = 0; done <= 1000; done += 10) {
    now += 5; // 100 calls, 500 ms in all
    progress.reading(done, 1000);
  }
  const redraws = written.filter((text) => /: \d+%$/.test(text));
  assert.ok(redraws.length >= 5 && redraws.length <= 6, `${redraws.length} redraws in 500 ms`);
  assert.match(written.at(-1) ?? '', /: done \(0\.5 s\)\n$/);
});

void test("a CONFIG file's value that an option overrides does not stop the start: the option's value is used (and checked)", () => {
  const workspace = tempDir();
  // Every one of these is refused when the file is used alone.
  writeFileSync(join(workspace, 'run.coi-finetune.json'), JSON.stringify({ baseModel: '', data, method: 'qlora', training: { maxSteps: 0, learningRate: 5, epochs: 1 }, lora: { r: 4 }, distributed: { strategy: 'zero9', gpus: 0 } }, null, 2));
  const alone = coi(['finetune', 'start', 'run.coi-finetune.json'], { cwd: workspace, env: readyTrainingEnv() });
  assert.equal(alone.code, 1);
  for (const key of ['baseModel', 'method', 'maxSteps', 'learningRate', 'strategy', 'gpus']) assert.match(alone.stderr, new RegExp(`run\\.coi-finetune\\.json:\\d+:\\d+: error: '${key}'`));
  const overridden = ['--base', model, '--method', 'lora', '--max-steps', '2', '--learning-rate', '1e-4', '--strategy', 'ddp', '--gpus', '1'];
  const result = coi(['finetune', 'start', 'run.coi-finetune.json', ...overridden], { cwd: workspace, env: readyTrainingEnv() });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Over run\.coi-finetune\.json, from the command line: --base, --method, --max-steps, --learning-rate, --strategy, --gpus/);
  const config = readConfig(jobDir(workspace, listJobIds(workspace)[0] ?? ''));
  assert.equal(config.baseModel, model);
  assert.equal(config.method, 'lora');
  assert.equal(config.lora?.r, 4, "the file's LoRA settings, with the method from the command line");
  assert.deepEqual([config.training.maxSteps, config.training.learningRate, config.training.epochs], [2, 1e-4, 1]);
  assert.equal(config.distributed?.strategy, 'ddp');
  // The value the command line gives is still checked.
  const refused = coi(['finetune', 'start', 'run.coi-finetune.json', ...overridden.map((word) => (word === '2' ? '0' : word))], { cwd: workspace, env: readyTrainingEnv() });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /--max-steps must be a whole number of at least 1 \(got '0'\)/);
});

void test("--engine trl over a Slurm job's CONFIG file: the file's engine is not checked, and its slurm block is refused at its key, not dropped without a word", () => {
  const workspace = tempDir();
  const file = (engine: string, slurm: boolean): string => {
    writeFileSync(join(workspace, 'run.coi-finetune.json'), JSON.stringify({ engine, baseModel: model, data, ...(slurm ? { slurm: { partition: 'gpu', timeLimit: '4:00:00' } } : {}) }, null, 2));
    return 'run.coi-finetune.json';
  };
  const refused = coi(['finetune', 'start', file('slurm', true), '--engine', 'trl'], { cwd: workspace, env: readyTrainingEnv() });
  assert.equal(refused.code, 1, refused.stderr);
  assert.equal(refused.stderr, "coi finetune: run.coi-finetune.json:5:3: error: 'slurm' settings go with --engine slurm, not --engine trl: leave them out.\n");
  assert.deepEqual(listJobIds(workspace), [], 'no job made');
  // An engine the file names that this coi does not know is not its problem when --engine replaces it.
  const replaced = coi(['finetune', 'start', file('pbs', false), '--engine', 'trl'], { cwd: workspace, env: readyTrainingEnv() });
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.match(replaced.stderr, /Over run\.coi-finetune\.json, from the command line: --engine/);
  assert.equal(readConfig(jobDir(workspace, listJobIds(workspace)[0] ?? '')).engine, 'trl');
});

void test('a second Ctrl-C while --wait waits for the cancelled job to save its checkpoint says that the job goes on stopping, and how to follow it', async (t) => {
  const workspace = tempDir();
  const marks = tempDir();
  // The trainer takes SIGTERM as the real one does (saving a checkpoint), and saves until the test releases it.
  const trainer = [
    'while [ "$1" != --job-dir ]; do shift; done',
    'job="$2"',
    `trap ': > "${marks}/term"' TERM`,
    `echo '{"step": 1, "loss": 0.5, "maxSteps": 10}' >> "$job/metrics.jsonl"`,
    // Ends with the test's folder too: a test process gone before it released the trainer leaves none behind.
    `while [ -d "${marks}" ] && [ ! -e "${marks}/release" ]; do sleep 0.1; done`,
    `echo '{"status": "cancelled", "message": "Stopped (SIGTERM)."}' > "$job/exit.json"`,
  ].join('\n');
  // Released after the test, and waited for: the test file's process, about to exit, removes the
  // folders, and a trainer that had not yet seen its release would poll for it for ever.
  t.after(async () => {
    writeFileSync(join(marks, 'release'), '');
    const id = listJobIds(workspace)[0];
    if (id !== undefined) await fileAppears(join(jobDir(workspace, id), 'exit.json'));
  });
  const asked = fileAppears(join(marks, 'term'));
  let child: ChildProcess | undefined;
  let following: () => void = () => undefined;
  const isFollowing = new Promise<void>((resolve) => (following = resolve));
  const onSpawn = (spawned: ChildProcess): void => {
    child = spawned;
    let stderr = '';
    // Its first step shown: --wait follows the job (Ctrl-C handled), whose trainer takes SIGTERM from here on.
    spawned.stderr?.on('data', (chunk: Buffer) => void ((stderr += chunk.toString()), /^step 1\/10\b/m.test(stderr) && following()));
  };
  const run = coiAsync(['finetune', 'start', '--base', model, '--data', data, '--wait'], { cwd: workspace, env: readyTrainingEnv(trainer), onSpawn });
  await isFollowing;
  child?.kill('SIGINT');
  await asked; // the job was asked to stop: it is saving its checkpoint
  child?.kill('SIGINT');
  const result = await run;
  assert.equal(result.code, 130, result.stderr);
  const id = listJobIds(workspace)[0] ?? '';
  assert.match(result.stderr, /Cancelling\.\.\. \(Ctrl-C again to quit at once\)\n/);
  assert.match(result.stderr, new RegExp(`\\nQuit at once\\. Job ${id} is still stopping in the background, saving its checkpoint: follow it with 'coi finetune status ${id}'; once it is cancelled, 'coi finetune resume ${id} --wait' goes on from the checkpoint\\.\\n$`));
});
