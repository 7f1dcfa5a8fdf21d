// `npm run bench -- finetune`: what the launcher costs. The tiny HF Llama's 200-step full
// fine-tune (the measure), (a) through `coi finetune start --wait` (node, job store,
// accelerate launch, progress polling) and (b) as the bare training script run by the
// venv's python, alternately; for each, the time from start to the first logged step and the
// total time, medians side by side with their ratios (goal ≤ 1.1× on the total). Then the
// same job's first 40 steps with one core kept busy by another process (as the editor, an
// evaluation or a second job would), with torch's OpenMP threads sleeping between operations
// (coi's default, OMP_WAIT_POLICY=PASSIVE) and spinning (OpenMP's own default, ACTIVE).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureVenv, PAPER_DEFAULTS, type JobConfig } from '../../core/finetune';
import { DEFAULT_OMP_WAIT_POLICY } from '../../core/finetune/trl';
import { ensureBundle } from '../cli/cliProcess';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { summarize, verdict } from './stats';

const SAMPLES = 2;
const STEPS = 200;

interface Timing {
  readonly firstStepMs: number;
  readonly totalMs: number;
}

/** Runs the command; `metricsFile()` names the metrics.jsonl to watch for the first step (it may not exist yet). */
function timed(command: string, args: readonly string[], cwd: string, metricsFile: () => string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Timing> {
  const start = performance.now();
  let firstStepMs = NaN;
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...env, HF_HUB_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const poll = setInterval(() => {
    const file = metricsFile();
    if (Number.isNaN(firstStepMs) && file !== undefined && existsSync(file) && readFileSync(file, 'utf8').includes('\n')) firstStepMs = performance.now() - start;
  }, 20);
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      clearInterval(poll);
      if (code !== 0) reject(new Error(`${command} failed (${code}): ${stderr}`));
      else resolve({ firstStepMs, totalMs: performance.now() - start });
    });
  });
}

function jobMetrics(workspace: string): string | undefined {
  const jobs = join(workspace, '.coi-jobs');
  const [id] = existsSync(jobs) ? readdirSync(jobs) : [];
  return id === undefined ? undefined : join(jobs, id, 'metrics.jsonl');
}

export async function run(): Promise<void> {
  const venv = await ensureVenv();
  ensureBundle();
  const data = repoPath('test', 'fixtures', 'finetune', 'coi2-excerpt.jsonl');
  const base = join(tempDir(), 'tiny-hf');
  const text = join(tempDir(), 'text.txt');
  writeFileSync(text, readFileSync(data, 'utf8'));
  await timed(venv.python, [repoPath('python', 'make_tiny_hf_model.py'), base, text], tempDir(), () => undefined);
  const training = { ...PAPER_DEFAULTS, maxSteps: STEPS, perDeviceBatchSize: 8, gradientAccumulationSteps: 1, learningRate: 3e-3 };
  const viaCoi: Timing[] = [];
  const bare: Timing[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const workspace = tempDir();
    viaCoi.push(await timed(process.execPath, [repoPath('bin', 'coi.js'), 'finetune', 'start', '--base', base, '--data', data, '--max-steps', String(STEPS), '--learning-rate', '3e-3', '--batch-size', '8', '--grad-accum', '1', '--wait', '--json'], workspace, () => jobMetrics(workspace)));
    const job = join(tempDir(), 'job');
    mkdirSync(job);
    const config: JobConfig = { engine: 'trl', baseModel: base, data, method: 'full', training };
    writeFileSync(join(job, 'config.json'), JSON.stringify(config));
    // The bare script's threads wait as coi's do (coi_train.py under coi gets OMP_WAIT_POLICY=PASSIVE unless set).
    const sameThreads = { ...process.env, OMP_WAIT_POLICY: process.env['OMP_WAIT_POLICY'] ?? DEFAULT_OMP_WAIT_POLICY };
    bare.push(await timed(venv.python, [repoPath('python', 'coi_train.py'), '--job-dir', job, '--output-dir', join(job, 'output')], job, () => join(job, 'metrics.jsonl'), sameThreads));
  }
  const median = (timings: readonly Timing[], pick: (t: Timing) => number): number => summarize(timings.map(pick)).medianMs;
  const [coiFirst, bareFirst] = [median(viaCoi, (t) => t.firstStepMs), median(bare, (t) => t.firstStepMs)];
  const [coiTotal, bareTotal] = [median(viaCoi, (t) => t.totalMs), median(bare, (t) => t.totalMs)];
  console.log(`start to first step, median of ${SAMPLES}: coi finetune start ${(coiFirst / 1000).toFixed(2)} s, bare script ${(bareFirst / 1000).toFixed(2)} s (+${((coiFirst - bareFirst) / 1000).toFixed(2)} s: node, accelerate launch, the second Python process)`);
  console.log(`${STEPS} steps in all, median of ${SAMPLES}: coi finetune start --wait ${(coiTotal / 1000).toFixed(2)} s, bare script ${(bareTotal / 1000).toFixed(2)} s, ratio ${(coiTotal / bareTotal).toFixed(2)}× (goal ≤ 1.1×: ${verdict(coiTotal / bareTotal <= 1.1)})`);
  await besideABusyCore(base, data);
}

const BUSY_STEPS = 40;

/** coi's training with one core kept busy by a spinning process: sleeping OpenMP threads (coi's default) against spinning ones. */
async function besideABusyCore(base: string, data: string): Promise<void> {
  const train = async (policy: string | undefined): Promise<number> => {
    const workspace = tempDir();
    const args = [repoPath('bin', 'coi.js'), 'finetune', 'start', '--base', base, '--data', data, '--max-steps', String(BUSY_STEPS), '--learning-rate', '3e-3', '--batch-size', '8', '--grad-accum', '1', '--wait', '--json'];
    const env = { ...process.env, OMP_WAIT_POLICY: policy };
    if (policy === undefined) delete env['OMP_WAIT_POLICY'];
    return (await timed(process.execPath, args, workspace, () => jobMetrics(workspace), env)).totalMs;
  };
  const alone = await train(undefined);
  const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  try {
    const sleeping = await train(undefined);
    const spinning = await train('ACTIVE');
    console.log(`${BUSY_STEPS} steps beside one busy core: threads sleeping (coi's default) ${(sleeping / 1000).toFixed(2)} s, spinning (OMP_WAIT_POLICY=ACTIVE) ${(spinning / 1000).toFixed(2)} s: ${(spinning / sleeping).toFixed(2)}× slower; alone (sleeping) ${(alone / 1000).toFixed(2)} s`);
  } finally {
    busy.kill('SIGKILL');
  }
}
