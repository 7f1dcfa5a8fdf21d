// An endpoint's standing in the pool (which failures are the endpoint's: evalModelHealth.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointState } from '../../core/eval/endpoints';
import { FAILURES_IN_A_ROW } from '../../core/eval/modelHealth';

void test('an endpoint stays out for a cooldown that doubles with each failure in a row; a success resets it', () => {
  const state = new EndpointState('http://a/v1', 1000);
  state.failed('refused', 0);
  assert.equal(state.downUntil, 1000);
  state.failed('refused', 1000);
  assert.equal(state.downUntil, 3000);
  assert.equal(state.outMs, 3000);
  assert.equal(state.exhausted, FAILURES_IN_A_ROW <= 2);
  state.succeeded();
  assert.deepEqual([state.failuresInARow, state.served, state.failedAttempts], [0, 1, 2]);
});
