/**
 * The job store: one folder per job, `.coi-jobs/<id>/`, holding
 *   config.json    the JobConfig the job was started with
 *   state.json     the JobState (rewritten atomically)
 *   metrics.jsonl  one MetricEvent per line, appended by the training process
 *   log            standard output and error of the training process
 *   command        the command line that was run (to re-run it by hand)
 *   exit.json      written by the training process when it stops on its own terms
 *                  ({ status: completed|cancelled, ... }); a process that dies without it failed.
 * Readers (CLI, side panel) only read these files; `refreshState` turns a job whose process
 * is gone into its final state, so a job started by one `coi` survives that `coi` and
 * re-attaches to the next one by its pid.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { checkWritableFolder, makeDirectories } from '../syntax/directories';
import { describeFsError } from '../syntax/fsErrors';
import { writeWhole } from '../syntax/wholeFile';
import { notTrainerMessage, trainerProcess, type TrainerProcess } from './trainerProcess';
import { canResume, canTransition, FinetuneError, isSlurmJobId, isTrainingPid, JOB_STATUSES, type Checkpoint, type JobConfig, type JobState, type JobStatus, type MetricEvent } from './job';

export const JOBS_DIR = '.coi-jobs';

export function jobsRoot(workspace: string): string {
  return resolve(workspace, JOBS_DIR);
}

export function jobDir(workspace: string, id: string): string {
  return join(jobsRoot(workspace), id);
}

/** A new job's id: `ft-<UTC time to the second>-<6 random hex digits>`. */
export function newJobId(now = new Date()): string {
  return `ft-${now.toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
}

/**
 * Creates the job folder with its config and a queued state; returns the new state. `id`: one
 * chosen earlier with `newJobId` (the editor shows the job's folder in its confirmation before
 * the folder exists). The folder is written as `.coi-jobs/.<id>.creating` and renamed: a reader
 * (the panel, `coi finetune list`) never sees a job folder without its state.json, which it
 * would list as unreadable.
 */
export function createJob(workspace: string, config: JobConfig, now = new Date(), id = newJobId(now)): JobState {
  const dir = jobDir(workspace, id);
  const creating = jobDir(workspace, `.${id}.creating`);
  makeDirectories(creating);
  try {
    writeJson(join(creating, 'config.json'), config);
    const state: JobState = { id, status: 'queued', engine: config.engine, createdAt: now.toISOString(), updatedAt: now.toISOString(), resumes: 0 };
    writeJson(join(creating, 'state.json'), state);
    renameSync(creating, dir);
    return state;
  } catch (err) {
    rmSync(creating, { recursive: true, force: true });
    throw err;
  }
}

/** Replaces a job's config.json (atomically, as state.json). */
export function writeConfig(dir: string, config: JobConfig): void {
  writeJson(join(dir, 'config.json'), config);
}

export function readConfig(dir: string): JobConfig {
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as JobConfig;
}

/**
 * A job's state.json. One that is missing or not a job state (empty, cut short, edited by hand,
 * a folder) throws a FinetuneError naming the file and what is wrong, in words, so a reader
 * lists that job as unreadable. So does one whose "id" is not its folder's name: a copied or
 * renamed job folder holds the other job's pid and Slurm job id, which Cancel must never reach.
 */
export function readState(dir: string): JobState {
  const file = join(dir, 'state.json');
  let state: unknown;
  try {
    state = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FinetuneError(`${file} is missing: the job folder holds no job state (it was deleted, or the folder is not a job's).`);
    throw new FinetuneError(`${file} cannot be read: ${err instanceof SyntaxError ? `not valid JSON (${err.message})` : describeFsError(err)}.`);
  }
  const problem = stateProblem(state, basename(dir));
  if (problem !== undefined) throw new FinetuneError(`${file} is not a job state: ${problem}.`);
  return state as JobState;
}

function stateProblem(state: unknown, folderId: string): string | undefined {
  if (typeof state !== 'object' || state === null || Array.isArray(state)) return 'it holds no JSON object';
  const { id, status, engine, pid, pidStart, slurmJobId, slurmToken } = state as Record<string, unknown>;
  if (typeof id !== 'string') return 'it has no "id"';
  if (id !== folderId) {
    return `it belongs to job ${JSON.stringify(id)}, not to ${folderId} (a job's id is its folder's name): a copied or renamed job folder is not read, so that nothing here acts on job ${id}'s process; rename the folder back to ${id}, or delete the copy`;
  }
  if (!JOB_STATUSES.includes(status as JobStatus)) return `its "status" is ${JSON.stringify(status) ?? 'missing'}, not one of ${JOB_STATUSES.join(', ')}`;
  if (typeof engine !== 'string' || engine === '') return 'it names no "engine"';
  // Cancel signals the pid's process group and passes the Slurm id to scancel: a crafted value must reach neither.
  if (pid !== undefined && !isTrainingPid(pid)) return `its "pid" is ${JSON.stringify(pid)}, not a process id (a whole number above 1)`;
  if (pidStart !== undefined && typeof pidStart !== 'string') return `its "pidStart" is ${JSON.stringify(pidStart)}, not a string`;
  if (slurmJobId !== undefined && !isSlurmJobId(slurmJobId)) return `its "slurmJobId" is ${JSON.stringify(slurmJobId)}, not a Slurm job id (digits, _N for an array task)`;
  if (slurmToken !== undefined && typeof slurmToken !== 'string') return `its "slurmToken" is ${JSON.stringify(slurmToken)}, not a string`;
  return undefined;
}

/** Moves a job to `status` (checked against the allowed transitions) and merges `changes`. */
export function updateState(dir: string, status: JobStatus, changes: Partial<Omit<JobState, 'id' | 'status'>> = {}): JobState {
  const current = readState(dir);
  if (current.status !== status && !canTransition(current.status, status)) {
    throw new FinetuneError(`Job ${current.id} cannot go from ${current.status} to ${status}.`);
  }
  const next: JobState = { ...current, ...changes, status, updatedAt: new Date().toISOString() };
  writeJson(join(dir, 'state.json'), next);
  return next;
}

/**
 * Resume's first half, the same for every engine: refuses a job that cannot be resumed (not
 * cancelled or failed, or no checkpoint), else queues it again — the reason it stopped no
 * longer describes it — and answers the checkpoint to start from.
 */
export function requeueForResume(dir: string, state: JobState): Checkpoint {
  if (!canResume(state) || state.lastCheckpoint === undefined) {
    throw new FinetuneError(`Job ${state.id} is ${state.status}${state.lastCheckpoint === undefined ? ' and has no checkpoint' : ''}: only a cancelled or failed job with a checkpoint can be resumed.`);
  }
  updateState(dir, 'queued', { resumes: state.resumes + 1, message: undefined, exitCode: undefined });
  return state.lastCheckpoint;
}

/** The metric lines written so far; a half-written last line (the process is writing it) is skipped. */
export function readMetrics(dir: string): MetricEvent[] {
  const file = join(dir, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  const events: MetricEvent[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const event = JSON.parse(line) as MetricEvent;
      if (typeof event.step === 'number') events.push(event);
    } catch {
      // a line still being written
    }
  }
  return events;
}

/**
 * Ids of the jobs in the workspace, newest first: the name of every folder in `.coi-jobs`,
 * whether or not its state.json can be read (`readState` says why not, and a reader lists the
 * job as unreadable); names starting with `.` are not jobs (one being created). A `.coi-jobs`
 * that is a file or cannot be listed throws a FinetuneError in words.
 */
export function listJobIds(workspace: string): string[] {
  const root = jobsRoot(workspace);
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    if (code === 'ENOTDIR' && existsSync(root)) throw new FinetuneError(`${root} is not a directory: it is a file where coi keeps its fine-tuning jobs (move or remove it).`);
    throw new FinetuneError(`Cannot list the fine-tuning jobs in ${root}: ${describeFsError(err)}.`);
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort()
    .reverse();
}

/** The output folder of a job: the configured one, or `<job>/output`. */
export function outputDirOf(dir: string, config: JobConfig, workspace: string): string {
  return config.outputDir === undefined ? join(dir, 'output') : resolve(workspace, config.outputDir);
}

/** Why the trainer could not write its model into `dir`, found before any job exists. */
export type OutputFolderProblem = { readonly kind: 'file' } | { readonly kind: 'unwritable'; readonly error: unknown };

/**
 * The folder the trainer writes the model and checkpoints into (--out, a CONFIG's outputDir),
 * tried before the job exists (made, written, removed again): the trainer would otherwise
 * fail on it after minutes of loading, with the job folder already made.
 */
export function outputFolderProblem(dir: string): OutputFolderProblem | undefined {
  if (existsSync(dir) && !statSync(dir).isDirectory()) return { kind: 'file' };
  try {
    checkWritableFolder(dir);
    return undefined;
  } catch (error) {
    return { kind: 'unwritable', error };
  }
}

/** What an output folder problem says after the folder's name. */
export function describeOutputFolderProblem(problem: OutputFolderProblem, describe: (error: unknown) => string): string {
  return problem.kind === 'file' ? 'is a file, not a folder: give the folder for the trained model and its checkpoints.' : `cannot be made or written: ${describe(problem.error)}.`;
}

/** The newest complete `checkpoint-<step>` folder under `outputDir` (HF Trainer's layout). */
export function latestCheckpoint(outputDir: string): Checkpoint | undefined {
  if (!existsSync(outputDir)) return undefined;
  let best: Checkpoint | undefined;
  for (const entry of readdirSync(outputDir, { withFileTypes: true })) {
    const match = /^checkpoint-(\d+)$/.exec(entry.name);
    if (!entry.isDirectory() || match === null) continue;
    const path = join(outputDir, entry.name);
    // trainer_state.json is written last: a folder without it is a save cut short.
    if (!existsSync(join(path, 'trainer_state.json'))) continue;
    const step = Number(match[1]);
    if (best === undefined || step > best.step) best = { path, step };
  }
  return best;
}

/** What the training process wrote when it stopped on its own terms. */
export interface ExitRecord {
  readonly status: 'completed' | 'cancelled' | 'failed';
  readonly message?: string;
  readonly resultDir?: string;
}

export function readExitRecord(dir: string): ExitRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'exit.json'), 'utf8')) as ExitRecord;
  } catch {
    return undefined;
  }
}

/**
 * Brings state.json up to date with the process: a running or cancelling job whose process
 * group is gone becomes completed/cancelled (from exit.json) or failed, with its last checkpoint;
 * a cancelling one that the cancel signal ended before the trainer could write exit.json, cancelled.
 * A pid whose group runs something other than the job's trainer (trainerProcess.ts) counts as
 * gone, and the failure says what runs there; one that cannot be told either way is left running.
 */
export function refreshState(dir: string, workspace: string, check: (dir: string, pid: number, identity?: string) => TrainerProcess = trainerProcess): JobState {
  const state = readState(dir);
  if (state.status !== 'running' && state.status !== 'cancelling') return state;
  const found: TrainerProcess = state.pid === undefined ? { kind: 'gone' } : check(dir, state.pid, state.pidStart);
  if (found.kind === 'trainer' || found.kind === 'unconfirmed') return state;
  const exit = readExitRecord(dir);
  const checkpoint = latestCheckpoint(outputDirOf(dir, readConfig(dir), workspace));
  const common = { ...(checkpoint === undefined ? {} : { lastCheckpoint: checkpoint }) };
  if (exit?.status === 'completed') {
    // Its message says what the run left out (examples cut to nothing by maxLength); none: a resumed job's reason for stopping goes.
    return updateState(dir, 'completed', { ...common, ...(exit.resultDir === undefined ? {} : { resultDir: exit.resultDir }), message: exit.message });
  }
  if (exit?.status === 'cancelled') return updateState(dir, 'cancelled', { ...common, message: exit.message ?? 'Cancelled.' });
  if (exit?.message !== undefined) return updateState(dir, 'failed', { ...common, message: exit.message });
  const exception = lastPythonException(join(dir, 'log'), state.logStart);
  // Asked to stop, and stopped without a crash of its own: the cancel signal ended it before the
  // trainer could say so (the launcher had not started it yet). A crash while stopping is a failure.
  if (state.status === 'cancelling' && exception === undefined) {
    return updateState(dir, 'cancelled', { ...common, message: `Cancelled before training began: the training process (pid ${state.pid ?? '?'}) ended on the cancel signal while starting.` });
  }
  if (found.kind === 'other' && exception === undefined) return updateState(dir, 'failed', { ...common, message: notTrainerMessage(state.id, dir, state.pid ?? 0, found) });
  return updateState(dir, 'failed', { ...common, message: `The training process (pid ${state.pid ?? '?'}) ended without finishing: ${exception ?? 'killed, or it crashed'} (see the log).` });
}

const EXCEPTION_TAIL_BYTES = 64 * 1024;

/**
 * The last `bytes` of a log from its first whole line, without reading a long log whole
 * (the side panel's log view, a crashed job's exception); '' when there is no log yet.
 * Nothing before byte `from` is read (an earlier run's output in the same log).
 */
export function logTail(file: string, bytes: number, from = 0): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const start = Math.min(Math.max(from, size - bytes), size);
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8');
    return start > from ? text.slice(text.indexOf('\n') + 1) : text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    // A log that is a folder (EISDIR), unreadable: the panel's log view says so in words.
    throw new FinetuneError(`Cannot read the log ${file}: ${describeFsError(err)}.`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The exception line (`KeyError: 'text'`) of the last Python traceback in a log, read from its
 * last 64 KiB, and not before byte `from` (where the current run's output begins). The
 * launcher's own `subprocess.CalledProcessError`, which only says that the trainer failed, is
 * passed over for the trainer's.
 */
export function lastPythonException(logFile: string, from = 0): string | undefined {
  let text: string;
  try {
    text = logTail(logFile, EXCEPTION_TAIL_BYTES, from);
  } catch {
    return undefined;
  }
  const lines = text.split(/\r?\n/);
  let found: string | undefined;
  let inTraceback = false;
  for (const line of lines) {
    if (line.startsWith('Traceback (most recent call last):')) inTraceback = true;
    else if (inTraceback && /^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b/.test(line)) {
      inTraceback = false;
      if (!line.startsWith('subprocess.CalledProcessError')) found = line.trim();
    }
  }
  return found;
}

function writeJson(file: string, value: unknown): void {
  writeWhole(file, JSON.stringify(value, null, 2) + '\n'); // readers never see half a file
}
