/**
 * client/run/inputText.ts: multi-line input values in the editor's one-line
 * input boxes (`\n` escapes, read back exactly) and in pick lists (⏎, not glued).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeInput, previewInputs, unescapeInput } from '../../client/run/inputText';

void describe('input box escapes', () => {
  const values = ['one line', 'two\nlines', 'a\ttab', 'C:\\path\\new', 'ends with a backslash \\', 'literal \\n in text', '\n\nblank lines\n'];
  for (const value of values) {
    void test(`${JSON.stringify(value)} survives the box unchanged`, () => {
      const shown = escapeInput(value);
      assert.ok(!shown.includes('\n'), shown);
      assert.equal(unescapeInput(shown), value);
    });
  }

  const typed: { typed: string; value: string }[] = [
    { typed: 'first\\nsecond', value: 'first\nsecond' },
    { typed: 'tab\\there', value: 'tab\there' },
    { typed: 'keep \\d+ as typed', value: 'keep \\d+ as typed' },
    { typed: 'a\\\\nb', value: 'a\\nb' },
  ];
  for (const c of typed) void test(`typing ${c.typed} gives ${JSON.stringify(c.value)}`, () => assert.equal(unescapeInput(c.typed), c.value));
});

void describe('previewInputs', () => {
  void test('line breaks show as ⏎ between the lines', () => assert.equal(previewInputs({ text: 'Dear team,\n\n  the meeting moved.\n' }), 'text=Dear team, ⏎ the meeting moved.'));
  void test('several inputs, long ones cut with an ellipsis', () => {
    const text = previewInputs({ a: 'x', b: 'y'.repeat(200) }, 20);
    assert.equal(text.length, 20);
    assert.ok(text.startsWith('a=x, b=yyy') && text.endsWith('…'), text);
  });
});
