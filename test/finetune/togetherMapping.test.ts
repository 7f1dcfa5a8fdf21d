// What the service's answers mean in the job model (core/finetune/together/mapping.ts).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { FinetuneEvent } from 'together-ai/resources/fine-tuning';
import { FinetuneError, LORA_DEFAULTS, PAPER_DEFAULTS, type JobConfig } from '../../core/finetune';
import { createParams, failureReason, localStatusOf, metricEventOf, newestCheckpoint, type RemoteStatus } from '../../core/finetune/together/mapping';

const statuses: readonly [RemoteStatus, string][] = [
  ['pending', 'queued'],
  ['queued', 'queued'],
  ['running', 'running'],
  ['compressing', 'running'],
  ['uploading', 'running'],
  ['cancel_requested', 'cancelling'],
  ['cancelled', 'cancelled'],
  ['error', 'failed'],
  ['completed', 'downloading'],
];
for (const [remote, local] of statuses) {
  void test(`the service's '${remote}' is ${local} here`, () => assert.equal(localStatusOf(remote), local));
}

const rows: readonly [Record<string, number>, unknown][] = [
  [{ step: 3, train_loss: 1.5, learning_rate: 2e-5, epoch: 0.5 }, { step: 3, epoch: 0.5, loss: 1.5, learningRate: 2e-5, maxSteps: 10 }],
  [{ global_step: 4, loss: 1.25 }, { step: 4, loss: 1.25, maxSteps: 10 }],
  [{ 'train/global_step': 5, 'train/loss': 1, 'train/learning_rate': 1e-5 }, { step: 5, loss: 1, learningRate: 1e-5, maxSteps: 10 }],
  [{ eval_loss: 2 }, undefined],
  [{ step: Number.NaN, loss: 1 }, undefined],
];
for (const [row, expected] of rows) {
  void test(`metric row ${JSON.stringify(row)} → ${JSON.stringify(expected)}`, () => assert.deepEqual(metricEventOf(row, 10), expected));
}

const base: JobConfig = { engine: 'together', baseModel: 'org/model', data: 'train.jsonl', method: 'full', training: PAPER_DEFAULTS };

void test('a full job asks for full training with the paper\'s hyper-parameters; a LoRA job names its modules', () => {
  const full = createParams(base, 'file-1');
  assert.deepEqual(
    { n_epochs: full.n_epochs, learning_rate: full.learning_rate, batch_size: full.batch_size, gradient_accumulation_steps: full.gradient_accumulation_steps, warmup_ratio: full.warmup_ratio, weight_decay: full.weight_decay, training_type: full.training_type },
    { n_epochs: 3, learning_rate: 2e-5, batch_size: 4, gradient_accumulation_steps: 8, warmup_ratio: 0.03, weight_decay: 0, training_type: { type: 'Full' } },
  );
  const lora = createParams({ ...base, method: 'lora', lora: { ...LORA_DEFAULTS, targetModules: ['q_proj', 'v_proj'] } }, 'file-1', 'ft-abc:20');
  assert.deepEqual(lora.training_type, { type: 'Lora', lora_r: 16, lora_alpha: 32, lora_dropout: 0.05, lora_trainable_modules: 'q_proj,v_proj' });
  assert.equal(lora.from_checkpoint, 'ft-abc:20');
});

void test('what Together cannot train is refused before anything is sent', () => {
  assert.throws(() => createParams({ ...base, training: { ...PAPER_DEFAULTS, maxSteps: 5 } }, 'f'), FinetuneError);
  assert.throws(() => createParams({ ...base, training: { ...PAPER_DEFAULTS, epochs: 1.5 } }, 'f'), /whole number ≥ 1, not 1\.5/);
});

const event = (type: FinetuneEvent['type'], message: string, extra: Partial<FinetuneEvent> = {}): FinetuneEvent => ({ object: 'fine-tune-event', created_at: '2026-12-05T08:00:00Z', type, message, ...extra });

void test('the failure reason is the last error event; the newest checkpoint is named as from_checkpoint takes it', () => {
  const events = [event('job_start', 'started'), event('checkpoint_save', 'saved', { step: 4 }), event('checkpoint_save', 'saved', { step: 8 }), event('warning', 'slow', { level: 'warning' }), event('job_error', 'Bad dataset row 12')];
  assert.equal(failureReason(events, 'ft-1'), 'Together: Bad dataset row 12');
  assert.match(failureReason(events.slice(0, 3), 'ft-1'), /ft-1 failed without saying why/);
  assert.deepEqual(newestCheckpoint(events, 'ft-1'), { path: 'ft-1:8', step: 8 });
  assert.equal(newestCheckpoint([], 'ft-1'), undefined);
});
