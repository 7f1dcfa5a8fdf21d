// Property tests: the lexer, parser and formatter never throw, keep every span
// inside the text, and the formatter is idempotent and value-preserving on valid
// files — on random text, random bytes, token soup and mutated fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse } from '../../core/syntax/parser';
import { lex } from '../../core/syntax/lexer';
import { contentKey, format, formatRangeEdits } from '../../core/syntax/formatter';
import { walk } from '../../core/syntax/visit';
import { coiFiles, repoPath } from '../helpers/paths';

const SEED = 20260229;
const settings = (numRuns: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns, endOnFailure: true });

const syntaxDir = repoPath('test', 'fixtures', 'syntax');
const fixtureFiles = coiFiles(syntaxDir);
const validFixtures = fixtureFiles.filter((f) => f.name.startsWith('valid')).map((f) => f.text);
const allFixtures = fixtureFiles.map((f) => f.text);

/** Everything that must hold for any input at all. */
function checkAnyText(text: string): void {
  const { file, diagnostics } = parse(text);
  const inText = (s: { start: number; end: number }): boolean => s.start >= 0 && s.start <= s.end && s.end <= text.length;
  for (const d of diagnostics) {
    assert.ok(inText(d.span), `diagnostic ${d.code} span ${d.span.start}-${d.span.end} in ${text.length}`);
    assert.match(d.code, /^COI1\d\d$/);
  }
  for (const c of file.comments) assert.ok(inText(c.span), 'comment span');
  walk(file, (node, parent) => {
    assert.ok(inText(node.span), `${node.kind} span ${node.span.start}-${node.span.end} in ${text.length}`);
    if (parent && parent.kind !== 'file') {
      assert.ok(parent.span.start <= node.span.start && node.span.end <= parent.span.end, `${node.kind} inside ${parent.kind}`);
    }
  });
  let previous = 0;
  for (const token of lex(text).tokens.toArray()) {
    assert.ok(inText(token) && token.start >= previous, 'tokens in order');
    previous = token.end;
  }
  const formatted = format(text);
  if (diagnostics.length > 0) {
    assert.equal(formatted, text, 'a file with syntax errors is left unchanged');
  } else {
    checkValidFormatting(text, formatted);
  }
  for (const edit of formatRangeEdits(text, { start: text.length >> 1, end: text.length >> 1 })) assert.ok(inText(edit.span));
}

function checkValidFormatting(text: string, formatted = format(text)): void {
  assert.equal(format(formatted), formatted, 'idempotent');
  const before = parse(text);
  const after = parse(formatted);
  assert.deepEqual(after.diagnostics, [], 'formatted text parses cleanly');
  assert.equal(contentKey(after.file), contentKey(before.file), 'same values and comments');
}

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

/** Any UTF-16 code unit, lone surrogates and NUL included. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const syntaxChar = fc.constantFrom(...'{}[],:=>#"\'\\ \t\n\r-._aZ09'.split(''));
const randomText = fc.string({ unit: fc.oneof(anyCodeUnit, syntaxChar), maxLength: 300 });
const randomUtf8 = fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes).toString('utf8'));

const fragments = [
  'chain', 'description', 'model', 'input', 'step', 'test', 'instruction', 'from', 'output', 'given', 'expect', 'not',
  'text', 'label', 'list', 'json', 'number', 'boolean', 'code', 'contains', 'rouge_l', 'one_of', 'valid_json',
  'x', 'summary', 'lang=fr', 'max_words=3', 'item=text', 'true', 'false', '0', '-1', '0.5', '12abc', '1.',
  '"str"', '"esc\\n\\u00e9"', '"bad\\d"', '"open', "'raw\\d'", "'open", '"""', '"""block"""', '"""\n  a\n  b\n"""',
  '{', '}', '[', ']', ',', ':', '=', '>=', '>', '#c', '# comment\n', '\n', '\r\n', '\r', ' ', '  ', '\t', '@', '\u0000', '\ud800', '\uFFFD',
];
const tokenSoup = fc.array(fc.constantFrom(...fragments), { maxLength: 80 }).chain((parts) =>
  fc.array(fc.constantFrom(' ', '', '\n'), { minLength: parts.length, maxLength: parts.length }).map((seps) => parts.map((p, i) => p + (seps[i] ?? '')).join('')),
);

/** A mutation of a fixture: delete, insert or duplicate a slice. */
const mutated = fc
  .tuple(fc.constantFrom(...allFixtures), fc.nat(), fc.nat({ max: 80 }), fc.nat(), fc.constantFrom('delete', 'insert', 'duplicate'), fc.constantFrom(...fragments))
  .map(([text, a, length, b, operation, fragment]) => {
    const start = a % (text.length + 1);
    const end = Math.min(text.length, start + length);
    const at = b % (text.length + 1);
    if (operation === 'delete') return text.slice(0, start) + text.slice(end);
    if (operation === 'insert') return text.slice(0, at) + fragment + text.slice(at);
    const piece = text.slice(start, end);
    return text.slice(0, at) + piece + text.slice(at);
  });

// A generator of valid files, rendered with random layout (spaces, blank lines, comments).
const ident = fc.constantFrom('a', 'summary', 'x_1', 'fr-ca', 'out', 'item');
const word = ident;
const scalar = fc.oneof(
  word,
  fc.constantFrom('0', '-2', '0.75', 'true', 'false'),
  fc.string({ unit: fc.constantFrom('a', ' ', 'é', '#', "'", '\\\\', '\\"', '\\n', '\\u0041'), maxLength: 8 }).map((s) => `"${s}"`),
  fc.string({ unit: fc.constantFrom('a', ' ', '\\', '"', '#'), maxLength: 8 }).map((s) => `'${s}'`),
);
const blockString = fc
  .tuple(fc.array(fc.string({ unit: fc.constantFrom('a', ' ', '\t', '#', "'", '"', '{'), maxLength: 10 }), { minLength: 1, maxLength: 4 }), fc.constantFrom('', '  ', '\t', '      '), fc.boolean())
  .map(([lines, indent, inline]) => (inline ? `"""${lines.join(' ').replace(/"/g, "'")}"""` : `"""\n${lines.map((l) => indent + l.replace(/"/g, "'")).join('\n')}\n${indent}"""`));
const list = fc.array(scalar, { maxLength: 4 }).chain((items) => fc.boolean().map((multi) => (multi ? `[\n${items.map((i) => `  ${i},`).join('\n')}\n]` : `[${items.join(', ')}]`)));
const value = fc.oneof({ weight: 3, arbitrary: scalar }, { weight: 1, arbitrary: blockString }, { weight: 1, arbitrary: list });
const option = fc.tuple(ident, fc.oneof(scalar, list)).map(([k, v]) => `${k}=${v}`);
const contract = fc.tuple(fc.constantFrom('text', 'label', 'list', 'json', 'number', 'custom'), fc.option(list, { nil: undefined }), fc.array(option, { maxLength: 3 })).map(([kind, labels, options]) => [kind, labels ?? '', ...options].filter((p) => p !== '').join(' '));
const trailingComment = fc.option(fc.constantFrom('# note', '#', '# "quoted" {'), { nil: undefined }).map((c) => (c ? ` ${c}` : ''));
const stepMember = fc.oneof(
  fc.oneof(scalar.filter((s) => s.startsWith('"') || s.startsWith("'")), blockString).map((s) => `instruction ${s}`),
  fc.array(ident, { minLength: 1, maxLength: 3 }).map((refs) => `from ${refs.join(', ')}`),
  contract.map((c) => `output ${c}`),
  fc.tuple(fc.constantFrom('temperature', 'model', 'stop', 'task'), fc.array(value, { minLength: 1, maxLength: 2 })).map(([k, vs]) => `${k} ${vs.join(' ')}`),
);
const testMember = fc.oneof(
  fc.tuple(ident, value).map(([n, v]) => `given ${n} = ${v}`),
  fc
    .tuple(ident, fc.boolean(), fc.constantFrom('contains', 'equals', 'rouge_l', 'valid_json', 'label', 'one_of'), fc.option(value, { nil: undefined }), fc.array(option, { maxLength: 2 }))
    .map(([target, not, matcher, v, options]) => ['expect', target, not ? 'not' : '', matcher, matcher === 'rouge_l' ? '>= 0.4' : '', v ?? '', ...options].filter((p) => p !== '').join(' ')),
);
const block = (header: fc.Arbitrary<string>, member: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc
    .tuple(header, fc.array(fc.tuple(member, trailingComment, fc.constantFrom('  ', '    ', '\t', ''), fc.constantFrom('\n', '\n\n', '\n# own line\n')), { maxLength: 5 }), trailingComment)
    .map(([h, members, tail]) => `${h} {${tail}\n${members.map(([m, c, indent, sep]) => indent + m + c + sep).join('')}}`);
const declaration = fc.oneof(
  fc.oneof(ident, scalar.filter((s) => s.startsWith('"'))).map((n) => `chain ${n}`),
  fc.oneof(scalar.filter((s) => s.startsWith('"')), blockString).map((s) => `description ${s}`),
  fc.tuple(ident, contract).map(([n, c]) => `input ${n}: ${c}`),
  block(ident.map((n) => `model ${n}`), fc.tuple(ident, fc.array(value, { maxLength: 2 })).map(([k, vs]) => [k, ...vs].join(' '))),
  block(ident.map((n) => `step ${n}`), stepMember),
  block(fc.oneof(ident, scalar.filter((s) => s.startsWith('"'))).map((n) => `test ${n}`), testMember),
);
const validFile = fc
  .array(fc.tuple(declaration, trailingComment, fc.constantFrom('\n', '\n\n', '\n\n\n', '\n# between\n', '\r\n')), { maxLength: 6 })
  .map((decls) => decls.map(([d, c, sep]) => d + c + sep).join(''));

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

void test('random UTF-16 text (lone surrogates, NUL, syntax characters): no throw, spans in range', () => {
  fc.assert(fc.property(randomText, checkAnyText), settings(1500));
});

void test('random bytes decoded as UTF-8 (U+FFFD included): no throw, spans in range', () => {
  fc.assert(fc.property(randomUtf8, checkAnyText), settings(800));
});

void test('token soup of the language: no throw, spans in range', () => {
  fc.assert(fc.property(tokenSoup, checkAnyText), settings(1500));
});

void test('mutated fixtures (deleted, inserted, duplicated slices): no throw, spans in range', () => {
  fc.assert(fc.property(mutated, checkAnyText), settings(800));
});

void test('generated valid files parse cleanly; formatting is idempotent and preserves values and comments', () => {
  fc.assert(
    fc.property(validFile, (text) => {
      const { diagnostics } = parse(text);
      assert.deepEqual(
        diagnostics.map((d) => d.message),
        [],
        text,
      );
      checkValidFormatting(text);
    }),
    settings(600),
  );
});

void test('valid fixtures: formatting is idempotent and value-preserving', () => {
  for (const text of validFixtures) checkValidFormatting(text);
});

void test('pathological inputs stay linear: deep brackets, many unclosed blocks, one huge line', () => {
  const samples = ['['.repeat(20000), '{'.repeat(20000), 'step a {\n'.repeat(5000), `step a { stop ${'[a, '.repeat(5000)}`, '"'.repeat(30001), '#'.repeat(50000), 'x '.repeat(50000)];
  for (const text of samples) checkAnyText(text);
});
