/**
 * The Slurm engine: the same training command as the local engine (`accelerate launch`
 * python/coi_train.py, trl.ts `trainingArgs`), written into a batch script `job.sbatch` in
 * the job folder and submitted with the `sbatch` on PATH. The job folder must be on a
 * filesystem every node sees (as on every Slurm cluster): the training writes its metrics,
 * checkpoints, log and exit.json there, so the panel and `coi finetune` read a Slurm job like
 * any other. `srun` starts one launcher per node; the rendezvous comes from Slurm's
 * environment (the first host of SLURM_JOB_NODELIST, SLURM_NODEID, SLURM_NNODES).
 *
 * The Slurm job id in state.json is acted on only once Slurm shows it is this job's: its name
 * (`coi-<job id>`) and the folder it runs in (the workspace) — state.json is a file like any other,
 * and a committed, copied or stale job folder can name any of the user's Slurm jobs. One that is
 * another job's is never cancelled, and the job is failed saying what that job is.
 *
 * Cancel is `scancel --signal=USR1`: the trainer saves a checkpoint and stops (the launcher
 * ignores USR1 and TERM, so the step ends cleanly); the same signal comes 120 s before the time
 * limit (`--signal=USR1@120`). A pending job is simply cancelled. Resume submits again from
 * the last checkpoint. A job Slurm ends on its own (time limit, preemption, node failure, a
 * crash) shows Slurm's state and exit code as its reason (scontrol, else sacct); one it stopped
 * with SIGTERM saved a checkpoint too, and is failed (not cancelled: nobody here asked). One Slurm
 * requeues (preemption in REQUEUE mode, `scontrol requeue`) is queued again, saying so, and its
 * next run goes on from its newest checkpoint.
 * The commands run asynchronously; a controller that does not answer changes no state.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { EngineContext, FinetuneEngine } from './engine';
import { FinetuneError, isSlurmJobId, StartUnfinishedError, type JobConfig, type JobState } from './job';
import { real } from './trainerProcess';
import { describeFsError } from '../syntax/fsErrors';
import { childProcessEnv, trainerProcessEnv } from './childEnv';
import { PythonSetupError, venvLocation } from './python';
import { jobDir, latestCheckpoint, outputDirOf, readConfig, readExitRecord, readState, requeueForResume, updateState } from './store';
import { shellQuote, trainerSettings, trainingArgs } from './trl';
import { ensureTrainingFileOrFail } from './trainingData';
import { sbatchArgsProblem } from './sbatchOptions';

type Env = Readonly<Record<string, string | undefined>>;

interface ToolResult {
  /** The exit status; null when the command could not run (`error` says why). */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Why it could not run or finish (ENOENT: not on PATH; `killed` at the time-out; `signal`: what ended it). */
  readonly error?: { readonly code?: string | number | null; readonly message: string; readonly killed?: boolean; readonly signal?: string | null; readonly syscall?: string };
}

/** How long a Slurm command may take (a busy controller answers slowly, but answers). */
const TOOL_TIMEOUT_MS = 120_000;

/**
 * Runs a Slurm command without blocking: status is polled from the extension host too, where a
 * synchronous squeue would freeze the editor for as long as a busy controller takes to answer.
 * Without keys (childEnv.ts): sbatch exports its environment to the job's nodes, and Slurm keeps
 * it with the job; sbatch's keeps the Hugging Face token only for a trainer that may download.
 */
function runTool(command: string, args: readonly string[], env: Env, timeoutMs = TOOL_TIMEOUT_MS): Promise<ToolResult> {
  const missing = missingSlurmConf(env);
  if (missing !== undefined) return Promise.resolve({ status: null, stdout: '', stderr: '', error: missing });
  return new Promise((resolve) => {
    execFile(command, args, { env: (command === 'sbatch' ? trainerProcessEnv(env) : childProcessEnv(env)) as NodeJS.ProcessEnv, encoding: 'utf8', timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error === null) resolve({ status: 0, stdout, stderr });
      else if (typeof error.code === 'number') resolve({ status: error.code, stdout, stderr });
      else resolve({ status: null, stdout, stderr, error });
    });
  });
}

/**
 * SLURM_CONF naming no file: Slurm's commands retry reading it for a minute before they fail
 * (then look for the controller in DNS), so every status, cancel or submit would wait that
 * long to say "Unable to process configuration file". Said at once instead.
 */
function missingSlurmConf(env: Env): Error | undefined {
  const conf = env['SLURM_CONF'];
  if (conf === undefined || conf === '' || existsSync(conf)) return undefined;
  return new Error(`SLURM_CONF names ${conf}, which does not exist: set it to the cluster's slurm.conf, or unset it to use Slurm's own`);
}

/** Runs a Slurm command; its standard output, or a FinetuneError with what it said. */
async function slurm(command: string, args: readonly string[], env: Env): Promise<string> {
  return outputOf(await runTool(command, args, env), `${command} ${args.join(' ')}`);
}

/** A command's standard output, or a FinetuneError with what it said (`shown`: the command, as the message names it). */
function outputOf(result: ToolResult, shown: string): string {
  const command = shown.split(' ')[0] ?? shown;
  if (result.error !== undefined) {
    const missing = result.error.code === 'ENOENT';
    throw new FinetuneError(missing ? `Slurm's ${command} is not on PATH: the Slurm engine submits with the sbatch of this machine (a cluster's login node).` : `${command}: ${result.error.message}`);
  }
  if (result.status !== 0) throw new FinetuneError(`${shown} failed: ${lastLines(result)}`);
  return result.stdout;
}

function lastLines(result: ToolResult): string {
  return (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' ');
}

/** Which cluster the sbatch on PATH submits to, in words ("Slurm cluster 'hpc' (the sbatch on PATH, SLURM_CONF=…)"). */
export async function slurmTarget(env: Env): Promise<string> {
  const shown = await runTool('scontrol', ['show', 'config'], env);
  const name = shown.status === 0 ? /^ClusterName\s*=\s*(\S+)/m.exec(shown.stdout)?.[1] : undefined;
  const conf = env['SLURM_CONF'] !== undefined ? `, SLURM_CONF=${env['SLURM_CONF']}` : '';
  return `${name !== undefined ? `Slurm cluster '${name}'` : 'the Slurm cluster (its name could not be read: is slurmctld up?)'} (the sbatch on PATH${conf})`;
}

/**
 * The batch script for the job (shown before it is submitted, and saved as job.sbatch). `token`:
 * the submission's (`--comment`), made when it is submitted; a script shown before has none.
 */
export function batchScript(dir: string, workspace: string, config: JobConfig, python: string, env: Env, resumeFrom: string | undefined, token?: string): string {
  const lineBreak = slurmScriptProblem(dir, workspace, config, python, env, resumeFrom);
  if (lineBreak !== undefined) throw new FinetuneError(lineBreak);
  const nodes = config.distributed?.nodes ?? 1;
  const port = config.distributed?.port ?? 29500;
  const directives = [...jobSbatchOptions(dir, workspace, config, token).map(sbatchLine), ...(config.slurm?.sbatchArgs ?? [])];
  const rendezvous = nodes > 1 ? ['--num_machines', '"$SLURM_NNODES"', '--machine_rank', '"$SLURM_NODEID"', '--main_process_ip', '"$MAIN_NODE"', '--main_process_port', String(port)] : [];
  const raw = trainingArgs(dir, workspace, env, resumeFrom, ['@RENDEZVOUS@'], config);
  // The CPUs are the node's, not this login machine's: Slurm says how many the job got there.
  const threadsAt = raw.indexOf('--num_cpu_threads_per_process') + 1;
  const args = raw.map((a, i) => (a === '@RENDEZVOUS@' ? rendezvous.join(' ') : i === threadsAt && threadsAt > 0 ? `"\${SLURM_CPUS_ON_NODE:-1}"` : shellQuote(a)));
  const launch = [shellQuote(python), ...args].join(' ').replace(/ {2,}/g, ' ');
  const exported = Object.entries(trainerSettings(env)).map(([name, value]) => `${name}=${shellQuote(value)}`);
  return [
    '#!/bin/bash',
    `# Fine-tuning job ${dirName(dir)}, written by coi (core/finetune/slurm.ts). Submitted with the options coi sets`,
    "# (the #SBATCH lines before the job's sbatchArgs) on sbatch's command line too, where they win over SBATCH_*",
    '# variables of the environment: the whole command is in the job folder\'s `command`.',
    ...directives.map((d) => `#SBATCH ${d}`),
    'set -euo pipefail',
    `export ${exported.join(' ')}`,
    'MAIN_NODE=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
    'export MAIN_NODE',
    '# One launcher per node. It ignores USR1 and TERM (trap ... exec keeps that) and so outlives the trainer,',
    '# which handles both: checkpoint, then a clean exit (TERM is what Slurm sends at preemption or scancel).',
    `srun --kill-on-bad-exit=1 bash -c ${shellQuote(`trap '' USR1 TERM; exec ${launch}`)}`,
    '',
  ].join('\n');
}

/**
 * Why the batch script cannot be written: a path it names holds a line break (or a carriage
 * return), which would end its `#SBATCH` line or comment there and make the rest a command of the
 * script (a folder named "ws⏎touch PWNED #"). Each path is named, as JSON shows it. The partition,
 * account and time are one word each, and sbatchArgs without a line break, already (config.ts).
 */
export function slurmScriptProblem(dir: string, workspace: string, config: JobConfig, python: string, env: Env, resumeFrom?: string): string | undefined {
  const paths: readonly (readonly [what: string, path: string | undefined])[] = [
    ['The workspace', resolve(workspace)],
    ["The job's folder", dir],
    ['The output folder (outputDir, --out)', outputDirOf(dir, config, workspace)],
    ["The training environment's Python (under COI_CACHE_DIR)", python],
    ["CoI Studio's python/ folder (COI_PYTHON_SCRIPTS)", env['COI_PYTHON_SCRIPTS']],
    ['The checkpoint to resume from', resumeFrom],
  ];
  const found = paths.find(([, path]) => path !== undefined && /[\r\n]/.test(path));
  if (found === undefined) return undefined;
  const [what, path] = found;
  return `${what} ${JSON.stringify(path)} holds a line break, which would end its line of the Slurm batch script and run the rest as a command: use a path without one (rename the folder).`;
}

/**
 * The sbatch options coi sets for the job, each one argument (OWN_SBATCH_OPTIONS: the log, the
 * name, the folder, the nodes, USR1 before the time limit, and the job's own settings). They are
 * the script's first `#SBATCH` lines and are given on sbatch's command line as well: sbatch lets
 * its input environment variables (SBATCH_OUTPUT, SBATCH_ERROR, SBATCH_JOB_NAME, SBATCH_PARTITION…)
 * override `#SBATCH` lines, and the command line override both. Every option here is one
 * sbatchArgs may not set again (sbatchOptions.ts).
 */
export function jobSbatchOptions(dir: string, workspace: string, config: JobConfig, token?: string): string[] {
  const gpus = config.distributed?.gpus;
  const s = config.slurm ?? {};
  const log = join(dir, 'log');
  return [
    `--job-name=${jobName(dir)}`,
    // Both streams, named: SBATCH_ERROR would otherwise take the errors elsewhere.
    `--output=${log}`,
    `--error=${log}`,
    '--open-mode=append',
    `--chdir=${resolve(workspace)}`,
    // Tells the Slurm job apart as this job's where Slurm shows the workspace under another path.
    ...(token !== undefined ? [`--comment=${tokenComment(token)}`] : []),
    `--nodes=${config.distributed?.nodes ?? 1}`,
    '--ntasks-per-node=1',
    // The trainer saves a checkpoint and stops on USR1: 120 s before the time limit too.
    '--signal=USR1@120',
    ...(gpus !== undefined ? [`--gpus-per-node=${gpus}`] : []),
    ...(s.cpusPerTask !== undefined ? [`--cpus-per-task=${s.cpusPerTask}`] : []),
    ...(s.partition !== undefined ? [`--partition=${s.partition}`] : []),
    ...(s.timeLimit !== undefined ? [`--time=${s.timeLimit}`] : []),
    ...(s.account !== undefined ? [`--account=${s.account}`] : []),
  ];
}

/** An option as an `#SBATCH` line writes it: sbatch splits those lines at spaces unless the value (a path) is double-quoted. */
function sbatchLine(option: string): string {
  const equals = option.indexOf('=');
  return equals > 0 && /\s/.test(option.slice(equals + 1)) ? `${option.slice(0, equals + 1)}"${option.slice(equals + 1)}"` : option;
}

/** The Slurm job name of a job (its folder's name after `coi-`): unique to the job, so a submission can be found by it. */
function jobName(dir: string): string {
  return `coi-${dirName(dir)}`;
}

/** The Slurm comment that carries a submission's token. */
function tokenComment(token: string): string {
  return `coi-token=${token}`;
}

function dirName(dir: string): string {
  return dir.split(/[\\/]/).filter((p) => p !== '').at(-1) ?? 'job';
}

async function submit(jobId: string, context: EngineContext, resumeFrom: string | undefined): Promise<JobState> {
  const dir = jobDir(context.workspace, jobId);
  const env = context.env ?? process.env;
  const venv = venvLocation(env);
  if (!venv.ready) {
    const message = "The training environment is not set up: run 'coi finetune setup' first (on a path every node sees).";
    updateState(dir, 'failed', { message });
    throw new PythonSetupError(message);
  }
  ensureTrainingFileOrFail(dir);
  const config = readConfig(dir);
  // A job whose config did not come through the checks (written before them, or by hand), or a path with a line break (a workspace moved since).
  const refusal = sbatchArgsProblem(config) ?? slurmScriptProblem(dir, context.workspace, config, venv.python, env, resumeFrom);
  if (refusal !== undefined) {
    updateState(dir, 'failed', { message: refusal });
    throw new FinetuneError(refusal);
  }
  const script = join(dir, 'job.sbatch');
  const token = randomBytes(12).toString('hex');
  writeFileSync(script, batchScript(dir, context.workspace, config, venv.python, env, resumeFrom, token), { mode: 0o755 });
  const args = ['--parsable', ...jobSbatchOptions(dir, context.workspace, config, token), script];
  writeFileSync(join(dir, 'command'), ['sbatch', ...args].map(shellQuote).join(' ') + '\n');
  // What an earlier submission's trainer wrote no longer describes the job.
  for (const file of ['exit.json', RESTART_FILE]) rmSync(join(dir, file), { force: true });
  const result = await runTool('sbatch', args, sbatchEnv(env));
  // sbatch ran and was stopped before it answered (coi's time-out, a signal): the job may be queued.
  if (result.error !== undefined && result.error.syscall?.startsWith('spawn') !== true) return unanswered(dir, jobId, token, result.error, env);
  let out: string;
  try {
    out = outputOf(result, `sbatch ${script}`);
  } catch (error) {
    updateState(dir, 'failed', { message: (error as Error).message });
    throw error;
  }
  const slurmJobId = out.trim().split(';')[0] ?? '';
  if (!isSlurmJobId(slurmJobId)) {
    updateState(dir, 'failed', { message: `sbatch answered '${out.trim()}', not a job id.` });
    throw new FinetuneError(`sbatch answered '${out.trim()}', not a job id.`);
  }
  return recordSubmission(dir, jobId, { slurmJobId, token }, env);
}

/** sbatch's environment: with SBATCH_WAIT, sbatch would wait for the whole job to end (and meet coi's time-out) before it answers. */
function sbatchEnv(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([name]) => name !== 'SBATCH_WAIT'));
}

/**
 * The Slurm job `slurmJobId` recorded as the job's submission. A batch job the job cannot record
 * (state.json cannot be written) could be neither followed nor cancelled from here: it is
 * cancelled at once; when even that fails, the error says which job to cancel and the folder,
 * where it writes, is kept.
 */
async function recordSubmission(dir: string, jobId: string, submission: { slurmJobId: string; token: string }, env: Env, message?: string): Promise<JobState> {
  const { slurmJobId, token } = submission;
  try {
    return updateState(dir, 'queued', { slurmJobId, slurmToken: token, slurmRestarts: undefined, ...(message !== undefined ? { message } : {}) });
  } catch (error) {
    const why = `Slurm queued job ${jobId} as ${slurmJobId}, but its state.json could not be written (${describeFsError(error)})`;
    const cancelled = await runTool('scancel', [slurmJobId], env);
    const failure =
      cancelled.status === 0
        ? new StartUnfinishedError(`${why}: Slurm job ${slurmJobId} was cancelled at once`, false)
        : new StartUnfinishedError(`${why}, and 'scancel ${slurmJobId}' failed (${cancelled.error?.message ?? lastLines(cancelled)}): cancel it yourself. The job folder ${dir} is kept: the batch job writes its log there.`, true);
    try {
      updateState(dir, 'failed', { message: failure.message }); // a resumed job keeps its folder: not left queued
    } catch {
      // the same write failing again
    }
    throw failure;
  }
}

/** How long the look for a submission sbatch did not answer for may take. */
const LOOKUP_TIMEOUT_MS = 30_000;

/**
 * sbatch was stopped before it answered (at coi's time-out, or by a signal): Slurm may have queued
 * the job all the same. It is looked for by its name, which is the job's own; found, it is the
 * job's submission. Otherwise the job is failed with what to check, and its folder — where such a
 * batch job writes — stays.
 */
async function unanswered(dir: string, jobId: string, token: string, error: NonNullable<ToolResult['error']>, env: Env): Promise<JobState> {
  const name = jobName(dir);
  const stopped = error.killed === true ? `sbatch did not answer within ${TOOL_TIMEOUT_MS / 1000} s and was stopped` : `sbatch was ended${error.signal != null ? ` by ${error.signal}` : ''} before it answered`;
  const found = await runTool('squeue', ['-h', '-n', name, '-o', '%i'], env, LOOKUP_TIMEOUT_MS);
  const ids = found.status === 0 ? found.stdout.split(/\s+/).filter(isSlurmJobId) : [];
  const newest = ids.sort((a, b) => Number(b.split('_')[0]) - Number(a.split('_')[0]))[0];
  if (newest !== undefined) return recordSubmission(dir, jobId, { slurmJobId: newest, token }, env, `${stopped}, but Slurm had queued the job: found by its name ${name} as ${newest}.`);
  const looked = found.status === 0 ? `squeue lists no job named ${name} (yet)` : `squeue could not be asked either (${found.error?.message ?? lastLines(found)})`;
  const message = `${stopped}, and ${looked}: Slurm may still have queued it. Check with 'squeue -n ${name}' and cancel it with 'scancel -n ${name}' if it is there. The job folder ${dir} is kept: such a batch job writes its log there.`;
  updateState(dir, 'failed', { message });
  throw new StartUnfinishedError(message, true);
}

/** Slurm's view of a job: PENDING, RUNNING, COMPLETED, CANCELLED, TIMEOUT, PREEMPTED, ... with its exit code, name and folder. */
interface SlurmView {
  readonly state: string;
  readonly exitCode?: string;
  readonly reason?: string;
  /** Its job name (coi names its own `coi-<job id>`). */
  readonly name?: string;
  /** The folder it runs in (`--chdir`: the workspace of a job of coi's). */
  readonly workDir?: string;
  /** Its comment (`coi-token=<token>` for a job coi submitted with a token); undefined when it has none, or Slurm does not say. */
  readonly comment?: string;
}

/** squeue failed for another reason than not knowing the job (the controller is down or busy): why. */
interface Unreachable {
  readonly unreachable: string;
}

/** Slurm's view; undefined when Slurm no longer knows the job. */
async function slurmView(slurmJobId: string, env: Env): Promise<SlurmView | undefined | Unreachable> {
  const queued = await runTool('squeue', ['-h', '-j', slurmJobId, '-o', '%T|%r|%j|%k|%Z'], env);
  // Once slurmctld has dropped a job (MinJobAge), squeue calls its id invalid: the job has ended.
  if (queued.status !== 0 && !/Invalid job id/i.test(queued.stderr)) return { unreachable: queued.error?.message ?? lastLines(queued) };
  const line = queued.status === 0 ? queued.stdout.trim().split('\n')[0] : undefined;
  if (line !== undefined && line !== '') {
    const [state = '', reason, name, comment, ...workDir] = line.split('|');
    return { state, ...(reason !== undefined && reason !== 'None' ? { reason } : {}), ...(name !== undefined ? { name } : {}), ...commentOf(comment), ...(workDir.length > 0 ? { workDir: workDir.join('|') } : {}) };
  }
  // Finished: slurmctld remembers it for MinJobAge; the accounting database (sacct) for longer.
  const shown = await runTool('scontrol', ['show', 'job', '-o', slurmJobId], env);
  if (shown.status === 0) {
    const field = (name: string): string | undefined => new RegExp(`\\b${name}=(\\S+)`).exec(shown.stdout)?.[1];
    // The name and the folder may hold spaces: up to the next field.
    const spaced = (name: string): string | undefined => new RegExp(`(?:^|\\s)${name}=(.*?)(?=\\s[\\w/:]+=|\\s*$)`).exec(shown.stdout)?.[1];
    const state = field('JobState');
    const [name, workDir] = [spaced('JobName'), spaced('WorkDir')];
    if (state !== undefined) {
      return {
        state,
        ...(field('ExitCode') !== undefined ? { exitCode: field('ExitCode') } : {}),
        ...(field('Reason') !== undefined && field('Reason') !== 'None' ? { reason: field('Reason') } : {}),
        ...(name !== undefined ? { name } : {}),
        ...(workDir !== undefined ? { workDir } : {}),
        ...commentOf(field('Comment')),
      };
    }
  }
  // The comment is in the accounting only where AccountingStoreFlags has job_comment: empty otherwise.
  const accounted = await runTool('sacct', ['-n', '-X', '-P', '-j', slurmJobId, '-o', 'State,ExitCode,JobName,Comment,WorkDir'], env);
  const row = accounted.status === 0 ? accounted.stdout.trim().split('\n')[0] : undefined;
  if (row === undefined || row === '') return undefined;
  const [state = '', exitCode, name, comment, ...workDir] = row.split('|');
  return { state: state.split(' ')[0] ?? state, ...(exitCode !== undefined ? { exitCode } : {}), ...(name !== undefined ? { name } : {}), ...commentOf(comment), ...(workDir.length > 0 && workDir.join('|') !== '' ? { workDir: workDir.join('|') } : {}) };
}

/** A job's comment as squeue (`(null)` for none), scontrol or sacct write it. */
function commentOf(comment: string | undefined): { comment?: string } {
  return comment === undefined || comment === '' || comment === '(null)' ? {} : { comment };
}

/**
 * Why the Slurm job Slurm describes is not job `jobId`'s (another name, or another folder: a copy
 * of the workspace), said as Cancel says it; undefined when it is the job's. It is the job's when
 * it has the job's name and either runs in the job's workspace or — a workspace Slurm shows under
 * another path (mounted elsewhere on the nodes: /gpfs/home for /home, a site's path mapping) —
 * carries the submission's token (`token`, state.json's slurmToken) as its comment, and the folder
 * Slurm names is not another folder seen from here (it would be the original of a copied job
 * folder, which holds the same token). What Slurm does not say (an accounting record without a
 * folder) is not held against it. A job submitted without a token (by an earlier coi) is matched
 * by its folder alone.
 */
function notThisJob(view: SlurmView, slurmJobId: string, jobId: string, dir: string, token: string | undefined): string | undefined {
  const name = jobName(dir);
  const workspace = workspaceOf(dir);
  const sameName = view.name === undefined || view.name === name;
  if (sameName && (view.workDir === undefined || sameFolder(view.workDir, workspace))) return undefined;
  if (sameName && token !== undefined && view.comment === tokenComment(token) && view.workDir !== undefined && !existsSync(view.workDir)) return undefined;
  const runs = view.workDir === undefined ? '' : ` and runs in ${view.workDir}`;
  return `Slurm job ${slurmJobId} named in ${join(dir, 'state.json')} is not job ${jobId}'s: it is named '${view.name ?? '?'}'${runs}, not '${name}' in ${workspace}. No signal was sent to it.`;
}

/** The workspace of a job folder (`<workspace>/.coi-jobs/<id>`): where coi submits it from (`--chdir`). */
function workspaceOf(dir: string): string {
  return resolve(dir, '..', '..');
}

/** Whether two paths are one folder (a symbolic link and its target are, and two mounts of it: the same device and inode). */
function sameFolder(a: string, b: string): boolean {
  if (a === '') return false;
  if (resolve(a) === resolve(b) || real(a) === real(b)) return true;
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.isDirectory() && x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** Slurm's states of a job in its queue: waiting to run, first or again after Slurm requeued it. */
const WAITING = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED']);
const ACTIVE = new Set([...WAITING, 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'RESIZING', 'SIGNALING', 'STAGE_OUT']);

/** How the message of a job Slurm requeued begins (it stays queued with it until it runs again). */
const REQUEUED = 'Requeued by Slurm';

/**
 * The job as Slurm and the training files say it is. `other`: the Slurm job state.json names is
 * another job's (the job was failed saying so, unless exit.json said how it ended); `unconfirmed`:
 * Slurm could not be asked (the job is left as it was).
 */
interface Look {
  readonly state: JobState;
  readonly other?: string;
  readonly unconfirmed?: string;
}

/** state.json brought up to date with Slurm and with what the training wrote. */
async function refresh(jobId: string, context: EngineContext): Promise<JobState> {
  return (await look(jobId, context)).state;
}

async function look(jobId: string, context: EngineContext): Promise<Look> {
  const dir = jobDir(context.workspace, jobId);
  const state = readState(dir);
  if (state.slurmJobId === undefined || !['queued', 'running', 'cancelling'].includes(state.status)) return { state };
  const answer = await slurmView(state.slurmJobId, context.env ?? process.env);
  // No answer from Slurm is no news: the job stays as it was unless the training wrote its verdict.
  if (answer !== undefined && 'unreachable' in answer && readExitRecord(dir) === undefined) {
    return { state, unconfirmed: `Slurm job ${state.slurmJobId} named in ${join(dir, 'state.json')} cannot be confirmed as job ${jobId}'s: squeue could not be asked (${answer.unreachable}). No signal was sent to it.` };
  }
  const seen = answer === undefined || 'unreachable' in answer ? undefined : answer;
  const other = seen === undefined ? undefined : notThisJob(seen, state.slurmJobId, jobId, dir, state.slurmToken);
  const view = other === undefined ? seen : undefined;
  // The trainer of a run Slurm requeued says what it went on from: seen however long the job waited between two looks.
  const restarted = restartNote(dir, state);
  if (view !== undefined && ACTIVE.has(view.state)) {
    if (WAITING.has(view.state)) return { state: await waiting(dir, state, state.slurmJobId, view, context) };
    if (state.status === 'running' && restarted !== undefined) return { state: updateState(dir, 'running', restarted) };
    if (state.status !== 'queued') return { state };
    const again = state.message?.startsWith(REQUEUED) === true ? `Running again after Slurm requeued it, ${state.lastCheckpoint === undefined ? 'from the start (no checkpoint had been saved)' : `from its checkpoint at step ${state.lastCheckpoint.step}`}.` : undefined;
    return { state: updateState(dir, 'running', restarted ?? { message: again }) };
  }
  const checkpoint = latestCheckpoint(outputDirOf(dir, readConfig(dir), context.workspace));
  const common = checkpoint === undefined ? {} : { lastCheckpoint: checkpoint };
  const exit = readExitRecord(dir);
  // The Slurm job is another's: nothing of it is this job's. Failed, saying so, unless the training wrote how it ended.
  if (other !== undefined && exit === undefined) return { state: updateState(dir, 'failed', { ...common, message: other }), other };
  // A job that ran between two looks: it was running (the states only move forward).
  if (state.status === 'queued' && (exit !== undefined || view?.state !== 'CANCELLED')) updateState(dir, 'running');
  if (exit?.status === 'completed') {
    // The trainer's note (examples that maxLength left out) goes with it, as the local engine's does, after the requeue note (Slurm ran it more than once).
    const requeued = restarted?.message ?? (state.message?.startsWith(REQUEUED) === true ? state.message : undefined);
    const message = exit.message === undefined ? {} : { message: requeued === undefined ? exit.message : `${requeued} ${exit.message}` };
    return { state: updateState(dir, 'completed', { ...common, ...restarted, ...(exit.resultDir !== undefined ? { resultDir: exit.resultDir } : {}), ...message }) };
  }
  if (other !== undefined) return { state: updateState(dir, exit?.status === 'cancelled' ? 'cancelled' : 'failed', { ...common, message: exit?.message ?? other }) };
  const slurmSays = view === undefined ? `Slurm no longer knows job ${state.slurmJobId} (no accounting)` : `Slurm job ${state.slurmJobId} ended ${view.state}${view.exitCode !== undefined ? ` (exit code ${view.exitCode})` : ''}${view.reason !== undefined ? `, reason ${view.reason}` : ''}`;
  const ended = (status: 'cancelled' | 'failed', message: string): Look => ({ state: updateState(dir, status, { ...common, message }) });
  if (exit?.status === 'cancelled') {
    if (state.status === 'cancelling') return ended('cancelled', exit.message ?? 'Cancelled.');
    // Nobody here asked: Slurm signalled it (time limit, preemption, an operator's scancel). It saved; Resume goes on.
    return ended('failed', `Stopped by Slurm, not cancelled here: ${slurmSays}. ${exit.message ?? ''}`.trim());
  }
  // Cancelled while pending, or after a cancel from here: cancelled. A running job Slurm cancelled on its own failed.
  if (view?.state === 'CANCELLED' && state.status !== 'running') return ended('cancelled', `${slurmSays}.`);
  // The trainer said why it failed (a loss that became NaN, a full disk, no example left): its words first.
  if (exit?.status === 'failed' && exit.message !== undefined) return ended('failed', `${exit.message} (${slurmSays}.)`);
  return ended('failed', `${slurmSays} without finishing: see the log.`);
}

/** What coi_train.py writes into the job folder when it starts again after Slurm requeued its batch job. */
const RESTART_FILE = 'restart.json';

/**
 * The note of a job Slurm requeued whose trainer has started again since state.json last said so:
 * `<job>/restart.json` (written by coi_train.py, which reads SLURM_RESTART_COUNT, and removed at
 * each submission) names the restart and the checkpoint it went on from. Undefined when there is
 * none, or state.json already tells that restart.
 */
function restartNote(dir: string, state: JobState): { message: string; slurmRestarts: number } | undefined {
  let record: unknown;
  try {
    record = JSON.parse(readFileSync(join(dir, RESTART_FILE), 'utf8'));
  } catch {
    return undefined; // none, or being written
  }
  const { restart, step } = (record ?? {}) as { restart?: unknown; step?: unknown };
  if (!Number.isInteger(restart) || (restart as number) < 1 || (restart as number) <= (state.slurmRestarts ?? 0)) return undefined;
  const times = restart === 1 ? 'once' : `${restart as number} times`;
  const from = Number.isInteger(step) ? `resumed from checkpoint step ${step as number}` : 'started again from the beginning (no checkpoint had been saved)';
  return { message: `${REQUEUED} ${times}; ${from}.`, slurmRestarts: restart as number };
}

/**
 * The job waits in Slurm's queue: before its first run — with squeue's reason (Resources, Priority,
 * BeginTime, QOSMaxJobsPerUserLimit...) — or again, after Slurm requeued it (preemption in REQUEUE
 * mode, `scontrol requeue`, a node failure): that run had SIGTERM, saved a checkpoint and wrote
 * exit.json, and the next run goes on from the newest checkpoint (coi_train.py reads
 * SLURM_RESTART_COUNT). A requeued job is queued again, saying so. One requeued after a cancel
 * was asked here is taken out of the queue: it would otherwise train on.
 */
async function waiting(dir: string, state: JobState, slurmJobId: string, view: SlurmView, context: EngineContext): Promise<JobState> {
  const reason = view.reason !== undefined ? ` (${view.reason})` : '';
  // A run of this submission ended (exit.json: submit removes it) or was seen running: Slurm put it back.
  const requeued = state.status !== 'queued' || state.message?.startsWith(REQUEUED) === true || readExitRecord(dir) !== undefined;
  if (!requeued) {
    const message = `Waiting in Slurm's queue as job ${slurmJobId}${reason}.`;
    return state.message === message ? state : updateState(dir, 'queued', { message });
  }
  const checkpoint = latestCheckpoint(outputDirOf(dir, readConfig(dir), context.workspace)) ?? state.lastCheckpoint;
  const kept = checkpoint === undefined ? {} : { lastCheckpoint: checkpoint };
  if (state.status === 'cancelling') {
    await slurm('scancel', [slurmJobId], context.env ?? process.env);
    return updateState(dir, 'cancelled', { ...kept, message: `Cancelled: Slurm requeued job ${slurmJobId} after the cancel was asked, so it was taken out of Slurm's queue${checkpoint === undefined ? '' : `; its checkpoint at step ${checkpoint.step} is kept`}.` });
  }
  const from = checkpoint === undefined ? 'from the start (no checkpoint was saved)' : `from its checkpoint at step ${checkpoint.step}`;
  const message = `${REQUEUED} (preempted, or requeued by an operator): waiting in Slurm's queue again as job ${slurmJobId}${reason}; it goes on ${from} when it runs again.`;
  return state.status === 'queued' && state.message === message ? state : updateState(dir, 'queued', { ...kept, message });
}

export const slurmEngine: FinetuneEngine = {
  name: 'slurm',

  start(jobId, context) {
    return submit(jobId, context, undefined);
  },

  async cancel(jobId, context) {
    const dir = jobDir(context.workspace, jobId);
    const { state, other, unconfirmed } = await look(jobId, context);
    // Only the job's own Slurm job is signalled: state.json can name any (a committed or copied job folder).
    if (other !== undefined) {
      if (state.message === other) throw new FinetuneError(`${other} The job is marked failed.`);
      return state;
    }
    if (state.slurmJobId === undefined || !['queued', 'running', 'cancelling'].includes(state.status)) return state;
    if (unconfirmed !== undefined) throw new FinetuneError(`${unconfirmed} The job is left as it was.`);
    const env = context.env ?? process.env;
    if (state.status === 'queued') {
      await slurm('scancel', [state.slurmJobId], env);
      return updateState(dir, 'cancelled', { message: `Cancelled while Slurm job ${state.slurmJobId} was pending.` });
    }
    // The trainer saves a checkpoint on USR1 and stops; the job then ends on its own. Sent again on a
    // second cancel: a USR1 that came before the trainer set its handler (while Python imports) was ignored.
    await slurm('scancel', ['--signal=USR1', state.slurmJobId], env);
    return updateState(dir, 'cancelling');
  },

  async resume(jobId, context) {
    const checkpoint = requeueForResume(jobDir(context.workspace, jobId), await refresh(jobId, context));
    return submit(jobId, context, checkpoint.path);
  },

  status(jobId, context) {
    return refresh(jobId, context);
  },
};
