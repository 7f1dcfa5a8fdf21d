/**
 * The Fine-tuning tab's view model: a job's row (from its state, config and metrics) and
 * its loss and learning-rate chart series. Pure: the extension and the tests call these,
 * the webview draws what they return.
 */
import type { JobConfig, JobState, MetricEvent } from '../../core/finetune/job';
import { canResume, profileRefusal } from '../../core/finetune/job';
import type { ChartSeries } from './evals';
import type { JobRow } from '../protocol';

/** One job's row: status, method, base model, steps done of total, last loss, last checkpoint. */
export function jobRow(folder: string, state: JobState, config: JobConfig | undefined, metrics: readonly MetricEvent[]): JobRow {
  const last = metrics.at(-1);
  const lastLoss = [...metrics].reverse().find((m) => typeof m.loss === 'number')?.loss;
  const total = [...metrics].reverse().find((m) => typeof m.maxSteps === 'number')?.maxSteps ?? config?.training.maxSteps;
  const refusal = profileRefusal(state);
  return {
    id: state.id,
    folder,
    status: state.status,
    updatedAt: state.updatedAt,
    ...(config === undefined ? {} : { method: config.method, baseModel: config.baseModel }),
    stepsDone: last?.step ?? 0,
    ...(total === undefined ? {} : { stepsTotal: total }),
    ...(lastLoss === undefined ? {} : { lastLoss }),
    ...(state.lastCheckpoint === undefined ? {} : { checkpoint: state.lastCheckpoint.path, checkpointStep: state.lastCheckpoint.step }),
    ...(state.message === undefined ? {} : { message: state.message }),
    canCancel: state.status === 'queued' || state.status === 'running',
    canResume: canResume(state),
    ...(refusal === undefined ? {} : { profileRefusal: refusal }),
    ...(state.evaluation === undefined ? {} : { evaluation: state.evaluation }),
  };
}

/** The loss and learning-rate series over the steps; a step without the value is a gap. */
export function metricSeries(metrics: readonly MetricEvent[]): { loss: ChartSeries; learningRate: ChartSeries } {
  const points = metrics.filter((m) => typeof m.loss === 'number' || typeof m.learningRate === 'number');
  const labels = points.map((m) => String(m.step));
  const values = (pick: (m: MetricEvent) => number | undefined): (number | null)[] => points.map((m) => pick(m) ?? null);
  const series = (label: string, data: (number | null)[]): ChartSeries => ({ labels: data.some((v) => v !== null) ? labels : [], datasets: data.some((v) => v !== null) ? [{ label, data }] : [] });
  return { loss: series('loss', values((m) => m.loss)), learningRate: series('learning rate', values((m) => m.learningRate)) };
}

/** Appends pushed metric events to those already shown, dropping any step already there (a re-read after resume). */
export function appendMetrics(shown: readonly MetricEvent[], incoming: readonly MetricEvent[]): MetricEvent[] {
  const seen = new Set(shown.map((m) => m.step));
  return [...shown, ...incoming.filter((m) => !seen.has(m.step))];
}

/**
 * How the log on screen (`shown`) becomes the log's new tail (`tail`, the last lines the
 * extension read): drop its first `drop` characters (whole lines that fell out of the tail)
 * and append `append`, so that the lines it shows stay where they are. Undefined when the tail
 * does not go on from what is shown (a new log, or the file was rewritten): show it whole.
 * `shown.slice(drop) + append` is always `tail`.
 */
export function followLog(shown: string, tail: string): { drop: number; append: string } | undefined {
  if (shown === '') return { drop: 0, append: tail };
  // The first line of what is shown that the tail starts with, and what follows it is in the tail as well.
  for (let start = 0; start < shown.length; ) {
    const rest = shown.length - start;
    if (rest <= tail.length && tail.startsWith(shown.slice(start))) return { drop: start, append: tail.slice(rest) };
    const end = shown.indexOf('\n', start);
    if (end < 0) break;
    start = end + 1;
  }
  return undefined;
}
