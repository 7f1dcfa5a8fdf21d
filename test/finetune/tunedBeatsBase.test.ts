/**
 * The paper's result in miniature, from the command line a user types: the paper's CoI2
 * training records become a TRL prompt-completion set (`coi dataset build`, with a held-out
 * validation split), a tiny Llama is fully fine-tuned on it for 200 steps on the CPU, both
 * the tuned model and its base are converted to GGUF, and `coi finetune eval` scores them side
 * by side on the held-out split. The tuned model learnt to answer in the paper's
 * "Task 1 output and task 2 input: … Task 2 output: …" form, so its whole-output ROUGE-L
 * (the paper's Table 4 number) must be clearly above its base's. Needs ../shared (the
 * paper's data) and Python ≥ 3.10; skips with one line without either.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureVenv, type JobState } from '../../core/finetune';
import type { EvalReport } from '../../core/eval';
import { coi, coiAsync } from '../cli/cliProcess';
import { repoPath, sharedDataPath, sharedDataSkip } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { FAST_TRAINING, noPythonSkip } from '../helpers/finetuneInputs';

/** Records of the paper's CoI2 training set used: enough for 200 steps of batch 8 without repeating much. */
const RECORDS = 400;

function skipReason(): string | false {
  return sharedDataSkip !== false ? sharedDataSkip : noPythonSkip();
}

void test('a tiny Llama fine-tuned on CoI2 chains beats its base on held-out chains (whole-output ROUGE-L)', { skip: skipReason() }, async (t) => {
  const venv = await ensureVenv();
  const workspace = tempDir();
  const records = (JSON.parse(readFileSync(sharedDataPath('coi_2.json'), 'utf8')) as { instruction: string; input: string; output: string }[]).slice(0, RECORDS);
  writeFileSync(join(workspace, 'coi2-part.json'), JSON.stringify(records));
  // The tokenizer of the tiny model is trained on the same text (nothing comes from a model hub).
  writeFileSync(join(workspace, 'text.txt'), records.map((r) => `${r.instruction}\n${r.input}\n${r.output}`).join('\n'));
  const made = spawnSync(venv.python, [repoPath('python', 'make_tiny_hf_model.py'), join(workspace, 'tiny'), join(workspace, 'text.txt')], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);

  const built = coi(['dataset', 'build', 'coi2-part.json', '--out', 'data', '--format', 'trl-prompt-completion', '--json'], { cwd: workspace });
  assert.equal(built.code, 0, built.stderr);

  // Without coi()'s 2-minute limit: 200 steps take 80 s alone, several minutes beside other tests.
  const trained = await coiAsync(['finetune', 'start', '--base', 'tiny', '--data', 'data/train.jsonl', ...FAST_TRAINING, '--max-steps', '200', '--wait', '--json'], { cwd: workspace });
  assert.equal(trained.code, 0, trained.stderr);
  const job = JSON.parse(trained.stdout) as JobState;
  assert.equal(job.status, 'completed');

  const converted = coi(['finetune', 'gguf', job.id, '--outtype', 'f32', '--json'], { cwd: workspace });
  assert.equal(converted.code, 0, converted.stderr);

  // No --data: the job's held-out split (data/validation.jsonl, TRL prompt-completion) is found and read as records.
  const evaluated = await coiAsync(['finetune', 'eval', job.id, '--max-tokens', '48', '--threads', '1', '--json'], { cwd: workspace });
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const report = JSON.parse(evaluated.stdout) as EvalReport;
  const held = readFileSync(join(workspace, 'data', 'validation.jsonl'), 'utf8').trim().split('\n').length;
  assert.equal(report.counts.results, 2 * held, 'every held-out chain on both models');
  const whole = (model: (key: string) => boolean): number => report.groups.find((g) => model(g.model))?.metrics['whole.rougeL']?.mean ?? NaN;
  const tuned = whole((key) => key.endsWith('model-f32.gguf'));
  const base = whole((key) => key.endsWith('base-f32.gguf'));
  const difference = report.comparisons.find((c) => c.metric === 'whole.rougeL' && c.b.model.endsWith('model-f32.gguf'));
  t.diagnostic(`whole-output ROUGE-L on ${held} held-out chains: tuned ${tuned.toFixed(1)}, base ${base.toFixed(1)}, paired difference ${difference?.difference.mean.toFixed(1) ?? '?'} [${difference?.difference.low.toFixed(1) ?? '?'}, ${difference?.difference.high.toFixed(1) ?? '?'}]`);
  assert.ok(tuned > base + 5, `whole-output ROUGE-L: tuned ${tuned.toFixed(1)} vs base ${base.toFixed(1)}`);
  assert.ok(difference !== undefined && difference.difference.low > 0, `the paired interval of tuned − base excludes 0: ${JSON.stringify(difference?.difference)}`);
});
