import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exactMatch } from '../../core/eval/score';
import { seededRandom } from '../helpers/random';

/** The definition: equal after trimming and collapsing whitespace. */
const plainExactMatch = (a: string, b: string): boolean => a.trim().replace(/\s+/g, ' ') === b.trim().replace(/\s+/g, ' ');

void test('exact match ignores leading, trailing and repeated whitespace, nothing else', () => {
  assert.equal(exactMatch('Paris', 'Paris'), true);
  assert.equal(exactMatch('  New   York\n', 'New York'), true);
  assert.equal(exactMatch('New\u00a0York', 'New York'), true);
  assert.equal(exactMatch('NewYork', 'New York'), false);
  assert.equal(exactMatch('new york', 'New York'), false);
  assert.equal(exactMatch('New York.', 'New York'), false);
  assert.equal(exactMatch('', '   '), true);
  assert.equal(exactMatch('a', ''), false);
});

void test('exact match equals the definition on random texts', () => {
  const random = seededRandom(5);
  const pieces = ['a', 'b', 'ab', 'A', '.', 'é', ' ', '  ', '\n', '\t', '\u00a0', '\u2003', '\u3000', '\ufeff', '\u200b'];
  const text = (): string => Array.from({ length: Math.floor(random() * 8) }, () => pieces[Math.floor(random() * pieces.length)] ?? '').join('');
  for (let n = 0; n < 5000; n++) {
    const a = text();
    const b = random() < 0.3 ? a.replace(/\s+/g, (s) => (random() < 0.5 ? ' ' : s + '\n')) : text();
    assert.equal(exactMatch(a, b), plainExactMatch(a, b), JSON.stringify({ a, b }));
  }
});
