import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateExpectation, testStatus, undecidedReason } from '../../core/expectations/evaluate';
import type { RunRecord } from '../../core/runner/types';
import { expectation, makeChain, runOf, stepResult, tinyLocalBackend, type TinyLocal } from './helpers';

const schema = { type: 'object', required: ['city'], properties: { city: { type: 'string' } } };
const chain = makeChain([
  { id: 'summary' },
  { id: 'sentiment', contract: { kind: 'label', labels: ['positive', 'negative'] } },
  { id: 'person', contract: { kind: 'json', schema } },
]);

const run: RunRecord = runOf([stepResult('summary', 0, 'Heavy rain is expected in the north on Tuesday.'), stepResult('sentiment', 1, 'negative'), stepResult('person', 2, '{"city": "Lyon"}')]);

const verdict = async (e: Parameters<typeof evaluateExpectation>[1]) => evaluateExpectation(chain, e, run);

void test('each matcher passes and fails where a user expects it to', async () => {
  assert.equal((await verdict(expectation('summary', 'contains', 'rain'))).status, 'passed');
  assert.equal((await verdict(expectation('summary', 'contains', 'snow'))).status, 'failed');
  assert.equal((await verdict(expectation('summary', 'contains', 'snow', { negated: true }))).status, 'passed');
  assert.equal((await verdict(expectation('summary', 'equals', 'Heavy rain is expected in the north on Tuesday.'))).status, 'passed');
  assert.equal((await verdict(expectation('summary', 'matches', '^Heavy'))).status, 'passed');
  assert.equal((await verdict(expectation('summary', 'matches', '^heavy'))).status, 'failed');
  assert.equal((await verdict(expectation('sentiment', 'label', 'negative'))).status, 'passed');
  assert.equal((await verdict(expectation('sentiment', 'one_of', undefined, { values: ['positive', 'neutral'] }))).status, 'failed');
  assert.equal((await verdict(expectation('person', 'valid_json'))).status, 'passed');
  assert.equal((await verdict(expectation('output', 'contains', 'Lyon'))).status, 'passed');
});

void test('a failure carries expected vs actual and the expectation span', async () => {
  const result = await verdict(expectation('summary', 'equals', 'Rain on Tuesday.'));
  assert.equal(result.status, 'failed');
  assert.equal(result.expected, 'Rain on Tuesday.');
  assert.equal(result.actual, 'Heavy rain is expected in the north on Tuesday.');
  assert.deepEqual(result.span, { start: 10, end: 20 });
  assert.match(result.message, /summary equals "Rain on Tuesday\." failed/);
});

void test('rouge_l compares against the threshold and reports the score', async () => {
  const reference = 'Rain is expected in the north on Tuesday.';
  const pass = await verdict(expectation('summary', 'rouge_l', reference, { threshold: 0.8 }));
  assert.equal(pass.status, 'passed');
  assert.ok(pass.score! > 0.8 && pass.score! < 1);
  const fail = await verdict(expectation('summary', 'rouge_l', 'Sunny skies all week.', { threshold: 0.3 }));
  assert.equal(fail.status, 'failed');
  assert.match(fail.message, /ROUGE-L 0\.000 vs threshold 0\.3/);
});

void test('valid_json checks the step schema; a step that did not run fails its expectations', async () => {
  const wrong: RunRecord = { ...run, steps: [run.steps[0]!, run.steps[1]!, stepResult('person', 2, '{"name": "x"}')] };
  const result = await evaluateExpectation(chain, expectation('person', 'valid_json'), wrong);
  assert.equal(result.status, 'failed');
  assert.match(result.message, /required property 'city'/);
  const notRun: RunRecord = { ...run, steps: [run.steps[0]!, stepResult('sentiment', 1, undefined, 'skipped'), run.steps[2]!] };
  const missing = await evaluateExpectation(chain, expectation('sentiment', 'label', 'negative'), notRun);
  assert.equal(missing.status, 'failed');
  assert.match(missing.message, /did not run \(skipped\)/);
  assert.equal(missing.actual, undefined);
});

void test('judge expectations are skipped without a judge model, and skipped ones do not fail a test', async () => {
  const result = await verdict(expectation('summary', 'judge', 'Mentions the day.'));
  assert.equal(result.status, 'skipped');
  assert.match(result.message, /no judge model/);
  assert.equal(testStatus([result]), 'passed');
});

void test('an expectation that could not be decided makes its test an error, unless another failed', async () => {
  const passed = await verdict(expectation('summary', 'contains', 'Tuesday'));
  const failed = await verdict(expectation('summary', 'contains', 'no such words'));
  const undecided = { ...passed, status: 'error' as const, message: 'summary judge "Mentions the day.": the judge server did not answer' };
  assert.equal(passed.status, 'passed');
  assert.equal(failed.status, 'failed');
  assert.equal(testStatus([passed, undecided]), 'error');
  assert.equal(undecidedReason([passed, undecided]), `An expectation could not be decided: ${undecided.message}`);
  assert.equal(testStatus([undecided, failed]), 'failed');
  assert.equal(testStatus([passed, failed]), 'failed');
});

void describe('judge with a real model', () => {
  let tiny: TinyLocal;
  before(() => (tiny = tinyLocalBackend(4)));
  after(async () => tiny.dispose());
  void test('the judge answers yes or no (grammar-constrained on the local model) and the verdict is reported', async () => {
    const result = await evaluateExpectation(chain, expectation('summary', 'judge', 'Mentions the day.'), run, { judge: tiny.backend });
    assert.ok(result.status === 'passed' || result.status === 'failed', result.message);
    assert.match(result.message, /the judge \(.*\) answered (yes|no)/);
  });
});
