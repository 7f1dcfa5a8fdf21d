import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateExpectation, testStatus, undecidedReason } from '../../core/expectations/evaluate';
import type { RunRecord } from '../../core/runner/types';
import { validateOutput } from '../../core/runner/contract';
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

void describe('equals compares values by the target contract', () => {
  const typed = makeChain([
    { id: 'label_step', contract: { kind: 'label', labels: ['positive', 'negative'] } },
    { id: 'stars', contract: { kind: 'number', min: 0, max: 100 } },
    { id: 'recommends', contract: { kind: 'boolean' } },
    { id: 'text_step' },
    { id: 'person', contract: { kind: 'json' } },
  ]);
  // The model's answers as the runner stores them once their contract is checked (a fence taken off, yes read as true).
  const stored = (id: string, index: number, answer: string) => {
    const step = typed.steps[index]!;
    const checked = validateOutput(step.contract, answer);
    assert.ok(checked.ok, `${id}: ${answer}`);
    return stepResult(id, index, checked.value);
  };
  const typedRun = runOf([
    stored('label_step', 0, 'positive'),
    stored('stars', 1, '42'),
    stored('recommends', 2, 'Yes'),
    stored('text_step', 3, '42'),
    stored('person', 4, '```json\n{"name":"Ada","langs":["en","fr"],"age":36}\n```'),
  ]);
  const status = async (target: string, value: string, negated = false) =>
    (await evaluateExpectation(typed, expectation(target, 'equals', value, { negated }), typedRun)).status;

  void test('a number step: numerically', async () => {
    assert.equal(await status('stars', '42.0'), 'passed');
    assert.equal(await status('stars', ' 4.2e1 '), 'passed');
    assert.equal(await status('stars', '42.0', true), 'failed');
    assert.equal(await status('stars', '43'), 'failed');
  });

  void test('a boolean step: true or false in any case', async () => {
    assert.equal(await status('recommends', 'TRUE'), 'passed');
    assert.equal(await status('recommends', 'False'), 'failed');
  });

  void test('a json step (and the final output of one): the parsed values, key order ignored, array order kept', async () => {
    assert.equal(await status('person', '{"age": 36, "name": "Ada", "langs": ["en", "fr"]}'), 'passed');
    assert.equal(await status('output', '{ "langs": ["en", "fr"], "age": 36.0, "name": "Ada" }'), 'passed');
    assert.equal(await status('person', '{"age": 36, "name": "Ada", "langs": ["fr", "en"]}'), 'failed');
    assert.equal(await status('person', '{"age": 36, "name": "Ada", "langs": ["en", "fr"], "x": null}'), 'failed');
    const failure = await evaluateExpectation(typed, expectation('person', 'equals', '{"name": "Bob"}'), typedRun);
    assert.equal(failure.expected, '{"name": "Bob"}');
    assert.equal(failure.actual, '{"name":"Ada","langs":["en","fr"],"age":36}');
  });

  void test('text and label steps: the trimmed texts, case compared', async () => {
    assert.equal(await status('text_step', '42.0'), 'failed');
    assert.equal(await status('text_step', ' 42 '), 'passed');
    assert.equal(await status('label_step', 'Positive'), 'failed');
  });
});

void test('valid_json on a text step checks that the output parses as JSON, a fenced block allowed', async () => {
  const withText = (text: string): RunRecord => ({ ...run, steps: [stepResult('summary', 0, text), run.steps[1]!, run.steps[2]!] });
  const fenced = await evaluateExpectation(chain, expectation('summary', 'valid_json'), withText('```json\n{"rain": true}\n```'));
  assert.equal(fenced.status, 'passed');
  const prose = await evaluateExpectation(chain, expectation('summary', 'valid_json'), run);
  assert.equal(prose.status, 'failed');
  assert.match(prose.message, /not valid JSON/);
  assert.equal((await evaluateExpectation(chain, expectation('summary', 'valid_json', undefined, { negated: true }), run)).status, 'passed');
});

void test('one_of accepts a value as equals reads it: JSON by value, numbers as numbers, labels ignoring case', async () => {
  const typed = makeChain([
    { id: 'stars', contract: { kind: 'number' } },
    { id: 'person', contract: { kind: 'json', schema } },
  ]);
  const typedRun: RunRecord = runOf([stepResult('stars', 0, '4.0'), stepResult('person', 1, '{"city": "Lyon"}')]);
  const oneOf = async (target: string, values: string[]) => (await evaluateExpectation(typed, expectation(target, 'one_of', undefined, { values }), typedRun)).status;
  assert.equal(await oneOf('person', ['{"city":"Paris"}', '{ "city" : "Lyon" }']), 'passed');
  assert.equal(await oneOf('person', ['{"city":"Paris"}']), 'failed');
  assert.equal(await oneOf('stars', ['3', '4']), 'passed');
  assert.equal(await oneOf('stars', ['3', '5']), 'failed');
  assert.equal(await verdict(expectation('sentiment', 'one_of', undefined, { values: ['NEGATIVE'] })).then((r) => r.status), 'passed');
});
