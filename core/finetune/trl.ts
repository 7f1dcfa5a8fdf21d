/**
 * The local TRL engine: runs python/coi_train.py through `accelerate launch` in the
 * cached virtual environment (python.ts), as a detached process group whose output goes
 * to `<job>/log`. The process outlives the `coi` that started it; any later `coi` (or the
 * extension) re-attaches by the pid in state.json. Cancel sends SIGTERM to the group once it is
 * confirmed as the job's trainer (trainerProcess.ts): the script saves a checkpoint (none before
 * training began), writes exit.json and stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { EngineContext, FinetuneEngine } from './engine';
import { FinetuneError, isTrainingPid, StartUnfinishedError, type JobConfig, type JobState } from './job';
import { notTrainerMessage, trainerProcess } from './trainerProcess';
import { trainerProcessEnv } from './childEnv';
import { killGroupAtOnce, processStartIdentity } from '../syntax/processes';
import { describeFsError } from '../syntax/fsErrors';
import { pythonScriptsDir, PythonSetupError, trainingEnvironmentRefusal, venvLocation } from './python';
import { accelerateConfigYaml } from './accelerate';
import { ensureTrainingFileOrFail } from './trainingData';
import { jobDir, latestCheckpoint, outputDirOf, readConfig, readState, refreshState, requeueForResume, updateState } from './store';

export const trlEngine: FinetuneEngine = {
  name: 'trl',

  start(jobId, context) {
    return launch(jobId, context, undefined);
  },

  cancel(jobId, context) {
    const dir = jobDir(context.workspace, jobId);
    const recorded = readState(dir);
    const found = (recorded.status === 'running' || recorded.status === 'cancelling') && recorded.pid !== undefined ? trainerProcess(dir, recorded.pid, recorded.pidStart) : undefined;
    // Only the job's own trainer is signalled: state.json can name any pid (a committed job folder).
    if (found?.kind === 'unconfirmed' || found?.kind === 'other') {
      const message = notTrainerMessage(jobId, dir, recorded.pid ?? 0, found);
      if (found.kind === 'unconfirmed') return Promise.reject(new FinetuneError(`${message} The job is left as it was; stop its trainer yourself if that process is it.`));
      // The trainer is gone and its pid taken: what it left (exit.json, a crash) decides, else failed, saying so.
      const state = refreshState(dir, context.workspace, () => found);
      return state.message === message ? Promise.reject(new FinetuneError(`${message} The job is marked failed.`)) : Promise.resolve(state);
    }
    const state = refreshState(dir, context.workspace, () => found ?? { kind: 'gone' });
    if (state.status === 'queued') return Promise.resolve(updateState(dir, 'cancelled', { message: 'Cancelled before it started.' }));
    if (state.status !== 'running' || !isTrainingPid(state.pid)) return Promise.resolve(state);
    try {
      process.kill(-state.pid, 'SIGTERM');
    } catch {
      return Promise.resolve(refreshState(dir, context.workspace));
    }
    return Promise.resolve(updateState(dir, 'cancelling'));
  },

  async resume(jobId, context) {
    const dir = jobDir(context.workspace, jobId);
    const checkpoint = requeueForResume(dir, refreshState(dir, context.workspace));
    return launch(jobId, context, checkpoint.path);
  },

  status(jobId, context) {
    return Promise.resolve(refreshState(jobDir(context.workspace, jobId), context.workspace));
  },
};

async function launch(jobId: string, context: EngineContext, resumeFrom: string | undefined): Promise<JobState> {
  const dir = jobDir(context.workspace, jobId);
  const env = context.env ?? process.env;
  const venv = venvLocation(env);
  const refusal = trainingEnvironmentRefusal('trl', env);
  if (refusal !== undefined) {
    updateState(dir, 'failed', { message: refusal }); // not left queued forever
    throw new PythonSetupError(refusal);
  }
  ensureTrainingFileOrFail(dir);
  const args = trainingArgs(dir, context.workspace, env, resumeFrom);
  writeFileSync(join(dir, 'command'), [venv.python, ...args].map(shellQuote).join(' ') + '\n');
  rmSync(join(dir, 'exit.json'), { force: true }); // the previous run's verdict
  const log = openSync(join(dir, 'log'), 'a');
  let child: ChildProcess;
  let logStart: number;
  try {
    logStart = fstatSync(log).size; // a resumed job's log holds the earlier runs' output
    child = spawn(venv.python, args, {
      cwd: resolve(context.workspace),
      detached: true, // its own process group: Cancel signals launcher and trainer together, and it outlives coi
      stdio: ['ignore', log, log],
      env: trainingEnv(env),
    });
  } finally {
    closeSync(log);
  }
  child.unref();
  const pid = child.pid;
  if (pid === undefined) return updateState(dir, 'failed', { message: `Cannot start ${venv.python}.` });
  try {
    // Always replaced: an earlier run's identity must not stay beside this run's pid.
    return updateState(dir, 'running', { pid, pidStart: processStartIdentity(pid), logStart });
  } catch (error) {
    // A trainer whose pid is not recorded could be neither followed nor cancelled: it is stopped at once.
    await killGroupAtOnce(child, pid);
    const message = `The trainer (pid ${pid}) started, but job ${jobId}'s state.json could not be written (${describeFsError(error)}): it was stopped at once, before it trained anything.`;
    try {
      updateState(dir, 'failed', { message }); // a resumed job keeps its folder: not left queued
    } catch {
      // the same write failing again
    }
    throw new StartUnfinishedError(message, false);
  }
}

/**
 * The arguments of `python` that train the job: `accelerate launch` with the job's
 * accelerate.yaml (written once, editable) and python/coi_train.py. Every engine runs this
 * same command; `launchOptions` adds what a multi-node launch needs (Slurm: rank, main node).
 */
export function trainingArgs(dir: string, workspace: string, env: Readonly<Record<string, string | undefined>>, resumeFrom: string | undefined, launchOptions: readonly string[] = [], config: JobConfig = readConfig(dir)): string[] {
  const output = outputDirOf(dir, config, workspace);
  const accelerateConfig = join(dir, 'accelerate.yaml');
  // A job folder not made yet (the editor shows a Slurm job's script before it is confirmed): nothing is written.
  if (existsSync(dir) && !existsSync(accelerateConfig)) writeFileSync(accelerateConfig, accelerateConfigYaml(config.distributed));
  // accelerate launch sets OMP_NUM_THREADS=1 unless told: a one-process CPU job would train on one core of many.
  const threads = Math.max(1, Math.floor(availableParallelism() / (config.distributed?.gpus ?? 1)));
  return ['-m', 'accelerate.commands.launch', '--config_file', accelerateConfig, '--num_cpu_threads_per_process', String(threads), ...launchOptions, join(pythonScriptsDir(env), 'coi_train.py'), '--job-dir', dir, '--output-dir', output, ...(resumeFrom === undefined ? [] : ['--resume-from', resumeFrom])];
}

/**
 * How torch's OpenMP threads wait for work when the caller does not say: PASSIVE (sleep), not
 * OpenMP's default of spinning. A CPU trainer given every core spins on all of them between
 * operations; when anything else runs on the machine (the editor, an evaluation, a second job),
 * the spinning threads and that work take turns on the cores and training crawls: the tiny
 * model's 40 steps took 156 s beside one busy core where they take 18 s alone. Sleeping
 * threads: 24 s beside it, the same 18 s alone (docs/finetune.md, `npm run bench -- finetune`).
 */
export const DEFAULT_OMP_WAIT_POLICY = 'PASSIVE';

/**
 * The variables coi sets for the trainer, over the caller's environment: the local engine gives
 * them to the process it starts, the Slurm batch script exports them on the node.
 */
export function trainerSettings(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return { PYTHONUNBUFFERED: '1', TOKENIZERS_PARALLELISM: 'false', HF_HUB_OFFLINE: env['HF_HUB_OFFLINE'] ?? '1', OMP_WAIT_POLICY: env['OMP_WAIT_POLICY'] ?? DEFAULT_OMP_WAIT_POLICY };
}

/** The environment the training process runs with: the caller's, less its keys (the Hub token stays only where it may download, childEnv.ts). */
export function trainingEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  return { ...trainerProcessEnv(env), ...trainerSettings(env) };
}

export function lastCheckpointOf(workspace: string, jobId: string): ReturnType<typeof latestCheckpoint> {
  const dir = jobDir(workspace, jobId);
  return latestCheckpoint(outputDirOf(dir, readConfig(dir), workspace));
}

export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
