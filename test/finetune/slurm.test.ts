/**
 * The Slurm engine on a real one-node Slurm cluster (test/rig/slurm.ts: munged, slurmctld and
 * slurmd from Debian's packages, started here and stopped by pid): a tiny CPU fine-tune
 * submitted with `coi finetune start --engine slurm --wait` runs to the end (loss falls, GGUF
 * converted); another is cancelled with `scancel --signal=USR1` (a checkpoint is kept) and
 * resumed from it to the end. Skips with one line without Slurm, root or Python ≥ 3.10.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createJob, ensureVenv, jobDir, jobStatus, PAPER_DEFAULTS, readConfig, readMetrics, updateState, type JobState } from '../../core/finetune';
import { jobRow } from '../../webview/model/jobs';
import { coi, coiAsync } from '../cli/cliProcess';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { slurmMissing, startSlurm, type SlurmCluster } from '../rig/slurm';
import { coi2Excerpt, FAST_TRAINING, noPythonSkip } from '../helpers/finetuneInputs';
import { holdPython } from '../helpers/heldPython';

const data = coi2Excerpt;

function skipReason(): string | false {
  const missing = slurmMissing();
  return missing !== undefined ? `skipped: ${missing}` : noPythonSkip();
}

void describe('coi finetune --engine slurm on a one-node Slurm cluster', { skip: skipReason() }, () => {
  let cluster: SlurmCluster | undefined;
  let base = '';
  let workspace = '';
  const env = (): Record<string, string> => cluster?.env ?? {};

  before(async () => {
    const venv = await ensureVenv();
    base = join(tempDir(), 'tiny-hf');
    const text = join(tempDir(), 'text.txt');
    writeFileSync(text, readFileSync(data, 'utf8'));
    const made = spawnSync(venv.python, [repoPath('python', 'make_tiny_hf_model.py'), base, text], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    workspace = tempDir();
    cluster = await startSlurm();
  });

  after(async () => {
    await cluster?.stop();
  });

  function status(id: string): JobState {
    const result = coi(['finetune', 'status', id, '--json'], { cwd: workspace, env: env() });
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as JobState;
  }

  async function until(what: string, predicate: () => boolean): Promise<void> {
    const deadline = Date.now() + 180_000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}\n${cluster?.logs() ?? ''}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /**
   * A job of 30 steps submitted to Slurm, its trainer held once step 3 is logged until a signal
   * reaches it (test/helpers/heldPython.ts): whatever the test then sends finds it training, however
   * loaded the machine (the 27 steps left take seconds, which two `coi` processes can outlast).
   */
  async function heldAfterThreeSteps(): Promise<{ id: string; slurmJobId: string; dir: string }> {
    const hold = holdPython({ afterStep: 3 });
    const started = coi(['finetune', 'start', '--engine', 'slurm', '--base', base, '--data', data, ...FAST_TRAINING, '--max-steps', '30', '--json'], { cwd: workspace, env: { ...env(), ...hold.env } });
    assert.equal(started.code, 0, started.stderr);
    const { id, slurmJobId = '' } = JSON.parse(started.stdout) as JobState;
    const dir = jobDir(workspace, id);
    await hold.held;
    assert.equal(readMetrics(dir).length, 3, 'held once step 3 is logged');
    return { id, slurmJobId, dir };
  }

  void it('a job submitted with sbatch trains to the end: the script is shown, the loss falls, the GGUF converts', async () => {
    const result = await coiAsync(['finetune', 'start', '--engine', 'slurm', '--base', base, '--data', data, ...FAST_TRAINING, '--max-steps', '30', '--time', '30:00', '--wait', '--json'], { cwd: workspace, env: env() });
    assert.equal(result.code, 0, `${result.stderr}\n${cluster?.logs() ?? ''}`);
    const state = JSON.parse(result.stdout) as JobState;
    assert.equal(state.status, 'completed', JSON.stringify(state));
    assert.match(state.slurmJobId ?? '', /^\d+$/);
    assert.match(result.stderr, /Submitting to Slurm cluster 'coitest' \(the sbatch on PATH, SLURM_CONF=\S+\); the batch script[\s\S]*#SBATCH --time=30:00[\s\S]*srun /);
    assert.doesNotMatch(result.stderr, /MaxListenersExceededWarning/, 'following a job does not pile up abort listeners');
    const dir = jobDir(workspace, state.id);
    assert.ok(existsSync(join(dir, 'job.sbatch')));
    const metrics = readMetrics(dir);
    assert.equal(metrics.at(-1)?.step, 30);
    assert.ok((metrics.at(-1)?.loss ?? Infinity) < (metrics[0]?.loss ?? 0) - 1, 'the loss falls');
    const gguf = coi(['finetune', 'gguf', state.id, '--outtype', 'f32', '--json'], { cwd: workspace, env: env() });
    assert.equal(gguf.code, 0, gguf.stderr);
    assert.ok(existsSync((JSON.parse(gguf.stdout) as JobState).ggufPath ?? ''));
  });

  void it('cancel sends USR1 through scancel: a checkpoint is kept; resume submits again from it', async () => {
    const { id, slurmJobId, dir } = await heldAfterThreeSteps();
    assert.equal(status(id).status, 'running');
    const cancelling = coi(['finetune', 'cancel', id, '--json'], { cwd: workspace, env: env() });
    assert.equal(cancelling.code, 0, cancelling.stderr);
    assert.equal((JSON.parse(cancelling.stdout) as JobState).status, 'cancelling');
    await until('the job to stop', () => ['cancelled', 'failed'].includes(status(id).status));
    const cancelled = status(id);
    assert.equal(cancelled.status, 'cancelled', JSON.stringify(cancelled));
    const checkpoint = cancelled.lastCheckpoint;
    assert.ok(checkpoint !== undefined && checkpoint.step >= 3 && checkpoint.step < 30, JSON.stringify(cancelled));
    const resumed = await coiAsync(['finetune', 'resume', id, '--wait', '--json'], { cwd: workspace, env: env() });
    assert.equal(resumed.code, 0, resumed.stderr);
    const final = JSON.parse(resumed.stdout) as JobState;
    assert.equal(final.status, 'completed');
    assert.notEqual(final.slurmJobId, slurmJobId, 'a new Slurm job');
    const steps = readMetrics(dir).map((m) => m.step);
    assert.equal(steps[steps.lastIndexOf(checkpoint.step) + 1], checkpoint.step + 1, 'it went on from the checkpoint');
    assert.equal(steps.at(-1), 30);
  });

  void it('a controller that does not answer changes nothing (no false failure), unless the training wrote its verdict', async () => {
    const folder = tempDir();
    const { id } = createJob(folder, { engine: 'slurm', baseModel: base, data, method: 'full', training: PAPER_DEFAULTS });
    const dir = jobDir(folder, id);
    updateState(dir, 'queued', { slurmJobId: '99999' });
    updateState(dir, 'running');
    // A controller that is down: nothing listens on its port (connection refused, in 2 s). A
    // missing slurm.conf would do too, but Slurm's commands retry reading one for 60 s.
    const down = join(tempDir(), 'slurm.conf');
    writeFileSync(down, 'ClusterName=down\nSlurmctldHost=localhost\nSlurmctldPort=9\nMessageTimeout=2\n');
    const unreachable = { ...env(), SLURM_CONF: down };
    assert.equal((await jobStatus(id, { workspace: folder, env: unreachable })).status, 'running');
    writeFileSync(join(dir, 'exit.json'), JSON.stringify({ status: 'completed', resultDir: join(dir, 'output', 'final') }));
    assert.equal((await jobStatus(id, { workspace: folder, env: unreachable })).status, 'completed');
  });

  void it('a job Slurm stops on its own (preemption, an operator\'s scancel: SIGTERM) saves a checkpoint, fails with Slurm\'s state as its reason, and resumes', async () => {
    const { id, slurmJobId, dir } = await heldAfterThreeSteps();
    const stopped = spawnSync('scancel', [slurmJobId ?? ''], { env: env(), encoding: 'utf8' });
    assert.equal(stopped.status, 0, stopped.stderr);
    await until('the job to end', () => status(id).status !== 'running');
    const failed = status(id);
    assert.equal(failed.status, 'failed', JSON.stringify(failed));
    assert.match(failed.message ?? '', new RegExp(`^Stopped by Slurm, not cancelled here: Slurm job ${slurmJobId ?? ''} ended CANCELLED \\(exit code \\d+:15\\)`));
    assert.ok((failed.lastCheckpoint?.step ?? 0) >= 3, `the trainer saved on SIGTERM: ${JSON.stringify(failed)}`);
    const resumed = await coiAsync(['finetune', 'resume', id, '--wait', '--json'], { cwd: workspace, env: env() });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal((JSON.parse(resumed.stdout) as JobState).status, 'completed');
    assert.equal(readMetrics(dir).at(-1)?.step, 30);
  });

  /** A job of 30 steps, seen running, that `scontrol requeue` then puts back into Slurm's queue. */
  async function requeuedWhileTraining(): Promise<{ id: string; slurmJobId: string; dir: string }> {
    const { id, slurmJobId, dir } = await heldAfterThreeSteps();
    assert.equal(status(id).status, 'running');
    const requeue = spawnSync('scontrol', ['requeue', slurmJobId], { env: env(), encoding: 'utf8' });
    assert.equal(requeue.status, 0, requeue.stderr);
    return { id, slurmJobId, dir };
  }

  void it('a job Slurm requeues (preemption with requeue, scontrol requeue) is queued again, saying so, then runs on from its checkpoint to the end', async () => {
    const { id, slurmJobId, dir } = await requeuedWhileTraining();
    // The trainer saves a checkpoint on SIGTERM while Slurm already shows the job pending again.
    await until('the job to be queued again with its checkpoint', () => {
      const state = status(id);
      return state.status === 'queued' && state.lastCheckpoint !== undefined;
    });
    const queued = status(id);
    const checkpoint = queued.lastCheckpoint ?? { step: 0, path: '' };
    assert.ok(checkpoint.step >= 3 && checkpoint.step < 30, JSON.stringify(queued));
    assert.equal(queued.message, `Requeued by Slurm (preempted, or requeued by an operator): waiting in Slurm's queue again as job ${slurmJobId} (BeginTime); it goes on from its checkpoint at step ${checkpoint.step} when it runs again.`);
    const listed = coi(['finetune', 'list'], { cwd: workspace, env: env() });
    assert.match(listed.stdout, new RegExp(`^${id} {2}queued .* — Requeued by Slurm`, 'm'));
    // Slurm holds a requeued job back for two minutes (BeginTime): let it go now.
    const release = spawnSync('scontrol', ['update', `JobId=${slurmJobId}`, 'StartTime=now'], { env: env(), encoding: 'utf8' });
    assert.equal(release.status, 0, release.stderr);
    await until('the job to run again', () => status(id).status !== 'queued');
    const running = status(id);
    assert.ok(['running', 'completed'].includes(running.status), JSON.stringify(running));
    // Seen before the trainer has started again, or after it said what it went on from.
    if (running.status === 'running') assert.ok([`Running again after Slurm requeued it, from its checkpoint at step ${checkpoint.step}.`, `Requeued by Slurm once; resumed from checkpoint step ${checkpoint.step}.`].includes(running.message ?? ''), JSON.stringify(running));
    await until('the job to complete', () => status(id).status === 'completed');
    const steps = readMetrics(dir).map((m) => m.step);
    assert.equal(steps[steps.lastIndexOf(checkpoint.step) + 1], checkpoint.step + 1, `it went on from the checkpoint: ${steps.join(' ')}`);
    assert.equal(steps.at(-1), 30);
    assert.equal(status(id).slurmJobId, slurmJobId, 'the same Slurm job, run again');
    assert.match(readFileSync(join(dir, 'log'), 'utf8'), /coi-train: Slurm requeued this job \(restart 1\): going on from \S+checkpoint-\d+/);
  });

  void it('a job Slurm requeues and runs again between two looks says so: requeued once, resumed from checkpoint step S (status, list and the panel\'s row)', async () => {
    const { id, slurmJobId, dir } = await requeuedWhileTraining();
    // Nothing of coi looks while Slurm holds it and runs it again: Slurm alone is asked, and the job's log read.
    const slurmState = (): string => spawnSync('squeue', ['-h', '-j', slurmJobId, '-o', '%T'], { env: env(), encoding: 'utf8' }).stdout.trim();
    await until('Slurm to hold the job pending again', () => slurmState() === 'PENDING');
    const release = spawnSync('scontrol', ['update', `JobId=${slurmJobId}`, 'StartTime=now'], { env: env(), encoding: 'utf8' });
    assert.equal(release.status, 0, release.stderr);
    const resumedAt = (): number | undefined => {
      const step = /coi-train: Slurm requeued this job \(restart 1\): going on from \S*checkpoint-(\d+)/.exec(readFileSync(join(dir, 'log'), 'utf8'))?.[1];
      return step === undefined ? undefined : Number(step);
    };
    await until('the trainer to go on from its checkpoint', () => resumedAt() !== undefined);
    const step = resumedAt() ?? 0;
    await until('a step trained after it', () => (readMetrics(dir).at(-1)?.step ?? 0) > step);
    const note = `Requeued by Slurm once; resumed from checkpoint step ${step}.`;
    const seen = status(id);
    assert.ok(['running', 'completed'].includes(seen.status), JSON.stringify(seen));
    // Once completed, the trainer's note of the examples maxLength left out (the fixture has two) follows it.
    const says = (message: string | undefined): boolean => message === note || message?.startsWith(`${note} 2 of 24 examples were left out`) === true;
    assert.ok(says(seen.message), JSON.stringify(seen));
    const shown = coi(['finetune', 'status', id], { cwd: workspace, env: env() });
    assert.ok(shown.stdout.includes(` — ${note}`), shown.stdout);
    assert.ok(says(jobRow(dir, seen, readConfig(dir), readMetrics(dir)).message), "the panel's job row");
    await until('the job to complete', () => status(id).status === 'completed');
    const completed = status(id).message ?? '';
    assert.ok(completed.startsWith(`${note} 2 of 24 examples were left out`), `the completed job still says it was requeued, then what the trainer left out: ${completed}`);
    assert.equal(readMetrics(dir).at(-1)?.step, 30);
  });

  void it('a job that dies on the cluster shows Slurm\'s state and exit code as the reason', async () => {
    // A config.json passes the checks before the job; one that names no model makes the trainer fail on the node.
    const bogus = join(tempDir(), 'not-a-model');
    mkdirSync(bogus);
    writeFileSync(join(bogus, 'config.json'), '{}');
    const started = coi(['finetune', 'start', '--engine', 'slurm', '--base', bogus, '--data', data, '--max-steps', '5', '--json'], { cwd: workspace, env: env() });
    assert.equal(started.code, 0, started.stderr);
    const { id } = JSON.parse(started.stdout) as JobState;
    await until('the job to end', () => status(id).status === 'failed');
    assert.match(status(id).message ?? '', /Slurm job \d+ ended FAILED \(exit code [1-9]\d*:0\)/);
  });

  void it('a job held in the queue shows why it waits, and is cancelled before it starts', async () => {
    const started = coi(['finetune', 'start', '--engine', 'slurm', '--base', base, '--data', data, '--max-steps', '5', '--sbatch-arg=--begin=now+1hour', '--json'], { cwd: workspace, env: env() });
    assert.equal(started.code, 0, started.stderr);
    const { id } = JSON.parse(started.stdout) as JobState;
    await until('squeue to give the reason', () => /BeginTime/.test(status(id).message ?? ''));
    assert.equal(status(id).status, 'queued');
    const cancelled = coi(['finetune', 'cancel', id, '--json'], { cwd: workspace, env: env() });
    assert.equal(cancelled.code, 0, cancelled.stderr);
    const state = JSON.parse(cancelled.stdout) as JobState;
    assert.equal(state.status, 'cancelled');
    assert.match(state.message ?? '', /Cancelled while Slurm job \d+ was pending/);
    assert.equal(readMetrics(jobDir(workspace, id)).length, 0, 'it never ran');
    const queue = spawnSync('squeue', ['-h', '-j', state.slurmJobId ?? '', '-o', '%T'], { env: env(), encoding: 'utf8' });
    assert.doesNotMatch(queue.stdout, /PENDING/, 'Slurm no longer holds it');
  });
});
