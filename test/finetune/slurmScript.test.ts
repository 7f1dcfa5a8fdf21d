// The Slurm engine's batch script for a multi-node job (not runnable here: one node, no GPU):
// the sbatch directives from the job's settings, one launcher per node with the rendezvous
// taken from Slurm's environment, USR1 before the time limit, the launcher deaf to USR1 and TERM
// (the trainer saves on both).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { batchScript, createJob, jobDir, jobsRoot, jobSbatchOptions, newJobId, OWN_SBATCH_OPTIONS, PAPER_DEFAULTS, sbatchArgsProblem, type JobConfig } from '../../core/finetune';
import { tempDir } from '../helpers/tempDir';

void test('a 2-node × 4-GPU DeepSpeed job: directives, rendezvous from SLURM_*, the accelerate config it launches with', () => {
  const workspace = tempDir();
  const config: JobConfig = {
    engine: 'slurm',
    baseModel: '/models/mistral-7b',
    data: '/data/train.jsonl',
    method: 'full',
    training: PAPER_DEFAULTS,
    distributed: { strategy: 'deepspeed-zero3', gpus: 4, nodes: 2, port: 29600 },
    slurm: { partition: 'gpu', timeLimit: '1-00:00:00', account: 'nlp', cpusPerTask: 32, sbatchArgs: ['--qos=high', '--exclusive'] },
  };
  const { id } = createJob(workspace, config);
  const dir = jobDir(workspace, id);
  const script = batchScript(dir, workspace, config, '/shared/venv/bin/python', {}, '/shared/out/checkpoint-100');
  for (const directive of ['--nodes=2', '--ntasks-per-node=1', '--gpus-per-node=4', '--cpus-per-task=32', '--partition=gpu', '--time=1-00:00:00', '--account=nlp', '--qos=high', '--exclusive', '--signal=USR1@120', '--open-mode=append']) {
    assert.match(script, new RegExp(`^#SBATCH ${directive.replace(/[-]/g, '\\-')}$`, 'm'), directive);
  }
  assert.match(script, /^MAIN_NODE=\$\(scontrol show hostnames "\$SLURM_JOB_NODELIST" \| head -n 1\)$/m);
  const launch = script.split('\n').find((l) => l.startsWith('srun ')) ?? '';
  assert.ok(launch.startsWith("srun --kill-on-bad-exit=1 bash -c 'trap "), launch);
  assert.ok(launch.includes(' USR1 TERM; exec /shared/venv/bin/python -m accelerate.commands.launch '), launch);
  assert.match(launch, /--num_machines "\$SLURM_NNODES" --machine_rank "\$SLURM_NODEID" --main_process_ip "\$MAIN_NODE" --main_process_port 29600 /);
  assert.match(launch, /--num_cpu_threads_per_process "\$\{SLURM_CPUS_ON_NODE:-1\}"/);
  assert.match(launch, /coi_train\.py --job-dir \S+ --output-dir \S+ --resume-from \/shared\/out\/checkpoint-100'$/);
  const accelerate = readFileSync(`${dir}/accelerate.yaml`, 'utf8');
  assert.match(accelerate, /distributed_type: DEEPSPEED/);
  assert.match(accelerate, /num_processes: 8/);
});

void test('paths with spaces are double-quoted in #SBATCH lines (sbatch splits them at spaces otherwise), and are one argument each on sbatch\'s command line', () => {
  const workspace = join(tempDir(), 'My Project');
  mkdirSync(workspace);
  const config: JobConfig = { engine: 'slurm', baseModel: '/m', data: '/d.jsonl', method: 'full', training: PAPER_DEFAULTS, slurm: { partition: 'gpu', sbatchArgs: ['--qos=high'] } };
  const { id } = createJob(workspace, config);
  const dir = jobDir(workspace, id);
  const script = batchScript(dir, workspace, config, '/venv/bin/python', {}, undefined);
  assert.match(script, /^#SBATCH --chdir="[^"]*\/My Project"$/m);
  assert.match(script, /^#SBATCH --output="[^"]*\/My Project\/\.coi-jobs\/ft-[^"]+\/log"$/m);
  // What coi sets goes on the command line too (there it wins over SBATCH_* variables): the same options, unquoted; the sbatchArgs stay in the script.
  const lines = [...script.matchAll(/^#SBATCH (.*)$/gm)].map((m) => (m[1] ?? '').replace(/="(.*)"$/, '=$1'));
  const options = jobSbatchOptions(dir, workspace, config);
  assert.deepEqual(lines, [...options, '--qos=high']);
  assert.ok(options.includes(`--output=${join(dir, 'log')}`) && options.includes(`--error=${join(dir, 'log')}`) && options.includes('--partition=gpu'), options.join(' '));
});

void test('the script of a job not made yet (the editor shows it before the user confirms) names its folder and writes nothing', () => {
  const workspace = tempDir();
  const config: JobConfig = { engine: 'slurm', baseModel: '/m', data: '/d.jsonl', method: 'full', training: PAPER_DEFAULTS };
  const id = newJobId();
  const dir = jobDir(workspace, id);
  const script = batchScript(dir, workspace, config, '/venv/bin/python', {}, undefined);
  assert.match(script, new RegExp(`^#SBATCH --output=\\S*/\\.coi-jobs/${id}/log$`, 'm'));
  assert.equal(existsSync(jobsRoot(workspace)), false, 'no job folder');
  createJob(workspace, config, new Date(), id);
  assert.equal(batchScript(dir, workspace, config, '/venv/bin/python', {}, undefined), script, 'the same script once the job exists');
});

void test('every option the batch script sets is one sbatchArgs may not set again (Slurm takes the last: a second --output would take the log away)', () => {
  const workspace = tempDir();
  const config: JobConfig = {
    engine: 'slurm', baseModel: '/m', data: '/d.jsonl', method: 'full', training: PAPER_DEFAULTS,
    distributed: { strategy: 'ddp', gpus: 2, nodes: 2 },
    slurm: { partition: 'gpu', timeLimit: '1:00:00', account: 'nlp', cpusPerTask: 8 },
  };
  const { id } = createJob(workspace, config);
  const script = batchScript(jobDir(workspace, id), workspace, config, '/venv/bin/python', {}, undefined);
  const written = [...script.matchAll(/^#SBATCH --([a-z-]+)/gm)].map((m) => m[1] ?? '');
  assert.ok(written.length >= 12, written.join(' '));
  for (const option of written) {
    assert.ok(OWN_SBATCH_OPTIONS.some((o) => o.long === option), `--${option} is written but not guarded`);
    assert.match(sbatchArgsProblem({ ...config, slurm: { ...config.slurm, sbatchArgs: [`--${option}=x`] } }) ?? '', new RegExp(`sets --${option}\\b`), option);
  }
  assert.equal(sbatchArgsProblem({ slurm: { sbatchArgs: ['--qos=high', '--exclusive', '--gpus=2', '--ntasks=1', '-p gpu', '--time-min=10', '--mem=0'] } }), undefined);
});
