// Grammar snapshot tests: the TextMate grammar tokenizes every fixture in
// test/fixtures/grammar/ exactly as its committed `.snap` file says.
// Update the snapshots after an intended grammar change with
//   npx vscode-tmgrammar-snap -u -g syntaxes/coi.tmLanguage.json -s source.coi "test/fixtures/grammar/*.coi"
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { repoPath } from '../helpers/paths';

const snapTool = repoPath('node_modules', 'vscode-tmgrammar-test', 'dist', 'snapshot.js');
const fixtures = readdirSync(repoPath('test', 'fixtures', 'grammar')).filter((f) => f.endsWith('.coi'));

void test('every grammar fixture has a snapshot', () => {
  assert.ok(fixtures.length >= 2);
  const snaps = new Set(readdirSync(repoPath('test', 'fixtures', 'grammar')).filter((f) => f.endsWith('.snap')));
  for (const f of fixtures) assert.ok(snaps.has(`${f}.snap`), `missing snapshot for ${f}`);
});

void test('the grammar tokenizes the fixtures as the snapshots say', () => {
  const result = spawnSync(
    process.execPath,
    [snapTool, '-g', 'syntaxes/coi.tmLanguage.json', '-s', 'source.coi', 'test/fixtures/grammar/*.coi'],
    { cwd: repoPath(), encoding: 'utf8' },
  );
  assert.equal(result.status, 0, `grammar snapshots differ:\n${result.stdout}\n${result.stderr}`);
});

void test('the language configuration is valid and matches the grammar', () => {
  const config = JSON.parse(readFileSync(repoPath('syntaxes', 'language-configuration.json'), 'utf8')) as {
    comments: { lineComment: string };
    wordPattern: string;
    autoClosingPairs: { open: string }[];
  };
  assert.equal(config.comments.lineComment, '#');
  const word = new RegExp(`^(?:${config.wordPattern})$`);
  assert.ok(word.test('sentiment-of-summary'), 'ids with dashes are one word');
  assert.ok(!word.test('a b'));
  assert.deepEqual(
    config.autoClosingPairs.map((p) => p.open).sort(),
    ['"', '"""', "'", '[', '{'].sort(),
  );
  const manifest = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as {
    contributes: { grammars: { scopeName: string; path: string }[] };
  };
  const grammar = JSON.parse(readFileSync(repoPath('syntaxes', 'coi.tmLanguage.json'), 'utf8')) as { scopeName: string };
  assert.equal(manifest.contributes.grammars[0]?.scopeName, grammar.scopeName);
});
