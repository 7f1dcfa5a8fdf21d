/**
 * Together AI's fine-tuning API mapped onto the project's job model, as pure functions:
 * the job configuration → the create request; the service's job status → a JobStatus;
 * its metric rows → MetricEvents; its events → log lines, the failure reason and the
 * newest checkpoint. The engine (./engine.ts) does the calls; these decide what they mean.
 */
import type { FineTuningCreateParams, FinetuneEvent, FinetuneResponse } from 'together-ai/resources/fine-tuning';
import { FinetuneError, type JobConfig, type JobStatus, type MetricEvent } from '../job';

/** Why Together cannot train `config` as asked (checked before a job is made), or undefined. */
export function togetherRefusal(config: JobConfig): string | undefined {
  const problems = togetherProblems(config);
  return problems.length === 0 ? undefined : problems.map((p) => p.message).join(' ');
}

/** Every reason of `togetherRefusal`, each with the training key it is about (a config file's problems are shown at their keys, all at once). */
export function togetherProblems(config: Pick<JobConfig, 'training'>): { readonly key: 'maxSteps' | 'epochs'; readonly message: string }[] {
  const problems: { key: 'maxSteps' | 'epochs'; message: string }[] = [];
  if (config.training.maxSteps !== undefined) problems.push({ key: 'maxSteps', message: 'Together trains whole epochs and has no step limit: leave out maxSteps (--max-steps) and set epochs instead.' });
  if (!Number.isInteger(config.training.epochs) || config.training.epochs < 1) problems.push({ key: 'epochs', message: `Together trains whole epochs: epochs must be a whole number ≥ 1, not ${config.training.epochs}.` });
  return problems;
}

/**
 * What a Together job would ignore, refused instead (a config file's key, in `training` or at the
 * top, and the command-line options that set it): the service chooses its hardware and
 * precision, saves its own checkpoints and reports at its own pace, and the result is downloaded
 * into the job folder. Only the local and Slurm engines read these.
 */
export const NOT_FOR_TOGETHER: readonly { readonly key: string; readonly inTraining: boolean; readonly options: readonly string[]; readonly why: string }[] = [
  { key: 'outputDir', inTraining: false, options: ['out'], why: 'the result is downloaded into the job folder' },
  { key: 'distributed', inTraining: false, options: ['strategy', 'gpus', 'nodes'], why: 'the service chooses the hardware' },
  { key: 'saveSteps', inTraining: true, options: ['save-steps'], why: 'the service saves its own checkpoints' },
  { key: 'loggingSteps', inTraining: true, options: [], why: 'the service reports its metrics at its own pace' },
  { key: 'bf16', inTraining: true, options: [], why: 'the service chooses the precision' },
];

/** The create request for `config`, training on the uploaded file `trainingFile`. */
export function createParams(config: JobConfig, trainingFile: string, fromCheckpoint?: string): FineTuningCreateParams {
  const refusal = togetherRefusal(config);
  if (refusal !== undefined) throw new FinetuneError(refusal);
  const lora = config.lora;
  return {
    model: config.baseModel,
    training_file: trainingFile,
    n_epochs: config.training.epochs,
    learning_rate: config.training.learningRate,
    batch_size: config.training.perDeviceBatchSize,
    gradient_accumulation_steps: config.training.gradientAccumulationSteps,
    warmup_ratio: config.training.warmupRatio,
    weight_decay: config.training.weightDecay,
    random_seed: config.training.seed,
    max_seq_length: config.training.maxLength,
    // The paper trains on the completion only, as the local engine does.
    training_method: { method: 'sft', train_on_inputs: false },
    training_type:
      config.method === 'lora' && lora !== undefined
        ? {
            type: 'Lora',
            lora_r: lora.r,
            lora_alpha: lora.alpha,
            lora_dropout: lora.dropout,
            lora_trainable_modules: lora.targetModules === 'all-linear' ? 'all-linear' : lora.targetModules.join(','),
          }
        : { type: 'Full' },
    ...(fromCheckpoint === undefined ? {} : { from_checkpoint: fromCheckpoint }),
  };
}

export type RemoteStatus = FinetuneResponse['status'];

/** What the service's status means in the job model; `downloading` once the service is done and the result must come home. */
export function localStatusOf(remote: RemoteStatus): JobStatus | 'downloading' {
  switch (remote) {
    case 'pending':
    case 'queued':
      return 'queued';
    case 'running':
    case 'compressing':
    case 'uploading':
      return 'running';
    case 'cancel_requested':
      return 'cancelling';
    case 'cancelled':
      return 'cancelled';
    case 'error':
      return 'failed';
    case 'completed':
      return 'downloading';
  }
}

const STEP_KEYS = ['step', 'global_step', 'train/global_step'];
const LOSS_KEYS = ['loss', 'train_loss', 'train/loss'];
const LR_KEYS = ['learning_rate', 'lr', 'train/learning_rate'];
const EPOCH_KEYS = ['epoch', 'train/epoch'];

/** One metric row of `fineTuning.listMetrics` as a MetricEvent; undefined when it names no step. */
export function metricEventOf(row: Readonly<Record<string, number>>, maxSteps: number | undefined): MetricEvent | undefined {
  const pick = (keys: readonly string[]): number | undefined => keys.map((k) => row[k]).find((v) => typeof v === 'number' && Number.isFinite(v));
  const step = pick(STEP_KEYS);
  if (step === undefined) return undefined;
  const loss = pick(LOSS_KEYS);
  const learningRate = pick(LR_KEYS);
  const epoch = pick(EPOCH_KEYS);
  return {
    step,
    ...(epoch === undefined ? {} : { epoch }),
    ...(loss === undefined ? {} : { loss }),
    ...(learningRate === undefined ? {} : { learningRate }),
    ...(maxSteps === undefined ? {} : { maxSteps }),
  };
}

/** An event as a line of the job's log (model output and service text are data: one line each, nothing interpreted). */
export function eventLogLine(event: FinetuneEvent): string {
  const step = event.step === undefined ? '' : ` step ${event.step}${event.total_steps === undefined ? '' : `/${event.total_steps}`}`;
  return `${event.created_at} [together ${event.type}${event.level === 'error' ? ' error' : ''}]${step} ${event.message.replace(/[\r\n]+/g, ' ')}`;
}

/** Why a failed job failed: its last error event's message, or a generic line. */
export function failureReason(events: readonly FinetuneEvent[], remoteId: string): string {
  const error = [...events].reverse().find((e) => e.type === 'job_error' || e.level === 'error');
  return error === undefined ? `The Together job ${remoteId} failed without saying why (see its events in the log).` : `Together: ${error.message}`;
}

/** The newest saved checkpoint as Together names it for `from_checkpoint` (`<job id>:<step>`). */
export function newestCheckpoint(events: readonly FinetuneEvent[], remoteId: string): { readonly path: string; readonly step: number } | undefined {
  let best: { path: string; step: number } | undefined;
  for (const event of events) {
    if (event.type !== 'checkpoint_save' || event.step === undefined) continue;
    if (best === undefined || event.step > best.step) best = { path: `${remoteId}:${event.step}`, step: event.step };
  }
  return best;
}

/** The total steps the service announced, if any. */
export function totalStepsOf(events: readonly FinetuneEvent[]): number | undefined {
  return events.map((e) => e.total_steps).filter((n): n is number => typeof n === 'number' && n > 0).at(-1);
}

/** Which checkpoint to download: a full job's model; a LoRA job's adapter merged into its base (a whole model, so it converts without the base). */
export function downloadKind(config: JobConfig): 'model_output_path' | 'merged' {
  return config.method === 'lora' ? 'merged' : 'model_output_path';
}
