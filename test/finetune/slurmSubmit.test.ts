/**
 * How coi submits to Slurm, on a real one-node Slurm cluster (test/rig/slurm.ts) with a stand-in
 * trainer (no Python needed): SBATCH_* variables of the environment cannot move the log coi
 * reads or rename the job; a submission whose state cannot be recorded is cancelled, not left
 * queued with no job; and an sbatch stopped before it answered does not cost a queued batch job
 * its folder. Cancel sends nothing to a Slurm job that is not the job's (another job, or the
 * original of a copied job folder), and says why a job it finds ended has ended. Skips with one
 * line without Slurm or root.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cancelActiveJob, createJob, jobDir, listJobIds, PAPER_DEFAULTS, readState, startNewJob, updateState, type JobState } from '../../core/finetune';
import { coi, coiAsync } from '../cli/cliProcess';
import { coi2Excerpt, hfModelFolder, readyTrainingEnv } from '../helpers/finetuneInputs';
import { partialPath } from '../../core/syntax/processes';
import { tempDir } from '../helpers/tempDir';
import { slurmMissing, startSlurm, type SlurmCluster } from '../rig/slurm';

const data = coi2Excerpt;
const model = hfModelFolder();
/** Held in the queue for an hour: it never runs during the test. */
const HELD = '--sbatch-arg=--begin=now+1hour';

function skipReason(): string | false {
  const missing = slurmMissing();
  return missing === undefined ? false : `skipped: ${missing}`;
}

void describe('coi submitting to a one-node Slurm cluster', { skip: skipReason() }, () => {
  let cluster: SlurmCluster | undefined;
  const env = (): Record<string, string> => ({ ...(cluster?.env ?? {}), ...readyTrainingEnv() });

  before(async () => {
    cluster = await startSlurm();
  });

  after(async () => {
    await cluster?.stop();
  });

  /** What slurmctld says of a Slurm job (`scontrol show job -o`): JobName, JobState, StdOut… */
  function slurmJob(slurmJobId: string): Record<string, string> {
    const shown = execFileSync('scontrol', ['show', 'job', '-o', slurmJobId], { env: cluster?.env, encoding: 'utf8' });
    return Object.fromEntries([...shown.matchAll(/(\w+)=(\S*)/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
  }

  /** The ids of the Slurm jobs named `name` that the queue holds. */
  function queued(name: string): string[] {
    return spawnSync('squeue', ['-h', '-n', name, '-o', '%i'], { env: cluster?.env, encoding: 'utf8' }).stdout.split(/\s+/).filter((id) => id !== '');
  }

  /** A folder with an `sbatch` that runs `body` (a shell script) in place of the real one, first on PATH. */
  function sbatchStandIn(body: string): Record<string, string> {
    const bin = tempDir();
    const real = execFileSync('sh', ['-c', 'command -v sbatch'], { encoding: 'utf8' }).trim();
    writeFileSync(join(bin, 'sbatch'), `#!/bin/sh\nREAL_SBATCH=${real}\n${body}\n`);
    chmodSync(join(bin, 'sbatch'), 0o755);
    return { PATH: `${bin}:${process.env['PATH'] ?? ''}` };
  }

  void it("SBATCH_* variables cannot move the log coi reads, rename the job, change its folder or make sbatch wait: coi's options are on sbatch's command line", async () => {
    const workspace = tempDir();
    const elsewhere = tempDir();
    const variables = {
      SBATCH_OUTPUT: join(elsewhere, 'out.txt'),
      SBATCH_ERROR: join(elsewhere, 'err.txt'),
      SBATCH_JOB_NAME: 'renamed',
      SBATCH_OPEN_MODE: 'truncate',
      SBATCH_SIGNAL: 'USR2@60',
      SBATCH_WAIT: '1',
    };
    const result = await coiAsync(['finetune', 'start', '--engine', 'slurm', '--base', model, '--data', data, '--wait', '--json'], { cwd: workspace, env: { ...env(), ...variables } });
    // The stand-in trainer prints one line on standard error and exits 3: the job fails, with its error in the job's log.
    assert.equal(result.code, 1, result.stderr);
    const state = JSON.parse(result.stdout) as JobState;
    assert.equal(state.status, 'failed', JSON.stringify(state));
    assert.match(state.message ?? '', /ended FAILED \(exit code 3:0\)/);
    const logs = coi(['finetune', 'logs', state.id], { cwd: workspace, env: env() });
    assert.match(logs.stdout, /a stand-in python: nothing is trained/, 'the trainer\'s standard error is in the log coi reads');
    assert.equal(existsSync(variables.SBATCH_OUTPUT) || existsSync(variables.SBATCH_ERROR), false, 'nothing went where SBATCH_OUTPUT/SBATCH_ERROR point');
    const job = slurmJob(state.slurmJobId ?? '');
    assert.equal(job['JobName'], `coi-${state.id}`);
    assert.equal(job['StdOut'], join(jobDir(workspace, state.id), 'log'));
    assert.equal(job['StdErr'], join(jobDir(workspace, state.id), 'log'));
    assert.equal(job['WorkDir'], workspace);
  });

  void it('a submission whose state.json cannot be written is cancelled at once, and only then is its folder removed', async () => {
    const workspace = tempDir();
    const { id } = createJob(workspace, { engine: 'slurm', baseModel: model, data, method: 'full', training: PAPER_DEFAULTS, slurm: { sbatchArgs: [HELD.split('=').slice(1).join('=')] } });
    // state.json is replaced through its temporary, state.json.partial-HOST-PID: a folder there makes that write fail, after sbatch queued the job.
    mkdirSync(partialPath(join(jobDir(workspace, id), 'state.json')));
    const error = await startNewJob(id, { workspace, env: env() }).then(
      () => assert.fail('the start succeeded'),
      (err: unknown) => err as Error,
    );
    const slurmJobId = new RegExp(`^Slurm queued job ${id} as (\\d+), but its state\\.json could not be written \\(is a directory\\): Slurm job \\1 was cancelled at once\\. Nothing is left running: the job folder was removed\\.$`).exec(error.message)?.[1];
    assert.ok(slurmJobId !== undefined, error.message);
    assert.equal(slurmJob(slurmJobId)['JobState'], 'CANCELLED');
    assert.deepEqual(queued(`coi-${id}`), []);
    assert.deepEqual(listJobIds(workspace), []);
  });

  void it('an sbatch ended before it answered, after Slurm queued the job: the job is found by its name and followed as usual', () => {
    const workspace = tempDir();
    const result = coi(['finetune', 'start', '--engine', 'slurm', '--base', model, '--data', data, HELD, '--json'], { cwd: workspace, env: { ...env(), ...sbatchStandIn('"$REAL_SBATCH" "$@" > /dev/null\nkill -KILL $$') } });
    assert.equal(result.code, 0, result.stderr);
    const state = JSON.parse(result.stdout) as JobState;
    assert.equal(state.status, 'queued');
    assert.deepEqual(queued(`coi-${state.id}`), [state.slurmJobId]);
    assert.match(state.message ?? '', new RegExp(`^sbatch was ended by SIGKILL before it answered, but Slurm had queued the job: found by its name coi-${state.id} as ${state.slurmJobId ?? '?'}\\.$`));
    const cancelled = coi(['finetune', 'cancel', state.id, '--json'], { cwd: workspace, env: env() });
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal((JSON.parse(cancelled.stdout) as JobState).status, 'cancelled');
    assert.deepEqual(queued(`coi-${state.id}`), [], 'its Slurm job was cancelled with it');
  });

  void it('an sbatch ended before it answered, with no such job in the queue: the job fails saying what to check, and its folder stays', () => {
    const workspace = tempDir();
    const result = coi(['finetune', 'start', '--engine', 'slurm', '--base', model, '--data', data, HELD], { cwd: workspace, env: { ...env(), ...sbatchStandIn('kill -KILL $$') } });
    assert.equal(result.code, 1, result.stderr);
    const [id = ''] = listJobIds(workspace);
    const dir = jobDir(workspace, id);
    const message = `sbatch was ended by SIGKILL before it answered, and squeue lists no job named coi-${id} (yet): Slurm may still have queued it. Check with 'squeue -n coi-${id}' and cancel it with 'scancel -n coi-${id}' if it is there. The job folder ${dir} is kept: such a batch job writes its log there.`;
    assert.ok(result.stderr.includes(`coi finetune: ${message}\n`), result.stderr);
    assert.doesNotMatch(result.stderr, /the job folder was removed/);
    const state = readState(dir);
    assert.equal(state.status, 'failed');
    assert.equal(state.message, message);
  });

  /** A job of `workspace` whose state.json says it runs as Slurm job `slurmJobId` (as a committed or stale job folder can). */
  function jobRecordedAs(workspace: string, slurmJobId: string, status: 'queued' | 'running'): { id: string; dir: string } {
    const { id } = createJob(workspace, { engine: 'slurm', baseModel: model, data, method: 'full', training: PAPER_DEFAULTS });
    const dir = jobDir(workspace, id);
    updateState(dir, 'queued', { slurmJobId });
    if (status === 'running') updateState(dir, 'running');
    return { id, dir };
  }

  void it("cancel of a job whose state.json names another of the user's Slurm jobs sends that job nothing: refused (exit 1) saying what it is, and the job is marked failed", async () => {
    const workspace = realpathSync(tempDir());
    const elsewhere = realpathSync(tempDir());
    const other = execFileSync('sbatch', ['--parsable', HELD.replace('--sbatch-arg=', ''), '--job-name=precious', `--chdir=${elsewhere}`, '--output=/dev/null', '--wrap', 'sleep 60'], { env: cluster?.env, encoding: 'utf8' }).trim();
    const { id, dir } = jobRecordedAs(workspace, other, 'queued');
    const message = `Slurm job ${other} named in ${join(dir, 'state.json')} is not job ${id}'s: it is named 'precious' and runs in ${elsewhere}, not 'coi-${id}' in ${workspace}. No signal was sent to it.`;
    const result = coi(['finetune', 'cancel', id], { cwd: workspace, env: env() });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, `coi finetune: ${message} The job is marked failed.\n`);
    assert.equal(slurmJob(other)['JobState'], 'PENDING', 'the other Slurm job was not cancelled');
    assert.equal(readState(dir).status, 'failed');
    assert.equal(readState(dir).message, message);
    // The editor's Cancel goes through the same call, and then says what the job is.
    await assert.rejects(cancelActiveJob(id, { workspace, env: env() }), { message: `Job ${id} already failed: ${message} Nothing to cancel.` });
    assert.equal(slurmJob(other)['JobState'], 'PENDING');
    execFileSync('scancel', [other], { env: cluster?.env });
  });

  void it("cancel in a copy of a job folder (a copied workspace) leaves the original's Slurm job alone; cancel in the original stops it", () => {
    const original = realpathSync(tempDir());
    const started = coi(['finetune', 'start', '--engine', 'slurm', '--base', model, '--data', data, HELD, '--json'], { cwd: original, env: env() });
    assert.equal(started.code, 0, started.stderr);
    const { id, slurmJobId } = JSON.parse(started.stdout) as JobState;
    const copy = realpathSync(tempDir());
    cpSync(join(original, '.coi-jobs'), join(copy, '.coi-jobs'), { recursive: true });
    const refused = coi(['finetune', 'cancel', id], { cwd: copy, env: env() });
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(refused.stderr, `coi finetune: Slurm job ${slurmJobId ?? ''} named in ${join(jobDir(copy, id), 'state.json')} is not job ${id}'s: it is named 'coi-${id}' and runs in ${original}, not 'coi-${id}' in ${copy}. No signal was sent to it. The job is marked failed.\n`);
    assert.deepEqual(queued(`coi-${id}`), [slurmJobId], "the original's Slurm job still waits");
    const cancelled = coi(['finetune', 'cancel', id, '--json'], { cwd: original, env: env() });
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal((JSON.parse(cancelled.stdout) as JobState).status, 'cancelled');
    assert.deepEqual(queued(`coi-${id}`), []);
  });

  void it('cancel of a job whose workspace Slurm shows under another path (mounted elsewhere on the nodes) finds it by its token and cancels it; one submitted without a token (an earlier coi) is refused as before', () => {
    const workspace = realpathSync(tempDir());
    /** A held job of `workspace` that Slurm shows running in `/gpfs-…<workspace>`, as a site's path mapping for its nodes does (that path does not exist here). */
    const submittedElsewhere = (): { id: string; slurmJobId: string; slurmToken: string | undefined; mounted: string } => {
      const started = coi(['finetune', 'start', '--engine', 'slurm', '--base', model, '--data', data, HELD, '--json'], { cwd: workspace, env: env() });
      assert.equal(started.code, 0, started.stderr);
      const { id, slurmJobId = '', slurmToken } = JSON.parse(started.stdout) as JobState;
      const mounted = join(`/gpfs-${id}`, workspace);
      execFileSync('scontrol', ['update', `JobId=${slurmJobId}`, `WorkDir=${mounted}`], { env: cluster?.env });
      assert.equal(slurmJob(slurmJobId)['WorkDir'], mounted);
      return { id, slurmJobId, slurmToken, mounted };
    };
    const job = submittedElsewhere();
    assert.match(job.slurmToken ?? '', /^[0-9a-f]{24}$/, 'a random token in state.json');
    assert.equal(slurmJob(job.slurmJobId)['Comment'], `coi-token=${job.slurmToken ?? ''}`, 'the same token as the Slurm job\'s comment');
    const cancelled = coi(['finetune', 'cancel', job.id, '--json'], { cwd: workspace, env: env() });
    assert.equal(cancelled.code, 0, cancelled.stderr);
    const state = JSON.parse(cancelled.stdout) as JobState;
    assert.equal(state.status, 'cancelled', JSON.stringify(state));
    assert.equal(state.message, `Cancelled while Slurm job ${job.slurmJobId} was pending.`);
    assert.deepEqual(queued(`coi-${job.id}`), [], 'its Slurm job was cancelled');
    // A job an earlier coi submitted has no token: only its folder tells it apart, as before.
    const older = submittedElsewhere();
    const dir = jobDir(workspace, older.id);
    const { slurmToken: _dropped, ...withoutToken } = readState(dir);
    writeFileSync(join(dir, 'state.json'), JSON.stringify(withoutToken));
    const refused = coi(['finetune', 'cancel', older.id], { cwd: workspace, env: env() });
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(refused.stderr, `coi finetune: Slurm job ${older.slurmJobId} named in ${join(dir, 'state.json')} is not job ${older.id}'s: it is named 'coi-${older.id}' and runs in ${older.mounted}, not 'coi-${older.id}' in ${workspace}. No signal was sent to it. The job is marked failed.\n`);
    assert.deepEqual(queued(`coi-${older.id}`), [older.slurmJobId], 'it still waits');
    execFileSync('scancel', [older.slurmJobId], { env: cluster?.env });
  });

  void it('cancel of a job whose Slurm job is gone says so, with the reason it is marked failed, and sends nothing', () => {
    const workspace = realpathSync(tempDir());
    const { id, dir } = jobRecordedAs(workspace, '999999', 'running');
    const result = coi(['finetune', 'cancel', id], { cwd: workspace, env: env() });
    assert.equal(result.code, 1, result.stderr);
    const message = 'Slurm no longer knows job 999999 (no accounting) without finishing: see the log';
    assert.equal(result.stderr, `coi finetune: Job ${id} already failed: ${message}. Nothing to cancel.\n`);
    assert.equal(readState(dir).message, `${message}.`);
  });

  void it("a job whose trainer said why it ended (exit.json) shows the trainer's words, not only Slurm's state: a failure first in the trainer's words, a completion with its note", () => {
    const workspace = realpathSync(tempDir());
    const failed = jobRecordedAs(workspace, '999998', 'running');
    const diverged = 'Training diverged: the loss became NaN at step 7. Lower the learning rate and start again.';
    writeFileSync(join(failed.dir, 'exit.json'), JSON.stringify({ status: 'failed', message: diverged }));
    const shown = coi(['finetune', 'status', failed.id, '--json'], { cwd: workspace, env: env() });
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal((JSON.parse(shown.stdout) as JobState).message, `${diverged} (Slurm no longer knows job 999998 (no accounting).)`);
    const completed = jobRecordedAs(workspace, '999997', 'running');
    const note = '2 of 24 examples were left out (lines 17 and 18 of train.prompt-completion.jsonl): longer than maxLength.';
    writeFileSync(join(completed.dir, 'exit.json'), JSON.stringify({ status: 'completed', message: note }));
    const done = JSON.parse(coi(['finetune', 'status', completed.id, '--json'], { cwd: workspace, env: env() }).stdout) as JobState;
    assert.equal(done.status, 'completed');
    assert.equal(done.message, note);
  });

  void it('cancel when Slurm cannot be asked which job it is sends nothing and leaves the job as it was', () => {
    const workspace = realpathSync(tempDir());
    const { id, dir } = jobRecordedAs(workspace, '42', 'running');
    // An empty slurm.conf: squeue fails at once (a missing one makes it look for the controller in DNS for a minute).
    const conf = join(tempDir(), 'slurm.conf');
    writeFileSync(conf, '');
    const result = coi(['finetune', 'cancel', id], { cwd: workspace, env: { ...env(), SLURM_CONF: conf } });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`^coi finetune: Slurm job 42 named in \\S+state\\.json cannot be confirmed as job ${id}'s: squeue could not be asked \\(.+\\)\\. No signal was sent to it\\. The job is left as it was\\.\n$`));
    assert.equal(readState(dir).status, 'running');
  });

  void it('SLURM_CONF naming no file is said at once (Slurm itself retries reading it for a minute), and the job is left as it was', () => {
    const workspace = realpathSync(tempDir());
    const { id, dir } = jobRecordedAs(workspace, '42', 'running');
    const conf = join(tempDir(), 'no-such', 'slurm.conf');
    // Without the check, squeue answers after a minute with "Unable to process configuration file".
    const result = coi(['finetune', 'cancel', id], { cwd: workspace, env: { ...env(), SLURM_CONF: conf } });
    assert.equal(result.code, 1, result.stderr);
    assert.ok(result.stderr.includes(`squeue could not be asked (SLURM_CONF names ${conf}, which does not exist: set it to the cluster's slurm.conf, or unset it to use Slurm's own). No signal was sent to it.`), result.stderr);
    assert.equal(readState(dir).status, 'running');
  });
});
