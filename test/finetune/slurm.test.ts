/**
 * The Slurm engine. Its batch script and configuration are checked everywhere; the jobs run
 * on a real one-node Slurm cluster (test/rig/slurm.ts: munged, slurmctld, slurmd started in a
 * temporary folder) through the real `coi`: a tiny CPU training job completes and converts to
 * GGUF, another is cancelled with a checkpoint and resumed to the end. Those skip with one line
 * when Slurm or Python ≥ 3.10 is absent.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureVenv, findSystemPython, jobDir, listJobIds, parseFinetuneConfig, parseSacct, parseScontrolJob, readMetrics, readState, slurmBatchScript, PAPER_DEFAULTS, type JobConfig, type JobState } from '../../core/finetune';
import { coi } from '../cli/cliProcess';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { slurmUnavailable, startSlurm, type SlurmCluster } from '../rig/slurm';

const BASE_CONFIG: JobConfig = { engine: 'slurm', baseModel: '/m', data: '/d.jsonl', method: 'full', training: PAPER_DEFAULTS };
const SCRIPT_INPUT = { jobId: 'ft-1', jobFolder: '/shared/ws/.coi-jobs/ft-1', workspace: '/shared/ws', python: '/shared/venv/bin/python', trainScript: '/opt/coi/python/coi_train.py', outputDir: '/shared/ws/.coi-jobs/ft-1/output' };

void describe('the Slurm batch script', () => {
  const cases: { name: string; config: JobConfig; workspace?: string; resumeFrom?: string; has: RegExp[]; hasNot: RegExp[] }[] = [
    {
      name: 'one node, cluster defaults',
      config: BASE_CONFIG,
      has: [/^#SBATCH --nodes=1$/m, /^#SBATCH --ntasks-per-node=1$/m, /^#SBATCH --signal=USR1@120$/m, /^#SBATCH --output=\/shared\/ws\/\.coi-jobs\/ft-1\/log$/m, /^#SBATCH --chdir=\/shared\/ws$/m],
      hasNot: [/--partition/, /--gpus-per-node/, /--time=/, /--num_processes/, /--resume-from/],
    },
    {
      name: 'four nodes of eight GPUs with DeepSpeed, partition, account, time limit, extra options',
      config: { ...BASE_CONFIG, distributed: { strategy: 'deepspeed-zero3', gpus: 8, nodes: 4, port: 29600 }, slurm: { partition: 'gpu', account: 'lab', timeLimit: '04:00:00', sbatchArgs: ['--qos=high', '--exclusive'] } },
      has: [/^#SBATCH --nodes=4$/m, /^#SBATCH --gpus-per-node=8$/m, /^#SBATCH --partition=gpu$/m, /^#SBATCH --account=lab$/m, /^#SBATCH --time=04:00:00$/m, /^#SBATCH --qos=high$/m, /^#SBATCH --exclusive$/m, /--num_processes \$\(\( SLURM_NNODES \* 8 \)\)/, /^MASTER_PORT=29600$/m],
      hasNot: [],
    },
    {
      name: 'a workspace with spaces: quoted for sbatch and for the shell',
      config: BASE_CONFIG,
      workspace: '/shared/my work',
      has: [/^#SBATCH --chdir="\/shared\/my work"$/m, /^#SBATCH --output="\/shared\/my work\/\.coi-jobs\/ft-1\/log"$/m, /coi_train\.py --job-dir '\/shared\/my work\/\.coi-jobs\/ft-1' --output-dir '\/shared\/my work\/\.coi-jobs\/ft-1\/output'$/m],
      hasNot: [],
    },
    {
      name: 'a resumed job names its checkpoint',
      config: BASE_CONFIG,
      resumeFrom: '/shared/ws/.coi-jobs/ft-1/output/checkpoint-7',
      has: [/--resume-from \/shared\/ws\/\.coi-jobs\/ft-1\/output\/checkpoint-7$/m],
      hasNot: [],
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const input = c.workspace === undefined ? SCRIPT_INPUT : { ...SCRIPT_INPUT, workspace: c.workspace, jobFolder: `${c.workspace}/.coi-jobs/ft-1`, outputDir: `${c.workspace}/.coi-jobs/ft-1/output` };
      const script = slurmBatchScript({ ...input, config: c.config, ...(c.resumeFrom === undefined ? {} : { resumeFrom: c.resumeFrom }) });
      for (const pattern of [
        ...c.has,
        // Every node: the rendezvous from Slurm's environment, one accelerate launch per node.
        /^MASTER_ADDR="\$\(scontrol show hostnames "\$SLURM_JOB_NODELIST" \| head -n 1\)"$/m,
        /^srun --nodes="\$SLURM_NNODES" --ntasks-per-node=1 .*accelerate\.commands\.launch --machine_rank "\$SLURM_NODEID"/m,
        /--num_machines "\$SLURM_NNODES" --main_process_ip "\$MASTER_ADDR"/,
        /coi_train\.py --job-dir '?\/shared\/[\w ]+\/\.coi-jobs\/ft-1'? --output-dir/,
      ]) assert.match(script, pattern);
      for (const pattern of c.hasNot) assert.doesNotMatch(script, pattern);
      // #SBATCH lines count only before the first command.
      const lines = script.split('\n');
      const firstCommand = lines.findIndex((l) => l.startsWith('set -e'));
      assert.ok(firstCommand > 0 && lines.slice(firstCommand).every((l) => !l.startsWith('#SBATCH')));
    });
  }
});

void describe('slurm settings in *.coi-finetune.json', () => {
  const cases: { text: string; problem?: RegExp; line?: number }[] = [
    { text: '{"engine": "slurm", "baseModel": "m", "data": "d", "slurm": {"partition": "gpu", "timeLimit": "1-00:00:00", "sbatchArgs": ["--qos=low"]}}' },
    { text: '{"baseModel": "m", "data": "d",\n "slurm": {"partition": "gpu"}}', problem: /'slurm' options need "engine": "slurm"/, line: 2 },
    { text: '{"engine": "slurm", "baseModel": "m", "data": "d",\n "slurm": {"partition": "gpu a100"}}', problem: /'partition' must be one word/, line: 2 },
    { text: '{"engine": "slurm", "baseModel": "m", "data": "d", "slurm": {\n"sbatchArgs": ["--qos=high\\n#SBATCH --x"]}}', problem: /'sbatchArgs' must be a list of sbatch options/, line: 2 },
    { text: '{"engine": "pbs", "baseModel": "m", "data": "d"}', problem: /Unknown engine "pbs": the engines are "trl", "slurm"/, line: 1 },
    { text: '{"engine": "slurm", "baseModel": "m", "data": "d",\n "slurm": {"nodes": 2}}', problem: /Several nodes \('slurm.nodes'\) need 'distributed'/, line: 2 },
    { text: '{"engine": "slurm", "baseModel": "m", "data": "d", "distributed": {"strategy": "ddp", "gpus": 2, "nodes": 4},\n "slurm": {"nodes": 2}}', problem: /'slurm.nodes' \(2\) and 'distributed.nodes' \(4\) differ/, line: 2 },
  ];
  for (const c of cases) {
    void it(c.problem === undefined ? 'a valid slurm block' : c.problem.source, () => {
      const result = parseFinetuneConfig(c.text);
      if (c.problem === undefined) {
        assert.deepEqual(result.problems, []);
        assert.equal(result.config?.engine, 'slurm');
        assert.equal(result.config?.slurm?.timeLimit, '1-00:00:00');
        return;
      }
      const problem = result.problems.find((p) => c.problem?.test(p.message) === true);
      assert.ok(problem !== undefined, JSON.stringify(result.problems));
      assert.equal(problem.line, c.line);
    });
  }

  void it("sacct's line gives the state and exit code of a job Slurm ended", () => {
    assert.deepEqual(parseSacct('CANCELLED by 0|0:15\nCANCELLED|0:15\n'), { state: 'CANCELLED', exitCode: '0:15' });
    assert.deepEqual(parseSacct('PREEMPTED|0:0'), { state: 'PREEMPTED', exitCode: '0:0' });
    assert.equal(parseSacct(''), undefined, 'a job sacct does not know');
  });

  void it("scontrol's one-line job record gives the state and exit code of a job Slurm ended", () => {
    assert.deepEqual(parseScontrolJob('JobId=7 JobName=coi-ft JobState=TIMEOUT Reason=TimeLimit Dependency=(null) ExitCode=0:15 RunTime=00:01:00'), { state: 'TIMEOUT', exitCode: '0:15' });
    assert.equal(parseScontrolJob('slurm_load_jobs error: Invalid job id specified'), undefined);
  });
});

let unavailable = slurmUnavailable();
if (unavailable === undefined) {
  try {
    findSystemPython();
  } catch (err) {
    unavailable = `skipped: ${(err as Error).message}`;
  }
}

const data = repoPath('test', 'fixtures', 'finetune', 'coi2-excerpt.jsonl');
/** Settings that make the tiny random model learn visibly in a few dozen steps (as in training.test.ts). */
const FAST = ['--learning-rate', '3e-3', '--batch-size', '8', '--grad-accum', '1'];

void describe('coi finetune --engine slurm on a real one-node Slurm cluster', { skip: unavailable ?? false }, () => {
  let cluster: SlurmCluster | undefined;
  let base = '';
  let workspace = '';

  before(async () => {
    const venv = await ensureVenv();
    base = join(tempDir(), 'tiny-hf');
    const text = join(tempDir(), 'text.txt');
    const records = readFileSync(data, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { prompt: string; completion: string });
    writeFileSync(text, records.map((r) => `${r.prompt}\n${r.completion}`).join('\n'));
    const made = spawnSync(venv.python, [repoPath('python', 'make_tiny_hf_model.py'), base, text], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    workspace = tempDir();
    cluster = await startSlurm();
  });

  after(async () => {
    await cluster?.stop();
  });

  function run(args: readonly string[]): ReturnType<typeof coi> {
    return coi(args, { cwd: workspace, env: cluster?.env ?? {} });
  }

  async function until(what: string, predicate: () => boolean): Promise<void> {
    const deadline = Date.now() + 300_000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  void it('--dry-run prints the batch script and leaves no job; a bad option is refused before anything is submitted', () => {
    const dry = run(['finetune', 'start', '--engine', 'slurm', '--base', base, '--data', data, '--time-limit', '00:30:00', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^#SBATCH --time=00:30:00$/m);
    assert.match(dry.stdout, /^srun /m);
    assert.match(dry.stderr, /nothing was submitted/);
    assert.deepEqual(listJobIds(workspace), []);
    const badPartition = run(['finetune', 'start', '--engine', 'slurm', '--base', base, '--data', data, '--partition', 'nosuch', '--json']);
    assert.equal(badPartition.code, 1);
    assert.match(badPartition.stderr, /sbatch failed: .*[Pp]artition/);
    const [failedId] = listJobIds(workspace);
    assert.equal(readState(jobDir(workspace, failedId ?? '')).status, 'failed', 'the refused job is not left queued');
    const noSlurm = coi(['finetune', 'start', '--engine', 'slurm', '--base', base, '--data', data], { cwd: workspace, env: { ...cluster?.env, PATH: '/nonexistent' } });
    assert.equal(noSlurm.code, 1);
    assert.match(noSlurm.stderr, /to an unknown Slurm cluster \(no sbatch on PATH\)/);
    assert.match(noSlurm.stderr, /'sbatch' is not on PATH: .*submitting through ssh is not supported/);
  });

  void it('a job waiting in the queue shows why; cancelling it is a plain scancel, before it started', () => {
    const started = run(['finetune', 'start', '--engine', 'slurm', '--base', base, '--data', data, '--sbatch-arg=--begin=now+3600', '--json']);
    assert.equal(started.code, 0, started.stderr);
    const { id, slurmJobId } = JSON.parse(started.stdout) as JobState;
    const waiting = JSON.parse(run(['finetune', 'status', id, '--json']).stdout) as JobState;
    assert.equal(waiting.status, 'queued');
    assert.equal(waiting.message, `Slurm job ${slurmJobId ?? ''}: PENDING (BeginTime)`);
    const cancelled = run(['finetune', 'cancel', id, '--json']);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal((JSON.parse(cancelled.stdout) as JobState).status, 'cancelled');
    const queue = spawnSync('squeue', ['--noheader', '--jobs', slurmJobId ?? '', '--format=%T'], { env: cluster?.env, encoding: 'utf8' });
    assert.doesNotMatch(queue.stdout, /PENDING/, 'Slurm no longer holds it');
  });

  void it('a tiny CPU job through sbatch: the script is shown, progress arrives, the loss falls, the model converts to GGUF', () => {
    const result = run(['finetune', 'start', '--engine', 'slurm', '--base', base, '--data', data, ...FAST, '--max-steps', '30', '--wait', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const state = JSON.parse(result.stdout) as JobState;
    assert.equal(state.status, 'completed', JSON.stringify(state));
    assert.match(state.slurmJobId ?? '', /^\d+$/);
    assert.match(result.stderr, /^Submitting .*job\.sbatch to Slurm cluster coitest through \/\S+\/sbatch:\n#!\/bin\/bash$/m);
    assert.equal((result.stderr.match(/^step \d+\/30 .*loss \d/gm) ?? []).length, 30, result.stderr);
    const metrics = readMetrics(jobDir(workspace, state.id));
    const first = metrics[0]?.loss ?? 0;
    const last = metrics.at(-1)?.loss ?? Infinity;
    assert.ok(last < first - 0.5, `loss ${first} → ${last}`);
    const gguf = run(['finetune', 'gguf', state.id, '--outtype', 'q8_0', '--json']);
    assert.equal(gguf.code, 0, gguf.stderr);
    const ggufPath = (JSON.parse(gguf.stdout) as JobState).ggufPath ?? '';
    assert.ok(existsSync(ggufPath), ggufPath);
    assert.equal(readFileSync(ggufPath).subarray(0, 4).toString('latin1'), 'GGUF');
  });

  void it('Cancel is scancel --signal=USR1: the job saves a checkpoint and is cancelled; Resume re-submits from it to the end', async () => {
    const started = run(['finetune', 'start', '--engine', 'slurm', '--base', base, '--data', data, ...FAST, '--max-steps', '60', '--json']);
    assert.equal(started.code, 0, started.stderr);
    const { id, slurmJobId } = JSON.parse(started.stdout) as JobState;
    const dir = jobDir(workspace, id);
    await until('three metric lines', () => readMetrics(dir).length >= 3);
    const cancelling = run(['finetune', 'cancel', id, '--json']);
    assert.equal(cancelling.code, 0, cancelling.stderr);
    assert.equal((JSON.parse(cancelling.stdout) as JobState).status, 'cancelling');
    await until('the job to end', () => (JSON.parse(run(['finetune', 'status', id, '--json']).stdout) as JobState).status !== 'cancelling');
    const cancelled = readState(dir);
    assert.equal(cancelled.status, 'cancelled', JSON.stringify(cancelled));
    const checkpoint = cancelled.lastCheckpoint;
    assert.ok(checkpoint !== undefined && checkpoint.step >= 3 && checkpoint.step < 60, JSON.stringify(cancelled));
    assert.ok(existsSync(join(checkpoint.path, 'trainer_state.json')));
    const resumed = run(['finetune', 'resume', id, '--wait', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const final = JSON.parse(resumed.stdout) as JobState;
    assert.equal(final.status, 'completed', JSON.stringify(final));
    assert.equal(final.resumes, 1);
    assert.equal(final.message, undefined, 'the cancel reason is gone once the job completed');
    assert.notEqual(final.slurmJobId, slurmJobId, 'a new submission');
    assert.match(readFileSync(join(dir, 'job.sbatch'), 'utf8'), new RegExp(`--resume-from ${checkpoint.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    const steps = readMetrics(dir).map((m) => m.step);
    assert.equal(steps[steps.lastIndexOf(checkpoint.step) + 1], checkpoint.step + 1, 'the resumed run starts right after the checkpoint');
    assert.equal(steps.at(-1), 60);
  });

  void it('a job Slurm stops on its own (preemption, an operator\'s scancel) fails with the Slurm state and exit code as its reason, and resumes', async () => {
    const started = run(['finetune', 'start', '--engine', 'slurm', '--base', base, '--data', data, ...FAST, '--max-steps', '40', '--json']);
    assert.equal(started.code, 0, started.stderr);
    const { id, slurmJobId } = JSON.parse(started.stdout) as JobState;
    const dir = jobDir(workspace, id);
    await until('three metric lines', () => readMetrics(dir).length >= 3);
    // What Slurm does to a preempted job or one cancelled by an operator: SIGTERM to every step, SIGKILL after KillWait.
    const stopped = spawnSync('scancel', [slurmJobId ?? ''], { env: cluster?.env, encoding: 'utf8' });
    assert.equal(stopped.status, 0, stopped.stderr);
    await until('the job to end', () => (JSON.parse(run(['finetune', 'status', id, '--json']).stdout) as JobState).status !== 'running');
    const failed = readState(dir);
    assert.equal(failed.status, 'failed', JSON.stringify(failed));
    assert.match(failed.message ?? '', new RegExp(`^Stopped by Slurm, not cancelled here: .*Slurm job ${slurmJobId ?? ''}; Slurm: CANCELLED, exit code \\d+:\\d+\\)`));
    assert.ok((failed.lastCheckpoint?.step ?? 0) >= 3, 'it saved a checkpoint on SIGTERM');
    const resumed = run(['finetune', 'resume', id, '--wait', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal((JSON.parse(resumed.stdout) as JobState).status, 'completed');
    assert.equal(readMetrics(dir).at(-1)?.step, 40);
  });
});
