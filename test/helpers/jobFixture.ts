/**
 * A fine-tuning job folder as core/finetune writes it (config.json, state.json,
 * metrics.jsonl, log), written through the store's own functions, for the panel's tests.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createJob, jobDir, LORA_DEFAULTS, PAPER_DEFAULTS, updateState, type JobConfig, type JobState, type MetricEvent } from '../../core/finetune';
import type { JobRefresh } from '../../client/panel/jobSources';

/** Jobs read through their engines, as in a trusted workspace with no API key stored. */
export const keylessRefresh: JobRefresh = (workspace) => Promise.resolve({ workspace });

export const fixtureConfig: JobConfig = { engine: 'trl', baseModel: 'Qwen/Qwen2.5-0.5B', data: 'train.jsonl', method: 'lora', training: { ...PAPER_DEFAULTS, maxSteps: 40 }, lora: LORA_DEFAULTS };

/** Loss falling from 2.5, learning rate warming up then decaying: what a TRL run logs. */
export function fixtureMetrics(steps: number, maxSteps = 40): MetricEvent[] {
  return Array.from({ length: steps }, (_, i) => ({ step: i + 1, epoch: (i + 1) / maxSteps, loss: 2.5 * Math.exp(-i / 10) + 0.2, learningRate: 2e-5 * Math.min(1, (i + 1) / 4) * (1 - i / maxSteps), maxSteps }));
}

/** A job cancelled after `steps` steps with a checkpoint (so it can be resumed); returns its folder and state. */
export function writeCancelledJob(workspace: string, steps: number, now = new Date('2026-12-01T10:00:00Z')): { folder: string; state: JobState } {
  const created = createJob(workspace, fixtureConfig, now);
  const folder = jobDir(workspace, created.id);
  updateState(folder, 'running', { pid: 999_999 });
  const state = updateState(folder, 'cancelled', { message: 'Cancelled by the user.', lastCheckpoint: { path: join(folder, 'output', `checkpoint-${steps}`), step: steps } });
  writeFileSync(join(folder, 'metrics.jsonl'), fixtureMetrics(steps).map((m) => JSON.stringify(m)).join('\n') + '\n');
  appendFileSync(join(folder, 'log'), `{'loss': 2.5, 'learning_rate': 5e-06}\n<b>not html</b>\nSaving checkpoint-${steps}\n`);
  return { folder, state };
}

/** A completed full fine-tune with its GGUF converted (the file itself is not written); returns its folder and state. */
export function writeCompletedJob(workspace: string, ggufName = 'model-f16.gguf', now = new Date('2026-12-02T10:00:00Z')): { folder: string; state: JobState } {
  const created = createJob(workspace, { ...fixtureConfig, method: 'full', lora: undefined } as JobConfig, now);
  const folder = jobDir(workspace, created.id);
  updateState(folder, 'running', { pid: 999_999 });
  writeFileSync(join(folder, 'metrics.jsonl'), fixtureMetrics(40).map((m) => JSON.stringify(m)).join('\n') + '\n');
  const state = updateState(folder, 'completed', { resultDir: join(folder, 'output', 'final'), ggufPath: join(folder, ggufName) });
  return { folder, state };
}

/** A process in a group of its own, as a training job's launcher is; stopped when the test ends. */
export function groupLeader(t: { after: (fn: () => void) => void }): number {
  const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error('sleep did not start');
  t.after(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return pid;
}
