/**
 * The Slurm engine: the same training script as the local TRL engine (python/coi_train.py
 * through `accelerate launch`), run by the cluster's scheduler. `start` writes the job's
 * batch script `<job>/job.sbatch` (srun starts one `accelerate launch` per node; the
 * rendezvous comes from the Slurm environment), submits it with `sbatch --parsable` and
 * records the Slurm job id; `status` follows `squeue`, then `sacct` (or `scontrol` where
 * accounting is off) and the exit.json/metrics.jsonl the training writes into the job folder,
 * which must therefore be on a filesystem every node shares, like the virtual environment
 * and the base model. Only the `sbatch` on PATH is used: a login host over ssh is not
 * supported (see docs/finetune.md, "On a cluster").
 */
import { execFile } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import type { EngineContext, FinetuneEngine } from './engine';
import { canResume, FinetuneError, type JobConfig, type JobState } from './job';
import { pythonScriptsDir, PythonSetupError, venvLocation } from './python';
import { accelerateConfigYaml } from './accelerate';
import { jobDir, latestCheckpoint, outputDirOf, readConfig, readExitRecord, readState, updateState } from './store';

/** Seconds before the time limit at which Slurm sends SIGUSR1, so the training saves a checkpoint in time. */
export const SIGNAL_BEFORE_LIMIT_S = 120;
export const BATCH_SCRIPT = 'job.sbatch';
const DEFAULT_PORT = 29500;

type Env = Readonly<Record<string, string | undefined>>;

export interface BatchScriptInput {
  readonly jobId: string;
  readonly jobFolder: string;
  readonly workspace: string;
  readonly config: JobConfig;
  readonly python: string;
  readonly trainScript: string;
  readonly outputDir: string;
  readonly resumeFrom?: string;
}

/** The text of `job.sbatch`: `#SBATCH` options from the job's `slurm` settings, then one `accelerate launch` per node. */
export function slurmBatchScript(input: BatchScriptInput): string {
  const { config } = input;
  const slurm = config.slurm ?? {};
  const nodes = slurm.nodes ?? config.distributed?.nodes ?? 1;
  const gpus = slurm.gpusPerNode ?? config.distributed?.gpus ?? 0;
  const directives = [
    `--job-name=coi-${input.jobId}`,
    `--chdir=${sbatchQuote(input.workspace)}`,
    `--output=${sbatchQuote(join(input.jobFolder, 'log'))}`,
    '--open-mode=append',
    `--nodes=${nodes}`,
    '--ntasks-per-node=1', // one launcher per node; accelerate starts the per-GPU processes
    ...(gpus > 0 ? [`--gpus-per-node=${gpus}`] : []),
    ...(slurm.partition !== undefined ? [`--partition=${slurm.partition}`] : []),
    ...(slurm.account !== undefined ? [`--account=${slurm.account}`] : []),
    ...(slurm.timeLimit !== undefined ? [`--time=${slurm.timeLimit}`] : []),
    `--signal=USR1@${SIGNAL_BEFORE_LIMIT_S}`, // the training saves a checkpoint before the time limit
    ...(slurm.sbatchArgs ?? []),
  ];
  const distributed = config.distributed;
  const launchArgs = [
    '--config_file', join(input.jobFolder, 'accelerate.yaml'),
    ...(distributed === undefined ? [] : ['--num_processes', `$(( SLURM_NNODES * ${distributed.gpus} ))`]),
    '--num_machines', '"$SLURM_NNODES"',
    '--main_process_ip', '"$MASTER_ADDR"',
    '--main_process_port', '"$MASTER_PORT"',
  ];
  const trainArgs = [input.trainScript, '--job-dir', input.jobFolder, '--output-dir', input.outputDir, ...(input.resumeFrom === undefined ? [] : ['--resume-from', input.resumeFrom])].map(shellQuote);
  return [
    '#!/bin/bash',
    `# CoI Studio fine-tuning job ${input.jobId}, written by coi (see docs/finetune.md, "On a cluster").`,
    ...directives.map((d) => `#SBATCH ${d}`),
    'set -euo pipefail',
    'export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"',
    '# Rendezvous of the nodes: the first node of the allocation is the main one.',
    'MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"',
    `MASTER_PORT=${distributed?.port ?? DEFAULT_PORT}`,
    'export MASTER_ADDR MASTER_PORT',
    '# Each node: the launcher ignores USR1/TERM (an ignored signal stays ignored across exec) so that it',
    '# outlives the training processes, which catch them, save a checkpoint and stop.',
    `srun --nodes="$SLURM_NNODES" --ntasks-per-node=1 --kill-on-bad-exit=1 bash -c 'trap "" USR1 TERM; python="$1"; shift; exec "$python" -m accelerate.commands.launch --machine_rank "$SLURM_NODEID" "$@"' coi-node \\`,
    `  ${shellQuote(input.python)} ${launchArgs.map((a) => (a.startsWith('"') || a.startsWith('$') ? a : shellQuote(a))).join(' ')} \\`,
    `  ${trainArgs.join(' ')}`,
    '',
  ].join('\n');
}

/** Writes the job's accelerate.yaml (once) and job.sbatch (each submission); returns the script. */
export function writeBatchScript(jobId: string, context: EngineContext, resumeFrom?: string): string {
  const dir = jobDir(context.workspace, jobId);
  const env = context.env ?? process.env;
  const venv = venvLocation(env);
  if (!venv.ready) throw new PythonSetupError("The training environment is not set up: run 'coi finetune setup' first (on a path every node sees).");
  const config = readConfig(dir);
  const accelerateConfig = join(dir, 'accelerate.yaml');
  if (!existsSync(accelerateConfig)) writeFileSync(accelerateConfig, accelerateConfigYaml(config.distributed));
  const script = slurmBatchScript({
    jobId,
    jobFolder: dir,
    workspace: resolve(context.workspace),
    config,
    python: venv.python,
    trainScript: join(pythonScriptsDir(env), 'coi_train.py'),
    outputDir: outputDirOf(dir, config, context.workspace),
    ...(resumeFrom === undefined ? {} : { resumeFrom }),
  });
  writeFileSync(join(dir, BATCH_SCRIPT), script, { mode: 0o755 });
  return script;
}

export const slurmEngine: FinetuneEngine = {
  name: 'slurm',

  async start(jobId, context) {
    const dir = jobDir(context.workspace, jobId);
    try {
      if (!existsSync(join(dir, BATCH_SCRIPT))) writeBatchScript(jobId, context);
    } catch (err) {
      updateState(dir, 'failed', { message: (err as Error).message }); // not left queued forever
      throw err;
    }
    return submit(jobId, context);
  },

  async cancel(jobId, context) {
    const state = await this.status(jobId, context);
    const dir = jobDir(context.workspace, jobId);
    if (state.slurmJobId === undefined || (state.status !== 'queued' && state.status !== 'running' && state.status !== 'cancelling')) return state;
    if (state.status === 'queued') {
      await slurmTool('scancel', [state.slurmJobId], context.env);
      return updateState(dir, 'cancelled', { message: `Cancelled before it started (Slurm job ${state.slurmJobId}).` });
    }
    // USR1 to every step's processes: the training saves a checkpoint, writes exit.json and stops.
    // Sent again on a second cancel: a signal that came before the script set its handlers was ignored.
    await slurmTool('scancel', ['--signal=USR1', state.slurmJobId], context.env);
    return updateState(dir, 'cancelling');
  },

  async resume(jobId, context) {
    const dir = jobDir(context.workspace, jobId);
    const state = await this.status(jobId, context);
    if (!canResume(state) || state.lastCheckpoint === undefined) {
      throw new FinetuneError(`Job ${jobId} is ${state.status}${state.lastCheckpoint === undefined ? ' and has no checkpoint' : ''}: only a cancelled or failed job with a checkpoint can be resumed.`);
    }
    writeBatchScript(jobId, context, state.lastCheckpoint.path);
    updateState(dir, 'queued', { resumes: state.resumes + 1, message: undefined }); // the stop's reason no longer applies
    return submit(jobId, context);
  },

  async status(jobId, context) {
    const dir = jobDir(context.workspace, jobId);
    const state = readState(dir);
    if (state.slurmJobId === undefined || (state.status !== 'queued' && state.status !== 'running' && state.status !== 'cancelling')) return state;
    const live = await squeueState(state.slurmJobId, context.env);
    if (live === 'unknown') {
      // The controller did not answer: only the training's own verdict can end the job now.
      return readExitRecord(dir) === undefined ? state : finish(dir, context, state, undefined);
    }
    if (live !== undefined && !ENDED_STATES.has(live.state)) {
      if (PENDING_STATES.has(live.state)) {
        // Why it waits (Priority, Resources, ReqNodeNotAvail, …): the user's to see while it does.
        const message = `Slurm job ${state.slurmJobId}: ${live.state} (${live.reason})`;
        return state.status === 'queued' && state.message !== message ? updateState(dir, 'queued', { message }) : state;
      }
      return state.status === 'queued' ? updateState(dir, 'running', { message: undefined }) : state;
    }
    return finish(dir, context, state, await accountingOf(state.slurmJobId, context.env));
  },
};

async function submit(jobId: string, context: EngineContext): Promise<JobState> {
  const dir = jobDir(context.workspace, jobId);
  rmSync(join(dir, 'exit.json'), { force: true }); // the previous run's verdict
  let output: string;
  try {
    output = await slurmTool('sbatch', ['--parsable', join(dir, BATCH_SCRIPT)], context.env, resolve(context.workspace));
  } catch (err) {
    updateState(dir, 'failed', { message: (err as Error).message });
    throw err;
  }
  // --parsable prints "<id>" or "<id>;<cluster>".
  const slurmJobId = output.trim().split(';')[0] ?? '';
  if (!/^\d+(_\d+)?$/.test(slurmJobId)) {
    const message = `sbatch printed no job id: ${output.trim().slice(0, 200)}`;
    updateState(dir, 'failed', { message });
    throw new FinetuneError(message);
  }
  return updateState(dir, 'queued', { slurmJobId });
}

/** Slurm's job states (squeue's %T) that are still waiting to run, and those that are over. */
const PENDING_STATES = new Set(['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'SUSPENDED']);
const ENDED_STATES = new Set(['COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT', 'PREEMPTED', 'NODE_FAIL', 'BOOT_FAIL', 'DEADLINE', 'OUT_OF_MEMORY', 'REVOKED', 'SPECIAL_EXIT']);

/** The job's state and reason in the queue, undefined when the queue no longer has it, 'unknown' when squeue failed otherwise. */
async function squeueState(slurmJobId: string, env: Env | undefined): Promise<{ state: string; reason: string } | undefined | 'unknown'> {
  try {
    const line = (await slurmTool('squeue', ['--noheader', '--jobs', slurmJobId, '--format=%T|%r'], env)).trim().split('\n')[0] ?? '';
    if (line === '') return undefined;
    const [state = '', reason = ''] = line.split('|');
    return { state: state.trim(), reason: reason.trim() };
  } catch (err) {
    // Once a job has left the controller's memory (MinJobAge), squeue calls its id invalid.
    return /Invalid job id/i.test((err as Error).message) ? undefined : 'unknown';
  }
}

export interface SlurmAccounting {
  /** COMPLETED, CANCELLED, TIMEOUT, PREEMPTED, NODE_FAIL, OUT_OF_MEMORY, FAILED, … */
  readonly state: string;
  /** `<exit code>:<signal>` of the batch script. */
  readonly exitCode?: string;
}

/** How Slurm saw the job end: `sacct` where accounting is on, `scontrol show job` (recent jobs) otherwise. */
async function accountingOf(slurmJobId: string, env: Env | undefined): Promise<SlurmAccounting | undefined> {
  try {
    const accounted = parseSacct(await slurmTool('sacct', ['--noheader', '--parsable2', '--allocations', '--jobs', slurmJobId, '--format=State,ExitCode'], env));
    if (accounted !== undefined) return accounted;
  } catch {
    // accounting storage disabled (no slurmdbd): ask the controller
  }
  try {
    return parseScontrolJob(await slurmTool('scontrol', ['show', 'job', '--oneliner', slurmJobId], env));
  } catch {
    return undefined;
  }
}

/** `CANCELLED by 0|0:15` (sacct --parsable2 --format=State,ExitCode, the allocation's line first). */
export function parseSacct(text: string): SlurmAccounting | undefined {
  const [state, exitCode] = (text.trim().split('\n')[0] ?? '').split('|');
  const word = state?.trim().split(' ')[0];
  if (word === undefined || word === '') return undefined;
  return { state: word, ...(exitCode === undefined || exitCode === '' ? {} : { exitCode: exitCode.trim() }) };
}

/** Which cluster a submission goes to, for the user to see before it does: its name and the sbatch that submits. */
export async function describeCluster(env: Env | undefined): Promise<string> {
  const path = (env ?? process.env)['PATH'] ?? '';
  const sbatch = path.split(delimiter).map((dir) => join(dir, 'sbatch')).find((file) => existsSync(file));
  if (sbatch === undefined) return 'an unknown Slurm cluster (no sbatch on PATH)';
  let name = '(unnamed)';
  try {
    name = /^ClusterName\s*=\s*(\S+)/m.exec(await slurmTool('scontrol', ['show', 'config'], env))?.[1] ?? name;
  } catch {
    name = '(its controller did not answer)';
  }
  return `Slurm cluster ${name} through ${sbatch}`;
}

/** `JobState=TIMEOUT Reason=TimeLimit … ExitCode=0:15` out of `scontrol show job --oneliner`. */
export function parseScontrolJob(text: string): SlurmAccounting | undefined {
  const state = /\bJobState=(\S+)/.exec(text)?.[1];
  if (state === undefined) return undefined;
  const exitCode = /\bExitCode=(\S+)/.exec(text)?.[1];
  return { state, ...(exitCode === undefined ? {} : { exitCode }) };
}

/** The final state of a job Slurm no longer runs: the training's own verdict (exit.json) first, Slurm's otherwise. */
function finish(dir: string, context: EngineContext, state: JobState, slurm: SlurmAccounting | undefined): JobState {
  const exit = readExitRecord(dir);
  const checkpoint = latestCheckpoint(outputDirOf(dir, readConfig(dir), context.workspace));
  const common = checkpoint === undefined ? {} : { lastCheckpoint: checkpoint };
  // A short job can start and end between two polls: it ran, even if it was never seen running.
  if (state.status === 'queued' && exit !== undefined) updateState(dir, 'running');
  if (exit?.status === 'completed') return updateState(dir, 'completed', { ...common, ...(exit.resultDir === undefined ? {} : { resultDir: exit.resultDir }) });
  const slurmSays = slurm === undefined ? 'Slurm no longer knows it' : `Slurm: ${slurm.state}${slurm.exitCode === undefined ? '' : `, exit code ${slurm.exitCode}`}`;
  if (exit?.status === 'cancelled') {
    if (state.status === 'cancelling') return updateState(dir, 'cancelled', { ...common, message: exit.message ?? 'Cancelled.' });
    // Nobody here asked: Slurm signalled it (time limit, preemption, scancel by someone else). It saved; Resume continues.
    return updateState(dir, 'failed', { ...common, message: `Stopped by Slurm, not cancelled here: ${exit.message ?? 'it saved a checkpoint.'} (Slurm job ${state.slurmJobId ?? '?'}; ${slurmSays}).` });
  }
  if (state.status === 'queued' && slurm?.state === 'CANCELLED') return updateState(dir, 'cancelled', { ...common, message: `Cancelled before it started (${slurmSays}).` });
  const why = exit?.message ?? 'The training ended without finishing';
  return updateState(dir, 'failed', { ...common, message: `${why} (Slurm job ${state.slurmJobId ?? '?'}; ${slurmSays}); see the log.` });
}

/** Runs a Slurm command from PATH; rejects with its error output (one line per problem) on failure. */
function slurmTool(command: string, args: readonly string[], env: Env | undefined, cwd?: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(command, args, { env: { ...(env ?? process.env) }, encoding: 'utf8', timeout: 60_000, ...(cwd === undefined ? {} : { cwd }) }, (err, stdout, stderr) => {
      if (err === null) {
        resolvePromise(stdout);
        return;
      }
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        reject(new FinetuneError(`'${command}' is not on PATH: the Slurm engine runs where Slurm's commands work (a login node of the cluster); submitting through ssh is not supported.`));
        return;
      }
      reject(new FinetuneError(`${command} failed: ${stderr.trim() || err.message}`));
    });
  });
}

/** sbatch reads `#SBATCH` lines itself and takes a double-quoted value with spaces (tried on Slurm 22.05). */
function sbatchQuote(value: string): string {
  return /\s/.test(value) ? `"${value}"` : value;
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
