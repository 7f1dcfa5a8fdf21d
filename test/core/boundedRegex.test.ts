/**
 * A file's regular expression run on a model's output under a time limit
 * (core/chain/boundedRegex.ts): the same answers as `RegExp.test` for ordinary patterns, and a
 * pattern that backtracks catastrophically is stopped, in `expect … matches` and in a JSON
 * Schema's `pattern`, `patternProperties` and `propertyNames` at run time.
 *
 * The slow texts here take JavaScript's engine about a minute (`^(a|a)+$` doubles its time
 * with each `a`): without the limit the call blocks this process, so the `timeout` options
 * cannot fire; the duration asserted is what fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PATTERN_TIME_LIMIT_MS, testBounded } from '../../core/chain/boundedRegex';
import { checkJsonSchema, validateJsonValue } from '../../core/chain/jsonSchema';
import { evaluateExpectation } from '../../core/expectations/evaluate';
import { expectation, makeChain, runOf, stepResult } from '../runner/helpers';

const SLOW_PATTERN = '^(a|a)+$';
/** 32 `a` and a `b`: some 2^32 steps for SLOW_PATTERN (about a minute), far past the limit. */
const SLOW_TEXT = `${'a'.repeat(32)}b`;

function slowRegExp(): RegExp {
  return new RegExp(SLOW_PATTERN, 'u');
}

function timed<T>(action: () => T): { readonly value: T; readonly ms: number } {
  const started = performance.now();
  const value = action();
  return { value, ms: performance.now() - started };
}

void test('an ordinary pattern gets the answer RegExp.test gives, flags (u included) as compiled', () => {
  const cases: [RegExp, string][] = [
    [/^Heavy/u, 'Heavy rain on Tuesday.'],
    [/^heavy/u, 'Heavy rain on Tuesday.'],
    [/^heavy/iu, 'Heavy rain on Tuesday.'],
    [/^\d{4}-\d{2}-\d{2}$/u, '2024-05-01'],
    [/^\d{4}-\d{2}-\d{2}$/u, '2024-5-1'],
    // `u`: an astral character is one `.`; without it, two code units.
    [/^.$/u, '😀'],
    [/^.$/, '😀'],
    [/^\p{Lu}\p{Ll}+$/u, 'Éloïse'],
    [/^\p{Lu}\p{Ll}+$/u, 'éloïse'],
    [/^(?<year>\d+)-\k<year>$/u, '12-12'],
    [/(?<=\$)\d+/u, 'costs $42'],
    [/^$/u, ''],
    [/a.c/su, 'a\nc'],
    [slowRegExp(), 'aaaa'],
    [slowRegExp(), 'aaab'],
  ];
  for (const [pattern, text] of cases) {
    const expected = new RegExp(pattern.source, pattern.flags).test(text);
    assert.equal(testBounded(pattern, text), expected ? 'matched' : 'not matched', `${String(pattern)} on ${JSON.stringify(text)}`);
  }
});

void test('a global pattern moves lastIndex as RegExp.test moves it', () => {
  const bounded = /o/gu;
  const plain = /o/gu;
  const answers = [0, 1, 2].map(() => [testBounded(bounded, 'foo') === 'matched', bounded.lastIndex]);
  assert.deepEqual(
    answers,
    [0, 1, 2].map(() => [plain.test('foo'), plain.lastIndex]),
  );
});

void test('a catastrophically backtracking pattern is stopped at the limit', { timeout: 120_000 }, () => {
  const { value, ms } = timed(() => testBounded(slowRegExp(), SLOW_TEXT));
  assert.equal(value, 'timed out');
  // Not sooner than the limit says (a hang would end at the test's own timeout instead).
  assert.ok(ms >= PATTERN_TIME_LIMIT_MS - 50, `answered after ${Math.round(ms)} ms`);
  assert.equal(testBounded(slowRegExp(), SLOW_TEXT, 50), 'timed out', 'a limit of its own');
  assert.equal(testBounded(/^a+$/u, 'aaa'), 'matched', 'the next test runs as usual');
});

void test('expect … matches: a stopped pattern fails the expectation, negated or not, saying why', { timeout: 120_000 }, async () => {
  const chain = makeChain([{ id: 'summary' }]);
  const run = runOf([stepResult('summary', 0, SLOW_TEXT)]);
  for (const negated of [false, true]) {
    const result = await evaluateExpectation(chain, expectation('summary', 'matches', SLOW_PATTERN, { negated }), run);
    assert.equal(result.status, 'failed');
    assert.equal(result.message, `summary ${negated ? 'not ' : ''}matches "^(a|a)+$" failed (the pattern took longer than 1 s on this output and was stopped: it backtracks catastrophically, as a nested quantifier such as (a+)+ or (a|a)+ does; simplify it)`);
    assert.equal(result.expected, SLOW_PATTERN);
    assert.equal(result.actual, SLOW_TEXT);
  }
  const ordinary = await evaluateExpectation(chain, expectation('summary', 'matches', '^a+b$'), run);
  assert.equal(ordinary.status, 'passed');
});

void test("a run's JSON Schema patterns: a stopped one is a validation problem naming it, wherever it is used", { timeout: 300_000 }, () => {
  const schemas: Record<string, object> = {
    pattern: { type: 'object', properties: { name: { type: 'string', pattern: SLOW_PATTERN } } },
    patternProperties: { type: 'object', patternProperties: { [SLOW_PATTERN]: { type: 'string' } } },
    propertyNames: { type: 'object', propertyNames: { pattern: SLOW_PATTERN } },
    additionalProperties: { type: 'object', patternProperties: { [SLOW_PATTERN]: true }, additionalProperties: false },
  };
  for (const [keyword, schema] of Object.entries(schemas)) {
    const value = keyword === 'pattern' ? { name: SLOW_TEXT } : { [SLOW_TEXT]: 'x' };
    const problem = validateJsonValue(value, schema);
    assert.equal(
      problem,
      `the JSON does not match the schema: the pattern "^(a|a)+$" took longer than 1 s on ${JSON.stringify(SLOW_TEXT)} and was stopped: it backtracks catastrophically, as a nested quantifier such as (a+)+ or (a|a)+ does; simplify it`,
      keyword,
    );
  }
  // Ordinary patterns are JavaScript's, as before (`\p{L}` with Ajv's `u` flag); the check's linear engine is unchanged.
  const ordinary = { type: 'object', properties: { year: { pattern: '^\\d{4}$' }, letter: { pattern: '^\\p{L}$' } } };
  assert.equal(validateJsonValue({ year: '2024', letter: 'é' }, ordinary), undefined);
  assert.equal(validateJsonValue({ year: '24', letter: 'é' }, ordinary), 'the JSON does not match the schema: data/year must match pattern "^\\d{4}$"');
  assert.deepEqual(checkJsonSchema({ name: SLOW_TEXT }, schemas['pattern'], 'data', 'linear'), { errors: 'data/name must match pattern "^(a|a)+$"' });
});

/**
 * `a` × n and a `b`, n the first from 16 up whose test against SLOW_PATTERN takes 30 ms or more
 * here (under the limit), and that time: the least of three tests, since a busy machine
 * stretches some (a single timing picked too short a text under load).
 */
function slowishText(): { readonly text: string; readonly ms: number } {
  for (let n = 16; ; n++) {
    const text = `${'a'.repeat(n)}b`;
    const ms = Math.min(...[1, 2, 3].map(() => timed(() => testBounded(slowRegExp(), text)).ms));
    if (ms >= 30) return { text, ms };
  }
}

void test("a validation's pattern tests are bounded together: many values each just under the limit are stopped, many ordinary ones are not", { timeout: 120_000 }, () => {
  const schema = { type: 'array', items: { type: 'string', pattern: SLOW_PATTERN } };
  // Values each well under the limit, enough of them to take ten times what the budget allows
  // (the limit, plus a millisecond a value) at the speed measured. That speed can be a third of
  // the true one: in a CI run the three timings of slowishText all fell in a loaded moment (a
  // training test beside it), the validation then ran at full speed and finished within the
  // budget, with three times. The budget bounds the time spent, so more values cost nothing.
  const { text, ms } = slowishText();
  const count = Math.ceil((10 * PATTERN_TIME_LIMIT_MS) / (ms - 1));
  const problem = validateJsonValue(Array.from({ length: count }, () => text), schema) ?? '';
  const stopped = /^the JSON does not match the schema: the patterns took over 1 s in all on this output's values and were stopped, "\^\(a\|a\)\+\$" taking (\d+) ms on (\d+) values \(the last: "(a+b)"\): it backtracks catastrophically/.exec(problem);
  assert.ok(stopped !== null, problem.slice(0, 300));
  assert.ok(Number(stopped[2]) < count, `stopped after ${stopped[2]} of ${count} values`);
  assert.equal(stopped[3], text);
  // Thousands of ordinary values (a fraction of a millisecond each, more than the limit in all, some slowed by the machine's load) are all tested.
  const years = { type: 'array', items: { type: 'string', pattern: '^\\d{4}$' } };
  assert.equal(validateJsonValue(Array.from({ length: 20_000 }, (_, i) => String(1000 + (i % 9000))), years), undefined);
  assert.equal(validateJsonValue([...Array.from({ length: 20_000 }, () => '2024'), '24'], years), 'the JSON does not match the schema: data/20000 must match pattern "^\\d{4}$"');
});
