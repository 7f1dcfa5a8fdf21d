/**
 * The fine-tuning job model, one for every engine (local TRL today; Slurm and hosted
 * engines later behind the same `FinetuneEngine` interface). A job is a folder
 * `.coi-jobs/<id>/` (see store.ts); the side panel and `coi finetune` read the same files.
 */

/** A request the job's state does not allow (resume a completed job, an unknown transition): the user's to fix. */
export class FinetuneError extends Error {
  override name = 'FinetuneError';
}

/**
 * A start that went wrong after its engine had started something (a trainer spawned, a batch job
 * submitted). `mayRun`: whether that may still run — a batch job sbatch may have queued, which
 * writes into the job folder, so the folder must stay; false once the engine has stopped it.
 */
export class StartUnfinishedError extends FinetuneError {
  override name = 'StartUnfinishedError';
  constructor(
    message: string,
    readonly mayRun: boolean,
  ) {
    super(message);
  }
}

export type FinetuneMethod = 'full' | 'lora';
export type EngineName = 'trl' | 'slurm' | 'together';

/** Hyper-parameters; the defaults are the paper's (Chain-of-Instructions, §4 training set-up). */
export interface TrainingParams {
  readonly epochs: number;
  /** Stops after this many optimiser steps even before `epochs` are done (tests, smoke runs). */
  readonly maxSteps?: number;
  readonly perDeviceBatchSize: number;
  readonly gradientAccumulationSteps: number;
  readonly learningRate: number;
  readonly warmupRatio: number;
  readonly weightDecay: number;
  /** bf16 where the hardware has it; `auto` lets the training script decide. */
  readonly bf16: 'auto' | boolean;
  /** Log (and write a metric line) every N steps. */
  readonly loggingSteps: number;
  /** Save a checkpoint every N steps (0: only at the end, on Cancel and on SIGUSR1). */
  readonly saveSteps: number;
  readonly seed: number;
  readonly maxLength: number;
}

export interface LoraParams {
  readonly r: number;
  readonly alpha: number;
  readonly dropout: number;
  readonly targetModules: readonly string[] | 'all-linear';
}

export const PAPER_DEFAULTS: TrainingParams = {
  epochs: 3,
  perDeviceBatchSize: 4,
  gradientAccumulationSteps: 8,
  learningRate: 2e-5,
  warmupRatio: 0.03,
  weightDecay: 0,
  bf16: 'auto',
  loggingSteps: 1,
  saveSteps: 0,
  seed: 42,
  maxLength: 1024,
};

export const LORA_DEFAULTS: LoraParams = { r: 16, alpha: 32, dropout: 0.05, targetModules: 'all-linear' };

/** Everything needed to start (and later resume) a job: what `*.coi-finetune.json` holds, resolved. */
export interface JobConfig {
  readonly engine: EngineName;
  /** A Hugging Face model folder (or hub id where the engine may download). */
  readonly baseModel: string;
  /** Training data as the user named it, in any dataset format (core/dataset reads it). */
  readonly data: string;
  /** What the local trainer reads: `data` converted to prompt-completion JSONL in the job folder (trainingData.ts). */
  readonly trainingData?: TrainingDataRecord;
  readonly method: FinetuneMethod;
  /** Where the trained model (or adapter) and checkpoints go; defaults to `<job>/output`. */
  readonly outputDir?: string;
  readonly training: TrainingParams;
  readonly lora?: LoraParams;
  /** Several GPUs or nodes (default: one process on this machine): written into the job's accelerate.yaml. */
  readonly distributed?: DistributedParams;
  /** The Slurm engine's batch settings (slurm.ts); nodes and GPUs per node come from `distributed`. */
  readonly slurm?: SlurmParams;
}

/** The converted training file of a job and where it came from. */
export interface TrainingDataRecord {
  /** `<job>/train.prompt-completion.jsonl`: what coi_train.py trains on. */
  readonly file: string;
  /** The file it was converted from (the config's `data`). */
  readonly from: string;
  /** The format `from` was read as. */
  readonly format: string;
  readonly examples: number;
  /** Rows of `from` that could not be read. */
  readonly leftOut: number;
}

export interface SlurmParams {
  readonly partition?: string;
  /** `--time`: the job's time limit as Slurm writes it (`2:00:00`, `1-00:00:00`). */
  readonly timeLimit?: string;
  readonly account?: string;
  /** CPUs per task (one task per node runs accelerate launch). */
  readonly cpusPerTask?: number;
  /** More `sbatch` options, each one argument (`--qos=high`, `--exclusive`). */
  readonly sbatchArgs?: readonly string[];
}

export const DISTRIBUTED_STRATEGIES = ['ddp', 'deepspeed-zero2', 'deepspeed-zero3', 'fsdp'] as const;

export interface DistributedParams {
  readonly strategy: (typeof DISTRIBUTED_STRATEGIES)[number];
  /** GPUs (processes) per node. */
  readonly gpus: number;
  /** Machines (default 1). */
  readonly nodes?: number;
  /** The main node's rendezvous port when nodes > 1 (default 29500). */
  readonly port?: number;
}

export const JOB_STATUSES = ['queued', 'running', 'cancelling', 'cancelled', 'failed', 'completed'] as const;

export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['cancelled', 'failed', 'completed']);

export interface Checkpoint {
  /** Absolute folder of the checkpoint (`checkpoint-<step>`). */
  readonly path: string;
  readonly step: number;
}

/** `state.json` of a job: rewritten whole (atomically) at every change. */
export interface JobState {
  readonly id: string;
  readonly status: JobStatus;
  readonly engine: EngineName;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Process id of the running engine process (local engine), for re-attaching after a restart. */
  readonly pid?: number;
  /** Which process had `pid` when it started (`processStartIdentity`, Linux): a later process given the same pid is not the job's. */
  readonly pidStart?: string;
  /** Where the current run's output begins in the job's log (bytes; local engine): a crash is read from there, not from an earlier run's. */
  readonly logStart?: number;
  /** The Slurm job id of the current submission (Slurm engine). */
  readonly slurmJobId?: string;
  /**
   * A random token of the current submission, given to Slurm as the job's comment
   * (`--comment=coi-token=<token>`): it tells the Slurm job apart as this job's where Slurm shows
   * its workspace under another path (slurm.ts `notThisJob`). Absent in jobs submitted before it.
   */
  readonly slurmToken?: string;
  /** How many times Slurm requeued the current submission that its trainer has reported resuming after (`<job>/restart.json`). */
  readonly slurmRestarts?: number;
  /** Why the job failed or was cancelled, one line. */
  readonly message?: string;
  readonly exitCode?: number | null;
  readonly lastCheckpoint?: Checkpoint;
  /** The final model or adapter folder, once completed. */
  readonly resultDir?: string;
  /** The GGUF of the result (`coi finetune gguf`), loadable by the local backend; for a LoRA adapter result (resultIsAdapter: not a Together LoRA job's merged model), an adapter GGUF. */
  readonly ggufPath?: string;
  /** The last evaluation against the base model (`coi finetune eval`): its eval store folder. */
  readonly evaluation?: string;
  /** How many times the job was resumed. */
  readonly resumes: number;
}

/**
 * Whether a state.json's `pid` can be the training process group that Cancel signals: a whole
 * number above 1 (a pid_t). state.json is a file like any other — a repository can commit one —
 * and `kill(-1)` would signal every process of the user, `kill(0)` the editor's own group.
 */
export function isTrainingPid(pid: unknown): pid is number {
  return Number.isInteger(pid) && (pid as number) > 1 && (pid as number) <= 0x7fffffff;
}

/** A Slurm job id as `sbatch --parsable` answers it (digits, `_N` for an array task): nothing else reaches scancel, squeue or sacct. */
export function isSlurmJobId(id: unknown): id is string {
  return typeof id === 'string' && /^\d+(_\d+)?$/.test(id);
}

/** One line of `metrics.jsonl`, written by the training process's `on_log` callback. */
export interface MetricEvent {
  readonly step: number;
  readonly epoch?: number;
  readonly loss?: number;
  readonly learningRate?: number;
  /** The tokens this training process trained (not those before a resume's checkpoint) per second since it started. */
  readonly tokensPerSecond?: number;
  readonly etaSeconds?: number;
  readonly maxSteps?: number;
  /** Seconds since the training process started. */
  readonly elapsedSeconds?: number;
}

/** Allowed transitions; anything else is a bug in an engine. */
const NEXT: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  queued: ['running', 'failed', 'cancelled'],
  // running → queued: Slurm requeued the batch job (preemption, `scontrol requeue`); it runs again.
  running: ['cancelling', 'failed', 'completed', 'cancelled', 'queued'],
  cancelling: ['cancelled', 'failed', 'completed'],
  cancelled: ['queued'],
  failed: ['queued'],
  completed: [],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return NEXT[from].includes(to);
}

/** A job can be resumed when it stopped before the end and left a checkpoint to start from. */
export function canResume(state: JobState): boolean {
  return (state.status === 'cancelled' || state.status === 'failed') && state.lastCheckpoint !== undefined;
}

/**
 * Why a job cannot become a model profile ("Use as a model profile", "Evaluate against the
 * base"), or undefined when it can: only a completed job has a model. Its GGUF is made on
 * first use (evaluation.ts `ensureJobGguf`); a LoRA adapter's GGUF runs on its base's
 * (`lora` in the profile).
 */
export function profileRefusal(state: JobState): string | undefined {
  if (state.status !== 'completed') return `Job ${state.id} is ${state.status}: only a completed job has a model to use.`;
  if (state.resultDir === undefined && state.ggufPath === undefined) return `Job ${state.id} completed without a model folder (see its log).`;
  return undefined;
}
