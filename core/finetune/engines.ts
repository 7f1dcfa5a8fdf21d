/**
 * The engines by name. Every reader and command goes through `engineFor(state.engine)`, so a
 * job started by any engine is followed, cancelled and resumed the same way by the CLI and
 * the side panel. A new engine (Slurm, a hosted trainer) registers here and nowhere else.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineContext, FinetuneEngine } from './engine';
import { FinetuneError, StartUnfinishedError, TERMINAL_STATUSES, type EngineName, type JobState } from './job';
import { jobDir, readState } from './store';
import { withoutApiKeys } from './childEnv';
import { PythonSetupError } from './python';
import { trlEngine } from './trl';
import { slurmEngine } from './slurm';
import { togetherEngine } from './together/engine';

const ENGINES: Readonly<Record<EngineName, FinetuneEngine>> = { trl: trlEngine, slurm: slurmEngine, together: togetherEngine };

export const ENGINE_NAMES = Object.keys(ENGINES) as EngineName[];

export function engineFor(name: string): FinetuneEngine {
  const engine = (ENGINES as Readonly<Record<string, FinetuneEngine | undefined>>)[name];
  if (engine === undefined) throw new FinetuneError(`Unknown engine '${name}': the engines are ${ENGINE_NAMES.join(', ')}.`);
  return engine;
}

/**
 * The engine of a job and the context to call it with: the Together key (which the editor puts in
 * every context, and a shell may export) goes only to the engine that calls Together, and no API
 * key to the others (childEnv.ts).
 */
function engineOf(jobId: string, context: EngineContext): { readonly engine: FinetuneEngine; readonly context: EngineContext } {
  const engine = engineFor(readState(jobDir(context.workspace, jobId)).engine);
  return { engine, context: engine.name === 'together' ? context : { ...context, env: withoutApiKeys(context.env ?? process.env) } };
}

/** The job's state brought up to date by the engine that runs it. */
export function jobStatus(jobId: string, context: EngineContext): Promise<JobState> {
  const job = engineOf(jobId, context);
  return job.engine.status(jobId, job.context);
}

export function cancelJob(jobId: string, context: EngineContext): Promise<JobState> {
  const job = engineOf(jobId, context);
  return job.engine.cancel(jobId, job.context);
}

/**
 * Cancel as `coi finetune cancel` and the panel's Cancel ask it: a job that has already ended —
 * recorded so (its engine is not asked: a Together job would be called for nothing), or found so
 * by its engine when asked (its trainer crashed, Slurm ended it) — is refused with a
 * FinetuneError that says its state, why it ended and where its log is (`alreadyEnded`). A job
 * the cancel itself ends (cancelled at once while queued) is returned.
 */
export async function cancelActiveJob(jobId: string, context: EngineContext): Promise<JobState> {
  const dir = jobDir(context.workspace, jobId);
  const recorded = readState(dir);
  if (TERMINAL_STATUSES.has(recorded.status)) throw new FinetuneError(alreadyEnded(recorded, dir));
  const state = await cancelJob(jobId, context);
  if (state.status === 'completed' || state.status === 'failed') throw new FinetuneError(alreadyEnded(state, dir));
  return state;
}

/** "Job ID already failed: <its recorded reason>. Nothing to cancel (its log: <job>/log)." */
function alreadyEnded(state: JobState, dir: string): string {
  const why = state.message === undefined || state.message.trim() === '' ? '' : `: ${state.message.trim().replace(/\.$/, '')}`;
  const log = join(dir, 'log');
  return `Job ${state.id} already ${state.status}${why}. Nothing to cancel${existsSync(log) ? ` (its log: ${log})` : ''}.`;
}

export function resumeJob(jobId: string, context: EngineContext): Promise<JobState> {
  const job = engineOf(jobId, context);
  return job.engine.resume(jobId, job.context);
}

export function startJob(jobId: string, context: EngineContext): Promise<JobState> {
  const job = engineOf(jobId, context);
  return job.engine.start(jobId, job.context);
}

/**
 * Starts a job just made (`coi finetune start`, the editor's Start). A local or Slurm job whose
 * start is refused (sbatch rejecting the script or not on PATH, the environment gone in between)
 * never ran and has nothing to resume: its folder is removed, and the error says so, so that no
 * failed job is left that can neither run nor be resumed. So is one whose engine started it and
 * then stopped it again because its state could not be recorded (a trainer nothing could follow
 * or cancel). The folder stays where something may still run and write into it (a batch job that
 * sbatch may have queued without answering: the error says what to check), and for a Together
 * job: what was uploaded is recorded there.
 */
export async function startNewJob(jobId: string, context: EngineContext): Promise<JobState> {
  const job = engineOf(jobId, context);
  try {
    return await job.engine.start(jobId, job.context);
  } catch (error) {
    if (job.engine.name === 'together' || (error instanceof StartUnfinishedError && error.mayRun)) throw error;
    rmSync(jobDir(context.workspace, jobId), { recursive: true, force: true });
    if (!(error instanceof FinetuneError || error instanceof PythonSetupError)) throw error;
    const removed = error instanceof StartUnfinishedError ? 'Nothing is left running: the job folder was removed.' : 'Nothing was started: the job folder was removed.';
    throw new FinetuneError(`${error.message.replace(/\.$/, '')}. ${removed}`);
  }
}

/** Resolves when the job has ended (completed, cancelled or failed), or with its current state once `signal` aborts; `onTick` runs at each poll (progress). */
export async function waitForJob(context: EngineContext, jobId: string, options: { signal?: AbortSignal; intervalMs?: number; onTick?: () => void } = {}): Promise<JobState> {
  for (;;) {
    options.onTick?.();
    const state = await jobStatus(jobId, context);
    if (TERMINAL_STATUSES.has(state.status) || options.signal?.aborted === true) return state;
    await new Promise<void>((done) => {
      // One listener per wait, removed when the wait ends: a long job polls thousands of times.
      const wake = (): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', wake);
        done();
      };
      const timer = setTimeout(wake, options.intervalMs ?? 500);
      options.signal?.addEventListener('abort', wake, { once: true });
    });
  }
}
