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
