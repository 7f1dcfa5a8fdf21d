/**
 * Cancelling `coi finetune gguf` and `coi finetune start --wait`, through the real `coi`
 * binary, the real converter (llama.cpp's convert_hf_to_gguf.py) and the real trainer, on the
 * tiny HF Llama of python/make_tiny_hf_model.py. Makes or reuses the cached Python
 * environment; skips with one line only when Python ≥ 3.10 is absent.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createJob, ensureVenv, hasGgufMagic, jobDir, PAPER_DEFAULTS, updateState, type JobState } from '../../core/finetune';
import { coiOnTerminal, ensureBundle, terminalAvailable } from '../cli/cliProcess';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { coi2Excerpt, noPythonSkip, tinyHfModel } from '../helpers/finetuneInputs';

const data = coi2Excerpt;

/** `coi ARGS` in `cwd`; `onStderr` sees standard error so far after each chunk (to signal the child). */
function coiWatched(args: readonly string[], cwd: string, onStderr: (stderr: string, child: ChildProcess) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  ensureBundle();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [repoPath('bin', 'coi.js'), ...args], { cwd, env: { ...process.env, COI_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The pids of the processes whose command line has every one of `words`. */
function processesWith(...words: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(join('/proc', entry, 'cmdline'), 'utf8');
      if (words.every((word) => cmdline.includes(word))) pids.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  // A zombie (ended, not yet reaped by init) has run its course.
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Polls `predicate` every 50 ms until it holds or `ms` have passed; whether it held. */
async function within(ms: number, predicate: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

const partials = (folder: string): string[] => readdirSync(folder).filter((name) => name.includes('.partial'));

void describe('cancelling coi finetune gguf and start --wait (real converter and trainer)', { skip: noPythonSkip() || (existsSync('/proc/self/cmdline') ? false : 'reads /proc') }, () => {
  let base = '';

  before(async () => {
    const venv = await ensureVenv();
    base = tinyHfModel(venv.python, data);
  });

  /** A completed full fine-tune whose model is the tiny HF model (nothing trained: the converter reads it as it would a fine-tune). */
  function completedJob(): { workspace: string; folder: string; state: JobState } {
    const workspace = tempDir();
    const created = createJob(workspace, { engine: 'trl', baseModel: base, data, method: 'full', training: PAPER_DEFAULTS });
    const folder = jobDir(workspace, created.id);
    updateState(folder, 'running', { pid: 999_999 });
    return { workspace, folder, state: updateState(folder, 'completed', { resultDir: base }) };
  }

  void it("SIGTERM while converting exits 143 saying nothing was written, how to convert again; the earlier GGUF is as it was, no partial file; progress came from the converter's output", { timeout: 180_000 }, async () => {
    const { workspace, folder, state } = completedJob();
    const earlier = join(folder, 'model-f16.gguf');
    writeFileSync(earlier, 'GGUF an earlier conversion');
    let sent = false;
    const result = await coiWatched(['finetune', 'gguf', state.id], workspace, (stderr, child) => {
      // Piped: one line per stage of the converter, parsed from what it prints.
      if (!sent && /^Converting: \d+ s, loading the model \(details in \S+gguf\.log\)$/m.test(stderr)) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    assert.equal(result.code, 143, result.stderr);
    assert.match(result.stderr, new RegExp(`^coi finetune: Cancelled while converting: nothing was written; \\S+model-f16\\.gguf is as it was\\. Run 'coi finetune gguf ${state.id}' to convert it again\\.$`, 'm'));
    assert.equal(readFileSync(earlier, 'utf8'), 'GGUF an earlier conversion');
    assert.deepEqual(partials(folder), []);
  });

  void it('SIGKILL while converting: the converter ends with coi, not seconds or minutes later as an orphan; the next conversion succeeds, its progress redrawn in place on a terminal', { timeout: 240_000 }, async () => {
    const { workspace, folder, state } = completedJob();
    let child: ChildProcess | undefined;
    const killed = coiWatched(['finetune', 'gguf', state.id], workspace, (_stderr, spawned) => (child = spawned));
    let converter: number | undefined;
    assert.ok(await within(60_000, () => (converter = processesWith('convert_hf_to_gguf.py', folder)[0]) !== undefined), 'the converter started');
    child?.kill('SIGKILL');
    assert.equal((await killed).signal, 'SIGKILL');
    assert.ok(await within(5_000, () => !alive(converter ?? 0)), `converter ${converter ?? '?'} still running after coi was killed`);
    assert.deepEqual(partials(folder), [], 'no partial file left by the converter');

    if (!terminalAvailable()) return;
    const again = await coiOnTerminal(['finetune', 'gguf', state.id], { cwd: workspace, stderrToo: true });
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /\r\x1b\[KConverting: \d+ s, converting tensors: \d+ \(details in \S+gguf\.log\)/);
    assert.ok(hasGgufMagic(join(folder, 'model-f16.gguf')));
    assert.deepEqual(partials(folder), []);
  });
});
