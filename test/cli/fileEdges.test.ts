// The files and paths an audit of the bundled `coi` command broke it with: long record
// names, an output that names the input, symbolic links in output and input folders,
// empty path options, file system errors in words, and @file values with odd bytes.
// Each test is one defect that was found and fixed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RunRecord } from '../../core/runner/types';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { coi } from './cliProcess';

const record = (instruction: string): { instruction: string; input: string; output: string } => ({ instruction, input: 'x', output: 'y' });

function recordsFile(dir: string, name: string, instructions: readonly string[]): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(instructions.map(record)));
  return path;
}

const LONG_WORD = 'w'.repeat(300);

void describe('coi import: file names and all or nothing', () => {
  void it('a record whose instruction starts with a 300-character word gets a short file name', () => {
    const dir = tempDir();
    recordsFile(dir, 'r.json', ['Say it.', `${LONG_WORD} and more`, `${LONG_WORD}x`, 'Complete the story by predicting']);
    const result = coi(['import', 'r.json', '--out', 'chains'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const names = readdirSync(join(dir, 'chains')).sort();
    assert.deepEqual(names, ['0000-say-it.coi', `0001-${'w'.repeat(60)}.coi`, `0002-${'w'.repeat(60)}.coi`, '0003-complete-the-story.coi']);
    const checked = coi(['check', '--no-warnings', 'chains'], { cwd: dir });
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  });

  void it('a write that fails halfway leaves nothing: no earlier file, no temporary, no folder it made', () => {
    const dir = tempDir();
    // A folder whose path is so long that record 0's file name still fits in the system's
    // path limit (4,096 bytes on Linux) and record 1's does not.
    let deep = dir;
    while (deep.length < 4000) deep = join(deep, 'd'.repeat(Math.min(200, 4000 - deep.length)));
    mkdirSync(deep, { recursive: true });
    const out = join(deep, 'x'.repeat(4055 - deep.length - 2), 'o');
    recordsFile(dir, 'r.json', ['a', 'b'.repeat(60)]);
    const result = coi(['import', 'r.json', '--out', relative(dir, out)], { cwd: dir });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^coi import: Cannot write into '.*': the name is too long for the file system\.\n$/);
    assert.deepEqual(readdirSync(deep), [], 'the folders --out made are removed again');
  });

  void it('an output file that is a folder is refused, with --force too, before anything is written', () => {
    const dir = tempDir();
    recordsFile(dir, 'r.json', ['a', 'b']);
    mkdirSync(join(dir, 'chains', '0001-b.coi'), { recursive: true });
    const result = coi(['import', 'r.json', '--out', 'chains', '--force'], { cwd: dir });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, "coi import: 'chains/0001-b.coi' is a directory: nothing written.\n");
    assert.deepEqual(readdirSync(join(dir, 'chains')), ['0001-b.coi']);
  });
});

void describe('coi import: an output that names the input', () => {
  void it('--test-set naming the input (or a link to it) is refused even with --force; the input is kept', () => {
    const dir = tempDir();
    const input = recordsFile(dir, 'same.json', ['a and then b']);
    const before = readFileSync(input, 'utf8');
    symlinkSync('same.json', join(dir, 'link.coi'));
    for (const target of ['same.json', './same.json', 'link.coi']) {
      const result = coi(['import', 'same.json', '--test-set', target, '--force'], { cwd: dir });
      assert.equal(result.code, 2, target);
      assert.equal(result.stderr, `coi import: --test-set '${target}' would overwrite the input file: name another file.\nRun 'coi import --help' for usage.\n`);
    }
    assert.equal(readFileSync(input, 'utf8'), before);
  });

  void it('--out whose file for a record is the input is refused even with --force', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'chains'));
    const input = recordsFile(join(dir, 'chains'), '0000-a.coi', ['a']);
    const before = readFileSync(input, 'utf8');
    const result = coi(['import', '--from', 'coi-json', 'chains/0000-a.coi', '--out', 'chains', '--force'], { cwd: dir });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^coi import: --out 'chains' would overwrite the input file: name another folder\.\n/);
    assert.equal(readFileSync(input, 'utf8'), before);
  });
});

void describe('coi import: symbolic links in the output folder', () => {
  void it('a link whose target is missing is an existing file: refused without --force, replaced (not written through) with it', () => {
    const dir = tempDir();
    recordsFile(dir, 'r.json', ['a']);
    mkdirSync(join(dir, 'chains'));
    symlinkSync('../outside.coi', join(dir, 'chains', '0000-a.coi'));
    const refused = coi(['import', 'r.json', '--out', 'chains'], { cwd: dir });
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, "coi import: 'chains/0000-a.coi' already exists: nothing written (--force overwrites).\n");
    assert.equal(readlinkSync(join(dir, 'chains', '0000-a.coi')), '../outside.coi');
    const forced = coi(['import', 'r.json', '--out', 'chains', '--force'], { cwd: dir });
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(existsSync(join(dir, 'outside.coi')), false, 'nothing is written outside --out');
    assert.ok(lstatSync(join(dir, 'chains', '0000-a.coi')).isFile());

    symlinkSync('outside2.coi', join(dir, 'set.coi'));
    const testSet = coi(['import', 'r.json', '--test-set', 'set.coi'], { cwd: dir });
    assert.equal(testSet.code, 1);
    assert.equal(testSet.stderr, "coi import: 'set.coi' already exists: nothing written (--force overwrites).\n");
    assert.equal(existsSync(join(dir, 'outside2.coi')), false);
  });
});

void describe('empty path options', () => {
  void it('--out=, --test-set "" and others are usage errors naming the option; nothing is written', () => {
    const dir = tempDir();
    recordsFile(dir, 'r.json', ['a']);
    const cases: [string[], string][] = [
      [['import', 'r.json', '--out='], "coi import: --out needs a path (DIR), not an empty value.\nRun 'coi import --help' for usage.\n"],
      [['import', 'r.json', '--test-set', ''], "coi import: --test-set needs a path (OUT.coi), not an empty value.\nRun 'coi import --help' for usage.\n"],
      [['export', 'x.coi', '-o', ''], "coi export: --out needs a path (FILE), not an empty value.\nRun 'coi export --help' for usage.\n"],
      [['check', '-', '--stdin-filename='], "coi check: --stdin-filename needs a path (PATH), not an empty value.\nRun 'coi check --help' for usage.\n"],
    ];
    for (const [args, stderr] of cases) {
      const result = coi(args, { cwd: dir });
      assert.equal(result.code, 2, args.join(' '));
      assert.equal(result.stderr, stderr);
    }
    assert.deepEqual(readdirSync(dir), ['r.json']);
  });
});

void describe('file system errors in words', () => {
  void it('export --out under a regular file: a file stands where a folder must be (not "already exists")', () => {
    const dir = tempDir();
    recordsFile(dir, 'r.json', ['a']);
    assert.equal(coi(['import', 'r.json', '--out', 'chains'], { cwd: dir }).code, 0);
    writeFileSync(join(dir, 'afile'), '');
    const result = coi(['export', 'chains', '--out', 'afile/x.json'], { cwd: dir });
    assert.equal(result.code, 2);
    assert.equal(result.stderr, "coi export: Cannot write 'afile/x.json': a file stands where a folder of the path must be.\n");
  });
});

void describe('broken links among the files of a folder or a glob', () => {
  void it('coi check names each skipped link and why on standard error; the exit code is unchanged', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'lp'));
    writeFileSync(join(dir, 'lp', 'ok.coi'), 'chain ok\ninput a: text\n\nstep s {\n  instruction "Say it."\n  output text\n}\n');
    symlinkSync('b.coi', join(dir, 'lp', 'a.coi'));
    symlinkSync('a.coi', join(dir, 'lp', 'b.coi'));
    symlinkSync('missing.coi', join(dir, 'lp', 'd.coi'));
    symlinkSync('missing.txt', join(dir, 'lp', 'other.txt')); // not a .coi name: not ours to mention
    const warnings =
      "coi check: warning: skipped 'lp/a.coi': it is a symbolic link in a loop of links.\n" +
      "coi check: warning: skipped 'lp/b.coi': it is a symbolic link in a loop of links.\n" +
      "coi check: warning: skipped 'lp/d.coi': it is a symbolic link whose target does not exist.\n";
    for (const arg of ['lp', 'lp/*.coi']) {
      const result = coi(['check', '--no-warnings', arg], { cwd: dir });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, `${warnings}1 file checked: no problems.\n`);
    }
  });
});

void describe('coi run --input @file', () => {
  void it('drops a byte order mark and warns about invalid UTF-8, as for .coi files', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'in.txt'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(' au lait\n')]));
    // Every step pinned: no model is called, and the record shows the values as read.
    const result = coi(
      ['run', repoPath('test', 'fixtures', 'runner', 'two-steps.coi'), '-i', '@in.txt', '--pin', 'summary=@in.txt', '--pin', 'sentiment=positive', '--model', 'openai:none', '--base-url', 'http://127.0.0.1:9/v1', '--json'],
      { cwd: dir, env: { OPENAI_API_KEY: 'x', COI_CACHE_DIR: join(dir, 'cache') } },
    );
    assert.equal(result.code, 0, result.stderr);
    const run = JSON.parse(result.stdout) as RunRecord;
    assert.equal(run.inputs.article, 'caf\uFFFD au lait');
    assert.equal(run.steps[0]?.output, 'caf\uFFFD au lait');
    const warning = 'coi run: warning: in.txt:1:5: invalid UTF-8 (byte 0xE9 at offset 6); it is read as U+FFFD (\uFFFD), as is every other invalid byte. Save the file as UTF-8.\n';
    assert.equal(result.stderr, warning + warning);
  });
});

void describe("'-' outside coi check", () => {
  void it('coi run - and coi test - say that only coi check reads standard input', () => {
    const dir = tempDir();
    for (const command of ['run', 'test']) {
      const result = coi([command, '-'], { cwd: dir, input: 'chain x\n' });
      assert.equal(result.code, 2);
      assert.equal(result.stderr, `coi ${command}: Cannot read '-': standard input is read only by coi check (coi check -); name a .coi file.\n`);
    }
  });
});
