// docs/cli.md and the commands' --help agree: every command has a section and a row
// in the command table, and every option of a command is in its section (with the
// same choices), so a new option cannot ship undocumented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { commands } from '../../cli/commands/index';
import { repoPath } from '../helpers/paths';

const docs = readFileSync(repoPath('docs', 'cli.md'), 'utf8');

/** The text of `## \`coi NAME\`` up to the next `## ` heading. */
function section(name: string): string {
  const start = docs.indexOf(`\n## \`coi ${name}\``);
  assert.ok(start >= 0, `docs/cli.md has no section for coi ${name}`);
  const next = docs.indexOf('\n## ', start + 1);
  return docs.slice(start, next < 0 ? undefined : next);
}

void test('every command has a row in the command table and a section in docs/cli.md', () => {
  for (const entry of commands) {
    assert.match(docs, new RegExp(`\\| \\[\`${entry.name}\`\\]\\(#coi-${entry.name}\\) \\|`), `no table row for ${entry.name}`);
    section(entry.name);
  }
});

void test('every option in --help is documented in its command section, with its choices', async () => {
  for (const entry of commands) {
    const command = await entry.load();
    const text = section(entry.name);
    for (const option of command.options) {
      assert.ok(text.includes(`--${option.name}`), `docs/cli.md, coi ${entry.name}: --${option.name} is not documented`);
      for (const choice of option.choices ?? []) {
        assert.ok(text.includes(choice), `docs/cli.md, coi ${entry.name}: --${option.name} choice '${choice}' is not documented`);
      }
    }
  }
});

void test('every `coi COMMAND` the docs and the README name exists', () => {
  const names = new Set(commands.map((c) => c.name));
  const files = [repoPath('README.md'), ...readdirSync(repoPath('docs')).filter((f) => f.endsWith('.md')).map((f) => repoPath('docs', f))];
  const unknown: string[] = [];
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(/`(?:npx )?coi ([a-z][a-z-]*)/g)) {
      if (!names.has(match[1] ?? '')) unknown.push(`${file.slice(repoPath().length + 1)}: coi ${match[1] ?? ''}`);
    }
  }
  assert.deepEqual(unknown, []);
});
