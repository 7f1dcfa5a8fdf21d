// Which failures say the model cannot serve the evaluation (stop at once), which may be the
// server's (held back: three in a row stop it, an answer in between makes them the items'),
// and which are the item's (recorded as they happen).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureBearing, FAILURES_IN_A_ROW, ModelHealth } from '../../core/eval/modelHealth';
import type { RunRecord, StepError } from '../../core/runner/types';

function recordFailing(error: StepError): RunRecord {
  return { steps: [{ id: 's', index: 0, status: 'failed', error }] } as unknown as RunRecord;
}

void test('failure bearings: the model (unreachable, key refused, unknown or unusable model), the server (5xx, timed out, rate-limited, garbage, crashed worker), the item (4xx, a refusal, contracts)', () => {
  const cases: [StepError, 'model' | 'server' | undefined][] = [
    [{ code: 'backend', backendCode: 'server-rejected', message: 'Could not reach http://127.0.0.1:9/v1: connection refused' }, 'model'],
    [{ code: 'backend', backendCode: 'server-rejected', status: 401, message: 'rejected the API key' }, 'model'],
    [{ code: 'backend', backendCode: 'server-rejected', status: 403, message: 'refused access' }, 'model'],
    [{ code: 'backend', backendCode: 'model-not-found', status: 404, message: 'does not know this model' }, 'model'],
    [{ code: 'backend', backendCode: 'model-invalid', message: 'Invalid GGUF magic' }, 'model'],
    [{ code: 'backend', backendCode: 'runtime-unavailable', message: 'no llama.cpp binary' }, 'model'],
    [{ code: 'backend', backendCode: 'server-rejected', status: 503, message: 'answered HTTP 503' }, 'server'],
    [{ code: 'backend', backendCode: 'timed-out', message: 'no answer in 600 s' }, 'server'],
    [{ code: 'backend', backendCode: 'rate-limited', status: 429, message: '429 after 3 tries' }, 'server'],
    [{ code: 'backend', backendCode: 'bad-response', message: 'not JSON' }, 'server'],
    [{ code: 'backend', backendCode: 'worker-crashed', message: 'the worker exited' }, 'server'],
    [{ code: 'backend', backendCode: 'out-of-memory', message: 'out of memory while generating' }, 'server'],
    [{ code: 'backend', backendCode: 'server-rejected', status: 400, message: 'prompt too long' }, undefined],
    [{ code: 'backend', backendCode: 'prompt-too-long', message: 'does not fit' }, undefined],
    // The model answered, declining this item: the item's failure, not a sign of a server down.
    [{ code: 'backend', backendCode: 'refused', message: "sent the model's refusal instead of an answer" }, undefined],
    [{ code: 'contract', message: 'not a label' }, undefined],
    [{ code: 'missing-marker', message: 'no markers' }, undefined],
  ];
  for (const [error, on] of cases) {
    assert.deepEqual(failureBearing(recordFailing(error)), on === undefined ? undefined : { on, message: error.message }, error.message);
  }
  // The runner names the step; the bearing keeps the backend's words (the same for every item).
  const named: StepError = { code: 'backend', backendCode: 'server-rejected', message: 'Step "step1": Could not reach http://127.0.0.1:9/v1: connection refused' };
  assert.equal(failureBearing(recordFailing(named))?.message, 'Could not reach http://127.0.0.1:9/v1: connection refused');
});

void test('server failures are held per model: the third in a row says down; an answer hands them back as the items\' own', () => {
  const health = new ModelHealth<string>();
  assert.equal(health.serverFailed('a', 'a1'), false);
  assert.equal(health.serverFailed('b', 'b1'), false);
  assert.equal(health.serverFailed('a', 'a2'), false);
  assert.deepEqual(health.answered('a'), ['a1', 'a2']);
  assert.deepEqual(health.answered('a'), []);
  for (let i = 1; i < FAILURES_IN_A_ROW; i++) assert.equal(health.serverFailed('a', `a${i + 2}`), false);
  assert.equal(health.serverFailed('a', 'last'), true);
  assert.deepEqual(health.drain().sort(), ['a3', 'a4', 'b1', 'last'].sort());
  assert.deepEqual(health.drain(), []);
});
