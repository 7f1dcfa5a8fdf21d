// Which failures take an endpoint out of the pool (its own: unreachable, 5xx, timed out,
// rate-limited, garbage) and which are the item's (a 4xx, a broken contract): the latter are
// recorded as usual instead of being run on every other endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointFailure, EndpointState, MAX_FAILURES_IN_A_ROW } from '../../core/eval/endpoints';
import type { RunRecord, StepError } from '../../core/runner/types';

function recordFailing(error: StepError): RunRecord {
  return { steps: [{ id: 's', index: 0, status: 'failed', error }] } as unknown as RunRecord;
}

void test('endpoint failures: no answer, 5xx, timed out, rate-limited, garbage; not 4xx or contracts', () => {
  const own: StepError[] = [
    { code: 'backend', backendCode: 'server-rejected', message: 'Could not reach http://127.0.0.1:9/v1: connection refused' },
    { code: 'backend', backendCode: 'server-rejected', status: 503, message: 'answered HTTP 503' },
    { code: 'backend', backendCode: 'timed-out', message: 'no answer in 600 s' },
    { code: 'backend', backendCode: 'rate-limited', status: 429, message: '429 after 3 tries' },
    { code: 'backend', backendCode: 'bad-response', message: 'not JSON' },
  ];
  for (const error of own) assert.equal(endpointFailure(recordFailing(error)), error.message, error.message);
  const items: StepError[] = [
    { code: 'backend', backendCode: 'server-rejected', status: 400, message: 'prompt too long' },
    { code: 'backend', backendCode: 'server-rejected', status: 401, message: 'bad key' },
    { code: 'contract', message: 'not a label' },
    { code: 'missing-marker', message: 'no markers' },
  ];
  for (const error of items) assert.equal(endpointFailure(recordFailing(error)), undefined, error.message);
});

void test('an endpoint stays out for a cooldown that doubles with each failure in a row; a success resets it', () => {
  const state = new EndpointState('http://a/v1', 1000);
  state.failed('refused', 0);
  assert.equal(state.downUntil, 1000);
  state.failed('refused', 1000);
  assert.equal(state.downUntil, 3000);
  assert.equal(state.outMs, 3000);
  assert.equal(state.exhausted, MAX_FAILURES_IN_A_ROW <= 2);
  state.succeeded();
  assert.deepEqual([state.failuresInARow, state.served, state.failedAttempts], [0, 1, 2]);
});
