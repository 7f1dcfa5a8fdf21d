// Data-driven syntax tests: every test/fixtures/syntax/NAME.coi is parsed and its
// diagnostics compared with NAME.expected.txt (`LINE:COL CODE message`, 1-based, in order).
// After a deliberate change, regenerate with COI_UPDATE_SYNTAX_FIXTURES=1 and review the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '../../core/syntax/parser';
import { LineMap } from '../../core/syntax/lineMap';
import { walk, type SyntaxNode } from '../../core/syntax/visit';
import { repoPath } from '../helpers/paths';

const dir = repoPath('test', 'fixtures', 'syntax');
const update = process.env.COI_UPDATE_SYNTAX_FIXTURES === '1';
const fixtures = readdirSync(dir)
  .filter((name) => name.endsWith('.coi'))
  .sort();

function expectedLines(name: string): string[] {
  const file = join(dir, name.replace(/\.coi$/, '.expected.txt'));
  assert.ok(existsSync(file), `${name} needs an expected file beside it`);
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

void test('there are valid and invalid fixtures', () => {
  assert.ok(fixtures.filter((f) => f.startsWith('valid')).length >= 2);
  assert.ok(fixtures.filter((f) => f.startsWith('errors')).length >= 3);
});

for (const name of fixtures) {
  void test(`fixture ${name}: diagnostics match ${name.replace(/\.coi$/, '.expected.txt')}`, () => {
    const text = readFileSync(join(dir, name), 'utf8');
    const { file, diagnostics } = parse(text);
    const lines = new LineMap(text);
    const actual = diagnostics.map((d) => {
      const position = lines.positionAt(d.span.start);
      return `${position.line + 1}:${position.character + 1} ${d.code} ${d.message}`;
    });
    if (update) {
      const expectedFile = join(dir, name.replace(/\.coi$/, '.expected.txt'));
      const header = readFileSync(expectedFile, 'utf8').split('\n').filter((line) => line.startsWith('#'));
      writeFileSync(expectedFile, [...header, ...actual].map((line) => `${line}\n`).join(''));
    }
    assert.deepEqual(actual, expectedLines(name));
    for (const d of diagnostics) {
      assert.ok(d.span.start >= 0 && d.span.start <= d.span.end && d.span.end <= text.length, `span of ${d.code}`);
      assert.ok(d.message.length > 10 && d.message.endsWith('.'), `message of ${d.code}: ${d.message}`);
      assert.equal(d.severity, 'error');
    }
    walk(file, (node: SyntaxNode, parent) => {
      assert.ok(node.span.start >= 0 && node.span.start <= node.span.end && node.span.end <= text.length, `${node.kind} span`);
      if (parent && parent.kind !== 'file') {
        assert.ok(parent.span.start <= node.span.start && node.span.end <= parent.span.end, `${node.kind} inside ${parent.kind}`);
      }
    });
  });
}

void test('every syntax code is documented in docs/format.md and exercised by a fixture', () => {
  const docs = readFileSync(repoPath('docs', 'format.md'), 'utf8');
  const documented = [...docs.matchAll(/^\| (COI1\d\d) \|/gm)].map((m) => m[1] as string);
  assert.ok(documented.length >= 10, 'the syntax diagnostics table lists the codes');
  const used = new Set(fixtures.flatMap((name) => expectedLines(name).map((line) => line.split(' ')[1])));
  for (const code of documented) assert.ok(used.has(code), `${code} appears in some fixture's expected diagnostics`);
  for (const code of used) assert.ok(documented.includes(code as string), `${String(code)} is documented`);
});
