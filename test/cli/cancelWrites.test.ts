// Ctrl-C while `coi dataset build` and `coi import` write their files: the folder is left as it
// was (no temporary, no new file), the command says so and exits 130. The signal is sent when the
// first temporary appears in the output folder (an inotify event): mid-write, deterministically.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { tinyModelPath } from '../rig/tinyModel';
import { coi, ensureBundle } from './cliProcess';

/** `coi ARGS` in `cwd`, sent SIGINT once a temporary (`NAME.partial-HOST-PID`) appears in `watched`. */
function interruptedMidWrite(args: readonly string[], cwd: string, watched: string): Promise<{ code: number | null; stderr: string }> {
  ensureBundle();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), ...args], { cwd, env: { ...process.env, COI_DEBUG: '' } });
    const watcher = watch(watched, (_event, name) => {
      if (name?.includes('.partial-') !== true) return;
      watcher.close();
      child.kill('SIGINT');
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
