import { strict as assert } from 'node:assert';
import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createJob, describeOutputFolderProblem, jobsRoot, processGroupAlive, processStartIdentity, trlEngine, jobDir, outputFolderProblem, lastPythonException, listJobIds, PAPER_DEFAULTS, readMetrics, readState, refreshState, updateState, type JobConfig } from '../../core/finetune';
import { tempDir } from '../helpers/tempDir';
import { groupLeader } from '../helpers/jobFixture';
import { trainerProcess, type TrainerProcess } from '../../core/finetune/trainerProcess';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const trainerAlive = (): TrainerProcess => ({ kind: 'trainer' });
const trainerGone = (): TrainerProcess => ({ kind: 'gone' });

/**
 * A process group whose leader's command line is the job's trainer's (`.../coi_train.py --job-dir DIR`),
 * as trl.ts launches it. `leaderExits`: the leader starts it in the background and exits; resolved
 * once the leader has exited and the trainer runs (it says `ready`).
 */
function fakeTrainer(t: { after: (fn: () => void) => void }, dir: string): ChildProcess;
function fakeTrainer(t: { after: (fn: () => void) => void }, dir: string, leaderExits: true): Promise<ChildProcess>;
function fakeTrainer(t: { after: (fn: () => void) => void }, dir: string, leaderExits = false): ChildProcess | Promise<ChildProcess> {
  const script = leaderExits ? 'echo ready; sleep 60 >/dev/null; :' : 'sleep 60; :';
  const trainer = ['-c', script, '/opt/coi/python/coi_train.py', '--job-dir', dir, '--output-dir', join(dir, 'output')];
  const child = leaderExits
    ? spawn('sh', ['-c', `sh ${trainer.map((w) => `'${w}'`).join(' ')} &`], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] })
    : spawn('sh', trainer, { detached: true, stdio: 'ignore' });
  const pid = child.pid ?? 0;
  t.after(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  if (!leaderExits) return child;
  return Promise.all([once(child, 'exit'), once(child.stdout ?? child, 'data')]).then(() => child);
}

const config: JobConfig = { engine: 'trl', baseModel: '/m', data: '/d.jsonl', method: 'full', training: PAPER_DEFAULTS };

function runningJob(workspace: string): string {
  const { id } = createJob(workspace, config);
  updateState(jobDir(workspace, id), 'running', { pid: 999_999 });
  return id;
}

void test('a new job is queued in .coi-jobs/<id>/ and listed', () => {
  const workspace = tempDir();
  const state = createJob(workspace, config);
  assert.equal(state.status, 'queued');
  assert.deepEqual(listJobIds(workspace), [state.id]);
  assert.equal(readState(jobDir(workspace, state.id)).status, 'queued');
  assert.deepEqual(readdirSync(jobsRoot(workspace)), [state.id], 'made under another name and renamed: nothing else is left');
  mkdirSync(join(jobsRoot(workspace), '.ft-next.creating')); // another being made: not a job yet
  writeFileSync(join(jobsRoot(workspace), 'notes.txt'), '');
  assert.deepEqual(listJobIds(workspace), [state.id]);
});

void test('a transition the job model does not allow is refused (completed jobs stay completed)', () => {
  const workspace = tempDir();
  const id = runningJob(workspace);
  const dir = jobDir(workspace, id);
  updateState(dir, 'completed');
  assert.throws(() => updateState(dir, 'running'), /cannot go from completed to running/);
});

const ends: readonly { exit: object | undefined; status: string; message?: RegExp }[] = [
  { exit: undefined, status: 'failed', message: /ended without finishing/ },
  { exit: { status: 'completed', resultDir: '/x/final' }, status: 'completed' },
  { exit: { status: 'cancelled', message: 'Stopped at step 3' }, status: 'cancelled', message: /step 3/ },
];

for (const end of ends) {
  void test(`a running job whose process is gone becomes ${end.status}, with its newest complete checkpoint`, () => {
    const workspace = tempDir();
    const id = runningJob(workspace);
    const dir = jobDir(workspace, id);
    for (const [step, complete] of [[2, true], [4, true], [6, false]] as const) {
      mkdirSync(join(dir, 'output', `checkpoint-${step}`), { recursive: true });
      if (complete) writeFileSync(join(dir, 'output', `checkpoint-${step}`, 'trainer_state.json'), '{}');
    }
    if (end.exit !== undefined) writeFileSync(join(dir, 'exit.json'), JSON.stringify(end.exit));
    assert.equal(refreshState(dir, workspace, trainerAlive).status, 'running');
    const state = refreshState(dir, workspace, trainerGone);
    assert.equal(state.status, end.status);
    assert.equal(state.lastCheckpoint?.step, 4);
    if (end.message !== undefined) assert.match(state.message ?? '', end.message);
  });
}

void test('metrics skip a half-written last line', () => {
  const workspace = tempDir();
  const id = runningJob(workspace);
  const file = join(jobDir(workspace, id), 'metrics.jsonl');
  appendFileSync(file, '{"step": 1, "loss": 5}\n{"step": 2, "loss": 4}\n{"step": 3, "lo');
  assert.deepEqual(readMetrics(jobDir(workspace, id)).map((m) => m.step), [1, 2]);
});

// What accelerate launch writes when the trainer crashes: the trainer's traceback, then the launcher's own.
const crashLog = `Loading the model
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/trl/trainer/sft_trainer.py", line 1581, in tokenize_fn
    processing_class, example[dataset_text_field], chat_template=chat_template
                      ~~~~~~~^^^^^^^^^^^^^^^^^^^^
KeyError: 'text'
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/accelerate/commands/launch.py", line 999, in simple_launcher
    raise subprocess.CalledProcessError(returncode=process.returncode, cmd=cmd)
subprocess.CalledProcessError: Command '['python', 'coi_train.py']' returned non-zero exit status 1.
`;

void test('a job whose trainer crashed says the exception in its status, not only "see the log"', () => {
  const workspace = tempDir();
  const id = runningJob(workspace);
  const dir = jobDir(workspace, id);
  writeFileSync(join(dir, 'log'), crashLog);
  const state = refreshState(dir, workspace, trainerGone);
  assert.equal(state.status, 'failed');
  assert.equal(state.message, "The training process (pid 999999) ended without finishing: KeyError: 'text' (see the log).");
  assert.equal(lastPythonException(join(dir, 'no-such-log')), undefined);
});

void test('a cancelled job that stopped on the signal before writing exit.json is cancelled; one that crashed while stopping failed, with its exception', () => {
  const workspace = tempDir();
  const cancelling = (log: string, logStart: number): string => {
    const dir = jobDir(workspace, runningJob(workspace));
    writeFileSync(join(dir, 'log'), log);
    updateState(dir, 'running', { logStart });
    updateState(dir, 'cancelling');
    return dir;
  };
  // The launcher was still importing when the signal came: no exit.json, nothing in the log.
  const early = refreshState(cancelling('', 0), workspace, trainerGone);
  assert.equal(early.status, 'cancelled');
  assert.match(early.message ?? '', /^Cancelled before training began: the training process \(pid 999999\) ended on the cancel signal/);
  const crashed = refreshState(cancelling(crashLog, 0), workspace, trainerGone);
  assert.equal(crashed.status, 'failed');
  assert.match(crashed.message ?? '', /ended without finishing: KeyError: 'text'/);
  // A resumed job: the crash in the log is the earlier run's, before this run's output begins.
  const resumed = refreshState(cancelling(crashLog + 'Resuming from checkpoint-4\n', crashLog.length), workspace, trainerGone);
  assert.equal(resumed.status, 'cancelled', resumed.message);
  // Nobody asked it to stop: a process gone without a word failed, whatever the log.
  const running = jobDir(workspace, runningJob(workspace));
  assert.equal(refreshState(running, workspace, trainerGone).status, 'failed');
});

void test('a resumed job that fails is not given the earlier run\'s exception from the same log', () => {
  const workspace = tempDir();
  const dir = jobDir(workspace, runningJob(workspace));
  const earlier = crashLog.replace("KeyError: 'text'", 'RuntimeError: out of memory');
  writeFileSync(join(dir, 'log'), earlier + 'Resuming from checkpoint-4\n');
  updateState(dir, 'running', { logStart: earlier.length });
  assert.match(refreshState(dir, workspace, trainerGone).message ?? '', /ended without finishing: killed, or it crashed/);
  assert.equal(lastPythonException(join(dir, 'log')), 'RuntimeError: out of memory', 'from the start of the log, the earlier run\'s');
});

void test('a state.json that is not a job state is refused with the file and what is wrong', () => {
  const workspace = tempDir();
  const { id } = createJob(workspace, config);
  const dir = jobDir(workspace, id);
  for (const [text, message] of [['', /state\.json cannot be read: not valid JSON/], ['{bad', /not valid JSON/], ['{"status":"bogus"}', /is not a job state: it has no "id"/], [`{"id":"${id}","status":"failed"}`, /it names no "engine"/]] as const) {
    writeFileSync(join(dir, 'state.json'), text);
    assert.throws(() => readState(dir), (err: Error) => err.name === 'FinetuneError' && message.test(err.message) && err.message.includes(dir));
  }
});

void test('a state.json whose pid or Slurm job id could reach a signal or a Slurm command is refused, with the file and the value', () => {
  const workspace = tempDir();
  const { id } = createJob(workspace, config);
  const dir = jobDir(workspace, id);
  const state = (extra: object): string => JSON.stringify({ id, status: 'running', engine: 'trl', createdAt: '', updatedAt: '', resumes: 0, ...extra });
  // pid 1: Cancel would send SIGTERM to -1, every process of the user; 0: the editor's own process group.
  for (const pid of [1, 0, -5, 2.5, '1234', null, 2 ** 31]) {
    writeFileSync(join(dir, 'state.json'), state({ pid }));
    assert.throws(() => readState(dir), (err: Error) => err.name === 'FinetuneError' && err.message.includes(dir) && err.message.includes(`its "pid" is ${JSON.stringify(pid)}, not a process id`), String(pid));
  }
  for (const slurmJobId of ['--me', '-u', '12 34', '12;rm', '', 12]) {
    writeFileSync(join(dir, 'state.json'), state({ engine: 'slurm', slurmJobId }));
    assert.throws(() => readState(dir), (err: Error) => err.name === 'FinetuneError' && err.message.includes(`its "slurmJobId" is ${JSON.stringify(slurmJobId)}, not a Slurm job id`), String(slurmJobId));
  }
  for (const fine of [{ pid: 2 }, { pid: 4_194_304 }, { engine: 'slurm', slurmJobId: '4242' }, { engine: 'slurm', slurmJobId: '4242_7' }]) {
    writeFileSync(join(dir, 'state.json'), state(fine));
    assert.equal(readState(dir).status, 'running', JSON.stringify(fine));
  }
});

void test('an output folder is tried before a job exists: a file, a place nothing can be made, and a good folder left as it was', () => {
  const root = tempDir();
  writeFileSync(join(root, 'notes.txt'), 'mine');
  assert.deepEqual(outputFolderProblem(join(root, 'notes.txt')), { kind: 'file' });
  const underProc = outputFolderProblem('/proc/coi-model/out');
  assert.equal(underProc?.kind, 'unwritable');
  assert.equal(describeOutputFolderProblem(underProc, () => 'no such file or directory'), 'cannot be made or written: no such file or directory.');
  assert.equal(outputFolderProblem(join(root, 'new', 'out')), undefined);
  assert.deepEqual(readdirSync(root), ['notes.txt'], 'the check made nothing that stays');
});

void test('after a reboot or a wrap of pids, a job whose pid another process has now is not taken for running, and Cancel leaves that process alone', { skip: processStartIdentity(process.pid) === undefined ? 'no /proc here: a job records no start identity' : false }, async (t) => {
  const workspace = tempDir();
  const stranger = groupLeader(t);
  const identity = processStartIdentity(stranger) ?? '';
  const bootId = identity.slice(0, identity.lastIndexOf(':'));
  const cases = [
    { name: 'the same process', pidStart: identity, status: 'running' },
    { name: 'a process started later with the pid', pidStart: `${bootId}:1`, status: 'failed' },
    { name: 'a process of an earlier boot', pidStart: 'an-earlier-boot:123', status: 'failed' },
  ];
  for (const { name, pidStart, status } of cases) {
    const { id } = createJob(workspace, config);
    const dir = jobDir(workspace, id);
    updateState(dir, 'running', { pid: stranger, pidStart });
    assert.equal(refreshState(dir, workspace).status, status, name);
  }
  const { id } = createJob(workspace, config);
  updateState(jobDir(workspace, id), 'running', { pid: stranger, pidStart: 'an-earlier-boot:123' });
  const cancelled = await trlEngine.cancel(id, { workspace });
  assert.equal(cancelled.status, 'failed');
  assert.match(cancelled.message ?? '', /ended without finishing/);
  assert.equal(processGroupAlive(stranger), true, 'the process that has the pid now was not signalled');
});

void test('a state.json whose pidStart is not a string is not a job state', () => {
  const workspace = tempDir();
  const { id } = createJob(workspace, config);
  const dir = jobDir(workspace, id);
  writeFileSync(join(dir, 'state.json'), JSON.stringify({ ...readState(dir), status: 'running', pid: 4242, pidStart: 7 }));
  assert.throws(() => readState(dir), /"pidStart" is 7, not a string/);
});

void test('a job folder naming the pid of an unrelated process group (no pidStart, as a committed state.json can): Cancel sends it no signal and says why', async (t) => {
  const workspace = tempDir();
  const stranger = groupLeader(t); // `setsid sleep 60`
  const { id } = createJob(workspace, config);
  const dir = jobDir(workspace, id);
  updateState(dir, 'running', { pid: stranger });
  await assert.rejects(trlEngine.cancel(id, { workspace }), (err: Error) => {
    assert.match(err.message, new RegExp(`The process ${stranger} named in .*state\\.json is not job ${id}'s trainer: pid ${stranger} runs \`sleep 60\`.*No signal was sent to it\\. The job is marked failed\\.`));
    return true;
  });
  assert.equal(processGroupAlive(stranger), true, 'the unrelated process was not signalled');
  const state = readState(dir);
  assert.equal(state.status, 'failed');
  assert.match(state.message ?? '', /is not job .*'s trainer/);
  // Reading the job's status alone says the same (the pid is not the job's), without signalling anything.
  const { id: other } = createJob(workspace, config);
  updateState(jobDir(workspace, other), 'running', { pid: stranger });
  assert.match(refreshState(jobDir(workspace, other), workspace).message ?? '', new RegExp(`runs \`sleep 60\``));
  assert.equal(processGroupAlive(stranger), true);
});

void test('a job whose pid runs its trainer but was recorded without pidStart: Cancel confirms it by its command line and signals it', async (t) => {
  const workspace = tempDir();
  const { id } = createJob(workspace, config);
  const dir = jobDir(workspace, id);
  const trainer = fakeTrainer(t, dir);
  const exited = once(trainer, 'exit');
  updateState(dir, 'running', { pid: trainer.pid ?? 0 });
  assert.equal(refreshState(dir, workspace).status, 'running');
  assert.equal((await trlEngine.cancel(id, { workspace })).status, 'cancelling');
  assert.deepEqual(await exited, [null, 'SIGTERM']);
});

void test('the trainer of another job folder, or a group whose leader exited, is told apart by the command lines of the group', async (t) => {
  const workspace = tempDir();
  const dir = jobDir(workspace, createJob(workspace, config).id);
  const otherDir = jobDir(workspace, createJob(workspace, config).id);
  const trainer = fakeTrainer(t, dir);
  assert.deepEqual(trainerProcess(dir, trainer.pid ?? 0), { kind: 'trainer' });
  assert.equal(trainerProcess(otherDir, trainer.pid ?? 0).kind, 'other', "another job's trainer is not this job's");
  const orphaned = await fakeTrainer(t, dir, true); // the leader is gone; its background trainer keeps the group
  assert.deepEqual(trainerProcess(dir, orphaned.pid ?? 0), { kind: 'trainer' });
  assert.equal(trainerProcess(otherDir, orphaned.pid ?? 0).kind, 'other');
});
