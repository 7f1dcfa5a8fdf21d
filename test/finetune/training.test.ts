/**
 * Real CPU fine-tuning with the local TRL engine, through the real `coi` binary: the tiny
 * HF Llama of python/make_tiny_hf_model.py trained on an excerpt of CoI2
 * (test/fixtures/finetune). Makes or reuses the cached Python environment
 * (`coi finetune setup`); skips with one line only when Python ≥ 3.10 is absent.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { convertToGguf, ensureVenv, venvLocation, jobDir, processGroupAlive, readMetrics, readState, type JobState } from '../../core/finetune';
import { loadNodeLlamaCpp } from '../../core/backends/local/nodeLlamaCpp';
import { formatExtension, readDataset, writeDataset } from '../../core/dataset';
import { coi, coiAsync, coiInterrupted } from '../cli/cliProcess';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { coi2Excerpt, FAST_TRAINING, noPythonSkip, tinyHfModel } from '../helpers/finetuneInputs';
import { holdPython, type HoldPoint } from '../helpers/heldPython';

const data = coi2Excerpt;

void describe('coi finetune with the local TRL engine (real CPU training)', { skip: noPythonSkip() }, () => {
  let base = '';
  let workspace = '';
  let fullJob: JobState | undefined;
  let loraJob: JobState | undefined;

  before(async () => {
    const venv = await ensureVenv();
    base = tinyHfModel(venv.python, data);
    workspace = tempDir();
  });

  function startJob(extra: readonly string[], env: Record<string, string> = {}): JobState {
    const started = coi(['finetune', 'start', '--base', base, '--data', data, ...FAST_TRAINING, ...extra, '--json'], { cwd: workspace, env });
    assert.equal(started.code, 0, started.stderr);
    return JSON.parse(started.stdout) as JobState;
  }

  function status(id: string): JobState {
    const result = coi(['finetune', 'status', id, '--json'], { cwd: workspace });
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as JobState;
  }

  /** Waits for the training process to write something (it runs outside this process). */
  async function until(what: string, predicate: () => boolean): Promise<void> {
    const deadline = Date.now() + 120_000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  void it('full fine-tuning: progress lines arrive, the loss falls, the model is written', async () => {
    const result = await coiAsync(['finetune', 'start', '--base', base, '--data', data, ...FAST_TRAINING, '--max-steps', '40', '--wait', '--json'], { cwd: workspace });
    assert.equal(result.code, 0, result.stderr);
    const state = JSON.parse(result.stdout) as JobState;
    fullJob = state;
    assert.equal(state.status, 'completed');
    assert.equal((result.stderr.match(/^step \d+\/40 .*loss \d/gm) ?? []).length, 40, result.stderr);
    // Before it runs: the resolved job and the exact command (both also saved beside the job).
    assert.match(result.stderr, /^Job ft-\S+:\n  Engine: trl\n[\s\S]*  Training: 40 steps at most, [\s\S]*^Command \(saved as \S+\/command\):\n  \S+python -m accelerate\.commands\.launch /m);
    const metrics = readMetrics(jobDir(workspace, state.id));
    const first = metrics[0]?.loss ?? 0;
    const last = metrics.at(-1)?.loss ?? Infinity;
    assert.ok(last < first - 1, `loss ${first} → ${last}`);
    assert.ok(existsSync(join(state.resultDir ?? '', 'model.safetensors')));
  });

  void it('LoRA: an adapter that adds no tokens and trains no embeddings', async () => {
    const result = await coiAsync(['finetune', 'start', '--base', base, '--data', data, ...FAST_TRAINING, '--method', 'lora', '--max-steps', '8', '--wait', '--json'], { cwd: workspace });
    assert.equal(result.code, 0, result.stderr);
    const state = JSON.parse(result.stdout) as JobState;
    loraJob = state;
    assert.equal(state.status, 'completed');
    assert.equal(readMetrics(jobDir(workspace, state.id)).length, 8);
    const adapter = JSON.parse(readFileSync(join(state.resultDir ?? '', 'adapter_config.json'), 'utf8')) as { modules_to_save: unknown; target_modules: unknown };
    assert.equal(adapter.modules_to_save ?? null, null);
    assert.ok(!JSON.stringify(adapter.target_modules).includes('embed'));
    assert.ok(!existsSync(join(state.resultDir ?? '', 'added_tokens.json')));
  });

  void it('trains on every dataset format, not only prompt-completion (the tiny tokenizer has no chat template)', async () => {
    const examples = readDataset(readFileSync(data, 'utf8')).examples;
    // A workspace of its own: the jobs of this suite's workspace are counted below.
    const elsewhere = tempDir();
    for (const format of ['paper', 'alpaca-jsonl', 'openai-chat', 'trl-chat'] as const) {
      const file = join(tempDir(), `train${formatExtension(format)}`);
      writeFileSync(file, writeDataset(examples, format));
      const result = await coiAsync(['finetune', 'start', '--base', base, '--data', file, ...FAST_TRAINING, '--max-steps', '1', '--wait', '--json'], { cwd: elsewhere });
      assert.equal(result.code, 0, `${format}: ${result.stderr}`);
      assert.equal((JSON.parse(result.stdout) as JobState).status, 'completed', format);
    }
  });

  /** Greedy text of a GGUF (optionally with a LoRA adapter GGUF) through node-llama-cpp. */
  async function generate(modelPath: string, adapter?: string): Promise<string> {
    const nlc = await loadNodeLlamaCpp();
    const llama = await nlc.getLlama({ gpu: false, maxThreads: 1, build: 'never' });
    const model = await llama.loadModel({ modelPath });
    const context = await model.createContext({ contextSize: 512, threads: 1, ...(adapter === undefined ? {} : { lora: { adapters: [{ filePath: adapter }] } }) });
    const completion = new nlc.LlamaCompletion({ contextSequence: context.getSequence() });
    const prompt = readFileSync(data, 'utf8').split('\n')[0] ?? '';
    const text = await completion.generateCompletion((JSON.parse(prompt) as { prompt: string }).prompt, { maxTokens: 12, temperature: 0 });
    await context.dispose();
    await model.dispose();
    return text;
  }

  function convert(job: JobState | undefined, outType: string): string {
    assert.ok(job !== undefined, 'the training test before this one failed');
    const result = coi(['finetune', 'gguf', job.id, '--outtype', outType, '--json'], { cwd: workspace });
    assert.equal(result.code, 0, result.stderr);
    const path = (JSON.parse(result.stdout) as JobState).ggufPath ?? '';
    assert.ok(existsSync(path), path);
    return path;
  }

  void it('the full fine-tune converts to GGUF (f32 and q8_0) and node-llama-cpp loads and runs it', async () => {
    for (const outType of ['f32', 'q8_0']) {
      const text = await generate(convert(fullJob, outType));
      assert.ok(text.length > 0, `no text from the ${outType} GGUF`);
    }
  });

  void it('Ctrl-C while coi finetune eval converts the base model says that nothing was evaluated and how to start again', async () => {
    assert.ok(fullJob !== undefined, 'the training test before this one failed');
    const records = join(tempDir(), 'held-out.json');
    writeFileSync(records, JSON.stringify((JSON.parse(readFileSync(repoPath('test', 'fixtures', 'records', 'coi2-excerpt.json'), 'utf8')) as unknown[]).slice(0, 1)));
    const result = await coiInterrupted(['finetune', 'eval', fullJob.id, '--data', records, '--threads', '1'], workspace, /^Base model: converting /m);
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /^coi finetune: Cancelled while converting the base model to GGUF: nothing was evaluated and no store was started\. Run the same command again to convert it and evaluate\.$/m);
    assert.equal(existsSync(join(jobDir(workspace, fullJob.id), 'eval')), false, 'no store');
  });

  void it('coi finetune eval: the fine-tune and its base side by side on held-out records, the base converted once and kept', () => {
    assert.ok(fullJob !== undefined, 'the training test before this one failed');
    const records = join(tempDir(), 'held-out.json');
    writeFileSync(records, JSON.stringify((JSON.parse(readFileSync(repoPath('test', 'fixtures', 'records', 'coi2-excerpt.json'), 'utf8')) as unknown[]).slice(0, 3)));
    const first = coi(['finetune', 'eval', fullJob.id, '--data', records, '--max-tokens', '16', '--threads', '1', '--json'], { cwd: workspace });
    assert.equal(first.code, 0, first.stderr);
    const report = JSON.parse(first.stdout) as { store: string; groups: { model: string; mode: string }[] };
    const state = JSON.parse(coi(['finetune', 'status', fullJob.id, '--json'], { cwd: workspace }).stdout) as JobState;
    assert.equal(state.evaluation, report.store, 'the job records its evaluation');
    assert.ok(report.store.startsWith(jobDir(workspace, fullJob.id)), 'the store is in the job folder');
    const models = [...new Set(report.groups.map((g) => g.model))];
    assert.equal(models.length, 2, JSON.stringify(report.groups));
    assert.ok(models.some((m) => /base-.*\.gguf$/.test(m)) && models.some((m) => m === state.ggufPath), models.join(', '));
    assert.equal(readFileSync(join(report.store, 'results.jsonl'), 'utf8').trim().split('\n').length, 3 * 2, 'each record on each model, composed');
    const baseFile = models.find((m) => m !== state.ggufPath) ?? '';
    const converted = statSync(baseFile).mtimeMs;
    const again = coi(['finetune', 'eval', fullJob.id, '--data', records, '--max-tokens', '16', '--threads', '1'], { cwd: workspace });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(statSync(baseFile).mtimeMs, converted, 'the base GGUF is kept in the job folder, not converted again');
    assert.doesNotMatch(again.stderr, /converting/);
    assert.match(again.stdout, /base-q8_0\.gguf/, 'the table names both models');
    const noData = coi(['finetune', 'eval', fullJob.id], { cwd: workspace });
    assert.equal(noData.code, 2);
    assert.match(noData.stderr, /no validation file beside its training data .* --data FILE/);
  });

  void it('the LoRA adapter converts to GGUF and runs on its base through createContext({ lora })', async () => {
    const adapter = convert(loraJob, 'f32');
    const baseGguf = await convertToGguf({ venv: venvLocation(), source: base, outFile: join(tempDir(), 'base.gguf'), outType: 'f32' });
    const withAdapter = await generate(baseGguf, adapter);
    assert.ok(withAdapter.length > 0);
    // The same adapter named in a chain: `lora "adapter.gguf" 0.5` in a local model profile.
    const chainDir = tempDir();
    writeFileSync(join(chainDir, 'tuned.coi'), `chain tuned\nmodel tuned {\n  provider local\n  path ${JSON.stringify(baseGguf)}\n  lora ${JSON.stringify(adapter)} 0.5\n  max_tokens 8\n}\ninput text: text\nstep summary {\n  instruction "Summarize the text."\n  from text\n}\n`);
    const check = coi(['check', 'tuned.coi'], { cwd: chainDir });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const run = coi(['run', 'tuned.coi', '--input', 'The cat sat on the mat.', '--threads', '1', '--no-cache', '--json'], { cwd: chainDir });
    // The tiny model may well answer blanks (then the text contract fails the step, exit 1): what
    // matters here is that the model with its adapter loaded and generated.
    const record = JSON.parse(run.stdout) as { model: string; steps: { completionTokens?: number; error?: { code: string } }[] };
    assert.ok(run.code === 0 || record.steps[0]?.error?.code === 'contract', `${run.stderr}\n${run.stdout.slice(0, 2000)}`);
    assert.ok((record.steps[0]?.completionTokens ?? 0) > 0, 'tokens were generated with the adapter');
    assert.match(record.model, /\+ lora .*adapter-f32\.gguf × 0\.5$/, 'the adapter is part of the model identity (cache keys, records)');
    // Evaluate against the base: the base GGUF, and the same base with the adapter on it (`base.gguf?lora=adapter.gguf`).
    const records = join(tempDir(), 'held-out.json');
    writeFileSync(records, JSON.stringify((JSON.parse(readFileSync(repoPath('test', 'fixtures', 'records', 'coi2-excerpt.json'), 'utf8')) as unknown[]).slice(0, 2)));
    const evaluated = coi(['finetune', 'eval', loraJob?.id ?? '', '--data', records, '--max-tokens', '8', '--threads', '1', '--json'], { cwd: workspace });
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const models = [...new Set((JSON.parse(evaluated.stdout) as { groups: { model: string }[] }).groups.map((g) => g.model))];
    const baseOfJob = join(jobDir(workspace, loraJob?.id ?? ''), 'base-f32.gguf');
    assert.deepEqual(models.sort(), [baseOfJob, `${baseOfJob}?lora=${adapter}`].sort());
    const unknownAdapter = coi(['finetune', 'gguf', 'ft-missing'], { cwd: workspace });
    assert.equal(unknownAdapter.code, 2);
  });

  void it('Cancel saves a checkpoint; Resume continues from it to the end', async () => {
    // Held once step 3 is logged, until the cancel's signal reaches it: the 27 steps left take seconds, which a loaded machine can let pass before the cancel.
    const hold = holdPython({ afterStep: 3 });
    const { id } = startJob(['--max-steps', '30'], hold.env);
    const dir = jobDir(workspace, id);
    await hold.held;
    assert.equal(readMetrics(dir).length, 3);
    const cancelling = coi(['finetune', 'cancel', id, '--json'], { cwd: workspace });
    assert.equal(cancelling.code, 0, cancelling.stderr);
    assert.equal((JSON.parse(cancelling.stdout) as JobState).status, 'cancelling');
    await until('the job to stop', () => !processGroupAlive(readState(dir).pid ?? 0));
    const cancelled = status(id);
    assert.equal(cancelled.status, 'cancelled');
    const checkpoint = cancelled.lastCheckpoint;
    assert.ok(checkpoint !== undefined && checkpoint.step >= 3 && checkpoint.step < 30, JSON.stringify(cancelled));
    const resumed = await coiAsync(['finetune', 'resume', id, '--wait', '--json'], { cwd: workspace });
    assert.equal(resumed.code, 0, resumed.stderr);
    const final = JSON.parse(resumed.stdout) as JobState;
    assert.equal(final.status, 'completed');
    assert.equal(final.resumes, 1);
    // The reason it was cancelled no longer describes it; what it says is the run's (two of the excerpt's prompts fill maxLength).
    assert.doesNotMatch(final.message ?? '', /Stopped at step|SIGTERM/, 'the reason it was cancelled no longer describes it');
    assert.match(final.message ?? '', /^2 of 24 examples were left out \(lines 17 and 18 of /);
    const steps = readMetrics(dir).map((m) => m.step);
    // The resumed run starts right after the checkpoint, not from step 1.
    assert.equal(steps[steps.lastIndexOf(checkpoint.step) + 1], checkpoint.step + 1);
    assert.equal(steps.filter((s) => s === 1).length, 1);
    assert.equal(steps.at(-1), 30);
  });

  void it('a job killed with SIGKILL shows as failed with its last checkpoint, and resumes', async () => {
    // Held once step 12 is logged (checkpoints 5 and 10 saved) until the kill: the steps left would otherwise race it.
    const hold = holdPython({ afterStep: 12 });
    const { id, pid } = startJob(['--max-steps', '30', '--save-steps', '5'], hold.env);
    const dir = jobDir(workspace, id);
    await hold.held;
    assert.equal(readMetrics(dir).length, 12);
    process.kill(-(pid ?? 0), 'SIGKILL');
    await until('the process group to end', () => !processGroupAlive(pid ?? 0));
    const failed = status(id);
    assert.equal(failed.status, 'failed');
    assert.match(failed.message ?? '', /ended without finishing/);
    assert.ok((failed.lastCheckpoint?.step ?? 0) >= 5, JSON.stringify(failed));
    const resumed = await coiAsync(['finetune', 'resume', id, '--wait', '--json'], { cwd: workspace });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal((JSON.parse(resumed.stdout) as JobState).status, 'completed');
    const metrics = readMetrics(dir);
    assert.equal(metrics.at(-1)?.step, 30);
    // Right after the resume, tokens/s is this run's tokens over this run's time, as at the job's
    // start: counting the tokens of the steps before the checkpoint too made it several times as high.
    const resumedFirst = metrics.findIndex((m, i) => i > 0 && (m.elapsedSeconds ?? 0) < (metrics[i - 1]?.elapsedSeconds ?? 0));
    const [before, after] = [metrics[0]?.tokensPerSecond ?? 0, metrics[resumedFirst]?.tokensPerSecond ?? 0];
    assert.ok(before > 0 && after > 0 && after < 3 * before, `tokens/s ${before} at the start, ${after} right after the resume (line ${resumedFirst + 1})`);
  });

  /**
   * Whether the trainer (coi_train.py) of the process group `pgid` handles SIGTERM yet: Linux
   * names each process's group in /proc/PID/stat and the signals it catches in /proc/PID/status.
   */
  function trainerCatchesSigterm(pgid: number): boolean {
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // The launcher's command line names coi_train.py too, but not as the script python runs.
        const script = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1] ?? '';
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid || !script.endsWith('coi_train.py')) continue;
        const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0';
        return (BigInt(`0x${caught}`) & (1n << 14n)) !== 0n; // bit 14: signal 15
      } catch {
        // a process that ended meanwhile
      }
    }
    return false;
  }

  void it('a cancel in the first seconds ends as cancelled, not failed: while the launcher starts, and while the trainer imports', { skip: process.platform === 'linux' ? false : 'reads /proc' }, async () => {
    const elsewhere = tempDir(); // the last test counts this suite's jobs
    /** A job held at `at` (it cannot get past it), cancelled there once `check` has seen it held; its state once it stopped. */
    const cancelHeld = async (at: HoldPoint, check: (job: JobState, heldPid: number) => void): Promise<JobState> => {
      const hold = holdPython(at);
      const started = coi(['finetune', 'start', '--base', base, '--data', data, ...FAST_TRAINING, '--max-steps', '40', '--json'], { cwd: elsewhere, env: hold.env });
      assert.equal(started.code, 0, started.stderr);
      const job = JSON.parse(started.stdout) as JobState;
      check(job, await hold.held);
      const cancelled = coi(['finetune', 'cancel', job.id, '--json'], { cwd: elsewhere });
      assert.equal((JSON.parse(cancelled.stdout) as JobState).status, 'cancelling', cancelled.stderr);
      await until('the job to stop', () => !processGroupAlive(job.pid ?? 0));
      const result = coi(['finetune', 'status', job.id, '--json'], { cwd: elsewhere });
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as JobState;
    };
    // While accelerate's launcher starts (the trainer not started): nothing handles the signal, which ends the process; coi says what happened.
    const atLaunch = await cancelHeld('launcher', (job, held) => assert.equal(held, job.pid, 'the launcher, which leads the job, is the process held'));
    assert.equal(atLaunch.status, 'cancelled', atLaunch.message);
    assert.match(atLaunch.message ?? '', /^Cancelled before training began: the training process \(pid \d+\) ended on the cancel signal/);
    // While the trainer imports (torch, then the model: seconds before its first step), its handler set first of all: it stops at once and says so.
    const whileImporting = await cancelHeld('trainer-imports', (job) => assert.ok(trainerCatchesSigterm(job.pid ?? 0), 'the trainer handles SIGTERM before its slow imports'));
    assert.equal(whileImporting.status, 'cancelled', whileImporting.message);
    assert.match(whileImporting.message ?? '', /^Cancelled before training began \(SIGTERM\): nothing was trained in this run/);
    assert.equal(whileImporting.lastCheckpoint, undefined);
    assert.deepEqual(readMetrics(jobDir(elsewhere, whileImporting.id)), [], 'no step was trained');
  });

  void it('list shows every job of the folder; a job id that does not exist is a clear error', () => {
    const listed = coi(['finetune', 'list', '--json'], { cwd: workspace });
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal((JSON.parse(listed.stdout) as JobState[]).length, 4);
    const missing = coi(['finetune', 'status', 'ft-nope'], { cwd: workspace });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /No job 'ft-nope'/);
  });
});
