import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { applyEdits, contentKey, format, formatEdits, formatRangeEdits } from '../../core/syntax/formatter';
import { parse } from '../../core/syntax/parser';
import { coiFiles, repoPath } from '../helpers/paths';

const syntaxDir = repoPath('test', 'fixtures', 'syntax');
const goldenDir = join(syntaxDir, 'format');

function read(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Every .coi text the formatter tests run over: fixtures and golden inputs. */
function allSamples(): { name: string; text: string }[] {
  const fixtures = coiFiles(syntaxDir);
  const golden = coiFiles(goldenDir, 'format/');
  let examples: { name: string; text: string }[] = [];
  try {
    examples = coiFiles(repoPath('examples'), 'examples/');
  } catch {
    // no examples yet
  }
  return [...fixtures, ...golden, ...examples];
}

for (const input of readdirSync(goldenDir).filter((n) => n.endsWith('.input.coi'))) {
  void test(`golden: ${input} formats to ${input.replace('.input.', '.expected.')}`, () => {
    const expected = read(join(goldenDir, input.replace('.input.', '.expected.')));
    assert.equal(format(read(join(goldenDir, input))), expected);
  });
}

void test('golden expectations are fixed points', () => {
  for (const name of readdirSync(goldenDir).filter((n) => n.endsWith('.expected.coi'))) {
    const text = read(join(goldenDir, name));
    assert.equal(format(text), text, name);
  }
});

void test('formatting is idempotent on every sample', () => {
  for (const { name, text } of allSamples()) {
    const once = format(text);
    assert.equal(format(once), once, name);
  }
});

void test('formatting preserves every decoded value and every comment', () => {
  for (const { name, text } of allSamples()) {
    const before = parse(text);
    if (before.diagnostics.length > 0) continue;
    const after = parse(format(text));
    assert.deepEqual(after.diagnostics, [], name);
    assert.equal(contentKey(after.file), contentKey(before.file), name);
    assert.deepEqual(
      after.file.comments.map((c) => c.text.trimEnd()),
      before.file.comments.map((c) => c.text.trimEnd()),
      name,
    );
  }
});

void test('a file with syntax errors is returned unchanged', () => {
  for (const name of readdirSync(syntaxDir).filter((n) => n.startsWith('errors') && n.endsWith('.coi'))) {
    const text = read(join(syntaxDir, name));
    assert.equal(format(text), text, name);
    assert.deepEqual(formatEdits(text), [], name);
    assert.deepEqual(formatRangeEdits(text, { start: 0, end: text.length }), [], name);
  }
});

void test('text block contents are re-indented without changing their value', () => {
  const text = 'step s {\n        instruction """\n\t\tline one\n\t\t  line two\n\t\t"""\n}\n';
  const formatted = format(text);
  assert.equal(formatted, 'step s {\n  instruction """\n    line one\n      line two\n  """\n}\n');
  const value = (t: string): string | undefined => {
    const step = parse(t).file.declarations[0];
    return step?.kind === 'step' ? step.instruction?.text?.value : undefined;
  };
  assert.equal(value(formatted), value(text));
  assert.equal(value(formatted), 'line one\n  line two');
});

void test('CRLF files stay CRLF', () => {
  const text = 'chain   x\r\nstep a {\r\n    instruction """\r\n      t\r\n    """\r\n}\r\n';
  assert.equal(format(text), 'chain x\r\n\r\nstep a {\r\n  instruction """\r\n    t\r\n  """\r\n}\r\n');
});

/** Line breaks and a byte order mark: [name, input, its formatting]. Line breaks follow the file's first one. */
const LINE_BREAK_CASES: readonly [name: string, input: string, expected: string][] = [
  ['a byte order mark is kept', '\uFEFFchain x\ninput a: text\nstep s {\n instruction "hi"\n}\n', '\uFEFFchain x\ninput a: text\n\nstep s {\n  instruction "hi"\n}\n'],
  ['a file of only a byte order mark stays one', '\uFEFF', '\uFEFF'],
  ['lone CR line breaks stay lone CR', 'chain x\rinput a: text\rstep s {\r  instruction "hi"\r}\r', 'chain x\rinput a: text\r\rstep s {\r  instruction "hi"\r}\r'],
  ['LF first: later CRLF become LF', 'chain x\n# c\r\ninput a: text\r\n', 'chain x\n# c\ninput a: text\n'],
  ['CRLF first: later LF become CRLF', 'chain x\r\ninput a: text\n# c\n', 'chain x\r\ninput a: text\r\n# c\r\n'],
];

for (const [name, input, expected] of LINE_BREAK_CASES) {
  void test(`line breaks: ${name}`, () => {
    assert.equal(format(input), expected);
    assert.equal(format(expected), expected, 'idempotent');
    const edits = formatEdits(input);
    assert.equal(applyEdits(input, edits), expected);
    // An edit end between the \r and \n of a pair is a position LSP clients cannot express (they
    // move it before the \r): the half of the pair the edit meant to replace would stay.
    for (const { span } of edits) {
      for (const offset of [span.start, span.end]) assert.ok(!(input[offset - 1] === '\r' && input[offset] === '\n'), `edit ${span.start}-${span.end} cuts a CRLF`);
    }
  });
}

void test('the indent option sets the width of one level', () => {
  assert.equal(format('step a {\ninstruction "x"\n}', { indent: 4 }), 'step a {\n    instruction "x"\n}\n');
});

void test('empty and comment-only files', () => {
  assert.equal(format(''), '');
  assert.equal(format('\n\n'), '');
  assert.equal(format('  # note  \n\n\n# other\n'), '# note\n\n# other\n');
});

void test('formatEdits is one minimal edit that yields format()', () => {
  const text = 'chain x\ninput a:text\n\nstep s {\n  instruction "x"\n}\n';
  const edits = formatEdits(text);
  assert.equal(edits.length, 1);
  assert.deepEqual(edits[0]?.span, { start: 16, end: 16 });
  assert.equal(edits[0]?.newText, ' ');
  assert.equal(applyEdits(text, edits), format(text));
  assert.deepEqual(formatEdits(format(text)), []);
});

void test('formatRangeEdits formats only the touched declarations, whole', () => {
  const text = 'input  a:text\n\nstep s {\n      instruction    "x"\n}\n\nstep t {\n      instruction    "y"\n}\n';
  const inside = text.indexOf('"x"');
  const edits = formatRangeEdits(text, { start: inside, end: inside });
  const result = applyEdits(text, edits);
  assert.equal(result, 'input  a:text\n\nstep s {\n  instruction "x"\n}\n\nstep t {\n      instruction    "y"\n}\n');
  const all = applyEdits(text, formatRangeEdits(text, { start: 0, end: text.length }));
  assert.equal(all, format(text));
});
