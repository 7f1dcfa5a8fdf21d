// `npm run bench -- finetune`: what the launcher costs. The same 30-step full fine-tune of
// the tiny HF Llama, (a) through `coi finetune start --wait` (node, job store, accelerate
// launch, progress polling) and (b) as the bare training script run by the venv's python;
// medians side by side and their ratio (goal ≤ 1.1×).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureVenv, PAPER_DEFAULTS, type JobConfig } from '../../core/finetune';
import { ensureBundle } from '../cli/cliProcess';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { summarize, verdict } from './stats';

const SAMPLES = 3;
const STEPS = 30;

export async function run(): Promise<void> {
  const venv = await ensureVenv();
  ensureBundle();
  const data = repoPath('test', 'fixtures', 'finetune', 'coi2-excerpt.jsonl');
  const base = join(tempDir(), 'tiny-hf');
  const text = join(tempDir(), 'text.txt');
  writeFileSync(text, readFileSync(data, 'utf8'));
  const made = spawnSync(venv.python, [repoPath('python', 'make_tiny_hf_model.py'), base, text], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(made.stderr);
  const training = { ...PAPER_DEFAULTS, maxSteps: STEPS, perDeviceBatchSize: 8, gradientAccumulationSteps: 1, learningRate: 3e-3 };
  const timed = (command: string, args: readonly string[], cwd: string): number => {
    const start = performance.now();
    const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, HF_HUB_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' } });
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr.slice(-2000)}`);
    return performance.now() - start;
  };
  const viaCoi: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const workspace = tempDir();
    viaCoi.push(timed(process.execPath, [repoPath('bin', 'coi.js'), 'finetune', 'start', '--base', base, '--data', data, '--max-steps', String(STEPS), '--learning-rate', '3e-3', '--batch-size', '8', '--grad-accum', '1', '--wait', '--json'], workspace));
    const job = join(tempDir(), 'job');
    mkdirSync(job);
    const config: JobConfig = { engine: 'trl', baseModel: base, data, method: 'full', training };
    writeFileSync(join(job, 'config.json'), JSON.stringify(config));
    bare.push(timed(venv.python, [repoPath('python', 'coi_train.py'), '--job-dir', job, '--output-dir', join(job, 'output')], job));
  }
  const a = summarize(viaCoi).medianMs;
  const b = summarize(bare).medianMs;
  console.log(`${STEPS} steps, median of ${SAMPLES}: coi finetune start --wait ${(a / 1000).toFixed(2)} s, bare script ${(b / 1000).toFixed(2)} s, ratio ${(a / b).toFixed(2)}× (goal ≤ 1.1×: ${verdict(a / b <= 1.1)})`);
}
