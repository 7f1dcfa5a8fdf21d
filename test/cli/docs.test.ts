// docs/cli.md and the commands' --help agree: every command has a section and a row
// in the command table, and every option of a command is in its section (with the
// same choices), so a new option cannot ship undocumented. The docs cannot go stale
// either where a test can tell: the `$ coi check` transcripts and the no-model hint are
// what coi prints, the repository paths they name exist, the one-letter options are the
// declared ones, every UI test file is in docs/testing.md, every setting is in docs/editor.md,
// and the Node versions agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commands } from '../../cli/commands/index';
import { HELP_OPTION } from '../../cli/command';
import { repoPath, repoRoot } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { coi } from './cliProcess';

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

/** README.md and every docs/*.md file, with their text. */
function markdownFiles(): { name: string; text: string }[] {
  const names = ['README.md', ...readdirSync(repoPath('docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  return names.map((name) => ({ name, text: readFileSync(repoPath(name), 'utf8') }));
}

/** The ```text blocks of a markdown text, without their fences. */
function textBlocks(text: string): string[] {
  return [...text.matchAll(/^```text\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
}

void test('every `$ coi check` transcript in the docs is what coi prints, exit code included', () => {
  const transcripts = markdownFiles().flatMap(({ name, text }) => textBlocks(text).filter((b) => b.startsWith('$ coi check ')).map((block) => ({ name, block })));
  assert.ok(transcripts.length > 0, 'docs/cli.md shows coi check on the broken example');
  for (const { name, block } of transcripts) {
    const [command = '', ...rest] = block.split('\n');
    const echo = rest.indexOf('$ echo $?');
    const shown = (echo < 0 ? rest : rest.slice(0, echo)).join('\n').replace(/\n$/, '');
    const result = coi(command.slice('$ coi '.length).split(' '), { cwd: repoRoot });
    assert.equal(shown, (result.stdout + result.stderr).replace(/\n$/, ''), `${name}: ${command}`);
    if (echo >= 0) assert.equal(rest[echo + 1], String(result.code), `${name}: the exit code of ${command}`);
  }
});

void test('docs/cli.md shows the no-model hint as coi prints it, and the profile it suggests checks clean', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'greet.coi'), 'chain greet\n\nstep hello {\n  instruction "Say hello."\n  output text\n}\n');
  const result = coi(['run', 'greet.coi'], { cwd: dir, env: { COI_MODEL: '' } });
  assert.equal(result.code, 2);
  const hint = textBlocks(docs).find((b) => b.startsWith('coi run: No model to run with'));
  assert.equal(hint, result.stderr, 'the block in docs/cli.md is the message');
  // The profile the hint suggests, pasted into the chain as it is shown: no problem at all.
  const lines = result.stderr.trimEnd().split('\n');
  const from = lines.findIndex((l) => /add a model profile/.test(l));
  assert.ok(from >= 0 && lines.length > from + 1, `the hint shows a profile:\n${result.stderr}`);
  const profile = lines.slice(from + 1).map((l) => l.replace(/^ {2}/, '')).join('\n');
  writeFileSync(join(dir, 'greet.coi'), `chain greet\n\n${profile}\n\nstep hello {\n  instruction "Say hello."\n  output text\n}\n`);
  const check = coi(['check', 'greet.coi'], { cwd: dir });
  assert.deepEqual([check.code, check.stdout, check.stderr], [0, '', '1 file checked: no problems.\n'], profile);
});

void test('every repository path the docs write in backquotes exists', () => {
  // A path under a source folder (`out/` for compiled tests: the .ts beside the sources counts), with or without `.ts`.
  const rooted = /^(?:out\/)?(?:bin|cli|client|core|docs|examples|media|python|schemas|scripts|server|syntaxes|test|webview)\//;
  const missing: string[] = [];
  for (const { name, text } of markdownFiles()) {
    for (const [, written = ''] of text.matchAll(/`([^`\s]+)`/g)) {
      if (!rooted.test(written) || /[*{}<>$…]|\.\.\.|NAME/.test(written)) continue;
      const path = written.replace(/:\d+(?:-\d+)?$/, '').replace(/[.,;:]$/, '');
      const source = path.replace(/^out\//, '').replace(/\.js$/, '.ts');
      if (![path, `${path}.ts`, source, path.replace(/^out\//, '')].some((p) => existsSync(repoPath(p)))) missing.push(`${name}: ${written}`);
    }
  }
  assert.deepEqual(missing, []);
});

void test('the one-letter options docs/cli.md lists are those the commands declare', async () => {
  const declared = new Set([HELP_OPTION.short]);
  for (const entry of commands) for (const option of (await entry.load()).options) if (option.short !== undefined) declared.add(option.short);
  const line = docs.split('\n').find((l) => l.includes('one-letter form')) ?? '';
  const listed = new Set([...line.matchAll(/`-([a-zA-Z])\b[^`]*`/g)].map((m) => m[1]));
  assert.deepEqual([...listed].sort(), [...declared].sort(), line);
});

void test('docs/testing.md has a row for every UI test file (test/e2e/*.e2e.ts)', () => {
  const testing = readFileSync(repoPath('docs', 'testing.md'), 'utf8');
  const files = readdirSync(repoPath('test', 'e2e')).filter((f) => f.endsWith('.e2e.ts'));
  assert.deepEqual(files.filter((f) => !testing.includes(`\n| \`${f}\` |`)), []);
});

void test('package.json, its lock and the README ask for the same Node versions', () => {
  const engines = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  const lock = JSON.parse(readFileSync(repoPath('package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } }> };
  assert.equal(lock.packages['']?.engines?.node, engines, 'package-lock.json mirrors engines.node (npm install rewrites it)');
  const readme = readFileSync(repoPath('README.md'), 'utf8');
  const wanted = /Node\.js (\d+\.\d+)\+ \(or (\d+\.\d+)\+, (\d+)\+\)/.exec(readme);
  assert.ok(wanted, 'README.md says which Node versions it needs');
  const [, v20 = '', v22 = '', v24 = ''] = wanted;
  assert.equal(engines, `^${v20}.0 || ^${v22}.0 || >=${v24}`);
});

void test("docs/editor.md's settings table has a row for every setting package.json contributes, with its default", () => {
  const editor = readFileSync(repoPath('docs', 'editor.md'), 'utf8');
  const manifest = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { default: unknown }> } } };
  const shown = (value: unknown): string => (value === '' ? '""' : String(value));
  const rows = Object.entries(manifest.contributes.configuration.properties).map(([name, { default: value }]) => `\n| \`${name}\` | \`${shown(value)}\` |`);
  assert.deepEqual(rows.filter((row) => !editor.includes(row)), []);
});

/** The ```coi blocks of README.md and docs/*.md, with the file each is in. */
function coiBlocks(): { name: string; block: string }[] {
  return markdownFiles().flatMap(({ name, text }) => [...text.matchAll(/^ *```coi\n([\s\S]*?)^ *```$/gm)].map((m) => ({ name, block: m[1] ?? '' })));
}

// Infos are allowed: docs/cli.md shows an imported chain as `coi import` writes it, without output contracts (COI210).
void test('every whole chain the docs show (a ```coi block with its `chain` line) checks without an error or a warning', () => {
  const dir = tempDir();
  const chains = coiBlocks().filter(({ block }) => /^chain /m.test(block));
  assert.ok(chains.some(({ name }) => name === 'README.md') && chains.some(({ name }) => name === 'docs/format.md'), 'the tour and the reference show whole chains');
  const files = chains.map(({ name, block }, i) => {
    const file = `${name.replace(/\W/g, '-')}-${i}.coi`;
    writeFileSync(join(dir, file), block);
    return file;
  });
  const result = coi(['check', '--min-severity', 'warning', ...files], { cwd: dir });
  assert.deepEqual([result.code, result.stdout, result.stderr], [0, '', `${files.length} files checked: no problems.\n`]);
});

void test("the README tour's chain with its last two steps swapped gets the COI301 the README quotes, on the simplifier", () => {
  const readme = readFileSync(repoPath('README.md'), 'utf8');
  const tour = coiBlocks().find(({ name, block }) => name === 'README.md' && /^chain /m.test(block))?.block ?? '';
  const steps = [...tour.matchAll(/^step [\s\S]*?^\}\n/gm)].map((m) => m[0]);
  const [simple = '', sentiment = ''] = steps.slice(-2);
  const swapped = tour.replace(simple + '\n' + sentiment, sentiment + '\n' + simple);
  assert.notEqual(swapped, tour, 'the last two steps are adjacent in the tour');
  const quoted = /`(error COI301: [^`]*?) …`/.exec(readme)?.[1]?.replace(/\s+/g, ' ');
  assert.ok(quoted, 'README.md quotes the COI301 of the swapped chain');
  const dir = tempDir();
  writeFileSync(join(dir, 'tour.coi'), swapped);
  const result = coi(['check', 'tour.coi'], { cwd: dir });
  const line = swapped.split('\n').indexOf(simple.split('\n')[0] ?? '') + 1;
  assert.ok(result.stdout.startsWith(`tour.coi:${line}:1: ${quoted}`), result.stdout);
  assert.equal(result.code, 1);
});
