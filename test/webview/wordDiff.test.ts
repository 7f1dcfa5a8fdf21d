import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize, wordDiff, type DiffSegment } from '../../webview/model/wordDiff';

/** `[removed]` / `{added}` marks around changed words, the rest as is. */
function marked(segments: readonly DiffSegment[], open: string, close: string): string {
  return segments.map((s) => (s.changed ? `${open}${s.text}${close}` : s.text)).join('');
}

const cases: { name: string; left: string; right: string; left_: string; right_: string; changed: number }[] = [
  { name: 'identical texts', left: 'the quick fox', right: 'the quick fox', left_: 'the quick fox', right_: 'the quick fox', changed: 0 },
  { name: 'one word replaced', left: 'the quick fox', right: 'the slow fox', left_: 'the [quick] fox', right_: 'the {slow} fox', changed: 2 },
  { name: 'a word added at the end', left: 'Paris is big', right: 'Paris is big today', left_: 'Paris is big', right_: 'Paris is big {today}', changed: 1 },
  { name: 'words removed at the start', left: 'well then the answer is 4', right: 'the answer is 4', left_: '[well] [then] the answer is 4', right_: 'the answer is 4', changed: 2 },
  { name: 'adjacent changed words stay one mark', left: 'a b c d', right: 'a x y d', left_: 'a [b] [c] d', right_: 'a {x} {y} d', changed: 4 },
  { name: 'line breaks are kept', left: 'one\ntwo\nthree', right: 'one\n2\nthree', left_: 'one\n[two]\nthree', right_: 'one\n{2}\nthree', changed: 2 },
  { name: 'empty left side', left: '', right: 'new text', left_: '', right_: '{new} {text}', changed: 2 },
  { name: 'markup is just words', left: '<b>x</b>', right: '<img src=x onerror=alert(1)>', left_: '[<b>x</b>]', right_: '{<img} {src=x} {onerror=alert(1)>}', changed: 4 },
];

for (const c of cases) {
  void test(`wordDiff: ${c.name}`, () => {
    const diff = wordDiff(c.left, c.right);
    // Marks around whole words only: "a [b c] d" is rendered as "[b] [c]" here because whitespace is never marked.
    const render = (segments: readonly DiffSegment[], open: string, close: string): string =>
      segments
        .map((s) => (s.changed ? s.text.split(/(\s+)/).map((t) => (t.trim() === '' ? t : `${open}${t}${close}`)).join('') : s.text))
        .join('');
    assert.equal(render(diff.left, '[', ']'), c.left_);
    assert.equal(render(diff.right, '{', '}'), c.right_);
    assert.equal(diff.changedWords, c.changed);
    assert.equal(diff.approximate, false);
  });
}

void test('wordDiff: the segments join back to the texts exactly', () => {
  const left = '  leading space, tabs\tand\n\nblank lines  ';
  const right = 'leading space and tabs\t\nblank  lines';
  const diff = wordDiff(left, right);
  assert.equal(diff.left.map((s) => s.text).join(''), left);
  assert.equal(diff.right.map((s) => s.text).join(''), right);
  assert.equal(marked(diff.left, '', ''), left);
});

void test('wordDiff: whitespace is never marked as changed', () => {
  const diff = wordDiff('a b c', 'x y z');
  for (const segment of [...diff.left, ...diff.right]) if (segment.changed) assert.doesNotMatch(segment.text, /\s/);
});

void test('wordDiff: very long different texts are matched only at their ends, and quickly', () => {
  const words = (prefix: string, n: number): string => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(' ');
  const diff = wordDiff(`start ${words('a', 5000)} end`, `start ${words('b', 5000)} end`);
  assert.equal(diff.approximate, true);
  assert.equal(diff.left[0]?.changed, false);
  assert.equal(diff.changedWords, 10_000);
});

void test('tokenize keeps words and whitespace', () => {
  assert.deepEqual(tokenize(' a  b\n'), [' ', 'a', '  ', 'b', '\n']);
});
