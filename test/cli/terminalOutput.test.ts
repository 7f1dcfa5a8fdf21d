/**
 * Every command shows, and does not obey, the control characters of what it prints on a
 * terminal: a training log (`coi finetune logs`), a dataset file (`coi dataset convert`), a
 * chain's strings (`coi export`, its notes on standard error), a file's name (`coi check`), a
 * job's message (`coi finetune status`), as `coi run` shows a model's reply (terminalErrors.test.ts).
 * An escape sequence there would write the clipboard (OSC 52), set the title (OSC 0) or clear
 * the screen (CSI 2J). Line feeds and tabs stay; a log's progress bars redrawn with `\r` show
 * their last state. Piped, the text is written byte for byte. Run under a real pseudo-terminal
 * (util-linux's `script`) with the bundled CLI.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jobDir, updateState } from '../../core/finetune';
import { REDRAW_LINE, shownOnTerminal, type CliIO } from '../../cli/io';
import { writeCompletedJob } from '../helpers/jobFixture';
import { tempDir } from '../helpers/tempDir';
import { coi, coiOnTerminal, terminalAvailable } from './cliProcess';

/** Any control character but the line feeds and tabs that lay out the text, and the bidirectional controls. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** A trainer's log: escape sequences, a C1 CSI, a right-to-left override, tqdm bars redrawn with \r, a CRLF line, a bar still running. */
const LOG = 'loading\n\x1b]52;c;aGVsbG8=\x07 clip \x1b[2J clear \u009b31m c1 \u202eevil\n  0%|          | 0/40\r 50%|#####     | 20/40\r100%|##########| 40/40\ndone\ttab\r\nstep 2\r 10%|#         | 4/40';
const LOG_SHOWN = 'loading\n\\u001b]52;c;aGVsbG8=\\u0007 clip \\u001b[2J clear \\u009b31m c1 \\u202eevil\n100%|##########| 40/40\ndone\ttab\n 10%|#         | 4/40';

const skip = terminalAvailable() ? false : "util-linux's script is not here (no pseudo-terminal)";

void describe('what commands print on a terminal: shown, not obeyed; piped: exact', { skip }, () => {
  void test('coi finetune logs: escapes shown as \\u001b…, a redrawn progress bar as its last state, tabs and line feeds kept; piped, the log byte for byte', async () => {
    const workspace = tempDir();
    const id = writeCompletedJob(workspace).state.id;
    writeFileSync(join(jobDir(workspace, id), 'log'), LOG);
    const shown = await coiOnTerminal(['finetune', 'logs', id], { cwd: workspace });
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.stdout, LOG_SHOWN);
    assert.doesNotMatch(shown.stdout, CONTROL);
    const piped = coi(['finetune', 'logs', id], { cwd: workspace });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout, LOG);

    const json = await coiOnTerminal(['finetune', 'logs', id, '--json'], { cwd: workspace });
    assert.equal(json.code, 0, json.stderr);
    assert.doesNotMatch(json.stdout, CONTROL);
    assert.deepEqual((JSON.parse(json.stdout) as { lines: string[] }).lines, LOG.split('\n'));
  });

  void test("coi finetune status and list: a job's message (a line of its log) shown escaped", async () => {
    const workspace = tempDir();
    const { folder, state } = writeCompletedJob(workspace);
    updateState(folder, 'completed', { message: 'KeyError: \x1b]0;PWNED\x07 \u009b2J' });
    for (const args of [['finetune', 'status', state.id], ['finetune', 'list']]) {
      const r = await coiOnTerminal(args, { cwd: workspace });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /— KeyError: \\u001b\]0;PWNED\\u0007 \\u009b2J\n$/);
      assert.doesNotMatch(r.stdout, CONTROL);
    }
  });

  void test('coi dataset convert: C1 and bidirectional controls of the records shown escaped; piped, what --out writes', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'd.jsonl'), '{"instruction":"a \\u001b]52;c;aGk=\\u0007 b","input":"\\u001b[2J x \\u009b31m \\u202eevil","output":"o"}\n');
    for (const to of ['paper', 'openai-chat', 'trl-prompt-completion']) {
      const shown = await coiOnTerminal(['dataset', 'convert', 'd.jsonl', '--to', to], { cwd: dir });
      assert.equal(shown.code, 0, shown.stderr);
      assert.doesNotMatch(shown.stdout, CONTROL);
      assert.match(shown.stdout, /\\u009b31m \\u202eevil/);
      assert.equal(coi(['dataset', 'convert', 'd.jsonl', '--to', to, '--out', `out-${to}`], { cwd: dir }).code, 0);
      const piped = coi(['dataset', 'convert', 'd.jsonl', '--to', to], { cwd: dir });
      assert.equal(piped.stdout, readFileSync(join(dir, `out-${to}`), 'utf8'));
      assert.match(piped.stdout, /\u009b31m \u202eevil/);
    }
  });

  void test("coi export: a chain's control characters shown escaped, its notes on standard error too; piped, what --out writes", async () => {
    const dir = tempDir();
    const chain = (name: string, expect: string): string => `chain st\ninput x: text\n\nstep a {\n  instruction "Say \u009b31m hello \u202e."\n}\n\ntest "${name}" {\n  given x = "go \u009b2J"\n  expect a ${expect}\n}\n`;
    writeFileSync(join(dir, 'e.coi'), chain('greets', 'equals "hello"'));
    writeFileSync(join(dir, 'n.coi'), chain('gr\x1b]0;PWNED\x07eets', 'contains "hello"'));
    const shown = await coiOnTerminal(['export', 'e.coi', 'n.coi'], { cwd: dir, stderrToo: true });
    assert.equal(shown.code, 0, shown.stdout);
    assert.doesNotMatch(shown.stdout, CONTROL);
    assert.match(shown.stdout, /"instruction":"Say \\u009b31m hello \\u202e\."/);
    assert.match(shown.stdout, /n\.coi: note: Chain 'st', test 'gr\\u001b\]0;PWNED\\u0007eets': no reference for step 'a'/);
    assert.equal(coi(['export', 'e.coi', '--out', 'out.json'], { cwd: dir }).code, 0);
    assert.equal(coi(['export', 'e.coi'], { cwd: dir }).stdout, readFileSync(join(dir, 'out.json'), 'utf8'));
  });

  void test("coi check: a file name's escape sequence shown escaped", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'names'));
    writeFileSync(join(dir, 'names', 'z\x1b[2Jq.coi'), 'chain st\ninput x: text\n\nstep b {\n}\n');
    const shown = await coiOnTerminal(['check', 'names'], { cwd: dir });
    assert.equal(shown.code, 1, shown.stderr);
    assert.match(shown.stdout, /^names\/z\\u001b\[2Jq\.coi:4:1: error COI209: Step "b" has no instruction\.$/m);
    assert.doesNotMatch(shown.stdout, CONTROL);
  });
});

void describe('shownOnTerminal', () => {
  const recording = (tty: boolean): { io: CliIO; out: string[]; err: string[] } => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), cwd: '/', env: {}, stdoutIsTTY: tty, stderrIsTTY: tty, readStdin: () => Promise.resolve(Buffer.alloc(0)) };
    return { io: shownOnTerminal(io), out, err };
  };

  void test("on a terminal a progress line keeps coi's own redraw at its start; every other control character is shown escaped", () => {
    const { io, out, err } = recording(true);
    io.stderr(`${REDRAW_LINE}eval: 1/2 done \x1b[2J`);
    io.stderr(`warning: a\x1b]0;T\x07\r${REDRAW_LINE}\n`);
    io.stdout('x\ty\n\x1b[2J\r');
    assert.deepEqual(err, [`${REDRAW_LINE}eval: 1/2 done \\u001b[2J`, 'warning: a\\u001b]0;T\\u0007\\r\\r\\u001b[K\n']);
    assert.deepEqual(out, ['x\ty\n\\u001b[2J\\r']);
  });

  void test('piped, nothing is changed', () => {
    const { io, out, err } = recording(false);
    io.stderr(`${REDRAW_LINE}a\x1b[2J`);
    io.stdout('\x1b]52;c;aGk=\x07\r\n');
    assert.deepEqual(err, [`${REDRAW_LINE}a\x1b[2J`]);
    assert.deepEqual(out, ['\x1b]52;c;aGk=\x07\r\n']);
  });
});
