// The cap on the problems kept per document (core/syntax/diagnosticCap.ts): a file with a
// problem on every line keeps the first 1,000 (errors first), counts all of them, and ends
// with one COI000 note; parse and check hold no more than that whatever the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkDocument, problemsAt } from '../../core/check';
import { DiagnosticCap, formatSectionOf, LEFT_OUT_CODE, leftOutNote, MAX_DIAGNOSTICS_PER_DOCUMENT } from '../../core/diagnostics';
import { parse, type Diagnostic, type Severity } from '../../core/syntax';
import { repoPath } from '../helpers/paths';
import { problemChain } from '../server/largeChain';

function at(start: number, severity: Severity, message: string): Diagnostic {
  return { code: 'COI999', severity, message, span: { start, end: start + 1 } };
}

void test('the cap keeps errors first, each in source order, and counts what it leaves out', () => {
  const cap = new DiagnosticCap({ max: 2 });
  for (const d of [at(0, 'info', 'i'), at(9, 'error', 'e2'), at(7, 'warning', 'w'), at(5, 'error', 'e1'), at(8, 'hint', 'h')]) cap.push(d);
  assert.deepEqual(cap.kept().map((d) => d.message), ['e1', 'e2']);
  assert.deepEqual(cap.counts, { error: 2, warning: 1, info: 1, hint: 1 });
  assert.deepEqual(cap.leftOut(), { error: 0, warning: 1, info: 1, hint: 1 });
  const note = leftOutNote(cap.kept(), cap.leftOut(), cap.max);
  assert.equal(note?.code, LEFT_OUT_CODE);
  assert.deepEqual(note?.span, { start: 9, end: 9 }, 'at the last kept problem');
  assert.equal(note?.message, '3 more problems in this file are not shown (1 warning, 1 info, 1 hint): at most 2 problems are shown per file, errors first.');
});

void test('under the cap nothing is left out; below --min-severity nothing is kept or counted', () => {
  const cap = new DiagnosticCap({ max: 3, minSeverity: 'warning' });
  for (const d of [at(0, 'info', 'i'), at(1, 'error', 'e'), at(2, 'warning', 'w')]) cap.push(d);
  assert.deepEqual(cap.kept().map((d) => d.message), ['e', 'w']);
  assert.deepEqual(cap.counts, { error: 1, warning: 1, info: 0, hint: 0 });
  assert.equal(leftOutNote(cap.kept(), cap.leftOut(), cap.max), undefined);
});

void test('past the cap while pushing, what is held stays bounded and the right ones survive', () => {
  const cap = new DiagnosticCap({ max: 10 });
  // Warnings first, then errors from the end of the file backwards: the errors must win, in source order.
  for (let i = 0; i < 1000; i++) cap.push(at(i, 'warning', `w${i}`));
  for (let i = 999; i >= 0; i--) cap.push(at(i, 'error', `e${i}`));
  assert.deepEqual(cap.kept().map((d) => d.message), ['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9']);
  assert.deepEqual(cap.leftOut(), { error: 990, warning: 1000, info: 0, hint: 0 });
  assert.match(leftOutNote(cap.kept(), cap.leftOut(), cap.max)?.message ?? '', /^1,990 more problems in this file are not shown \(990 errors, 1,000 warnings\)/);
});

void test('the warnings about where an API key goes (COI510, COI511) are always kept, within the cap, and the note counts only what is left out', () => {
  const cap = new DiagnosticCap({ max: 4 });
  for (let i = 0; i < 5; i++) cap.push(at(i, 'error', `e${i}`));
  const key = (start: number, code: string): Diagnostic => ({ code, severity: 'warning', message: code, span: { start, end: start + 1 } });
  cap.push(key(10, 'COI510'));
  cap.push(key(11, 'COI511'));
  cap.push(at(12, 'warning', 'w'));
  assert.deepEqual(cap.kept().map((d) => d.message), ['e0', 'e1', 'COI510', 'COI511']);
  assert.deepEqual(cap.counts, { error: 5, warning: 3, info: 0, hint: 0 });
  assert.deepEqual(cap.leftOut(), { error: 3, warning: 1, info: 0, hint: 0 });
  assert.equal(
    leftOutNote(cap.kept(), cap.leftOut(), cap.max)?.message,
    '4 more problems in this file are not shown (3 errors, 1 warning): at most 4 problems are shown per file, errors first, after every warning about where an API key would be sent.',
  );
  // Below --min-severity they are neither kept nor counted, like any other warning.
  const errorsOnly = new DiagnosticCap({ max: 1, minSeverity: 'error' });
  errorsOnly.push(key(0, 'COI510'));
  assert.deepEqual(errorsOnly.kept(), []);
});

void test(`a check of a file with a problem on each of 5,000 lines: ${MAX_DIAGNOSTICS_PER_DOCUMENT} errors in file order, the note, exact counts`, () => {
  const { text, counts } = problemChain(5000);
  const result = checkDocument(text);
  assert.deepEqual(result.counts, counts);
  assert.deepEqual(result.leftOut, { error: counts.error - MAX_DIAGNOSTICS_PER_DOCUMENT, warning: counts.warning, info: 0, hint: 0 });
  assert.equal(result.diagnostics.length, MAX_DIAGNOSTICS_PER_DOCUMENT + 1);
  const kept = result.diagnostics.slice(0, -1);
  assert.ok(kept.every((d) => d.severity === 'error'), 'errors before warnings and notes');
  assert.ok(kept.every((d, i) => i === 0 || (kept[i - 1]?.span.start ?? 0) <= d.span.start), 'in file order');
  // Every stage reported into the one cap: lexer, parser and chain builder.
  assert.deepEqual([...new Set(kept.map((d) => d.code))].sort(), ['COI101', 'COI107', 'COI109', 'COI211', 'COI503']);
  const note = result.diagnostics.at(-1);
  assert.equal(note?.code, LEFT_OUT_CODE);
  assert.equal(note?.severity, 'info');
  assert.equal(note?.span.start, kept.at(-1)?.span.start);
  assert.equal(note?.message, '5,002 more problems in this file are not shown (4,000 errors, 1,002 warnings): at most 1,000 problems are shown per file, errors first.');
});

void test('parse alone keeps the first errors and counts the rest; the tree is whole', () => {
  const junk = '@@\n'.repeat(3000);
  const parsed = parse(`chain c\n${junk}step last { instruction "x" }\n`);
  assert.equal(parsed.diagnostics.length, MAX_DIAGNOSTICS_PER_DOCUMENT);
  assert.deepEqual(parsed.leftOut, { error: 2000, warning: 0, info: 0, hint: 0 });
  assert.equal(parsed.file.declarations.at(-1)?.kind, 'step', 'the step after the junk is parsed');
  const result = checkDocument(`chain c\n${junk}step last { instruction "x" }\n`);
  assert.equal(result.counts.error, 3000, 'the check counts the errors the parse left out');
});

void test('a mistake the checker reports in place of the syntax error on its line is counted once, past the cap too, and a hover explains that one only', () => {
  // `iven` is no test property (COI411); the parser would add that `=` is no value for it (COI105).
  const text = `chain c\ninput text: text\nstep s {\n  instruction "x"\n  output text\n}\ntest "t" {\n  given text = "x"\n  expect s contains "x"\n${'  iven text = "x"\n'.repeat(3000)}}\n`;
  const result = checkDocument(text);
  assert.deepEqual(result.counts, { error: 3000, warning: 0, info: 0, hint: 0 });
  assert.deepEqual(result.leftOut, { error: 2000, warning: 0, info: 0, hint: 0 });
  assert.deepEqual([...new Set(result.diagnostics.map((d) => d.code))], ['COI411', LEFT_OUT_CODE]);
  const lastLine = text.lastIndexOf('  iven');
  assert.deepEqual(problemsAt(text, lastLine + 2).map((d) => d.code), ['COI411']);
  assert.deepEqual(problemsAt(text, text.indexOf('=', lastLine)), []);
});

void test('the note links to the docs/format.md section that explains the cap', () => {
  assert.equal(formatSectionOf(LEFT_OUT_CODE), 'diagnostics-how-many');
  assert.match(readFileSync(repoPath('docs', 'format.md'), 'utf8'), /^## Diagnostics: how many\n[^]*COI000/m);
});
