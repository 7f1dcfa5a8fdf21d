/**
 * Data-driven checker tests: every `test/fixtures/check/NAME.coi` is checked and
 * its diagnostics (`LINE:COL SEVERITY CODE message`, 1-based) must equal
 * `NAME.expected.txt` exactly, so a new or a missing diagnostic fails.
 * After a deliberate change, regenerate with COI_UPDATE_CHECK_FIXTURES=1 and
 * review the diff.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { checkDocument, CHECK_CODES, readTextIfPossible } from '../../core/check';
import { formatSectionOf } from '../../core/diagnostics/codes';
import { SyntaxCodes } from '../../core/syntax/lexer';
import { LineMap } from '../../core/syntax/lineMap';
import { repoPath } from '../helpers/paths';

const fixtures = repoPath('test', 'fixtures', 'check');
const update = process.env.COI_UPDATE_CHECK_FIXTURES === '1';

function diagnosticLines(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  // An `untitled-*` fixture is checked as an editor's unsaved document: no path, no folder.
  const untitled = basename(path).startsWith('untitled-');
  const { diagnostics } = checkDocument(text, untitled ? { readFile: readTextIfPossible, untitled } : { documentPath: path, readFile: readTextIfPossible });
  const lines = new LineMap(text);
  return diagnostics.map((d) => {
    const { line, character } = lines.positionAt(d.span.start);
    // Paths in messages are written relative to the fixtures folder: the clone can be anywhere.
    return `${line + 1}:${character + 1} ${d.severity} ${d.code} ${d.message.split(`${fixtures}/`).join('FIXTURES/')}`;
  });
}

const names = readdirSync(fixtures)
  .filter((name) => name.endsWith('.coi'))
  .map((name) => name.slice(0, -'.coi'.length))
  .sort();

for (const name of names) {
  void test(`check fixture ${name}.coi`, () => {
    const actual = diagnosticLines(join(fixtures, `${name}.coi`));
    const expectedPath = join(fixtures, `${name}.expected.txt`);
    if (update) writeFileSync(expectedPath, actual.map((line) => `${line}\n`).join(''));
    assert.ok(existsSync(expectedPath), `missing ${expectedPath}`);
    const expected = readFileSync(expectedPath, 'utf8').split('\n').filter((line) => line.trim() !== '');
    assert.deepEqual(actual, expected);
  });
}

void test('the fixtures cover every checker code', () => {
  const seen = new Set<string>();
  for (const name of names) {
    for (const line of readFileSync(join(fixtures, `${name}.expected.txt`), 'utf8').split('\n')) {
      const code = line.split(' ')[2];
      if (code) seen.add(code);
    }
  }
  const uncovered = Object.keys(CHECK_CODES).filter((code) => !seen.has(code));
  assert.deepEqual(uncovered, []);
});

void test('every code links to the docs/format.md section whose table documents it (the editor opens it from the Problems list)', () => {
  const doc = readFileSync(repoPath('docs', 'format.md'), 'utf8');
  // Markdown anchors as GitHub and VS Code's preview make them: lower case, punctuation dropped, spaces as -.
  const sections = new Map(
    doc.split(/^(?=## )/m).map((part) => {
      const heading = part.split('\n')[0] ?? '';
      const anchor = heading.replace(/^## /, '').toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');
      return [anchor, part] as const;
    }),
  );
  const codes = [...Object.values(SyntaxCodes), ...Object.keys(CHECK_CODES)];
  const misplaced = codes.filter((code) => {
    const section = sections.get(formatSectionOf(code) ?? '');
    return section === undefined || !new RegExp(`^\\|\\s*${code}\\s*\\|`, 'm').test(section);
  });
  assert.deepEqual(misplaced, []);
});

void test('every checker code is documented in docs/format.md with its severity', () => {
  const doc = readFileSync(repoPath('docs', 'format.md'), 'utf8');
  const missing = Object.entries(CHECK_CODES)
    .filter(([code, info]) => !new RegExp(`^\\|\\s*${code}\\s*\\|\\s*${info.severity}\\s*\\|`, 'm').test(doc))
    .map(([code]) => code);
  assert.deepEqual(missing, []);
});
