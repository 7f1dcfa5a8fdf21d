// `coi check -`: one document from standard input, as editors' lint integrations and
// pre-commit hooks (`git show :file | coi check --stdin-filename file -`) pipe it in.
// Through the real bundled CLI with stdin piped, plus the in-process CliIO path.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runCli } from '../../cli/cli';
import { readStream, type CliIO } from '../../cli/io';
import { tempDir } from '../helpers/tempDir';
import { coi } from './cliProcess';
import { BAD, badUnknownReferenceEntry, WARN } from './documents';

const GOOD = ['chain good', 'input article: text', '', 'step summary {', '  instruction "Summarize the article."', '  output text', '}', ''].join('\n');

/** Reads a schema file next to the document, and has one warning so its name shows. */
const WITH_SCHEMA = [
  'chain people',
  'input text: text',
  'input unused: text',
  '',
  'step person {',
  '  instruction "Extract the person as JSON."',
  '  output json schema_file="person.schema.json"',
  '}',
  '',
].join('\n');

const dir = tempDir();
mkdirSync(join(dir, 'examples'));
writeFileSync(join(dir, 'examples', 'person.schema.json'), '{"type": "object", "properties": {"name": {"type": "string"}}}');
writeFileSync(join(dir, 'bad.coi'), BAD);
writeFileSync(join(dir, 'empty.coi'), '');
after(() => rmSync(dir, { recursive: true, force: true }));

const BAD_LINES =
  "<stdin>:6:8: error COI205: Unknown reference 'artcle': no chain input or earlier step has this id. Did you mean 'article'?\n" +
  `<stdin>:11:15: error COI102: Unterminated string: expected a closing '"' before the end of the line.\n`;

void describe('coi check - (standard input)', () => {
  void it('reports the errors of a piped document as <stdin>:line:col and exits 1', () => {
    const result = coi(['check', '-'], { cwd: dir, input: BAD });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, BAD_LINES);
    assert.equal(result.stderr, '2 errors, 0 warnings in 1 file (1 file checked).\n');
  });

  void it('a clean document exits 0 with nothing on stdout', () => {
    const result = coi(['check', '-'], { cwd: dir, input: GOOD });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, '1 file checked: no problems.\n');
  });

  void it('--stdin-filename names the document and schema_file resolves next to it', () => {
    const named = coi(['check', '--stdin-filename', 'examples/x.coi', '-'], { cwd: dir, input: WITH_SCHEMA });
    assert.equal(named.code, 0, named.stderr);
    assert.equal(named.stdout, "examples/x.coi:3:7: warning COI207: Chain input 'unused' is never read by any step. The first step reads the first input by default; others need `from unused`.\n");
    // Without the name, the schema is looked for in the working directory, where there is none.
    const unnamed = coi(['check', '-'], { cwd: dir, input: WITH_SCHEMA });
    assert.equal(unnamed.code, 1);
    assert.match(unnamed.stdout, /^<stdin>:7:27: error COI218: Schema file 'person\.schema\.json' cannot be read \(looked for .*person\.schema\.json\)\.$/m);
  });

  void it('--format json gives the <stdin> entries with 0-based ranges', () => {
    const result = coi(['check', '--format', 'json', '-'], { cwd: dir, input: BAD });
    assert.equal(result.code, 1);
    const entries = JSON.parse(result.stdout) as { file: string; code: string }[];
    assert.deepEqual(entries.map((e) => [e.file, e.code]), [['<stdin>', 'COI205'], ['<stdin>', 'COI102']]);
    assert.deepEqual(entries[0], badUnknownReferenceEntry('<stdin>'));
  });

  void it('--min-severity and --max-warnings apply as for files', () => {
    assert.equal(coi(['check', '-'], { cwd: dir, input: WARN }).code, 0);
    const strict = coi(['check', '--max-warnings', '0', '-'], { cwd: dir, input: WARN });
    assert.equal(strict.code, 1);
    assert.match(strict.stdout, /^<stdin>:4:7: warning COI207:/);
    const errorsOnly = coi(['check', '--min-severity', 'error', '-'], { cwd: dir, input: WARN });
    assert.equal(errorsOnly.code, 0);
    assert.equal(errorsOnly.stdout, '');
  });

  void it('a file and - together: standard input first, then the files, one summary', () => {
    const result = coi(['check', 'bad.coi', '-'], { cwd: dir, input: WARN });
    assert.equal(result.code, 1);
    const lines = result.stdout.trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(': ')[0]),
      ['<stdin>:4:7', 'bad.coi:6:8', 'bad.coi:11:15'],
    );
    assert.equal(result.stderr, '2 errors, 1 warning in 2 files (2 files checked).\n');
  });

  void it('an empty standard input is an empty document, reported as an empty file is', () => {
    const fromStdin = coi(['check', '-'], { cwd: dir, input: '' });
    const fromFile = coi(['check', 'empty.coi'], { cwd: dir });
    assert.equal(fromFile.code, 1);
    assert.equal(fromStdin.code, fromFile.code);
    assert.notEqual(fromFile.stdout, '');
    assert.equal(fromStdin.stdout, fromFile.stdout.replaceAll('empty.coi', '<stdin>'));
  });

  void it('a byte order mark and CRLF line ends are read as in a file', () => {
    const result = coi(['check', '-'], { cwd: dir, input: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(BAD.replace(/\n/g, '\r\n'))]) });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, BAD_LINES);
  });

  void it('binary bytes on standard input: a one-line error and exit 2, the files still checked', () => {
    const binary = Buffer.from([0x47, 0x47, 0x55, 0x46, 0x03, 0x00, 0x00, 0x00, 0xff, 0xfe]);
    const result = coi(['check', '-', 'bad.coi'], { cwd: dir, input: binary });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^coi check: cannot read standard input: it is a binary file \(it contains NUL bytes\), not a text file\.$/m);
    assert.doesNotMatch(result.stderr, /internal error|\n\s+at /);
    assert.match(result.stdout, /^bad\.coi:6:8: error COI205/);
    const named = coi(['check', '--stdin-filename', 'model.coi', '-'], { cwd: dir, input: binary });
    assert.equal(named.code, 2);
    assert.match(named.stderr, /^coi check: cannot read standard input \(as 'model\.coi'\): it is a binary file/m);
  });

  void it('usage errors (exit 2): - twice, --stdin-filename without -, an empty --stdin-filename', () => {
    const twice = coi(['check', '-', '-'], { cwd: dir, input: GOOD });
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /^coi check: Standard input \('-'\) can be given only once\.$/m);
    const noDash = coi(['check', '--stdin-filename', 'a.coi', 'bad.coi'], { cwd: dir, input: GOOD });
    assert.equal(noDash.code, 2);
    assert.match(noDash.stderr, /^coi check: --stdin-filename names standard input: give '-' among the files too\.$/m);
    assert.equal(noDash.stdout, '');
    const empty = coi(['check', '--stdin-filename=', '-'], { cwd: dir, input: GOOD });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /^coi check: --stdin-filename needs a path \(PATH\), not an empty value\.$/m);
    const blank = coi(['check', '--stdin-filename=   ', '-'], { cwd: dir, input: GOOD });
    assert.equal(blank.code, 2);
    assert.match(blank.stderr, /--stdin-filename needs a file name/);
  });

  void it('--help lists --stdin-filename and the git show example', () => {
    const result = coi(['check', '--help'], { cwd: dir });
    assert.equal(result.code, 0);
    assert.match(result.stdout, /--stdin-filename PATH/);
    assert.match(result.stdout, /git show :chains\/a\.coi \| coi check --stdin-filename chains\/a\.coi -/);
  });
});

void describe('coi check - in-process (CliIO.readStdin)', () => {
  function capture(stdin: (maxBytes: number) => Promise<Buffer>): { io: CliIO; out: { stdout: string; stderr: string } } {
    const out = { stdout: '', stderr: '' };
    const io: CliIO = { stdout: (t) => void (out.stdout += t), stderr: (t) => void (out.stderr += t), cwd: dir, env: {}, readStdin: stdin };
    return { io, out };
  }

  void it('reads the document through io.readStdin', async () => {
    const { io, out } = capture(() => Promise.resolve(Buffer.from(BAD)));
    assert.equal(await runCli(['check', '-'], io), 1);
    assert.equal(out.stdout, BAD_LINES);
  });

  void it('an endless standard input is cut off past 64 MiB and refused as too large (exit 2)', async () => {
    let produced = 0;
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    const endless = new Readable({
      read() {
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const { io, out } = capture((max) => readStream(endless, max));
    assert.equal(await runCli(['check', '-'], io), 2);
    assert.match(out.stderr, /^coi check: cannot read standard input: it is larger than 64 MiB/m);
    assert.ok(endless.destroyed, 'reading stopped');
    assert.ok(produced < 80 * 1024 * 1024, `read ${produced} bytes`);
  });

  void it('a standard input that fails to read is refused in one line (exit 2)', async () => {
    const failing = new Readable({
      read() {
        this.destroy(Object.assign(new Error('bad file descriptor'), { code: 'EBADF' }));
      },
    });
    const { io, out } = capture((max) => readStream(failing, max));
    assert.equal(await runCli(['check', '-'], io), 2);
    assert.equal(out.stderr, 'coi check: cannot read standard input: bad file descriptor.\n0 files checked: no problems, 1 file unreadable.\n');
  });
});
