// Ctrl-C while `coi dataset build`, `coi import`, `coi export --out`, `coi dataset convert --out`
// and `coi test --junit-file` write their files: the folder is left as it was (no temporary, no new
// file, a previous file byte for byte), the command says so and exits 130 (143 for SIGTERM). The
// signal is sent when the first temporary appears in the output folder (an inotify event), while
// some tens of MB are written: mid-write. Also Ctrl-C while `coi import -` and `coi check -` read
// standard input, and while `coi export` and `coi dataset convert` read their inputs (a named pipe).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, createWriteStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { tinyModelPath } from '../rig/tinyModel';
import { coi, ensureBundle } from './cliProcess';

/** `coi ARGS` in `cwd`, sent SIGINT (or `signal`) once a temporary (`NAME.partial-HOST-PID`) appears in `watched`. */
function interruptedMidWrite(args: readonly string[], cwd: string, watched: string, signal: 'SIGINT' | 'SIGTERM' = 'SIGINT'): Promise<{ code: number | null; stderr: string }> {
  ensureBundle();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), ...args], { cwd, env: { ...process.env, COI_DEBUG: '' } });
    const watcher = watch(watched, (_event, name) => {
      if (name?.includes('.partial-') !== true) return;
      watcher.close();
      child.kill(signal);
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      watcher.close();
      resolvePromise({ code, stderr });
    });
  });
}

/** Every file of `dir` with its bytes. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name), 'latin1')]));
}

/** `n` records of the paper's kind, two steps each, distinct, about 1 KB each. */
function records(n: number): string {
  const text = (i: number, what: string): string => `${what} ${i}: ${'the river keeps its course through the valley and the town. '.repeat(6)}`;
  return JSON.stringify(
    Array.from({ length: n }, (_, i) => ({
      instruction: 'Summarize the text and then translate the summary into French.',
      input: text(i, 'Story'),
      output: `Task 1 output and task 2 input: ${text(i, 'Summary')} Task 2 output: ${text(i, 'Résumé')}`,
    })),
  );
}

void describe('Ctrl-C while files are written', () => {
  void it('coi dataset build: a rebuild cancelled while it writes leaves the earlier build byte-identical, says so, exits 130', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'records.json'), records(10_000));
    const first = coi(['dataset', 'build', 'records.json', '--out', 'ds', '--no-dedupe', '--validation', '0.2', '-q'], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    const before = snapshot(join(dir, 'ds'));

    const cancelled = await interruptedMidWrite(['dataset', 'build', 'records.json', '--out', 'ds', '--no-dedupe', '--validation', '0.3', '-q'], dir, join(dir, 'ds'));
    assert.equal(cancelled.code, 130, cancelled.stderr);
    assert.match(cancelled.stderr, /coi dataset: cancelled; nothing written\.\n$/);
    assert.deepEqual(snapshot(join(dir, 'ds')), before, 'the earlier build as it was, no temporary beside it');
  });

  void it('coi import --out: cancelled mid-write, the folder is as before (no temporary, no new .coi, a file already there kept); a re-run without --force imports all', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'records.json'), records(3_000));
    const out = join(dir, 'chains');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine\n');
    writeFileSync(join(out, 'mine.coi'), 'chain mine\n');
    const before = snapshot(out);

    const cancelled = await interruptedMidWrite(['import', 'records.json', '--out', 'chains'], dir, out);
    assert.equal(cancelled.code, 130, cancelled.stderr);
    assert.match(cancelled.stderr, /coi import: cancelled; nothing written\.\n$/);
    assert.deepEqual(snapshot(out), before);

    const again = coi(['import', 'records.json', '--out', 'chains'], { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /Imported 3000 records into 3000 files in chains\/\.\n$/);
    assert.equal(readdirSync(out).length, 3002);
  });
});

/** Some 25 MB of records, the same for every test that needs a large output (made once). */
let manyRecords: string | undefined;
function largeRecords(): string {
  return (manyRecords ??= records(20_000));
}

/** A folder `out` in a fresh temporary folder, holding a previous output `name`; returns both folders. */
function withPreviousOutput(name: string): { dir: string; out: string; before: Record<string, string> } {
  const dir = tempDir();
  const out = join(dir, 'out');
  mkdirSync(out);
  writeFileSync(join(out, name), 'the previous output\n');
  writeFileSync(join(out, 'notes.txt'), 'mine\n');
  return { dir, out, before: snapshot(out) };
}

void describe('Ctrl-C while one output file is written', () => {
  void it('coi export --out: the previous file is left byte for byte, no temporary, says so, exits 130', async () => {
    const { dir, out, before } = withPreviousOutput('records.json');
    writeFileSync(join(dir, 'records.json'), largeRecords());
    const set = coi(['import', 'records.json', '--test-set', 'set.coi'], { cwd: dir });
    assert.equal(set.code, 0, set.stderr);

    const cancelled = await interruptedMidWrite(['export', 'set.coi', '--out', 'out/records.json'], dir, out);
    assert.equal(cancelled.code, 130, cancelled.stderr);
    assert.match(cancelled.stderr, /Cancelling\.\.\. \(Ctrl-C again to quit at once\)\ncoi export: cancelled; nothing written\.\n$/);
    assert.deepEqual(snapshot(out), before);
  });

  void it('coi dataset convert --out, SIGTERM: the previous file is left byte for byte, no temporary, says so, exits 143', async () => {
    const { dir, out, before } = withPreviousOutput('chat.jsonl');
    writeFileSync(join(dir, 'records.json'), largeRecords());

    const cancelled = await interruptedMidWrite(['dataset', 'convert', 'records.json', '--to', 'openai-chat', '--out', 'out/chat.jsonl'], dir, out, 'SIGTERM');
    assert.equal(cancelled.code, 143, cancelled.stderr);
    assert.match(cancelled.stderr, /Cancelling \(SIGTERM\)\.\.\.\ncoi dataset: cancelled; nothing written\.\n$/);
    assert.deepEqual(snapshot(out), before);
  });

  void it('coi test --junit-file: the previous report is left byte for byte, no temporary, says so, exits 130', async () => {
    const { dir, out, before } = withPreviousOutput('junit.xml');
    // 25 chains named with a million characters each: a report of some 25 MB, with no test run (--filter matches none).
    for (let i = 0; i < 25; i++) {
      writeFileSync(join(dir, `c${i}.coi`), `chain c${i}_${'x'.repeat(1 << 20)}\ninput x: text\nstep a {\n  instruction "Repeat."\n}\ntest "t" {\n  given x = "go"\n  expect a equals "y"\n}\n`);
    }
    const cancelled = await interruptedMidWrite(['test', '.', '--filter', 'nothing-matches', '--junit-file', 'out/junit.xml'], dir, out);
    assert.equal(cancelled.code, 130, cancelled.stderr);
    assert.match(cancelled.stderr, /Cancelling\.\.\. \(Ctrl-C again to quit at once\)\ncoi test: cancelled; nothing written to out\/junit\.xml\.\n$/);
    assert.deepEqual(snapshot(out), before);
  });
});

/** Both signals, with the line `withInterrupt` says first and the exit code. */
const SIGNALS = [
  ['SIGINT', 130, 'Cancelling... (Ctrl-C again to quit at once)'],
  ['SIGTERM', 143, 'Cancelling (SIGTERM)...'],
] as const;

/**
 * `coi ARGS` in `cwd`, sent `signal` while it reads standard input: half of some records is
 * written, more than a pipe holds, so once the write completes coi has read it and waits for the rest.
 */
function interruptedMidStdin(args: readonly string[], cwd: string, signal: 'SIGINT' | 'SIGTERM'): Promise<{ code: number | null; stderr: string }> {
  ensureBundle();
  const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), ...args], { cwd, env: { ...process.env, COI_DEBUG: '' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<{ code: number | null; stderr: string }>((resolvePromise) => child.on('close', (code) => resolvePromise({ code, stderr })));
  const text = records(2_000);
  child.stdin.on('error', () => undefined); // the pipe closed by the cancelled reader
  child.stdin.write(text.slice(0, text.length / 2), () => child.kill(signal));
  void closed.then(() => child.stdin.destroy());
  return closed;
}

void describe('Ctrl-C while coi import - and coi check - read standard input', () => {
  for (const [signal, code, said] of SIGNALS) {
    void it(`coi import -, ${signal}: one line says it was cancelled while reading standard input, nothing written, exit ${code}`, async () => {
      const dir = tempDir();
      const { code: exit, stderr } = await interruptedMidStdin(['import', '-', '--out', 'chains'], dir, signal);
      assert.equal(exit, code, stderr);
      assert.equal(stderr, `\n${said}\ncoi import: cancelled while reading standard input; nothing written.\n`);
      assert.equal(existsSync(join(dir, 'chains')), false);
    });

    void it(`coi check -, ${signal}: one line says it was cancelled while reading standard input, exit ${code}`, async () => {
      const { code: exit, stderr } = await interruptedMidStdin(['check', '-'], tempDir(), signal);
      assert.equal(exit, code, stderr);
      assert.equal(stderr, `\n${said}\ncoi check: cancelled while reading standard input.\n`);
    });
  }
});

/**
 * `coi ARGS` in `cwd`, sent `signal` while it reads `fifo` (a named pipe among its inputs): `text`,
 * more than a pipe holds, is written into it, and the signal sent once the write completes (coi
 * has read most of it) and before the pipe is closed (coi is still reading).
 */
function interruptedMidRead(args: readonly string[], cwd: string, fifo: string, text: string, signal: 'SIGINT' | 'SIGTERM'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  ensureBundle();
  execFileSync('mkfifo', [fifo]);
  const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), ...args], { cwd, env: { ...process.env, COI_DEBUG: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const writer = createWriteStream(fifo);
  writer.on('error', () => undefined); // the pipe closed by a reader that went away
  writer.write(text, () => {
    child.kill(signal);
    writer.end();
  });
  return new Promise((resolvePromise) => {
    child.on('close', (code) => {
      // A coi that never opened the pipe would leave the writer waiting for a reader: be one.
      if (writer.pending) closeSync(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
      resolvePromise({ code, stdout, stderr });
    });
  });
}

void describe('Ctrl-C while coi export and coi dataset convert read their inputs', () => {
  void it('coi export --out, SIGINT while a .coi file is read: says it was cancelled, nothing written (the previous file byte for byte), exits 130', async () => {
    const { dir, out, before } = withPreviousOutput('records.json');
    writeFileSync(join(dir, 'records.json'), records(2_000));
    const set = coi(['import', 'records.json', '--test-set', 'set.coi'], { cwd: dir });
    assert.equal(set.code, 0, set.stderr);

    const cancelled = await interruptedMidRead(['export', 'piped.coi', '--out', 'out/records.json'], dir, join(dir, 'piped.coi'), readFileSync(join(dir, 'set.coi'), 'utf8'), 'SIGINT');
    assert.equal(cancelled.code, 130, cancelled.stderr);
    assert.equal(cancelled.stderr, '\nCancelling... (Ctrl-C again to quit at once)\ncoi export: cancelled; nothing written.\n');
    assert.deepEqual(snapshot(out), before);
  });

  void it('coi dataset convert (to standard output), SIGTERM while the dataset is read: says it was cancelled, writes nothing, exits 143', async () => {
    const dir = tempDir();
    const cancelled = await interruptedMidRead(['dataset', 'convert', 'records.json', '--to', 'openai-chat'], dir, join(dir, 'records.json'), records(2_000), 'SIGTERM');
    assert.equal(cancelled.code, 143, cancelled.stderr);
    assert.equal(cancelled.stderr, '\nCancelling (SIGTERM)...\ncoi dataset: cancelled; nothing written.\n');
    assert.equal(cancelled.stdout, '');
  });
});

void describe('a second Ctrl-C', () => {
  void it('quits at once with one line saying so (coi dataset build, its token count held up by a stopped worker), exit 130', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'records.json'), records(3_000));
    ensureBundle();
    const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), 'dataset', 'build', 'records.json', '--out', 'ds', '--tokenizer', tinyModelPath()], { cwd: dir, env: { ...process.env, COI_DEBUG: '' } });
    let stderr = '';
    let stage = 0;
    const stopped: number[] = [];
    const closed = new Promise<number | null>((resolvePromise) => child.on('close', resolvePromise));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stage === 0 && /Counting tokens: \d+\/\d+\n/.test(stderr)) {
        stage = 1;
        // The tokenizer worker stops answering: the first Ctrl-C waits for its batch.
        for (const pid of readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter((p) => p !== '')) {
          process.kill(Number(pid), 'SIGSTOP');
          stopped.push(Number(pid));
        }
        child.kill('SIGINT');
      } else if (stage === 1 && stderr.includes('Cancelling... (Ctrl-C again to quit at once)\n')) {
        stage = 2;
        child.kill('SIGINT');
      }
    });
    const code = await closed;
    for (const pid of stopped) process.kill(pid, 'SIGKILL');
    assert.equal(code, 130, stderr);
    assert.match(stderr, /Cancelling\.\.\. \(Ctrl-C again to quit at once\)\n\nQuit at once\.\n$/);
    assert.equal(stopped.length > 0, true);
  });
});
