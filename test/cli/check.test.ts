// `coi check` through the real bundled CLI: text and JSON output, directories, globs,
// exit codes, options, and the examples shipped with the product.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoPath, repoRoot } from '../helpers/paths';
import { checkDocument } from '../../core/check/index';
import { tempDir } from '../helpers/tempDir';
import { coi } from './cliProcess';
import { BAD, badUnknownReferenceEntry, WARN } from './documents';
import { problemChain } from '../server/largeChain';

/** A project: bad.coi, nested/good.coi (a real example), nested/deeper/warn.coi, and copies of bad.coi where walks must not look. */
function project(): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'nested', 'deeper'), { recursive: true });
  mkdirSync(join(dir, 'node_modules'));
  mkdirSync(join(dir, '.hidden'));
  writeFileSync(join(dir, 'bad.coi'), BAD);
  copyFileSync(repoPath('examples', 'review-sentiment.coi'), join(dir, 'nested', 'good.coi'));
  writeFileSync(join(dir, 'nested', 'deeper', 'warn.coi'), WARN);
  writeFileSync(join(dir, 'nested', 'notes.txt'), 'not a chain');
  writeFileSync(join(dir, 'node_modules', 'x.coi'), BAD);
  writeFileSync(join(dir, '.hidden', 'x.coi'), BAD);
  return dir;
}

const dir = project();
after(() => rmSync(dir, { recursive: true, force: true }));

const BAD_LINES = [
  "bad.coi:6:8: error COI205: Unknown reference 'artcle': no chain input or earlier step has this id. Did you mean 'article'?",
  `bad.coi:11:15: error COI102: Unterminated string: expected a closing '"' before the end of the line.`,
];
const WARN_LINE = 'nested/deeper/warn.coi:4:7: warning COI207: Chain input \'unused\' is never read by any step. The first step reads the first input by default; others need `from unused`.';

void describe('coi check: text output and exit codes', () => {
  void it('a good file: exit 0, nothing on stdout, a summary on stderr', () => {
    const result = coi(['check', 'nested/good.coi'], { cwd: dir });
    assert.equal(result.code, 0);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, '1 file checked: no problems.\n');
  });

  void it('a bad file: exit 1, one sorted path:line:col line per diagnostic', () => {
    const result = coi(['check', 'bad.coi'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, BAD_LINES.join('\n') + '\n');
    assert.equal(result.stderr, '2 errors, 0 warnings in 1 file (1 file checked).\n');
  });

  void it('warnings alone exit 0; --max-warnings 0 makes them fail; --no-warnings hides them', () => {
    const warned = coi(['check', 'nested/deeper/warn.coi'], { cwd: dir });
    assert.equal(warned.code, 0);
    assert.equal(warned.stdout, WARN_LINE + '\n');
    assert.equal(coi(['check', '--max-warnings', '0', 'nested/deeper/warn.coi'], { cwd: dir }).code, 1);
    assert.equal(coi(['check', '--max-warnings', '1', 'nested/deeper/warn.coi'], { cwd: dir }).code, 0);
    const hidden = coi(['check', '--no-warnings', 'nested/deeper/warn.coi'], { cwd: dir });
    assert.equal(hidden.code, 0);
    assert.equal(hidden.stdout, '');
    assert.equal(coi(['check', '--min-severity', 'error', 'nested/deeper/warn.coi'], { cwd: dir }).stdout, '');
    assert.equal(coi(['check', '--min-severity', 'warning', 'nested/deeper/warn.coi'], { cwd: dir }).stdout, WARN_LINE + '\n');
  });

  void it('--min-severity warning hides information, such as steps without a contract', () => {
    const own = tempDir();
    mkdirSync(join(own, 'info'));
    writeFileSync(join(own, 'info', 'plain.coi'), 'chain plain\n\ninput text: text\n\nstep shout {\n  instruction "Rewrite the text in capital letters."\n}\n');
    const all = coi(['check', 'info'], { cwd: own });
    assert.equal(all.code, 0);
    assert.match(all.stdout, /^info\/plain\.coi:5:1: info COI210: /);
    assert.equal(all.stderr, '0 errors, 0 warnings, 1 info/hint in 1 file (1 file checked).\n');
    const filtered = coi(['check', '--min-severity', 'warning', 'info'], { cwd: own });
    rmSync(own, { recursive: true, force: true });
    assert.equal(filtered.stdout, '');
    assert.equal(filtered.stderr, '1 file checked: no problems.\n');
  });

  void it('a directory is searched recursively, skipping node_modules and hidden folders', () => {
    const result = coi(['check', '.'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, [...BAD_LINES, WARN_LINE].join('\n') + '\n');
    assert.equal(result.stderr, '2 errors, 1 warning in 2 files (3 files checked).\n');
  });

  void it('glob patterns: ** across folders, * within one', () => {
    const deep = coi(['check', 'nested/**/*.coi'], { cwd: dir });
    assert.equal(deep.code, 0);
    assert.equal(deep.stdout, WARN_LINE + '\n');
    assert.equal(deep.stderr, '0 errors, 1 warning in 1 file (2 files checked).\n');
    const shallow = coi(['check', '*.coi'], { cwd: dir });
    assert.equal(shallow.code, 1);
    assert.equal(shallow.stdout, BAD_LINES.join('\n') + '\n');
    const none = coi(['check', 'nested/*.md'], { cwd: dir });
    assert.equal(none.code, 2);
    assert.equal(none.stderr, "coi check: Cannot read 'nested/*.md': no file matches this pattern.\n");
  });

  void it('a file named twice (directly and through a directory) is checked once', () => {
    const result = coi(['check', 'bad.coi', '.', './bad.coi'], { cwd: dir });
    assert.equal(result.stdout.split('\n').filter((l) => l.startsWith('bad.coi')).length, 2);
  });

  void it('--quiet drops the summary', () => {
    const result = coi(['check', '--quiet', 'bad.coi'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, '');
  });

  void it('paths outside the working directory are shown absolute', () => {
    const result = coi(['check', join(dir, 'bad.coi')], { cwd: repoRoot });
    assert.ok(result.stdout.startsWith(`${join(dir, 'bad.coi')}:6:8: error COI205`), result.stdout);
  });
});

void describe('coi check --format json', () => {
  void it('an array of {file, range, severity, code, message} with 0-based ranges', () => {
    const result = coi(['check', '--format', 'json', '.'], { cwd: dir });
    assert.equal(result.code, 1);
    const diagnostics = JSON.parse(result.stdout) as unknown[];
    assert.deepEqual(diagnostics[0], badUnknownReferenceEntry('bad.coi'));
    assert.deepEqual(
      diagnostics.map((d) => (d as { file: string; code: string }).file + ' ' + (d as { code: string }).code),
      ['bad.coi COI205', 'bad.coi COI102', 'nested/deeper/warn.coi COI207'],
    );
  });

  void it('prints [] for clean files', () => {
    const result = coi(['check', '--format=json', 'nested/good.coi'], { cwd: dir });
    assert.equal(result.code, 0);
    assert.deepEqual(JSON.parse(result.stdout), []);
  });
});

void describe('coi check: a file with a problem on every line lists the first 1,000', () => {
  const own = tempDir();
  const flood = problemChain(5000); // 5,000 errors and 1,002 warnings
  writeFileSync(join(own, 'flood.coi'), flood.text);
  // 1,500 steps that all read the input: 1,499 unused (COI208 warnings), 1,500 without a contract (COI210 infos), no error.
  const step = (i: number): string => `step s${i} {\n  instruction "Summarize the text."\n  from text\n}`;
  writeFileSync(join(own, 'unused.coi'), ['chain unused', 'input text: text', ...Array.from({ length: 1500 }, (_, i) => step(i))].join('\n'));
  after(() => rmSync(own, { recursive: true, force: true }));

  void it('text: 1,000 errors, then the COI000 note; the summary counts them all; exit 1', () => {
    const result = coi(['check', 'flood.coi'], { cwd: own });
    assert.equal(result.code, 1);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 1001);
    assert.ok(lines.slice(0, -1).every((l) => / error COI\d{3}: /.test(l)), 'errors first');
    const note = /^flood\.coi:(\d+:\d+): info COI000: (.*)$/.exec(lines.at(-1) ?? '');
    assert.equal(note?.[2], '5,002 more problems in this file are not shown (4,000 errors, 1,002 warnings): at most 1,000 problems are shown per file, errors first.');
    assert.ok(lines.at(-2)?.startsWith(`flood.coi:${note?.[1] ?? ''}: `), 'the note is at the last listed problem');
    assert.equal(result.stderr, '5000 errors, 1002 warnings in 1 file (1 file checked; 5002 problems not listed, at most 1000 per file).\n');
  });

  void it('json: the note says how many are omitted and the total', () => {
    const result = coi(['check', '--format', 'json', 'flood.coi'], { cwd: own });
    assert.equal(result.code, 1);
    const diagnostics = JSON.parse(result.stdout) as { code: string; omitted?: number; total?: number }[];
    assert.equal(diagnostics.length, 1001);
    assert.deepEqual({ ...diagnostics.at(-1), range: undefined, message: undefined }, { file: 'flood.coi', range: undefined, severity: 'info', code: 'COI000', message: undefined, omitted: 5002, total: 6002 });
    assert.ok(diagnostics.slice(0, -1).every((d) => d.omitted === undefined && d.total === undefined));
  });

  void it('--no-warnings: the note counts the errors left out only', () => {
    const result = coi(['check', '--no-warnings', 'flood.coi'], { cwd: own });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /info COI000: 4,000 more errors in this file are not shown: at most 1,000 problems are shown per file, errors first\.\n$/);
    assert.equal(result.stderr, '5000 errors, 0 warnings in 1 file (1 file checked; 4000 problems not listed, at most 1000 per file).\n');
  });

  void it('warnings past the cap still count for --max-warnings', () => {
    const failed = coi(['check', '--max-warnings', '1400', 'unused.coi'], { cwd: own });
    assert.equal(failed.code, 1, 'warnings 1,001 to 1,499 are not listed but are counted');
    assert.equal(failed.stdout.trimEnd().split('\n').length, 1001);
    assert.match(failed.stdout, /info COI000: 1,999 more problems in this file are not shown \(499 warnings, 1,500 infos\)/);
    assert.equal(failed.stderr, '0 errors, 1499 warnings, 1500 info/hints in 1 file (1 file checked; 1999 problems not listed, at most 1000 per file).\n');
    assert.equal(coi(['check', '--max-warnings', '1499', 'unused.coi'], { cwd: own }).code, 0);
  });
});

void describe('coi check: unreadable files and usage errors exit 2', () => {
  void it('a missing file', () => {
    const result = coi(['check', 'bad.coi', 'missing.coi'], { cwd: dir });
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, "coi check: Cannot read 'missing.coi': no such file or directory.\n");
  });

  void it('a file that cannot be read (a symbolic link loop)', () => {
    const loopDir = tempDir();
    symlinkSync(join(loopDir, 'b.coi'), join(loopDir, 'a.coi'));
    symlinkSync(join(loopDir, 'a.coi'), join(loopDir, 'b.coi'));
    const result = coi(['check', 'a.coi'], { cwd: loopDir });
    rmSync(loopDir, { recursive: true, force: true });
    assert.equal(result.code, 2);
    assert.equal(result.stderr, "coi check: Cannot read 'a.coi': too many symbolic links (a link that points back to itself, directly or through others).\n");
  });

  void it('a directory without .coi files', () => {
    const empty = tempDir();
    const result = coi(['check', '.'], { cwd: empty });
    rmSync(empty, { recursive: true, force: true });
    assert.equal(result.code, 2);
    assert.equal(result.stderr, "coi check: Cannot read '.': no .coi files in this directory.\n");
  });

  void it('no files, an unknown option, a bad --format', () => {
    const none = coi(['check'], { cwd: dir });
    assert.equal(none.code, 2);
    assert.equal(none.stderr, "coi check: No files given: name .coi files, directories or glob patterns (or - for standard input).\nRun 'coi check --help' for usage.\n");
    const unknown = coi(['check', '--strict', 'bad.coi'], { cwd: dir });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown option '--strict'/);
    const format = coi(['check', '--format', 'xml', 'bad.coi'], { cwd: dir });
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--format must be one of text, json \(got 'xml'\)/);
  });
});

void describe('the examples', () => {
  const examples = readdirSync(repoPath('examples')).filter((f) => f.endsWith('.coi'));

  void it('at least six chains, each with a local hf: model, typed inputs, contracts and a test', () => {
    assert.ok(examples.length >= 6, examples.join(', '));
    for (const name of examples) {
      const { chain } = checkDocument(readFileSync(repoPath('examples', name), 'utf8'));
      assert.ok(chain.profiles.some((p) => p.provider === 'local' && p.path.startsWith('hf:')), `${name}: a local hf: model profile`);
      assert.ok(chain.inputs.length > 0, `${name}: inputs`);
      assert.ok(chain.steps.length >= 2, `${name}: at least two steps`);
      assert.ok(chain.steps.every((s) => s.contractDeclared), `${name}: every step declares its output contract`);
      assert.ok(chain.tests.length > 0 && chain.tests.every((t) => t.expectations.length > 0), `${name}: tests with expectations`);
    }
  });

  void it('all pass coi check with exit 0 and no errors or warnings', () => {
    const result = coi(['check', 'examples/*.coi'], { cwd: repoRoot });
    assert.equal(result.code, 0, result.stdout);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, `${examples.length} files checked: no problems.\n`);
  });

  void it('the broken example fails with the mistakes the docs describe', () => {
    const result = coi(['check', '--format', 'json', 'examples/broken/label-into-summary.coi'], { cwd: repoRoot });
    assert.equal(result.code, 1);
    const diagnostics = JSON.parse(result.stdout) as { code: string; severity: string; message: string }[];
    const errors = diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(
      errors.map((d) => d.code),
      ['COI504', 'COI301', 'COI205', 'COI206', 'COI408', 'COI409'],
    );
    assert.match(errors[1]?.message ?? '', /Step "sentiment" produces a label .* but step "summary" needs a passage/);
    assert.match(errors[2]?.message ?? '', /Did you mean 'summary'\?/);
  });
});

void describe('coi itself', () => {
  void it('runs as `npx coi` in the checkout', () => {
    const result = spawnSync('npx', ['--offline', 'coi', '--version'], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  void it('--version prints the package version; --help lists the commands', () => {
    const version = coi(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    const help = coi(['--help']);
    assert.equal(help.code, 0);
    for (const command of ['check', 'import', 'export']) assert.match(help.stdout, new RegExp(`^ {2}${command} `, 'm'));
    for (const command of ['check', 'import', 'export']) {
      const commandHelp = coi([command, '--help']);
      assert.equal(commandHelp.code, 0);
      assert.match(commandHelp.stdout, new RegExp(`^coi ${command} — .*\\n\\nUsage: coi ${command} `));
    }
  });
});
