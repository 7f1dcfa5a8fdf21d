/**
 * Property tests: the full check (parse, build, structure, composability)
 * never throws on random text or on random soups of `.coi` tokens, and every
 * diagnostic range (and related range) lies inside the document.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { checkDocument } from '../../core/check';

const TOKENS = [
  'chain', 'description', 'model', 'input', 'step', 'test', 'instruction', 'from', 'output', 'given', 'expect', 'not',
  'provider', 'local', 'openai', 'path', 'base_url', 'api_key', 'api_key_env', 'temperature', 'top_p', 'max_tokens', 'stop', 'seed',
  'task', 'needs', 'passage', 'label', 'text', 'list', 'json', 'number', 'boolean', 'code', 'lang=fr', 'lang=xx', 'max_words=3',
  'min=5', 'max=1', 'schema=', "'{\"type\": 1}'", 'schema_file="x.json"', 'equals', 'contains', 'matches', "'(x'", 'one_of', 'valid_json',
  'rouge_l', '>=', '0.5', '40', '-1', 'true', 'a', 'b', 'output', 'summary', 's1', 's2', 'x', ':', '=', ',', '[', ']', '{', '}', '\n', '\n', '\n',
  '"Summarize the text."', '"Classify the sentiment."', '"Translate it into French."', '"""\n  Multi\n  line\n"""', '# comment\n', '__proto__', 'constructor',
];

function assertInside(text: string): void {
  const { diagnostics, chain } = checkDocument(text);
  assert.ok(Array.isArray(chain.steps));
  for (const d of diagnostics) {
    assert.ok(d.span.start >= 0 && d.span.start <= d.span.end && d.span.end <= text.length, `${d.code} out of range`);
    for (const r of d.related ?? []) assert.ok(r.span.start >= 0 && r.span.start <= r.span.end && r.span.end <= text.length);
  }
}

void test('random token soups never break the checker', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 120 }), (tokens) => {
      assertInside(tokens.join(' '));
    }),
    { numRuns: 400 },
  );
});

void test('random strings never break the checker', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (text) => {
      assertInside(text);
    }),
    { numRuns: 300 },
  );
});
