import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createJob, jobDir, listJobIds, PAPER_DEFAULTS, readMetrics, readState, refreshState, updateState, type JobConfig } from '../../core/finetune';
import { tempDir } from '../helpers/tempDir';

const config: JobConfig = { engine: 'trl', baseModel: '/m', data: '/d.jsonl', method: 'full', training: PAPER_DEFAULTS };

function runningJob(workspace: string): string {
  const { id } = createJob(workspace, config);
  updateState(jobDir(workspace, id), 'running', { pid: 999_999 });
  return id;
}

void test('a new job is queued in .coi-jobs/<id>/ and listed', () => {
  const workspace = tempDir();
  const state = createJob(workspace, config);
  assert.equal(state.status, 'queued');
  assert.deepEqual(listJobIds(workspace), [state.id]);
  assert.equal(readState(jobDir(workspace, state.id)).status, 'queued');
});

void test('a transition the job model does not allow is refused (completed jobs stay completed)', () => {
  const workspace = tempDir();
  const id = runningJob(workspace);
  const dir = jobDir(workspace, id);
  updateState(dir, 'completed');
  assert.throws(() => updateState(dir, 'running'), /cannot go from completed to running/);
});

const ends: readonly { exit: object | undefined; status: string; message?: RegExp }[] = [
  { exit: undefined, status: 'failed', message: /ended without finishing/ },
  { exit: { status: 'completed', resultDir: '/x/final' }, status: 'completed' },
  { exit: { status: 'cancelled', message: 'Stopped at step 3' }, status: 'cancelled', message: /step 3/ },
];

for (const end of ends) {
  void test(`a running job whose process is gone becomes ${end.status}, with its newest complete checkpoint`, () => {
    const workspace = tempDir();
    const id = runningJob(workspace);
    const dir = jobDir(workspace, id);
    for (const [step, complete] of [[2, true], [4, true], [6, false]] as const) {
      mkdirSync(join(dir, 'output', `checkpoint-${step}`), { recursive: true });
      if (complete) writeFileSync(join(dir, 'output', `checkpoint-${step}`, 'trainer_state.json'), '{}');
    }
    if (end.exit !== undefined) writeFileSync(join(dir, 'exit.json'), JSON.stringify(end.exit));
    assert.equal(refreshState(dir, workspace, () => true).status, 'running');
    const state = refreshState(dir, workspace, () => false);
    assert.equal(state.status, end.status);
    assert.equal(state.lastCheckpoint?.step, 4);
    if (end.message !== undefined) assert.match(state.message ?? '', end.message);
  });
}

void test('metrics skip a half-written last line', () => {
  const workspace = tempDir();
  const id = runningJob(workspace);
  const file = join(jobDir(workspace, id), 'metrics.jsonl');
  appendFileSync(file, '{"step": 1, "loss": 5}\n{"step": 2, "loss": 4}\n{"step": 3, "lo');
  assert.deepEqual(readMetrics(jobDir(workspace, id)).map((m) => m.step), [1, 2]);
});
