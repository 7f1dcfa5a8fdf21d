import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contractToConstraint, formatHint, validateOutput, parseList } from '../../core/runner/contract';
import { renderStepPrompt, alpacaPrompt, composedInstruction } from '../../core/runner/prompt';
import { runChain, RunRequestError } from '../../core/runner/run';
import { makeChain } from './helpers';

const ok = (v: ReturnType<typeof validateOutput>) => (v.ok ? v.value : `FAIL ${v.message}`);

void test('labels: the declared spelling wins; anything else fails with the set and the output', () => {
  const c = { kind: 'label', labels: ['Positive', 'negative'] } as const;
  assert.equal(ok(validateOutput(c, ' positive.\n')), 'Positive');
  assert.equal(ok(validateOutput(c, '"negative"')), 'negative');
  const bad = validateOutput(c, 'It is positive overall');
  assert.ok(!bad.ok && /expected one of "Positive", "negative", got "It is positive overall"/.test(bad.message));
});

void test('lists, numbers, booleans, JSON with a schema, text bounds', () => {
  assert.deepEqual(parseList('- a\n- b\n\n3. c'), ['a', 'b', 'c']);
  assert.deepEqual(parseList('["x", 2]'), ['x', '2']);
  assert.match(ok(validateOutput({ kind: 'list', item: 'text', maxItems: 2 }, '- a\n- b\n- c')), /at most 2 items, got 3/);
  assert.match(ok(validateOutput({ kind: 'list', item: 'number' }, '- 1\n- two')), /"two" is not a number/);
  assert.equal(ok(validateOutput({ kind: 'number', min: 1, max: 5, integer: true }, '4.')), '4');
  assert.match(ok(validateOutput({ kind: 'number', min: 1, max: 5 }, '7')), /at most 5, got 7/);
  assert.match(ok(validateOutput({ kind: 'number', integer: true }, '2.5')), /whole number/);
  assert.equal(ok(validateOutput({ kind: 'boolean' }, 'Yes')), 'true');
  const schema = { type: 'object', required: ['name'], properties: { name: { type: 'string' } } };
  assert.equal(ok(validateOutput({ kind: 'json', schema }, '```json\n{"name": "Ada"}\n```', schema)), '{"name": "Ada"}');
  assert.match(ok(validateOutput({ kind: 'json', schema }, '{"age": 3}', schema)), /does not match the schema: data must have required property 'name'/);
  assert.match(ok(validateOutput({ kind: 'json' }, 'name: Ada')), /expected JSON/);
  assert.match(ok(validateOutput({ kind: 'text', maxWords: 3 }, 'one two three four')), /at most 3 words, got 4/);
  assert.match(ok(validateOutput({ kind: 'text', maxChars: 5 }, 'abcdefgh')), /at most 5 characters, got 8/);
  // Characters are Unicode code points: five emoji (ten UTF-16 units) fit max_chars=5; the count said is in code points.
  assert.equal(ok(validateOutput({ kind: 'text', maxChars: 5 }, ' 😀🌊𝔸é🙂 ')), '😀🌊𝔸é🙂');
  assert.match(ok(validateOutput({ kind: 'text', maxChars: 5 }, '😀😀😀😀😀😀😀')), /at most 5 characters, got 7$/);
  assert.match(ok(validateOutput({ kind: 'text' }, '   ')), /empty output/);
});

void test('contracts become grammar constraints and prompt hints', () => {
  assert.deepEqual(contractToConstraint({ kind: 'label', labels: ['a', 'b'] }), { kind: 'labels', labels: ['a', 'b'] });
  assert.equal(contractToConstraint({ kind: 'text' }), undefined);
  assert.match(formatHint({ kind: 'label', labels: ['a', 'b'] })!, /exactly one of these labels and nothing else: a, b/);
  assert.equal(formatHint({ kind: 'text', lang: 'fr', maxWords: 60 }), 'Answer in French. Use at most 60 words.');
  assert.match(formatHint({ kind: 'number', min: 1, max: 5, integer: true })!, /single whole number between 1 and 5/);
});

void test('a step prompt holds the instruction, its input(s) by name and the hint', () => {
  const chain = makeChain(
    [
      { id: 'answer', instruction: 'Answer the question from the article.', from: ['article', 'question'], contract: { kind: 'label', labels: ['yes', 'no'] } },
    ],
    ['article', 'question'],
  );
  const values = new Map([
    ['article', 'Rain on Tuesday.'],
    ['question', 'Will it rain?'],
  ]);
  const chat = renderStepPrompt(chain.steps[0]!, values);
  assert.equal(chat.prompt.kind, 'chat');
  assert.match(chat.text, /^\[system\]\n/);
  assert.match(chat.text, /Answer the question from the article\.\n\nAnswer with exactly one of these labels and nothing else: yes, no\.\n\nInput:\n\[article\]\nRain on Tuesday\.\n\n\[question\]\nWill it rain\?$/);
  const alpaca = renderStepPrompt(chain.steps[0]!, values, { template: 'alpaca' });
  assert.equal(alpaca.prompt.kind, 'completion');
  assert.ok(alpaca.text.startsWith('Below is an instruction that describes a task, paired with an input that provides further context.'));
  assert.ok(alpaca.text.endsWith('### Response:\n'));
});

void test('the composed instruction joins the steps with " and then ", as in the paper', () => {
  const chain = makeChain([
    { id: 'a', instruction: 'Summarize the text.' },
    { id: 'b', instruction: 'Translate it into French.' },
  ]);
  assert.equal(composedInstruction(chain.steps), 'Summarize the text. and then Translate it into French.');
  assert.equal(
    alpacaPrompt('I', 'X'),
    'Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nI\n\n### Input:\nX\n\n### Response:\n',
  );
});

void test('typed chain inputs are checked before anything runs', async () => {
  const chain = { ...makeChain([{ id: 'a' }], ['count']), inputs: [{ name: 'count', contract: { kind: 'number', min: 1, max: 10 } as const, span: { start: 0, end: 0 } }] };
  const never = { identity: { backend: 'none', model: 'none' }, generate: () => Promise.reject(new Error('must not be called')), dispose: () => Promise.resolve() };
  await assert.rejects(runChain(chain, { backend: never, inputs: { count: 'eleven' } }), (e: unknown) => e instanceof RunRequestError && /Chain input "count" is a number, but the value given is "eleven"\./.test(e.message));
  await assert.rejects(runChain(chain, { backend: never, inputs: {} }), /Missing value for chain input "count"/);
});
