import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lex, type Token } from '../../core/syntax/lexer';
import type { Diagnostic } from '../../core/syntax/ast';

function tokens(text: string): Token[] {
  return lex(text).tokens.toArray();
}

/** `kind:text` of every token except the final eof. */
function shapes(text: string): string[] {
  return tokens(text)
    .filter((t) => t.kind !== 'eof')
    .map((t) => (t.text === '' ? t.kind : `${t.kind}:${t.text}`));
}

function codes(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.code}@${d.span.start}-${d.span.end}`);
}

function onlyString(text: string): Token {
  const strings = tokens(text).filter((t) => t.kind === 'string');
  assert.equal(strings.length, 1, `one string token in ${JSON.stringify(text)}`);
  return strings[0] as Token;
}

void test('identifiers may contain digits, underscores and dashes; numbers may be negative or fractional', () => {
  assert.deepEqual(shapes('max_words gpu-layers x2 _a 0 -1 0.75 256'), [
    'identifier:max_words',
    'identifier:gpu-layers',
    'identifier:x2',
    'identifier:_a',
    'number:0',
    'number:-1',
    'number:0.75',
    'number:256',
  ]);
  const number = tokens('0.75').find((t) => t.kind === 'number');
  assert.equal(number?.value, 0.75);
});

void test('punctuation, >= and newlines (\\n, \\r\\n and a lone \\r are one newline each)', () => {
  assert.deepEqual(shapes('[a, b]{}:=>=\r\nx\ry\n'), [
    '[',
    'identifier:a',
    ',',
    'identifier:b',
    ']',
    '{',
    '}',
    ':',
    '=',
    '>=',
    'newline',
    'identifier:x',
    'newline',
    'identifier:y',
    'newline',
  ]);
  const crlf = tokens('a\r\nb').find((t) => t.kind === 'newline');
  assert.deepEqual([crlf?.start, crlf?.end], [1, 3]);
});

void test('double strings decode the JSON escapes', () => {
  const token = onlyString(String.raw`"q\"b\\s\/n\nt\tu\u00e9\b\f\r"`);
  assert.equal(token.text, 'q"b\\s/n\nt\tué\b\f\r');
  assert.equal(token.style, 'double');
  assert.deepEqual(lex(String.raw`"\u00e9"`).diagnostics, []);
});

void test('an invalid escape is reported at the escape and kept as written', () => {
  const text = String.raw`x "a\d+" "\u12x"`;
  const { diagnostics } = lex(text);
  assert.deepEqual(codes(diagnostics), ['COI104@4-6', 'COI104@10-14']);
  const values = tokens(text)
    .filter((t) => t.kind === 'string')
    .map((t) => t.text);
  assert.deepEqual(values, [String.raw`a\d+`, String.raw`\u12x`]);
  assert.match(diagnostics[0]?.message ?? '', /'\\d'/);
});

void test("single strings are raw: backslashes stay, no escapes", () => {
  const token = onlyString(String.raw`'^\d+$ "x"'`);
  assert.equal(token.text, String.raw`^\d+$ "x"`);
  assert.equal(token.style, 'single');
});

void test('an unterminated string stops at the end of its line and lexing goes on', () => {
  const text = '"abc\nnext \'raw\nlast';
  const { diagnostics } = lex(text);
  assert.deepEqual(codes(diagnostics), ['COI102@0-4', 'COI102@10-14']);
  assert.deepEqual(shapes(text), ['string:abc', 'newline', 'identifier:next', 'string:raw', 'newline', 'identifier:last']);
  assert.equal(tokens(text)[0]?.terminated, false);
});

const textBlocks: readonly [string, string, string][] = [
  ['opening line blank, closing line blank, common indent removed', '"""\n    Summarize.\n      Keep names.\n  """', 'Summarize.\n  Keep names.'],
  ['single line block', '"""reference text"""', 'reference text'],
  ['first line after the quotes is kept and not part of the indent', '"""First.\n    Second.\n    """', 'First.\nSecond.'],
  ['closing quotes after text keep the last line', '"""\n  a\n  b"""', 'a\nb'],
  ['blank inner lines become empty and do not count for the indent', '"""\n    a\n\n  \n    b\n"""', 'a\n\n\nb'],
  ['trailing blank line kept as an empty line when followed by the blank closing line', '"""\n  a\n\n  """', 'a\n'],
  ['tabs: the common whitespace prefix is removed', '"""\n\t\ta\n\t\t  b\n\t"""', 'a\n  b'],
  ['CRLF and CR become \\n', '"""\r\n  a\r\n  b\r  c\r\n"""', 'a\nb\nc'],
  ['quotes and backslashes are raw', '"""\n  say "hi" \\n\n"""', 'say "hi" \\n'],
  ['empty block', '""""""', ''],
  ['only blank lines', '"""\n\n"""', ''],
];

for (const [name, source, expected] of textBlocks) {
  void test(`text block: ${name}`, () => {
    const token = onlyString(source);
    assert.equal(token.style, 'block');
    assert.equal(token.text, expected);
    assert.deepEqual(lex(source).diagnostics, []);
  });
}

void test('a text block is one token: no newline tokens inside, column0 right after it', () => {
  const text = 'instruction """\n  a\n  b\n"""\nstep x';
  assert.deepEqual(shapes(text), ['identifier:instruction', 'string:a\nb', 'newline', 'identifier:step', 'identifier:x']);
  const step = tokens(text).find((t) => t.text === 'step');
  assert.equal(step?.column0, true);
});

void test('an unterminated text block is reported at its opening quotes and stops before the next declaration', () => {
  const text = 'step a {\n  instruction """\n    never closed\n\nstep b {\n}\n';
  const { diagnostics } = lex(text);
  assert.deepEqual(codes(diagnostics), ['COI103@23-26']);
  const block = onlyString(text);
  assert.equal(block.terminated, false);
  assert.equal(block.text, 'never closed');
  assert.ok(shapes(text).includes('identifier:b'), 'the next step is still lexed');
});

void test('an unterminated text block also stops before a lone } at column 0', () => {
  const text = 'test t {\n  given x = """\n    open\n}\n';
  const block = onlyString(text);
  assert.equal(block.text, 'open');
  assert.deepEqual(shapes(text).slice(-2), ['}', 'newline']);
});

void test('comments are collected apart, with spans; # inside strings is text', () => {
  const text = 'a # one\n"#not" # two\n#three';
  const { comments } = lex(text);
  assert.deepEqual(
    comments.map((c) => [c.text, c.span.start, c.span.end]),
    [
      ['# one', 2, 7],
      ['# two', 15, 20],
      ['#three', 21, 27],
    ],
  );
  assert.deepEqual(shapes(text), ['identifier:a', 'newline', 'string:#not', 'newline']);
});

void test('NUL, lone surrogates and U+FFFD outside strings: one COI101 per run, never a throw', () => {
  const text = 'a \u0000\ud800\udfff\uFFFD b\n\ud83d';
  const { diagnostics } = lex(text);
  assert.deepEqual(codes(diagnostics), ['COI101@2-6', 'COI101@9-10']);
  assert.match(diagnostics[0]?.message ?? '', /NUL/);
  assert.deepEqual(shapes(text), ['identifier:a', 'error', 'identifier:b', 'newline', 'error']);
});

void test('odd characters inside strings are content, not errors', () => {
  const text = '"\u0000\ud800\uFFFD" \'\ud800\' """\n\uFFFD\n"""';
  assert.deepEqual(lex(text).diagnostics, []);
  assert.equal(tokens(text)[0]?.text, '\u0000\ud800\uFFFD');
});

void test('a byte order mark at the start is skipped', () => {
  assert.deepEqual(shapes('\uFEFFchain x'), ['identifier:chain', 'identifier:x']);
  assert.deepEqual(lex('\uFEFFchain x').diagnostics, []);
});

void test('malformed numbers are one COI108 token; a lone > explains >=', () => {
  const text = 'a 1.5.2 0. 12abc\nb > 1';
  assert.deepEqual(codes(lex(text).diagnostics), ['COI108@2-7', 'COI108@8-10', 'COI108@11-16', 'COI101@19-20']);
  assert.match(lex('x > 1').diagnostics[0]?.message ?? '', />=/);
});

void test('token spans are in order, within the text, and the stream ends with eof', () => {
  const text = 'chain x\nstep a {\n  instruction """\n  t\n  """\n}\n';
  const all = tokens(text);
  assert.equal(all[all.length - 1]?.kind, 'eof');
  let previousEnd = 0;
  for (const token of all) {
    assert.ok(token.start >= previousEnd && token.end >= token.start && token.end <= text.length, JSON.stringify(token));
    previousEnd = token.end;
  }
});

void test('an emoji where a token should be is named as itself, not as a lone surrogate; a real lone surrogate still is', () => {
  const [emoji] = lex('😀\n').diagnostics;
  assert.equal(emoji?.message, "Unexpected character '😀' (U+1F600).");
  assert.deepEqual([emoji?.span.start, emoji?.span.end], [0, 2]);
  assert.match(lex('\ud83d\n').diagnostics[0]?.message ?? '', /a lone surrogate \(U\+D83D\)/);
});
