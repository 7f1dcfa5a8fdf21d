/**
 * What every fine-tuning engine provides. The local TRL engine (trl.ts) is the first;
 * a Slurm engine (sbatch/scancel/squeue) and a hosted one (an HTTP API) fit the same shape:
 * each writes the job's state.json and metrics.jsonl in the job folder, so readers do not
 * care which engine ran a job.
 */
import type { JobConfig, JobState } from './job';

export interface EngineContext {
  /** The workspace the `.coi-jobs/` folder belongs to; relative paths in the config resolve against it. */
  readonly workspace: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface FinetuneEngine {
  readonly name: JobConfig['engine'];
  /** Starts a new job (state queued → running); resolves once the process is launched. */
  start(jobId: string, context: EngineContext): Promise<JobState>;
  /** Asks the job to save a checkpoint and stop (running → cancelling → cancelled). */
  cancel(jobId: string, context: EngineContext): Promise<JobState>;
  /** Starts a cancelled or failed job again from its last checkpoint. */
  resume(jobId: string, context: EngineContext): Promise<JobState>;
  /** The current state, brought up to date with the process (or the scheduler, or the service). */
  status(jobId: string, context: EngineContext): Promise<JobState>;
}
