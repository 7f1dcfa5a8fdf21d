// An endpoint's standing in the pool (which failures are the endpoint's: evalModelHealth.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointPool, endpointSummary, EndpointState } from '../../core/eval/endpoints';
import { FAILURES_IN_A_ROW } from '../../core/eval/modelHealth';

void test('an endpoint stays out for a cooldown that doubles with each failure in a row; a success resets it', () => {
  const state = new EndpointState('http://a/v1', 1000);
  state.failed('refused', 0);
  assert.equal(state.downUntil, 1000);
  state.failed('refused', 1000);
  assert.equal(state.downUntil, 3000);
  assert.equal(state.outMsAt(3000), 3000);
  assert.equal(state.exhausted, FAILURES_IN_A_ROW <= 2);
  state.succeeded(3500);
  assert.deepEqual([state.failuresInARow, state.served, state.failedAttempts], [0, 1, 2]);
});

void test('time out of the pool is the time really spent out: a run that ends within a cooldown cuts it short', () => {
  // Cooldowns of 2, 4, 8 and 16 s scheduled (30 s), the run over at 6.8 s: as the evaluation that printed "30.0 s out of the pool".
  const state = new EndpointState('http://a/v1', 2000);
  state.failed('HTTP 500', 0); // out 0–2 s
  state.failed('HTTP 500', 2100); // out 2.1–6.1 s
  state.failed('HTTP 500', 6200); // out from 6.2 s, until the end of the run
  assert.equal(endpointSummary(state, 6800).outMs, 2000 + 4000 + 600);
  assert.ok(state.outMsAt(6800) <= 6800, 'never more than the elapsed time');
});

void test('a failure within a cooldown (another of its runs in flight) is counted once; a success ends the time out at once', () => {
  const state = new EndpointState('http://a/v1', 2000);
  state.failed('HTTP 500', 0); // out until 2 s
  state.failed('HTTP 500', 500); // in the same period, now out until 4.5 s
  assert.equal(state.downUntil, 4500);
  state.succeeded(1500); // a run started before the failures answered: back in the pool
  assert.equal(state.outMsAt(10_000), 1500);
  assert.equal(state.downUntil, 0);
});

void test("the pool of an openai: model: its base URL first, then the store's other endpoints once each; none without another", () => {
  assert.deepEqual(endpointPool('http://a/v1', undefined), []);
  assert.deepEqual(endpointPool('http://a/v1', ['http://a/v1']), [], 'only its own base URL: not pooled');
  assert.deepEqual(endpointPool('http://a/v1', ['http://b/v1', 'http://a/v1', 'http://b/v1']), ['http://a/v1', 'http://b/v1']);
});
