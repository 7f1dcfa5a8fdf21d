/**
 * What the real trainer (python/coi_train.py, through the real `coi`) says when training cannot
 * go on: a loss that becomes NaN, examples that maxLength cuts to nothing, a base model folder
 * without its tokenizer, a disk that fills up while a checkpoint is saved. Each ends as a job
 * state in words (never a Python traceback as the only message, never a NaN loss shown as 0),
 * and nothing finished is lost. Makes or reuses the cached Python environment (`coi finetune
 * setup`); skips with one line only when Python ≥ 3.10 is absent (the disk-full test also when no
 * tmpfs can be mounted: it needs root).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureVenv, jobDir, readMetrics, type JobState } from '../../core/finetune';
import { coiAsync } from '../cli/cliProcess';
import { tempDir } from '../helpers/tempDir';
import { coi2Excerpt, FAST_TRAINING, noPythonSkip, tinyHfModel } from '../helpers/finetuneInputs';

const data = coi2Excerpt;

void describe('the local trainer says why it stopped (real CPU training)', { skip: noPythonSkip() }, () => {
  let python = '';
  let base = '';
  let workspace = '';
  const mounted: string[] = [];

  before(async () => {
    python = (await ensureVenv()).python;
    base = tinyHfModel(python, data);
    workspace = tempDir();
  });

  after(() => {
    for (const point of mounted) spawnSync('umount', [point]);
  });

  async function train(args: readonly string[]): Promise<{ state: JobState; stderr: string; code: number | null }> {
    const result = await coiAsync(['finetune', 'start', ...FAST_TRAINING, ...args, '--wait', '--json'], { cwd: workspace });
    return { state: JSON.parse(result.stdout) as JobState, stderr: result.stderr, code: result.code };
  }

  /** A copy of the tiny base model, changed by `change` (Python, the folder in `folder`). */
  function changedBase(change: string): string {
    const copy = join(tempDir(), 'base');
    cpSync(base, copy, { recursive: true });
    const done = spawnSync(python, ['-c', `folder = ${JSON.stringify(copy)}\n${change}`], { encoding: 'utf8' });
    assert.equal(done.status, 0, done.stderr);
    return copy;
  }

  void it('a loss that becomes NaN fails the job in words at that step, and no model of NaN weights is written', async () => {
    const nanBase = changedBase(['import math', 'from safetensors.torch import load_file, save_file', "weights = load_file(f'{folder}/model.safetensors')", "weights['model.layers.0.self_attn.q_proj.weight'][0, 0] = math.nan", "save_file(weights, f'{folder}/model.safetensors', metadata={'format': 'pt'})"].join('\n'));
    const { state, code } = await train(['--base', nanBase, '--data', data, '--max-steps', '5']);
    assert.equal(code, 1);
    assert.equal(state.status, 'failed', state.message);
    assert.match(state.message ?? '', /^Training diverged: the loss became NaN at step 1, and training stopped there; nothing from that step on was saved \(the weights are no longer numbers\)\. It was so from this run's first logged step: the base model may hold NaN or infinite weights, or the learning rate \(0\.003\) is far too high\.$/);
    const metrics = readMetrics(jobDir(workspace, state.id));
    assert.deepEqual(metrics.map((m) => m.step), [1], 'training stopped at the NaN');
    assert.equal(metrics[0]?.loss, undefined, 'a NaN loss is not shown as a number (transformers logs it as 0)');
    assert.equal(existsSync(join(jobDir(workspace, state.id), 'output', 'final')), false);
  });

  void it('examples that maxLength cuts to nothing are named; with none left the job fails saying so, not with torch\'s "num_samples=0"', async () => {
    const rows = readFileSync(data, 'utf8').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as { prompt: string; completion: string });
    const first = rows[0] ?? { prompt: '', completion: '' };
    const huge = JSON.stringify({ prompt: first.prompt.repeat(200), completion: first.completion }) + '\n';
    const alone = join(tempDir(), 'huge.jsonl');
    writeFileSync(alone, huge);
    const none = await train(['--base', base, '--data', alone, '--max-steps', '2']);
    assert.equal(none.state.status, 'failed', none.state.message);
    assert.match(none.state.message ?? '', /^No example is left to train on: the example \(line 1 of \S+\/train\.prompt-completion\.jsonl\) was cut to nothing: a prompt of maxLength \(1024\) tokens or more leaves nothing of its completion to learn from \(line 1: \d+ tokens\)\. Raise maxLength in the job's config, or shorten the prompts\.$/);

    const mixed = join(tempDir(), 'mixed.jsonl');
    writeFileSync(mixed, huge + rows.map((row) => JSON.stringify(row) + '\n').join(''));
    const some = await train(['--base', base, '--data', mixed, '--max-steps', '2']);
    assert.equal(some.state.status, 'completed', some.state.message);
    assert.match(some.state.message ?? '', new RegExp(`^\\d+ of ${rows.length + 1} examples were left out \\(lines? 1\\b[^)]* of \\S+/train\\.prompt-completion\\.jsonl\\): a prompt of maxLength \\(1024\\) tokens or more`));
  });

  void it('a base model folder without its tokenizer is said as such, naming the folder', async () => {
    const noTokenizer = changedBase(['import os', "for name in ('tokenizer.json', 'tokenizer.model', 'tokenizer_config.json'):", "    os.remove(os.path.join(folder, name))"].join('\n'));
    const { state } = await train(['--base', noTokenizer, '--data', data, '--max-steps', '2']);
    assert.equal(state.status, 'failed', state.message);
    assert.equal(state.message, `The base model folder ${noTokenizer} has no tokenizer (none of tokenizer.json, tokenizer.model, tokenizer_config.json, vocab.json, vocab.txt, spiece.model): copy the tokenizer files of the model it came from into it.`);
  });

  void it('a disk that fills up while a checkpoint is saved: the job fails saying so, the half-written checkpoint goes, the one before is kept and resumes', async (t) => {
    const disk = join(tempDir(), 'small-disk');
    mkdirSync(disk);
    // 2.5 MB: the tiny model's first checkpoint (1.9 MB with its optimizer state) fits, the second does not.
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2500k', 'tmpfs', disk], { encoding: 'utf8' });
    if (mount.status !== 0) {
      t.skip(`skipped: cannot mount a small tmpfs to fill (${mount.stderr.trim() || 'mount failed'}; needs root)`);
      return;
    }
    mounted.push(disk);
    const out = join(disk, 'out');
    const { state } = await train(['--base', base, '--data', data, '--max-steps', '12', '--save-steps', '5', '--out', out]);
    assert.equal(state.status, 'failed', state.message);
    assert.equal(state.message, `Could not save checkpoint-10 in ${out}: the disk is full (no space left there). Training stopped at step 10; the incomplete checkpoint was removed, and checkpoint-5, saved before, is kept: free space there and run \`coi finetune resume\` to go on from it.`);
    assert.equal(state.lastCheckpoint?.step, 5);
    assert.deepEqual(readdirSync(out).filter((name) => name.startsWith('checkpoint-')), ['checkpoint-5']);
    // Space freed: resume goes on from the kept checkpoint to the end.
    assert.equal(spawnSync('mount', ['-o', 'remount,size=16m', disk]).status, 0);
    const resumed = await coiAsync(['finetune', 'resume', state.id, '--wait', '--json'], { cwd: workspace });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal((JSON.parse(resumed.stdout) as JobState).status, 'completed');
    // Steps 1 to 10, then from right after the kept checkpoint to the end.
    assert.deepEqual(readMetrics(jobDir(workspace, state.id)).map((m) => m.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 6, 7, 8, 9, 10, 11, 12]);
    rmSync(out, { recursive: true, force: true });
  });
});
