/** Tells a run that could not work (the backend, the transport, a missing input) from one that produced a wrong answer. */
import type { RunRecord } from './types';

/**
 * Why a run could not produce outputs worth judging (a backend or missing-input problem),
 * or undefined. Broken contracts and wrong outputs are not such reasons: they are the
 * chain's answer. An evaluation counts such a run as a failure rather than a score; a
 * test counts it as an error rather than a failed expectation.
 */
export function runFailure(record: RunRecord): string | undefined {
  const broken = record.steps.find((s) => s.status === 'failed' && s.error !== undefined && (s.error.code === 'backend' || s.error.code === 'missing-input'));
  return broken?.error?.message;
}

/**
 * How every view introduces a `partialOutput` (a step's, or a composed generation's): the text
 * the model streamed before its call failed, timed out or was cancelled — incomplete and never
 * validated, so never shown as if it were the output. Lower case; `status` is the step's or the run's.
 */
export function partialOutputLabel(status: string): string {
  return status === 'cancelled' ? 'partial output before the cancellation' : 'partial output before the failure';
}

/** What a reader is told about a partial output, after its label. */
export const PARTIAL_OUTPUT_NOTE = 'incomplete, never validated';

/** The label as a heading: `Partial output before the failure`. */
export function partialOutputHeading(status: string): string {
  const label = partialOutputLabel(status);
  return `${label.charAt(0).toUpperCase()}${label.slice(1)}`;
}

/**
 * An output cut short, in a few words for the views' markers (`⚠ cut at max_tokens`), or undefined
 * when it ended on its own: at its token bound, by the provider's content filter, or by an error
 * on the provider's side (`finishReason`, a step's or a composed generation's).
 */
export function cutNote(finishReason: string | undefined): string | undefined {
  switch (finishReason) {
    case 'length':
      return 'cut at max_tokens';
    case 'content-filter':
      return "cut by the provider's content filter";
    case 'provider-error':
      return 'cut short by a provider error';
    default:
      return undefined;
  }
}
