// coi finetune on bad input: clear messages with locations and exit codes, no job left
// in a state it cannot leave. None of these needs Python.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { jobDir, listJobIds, readConfig, readState } from '../../core/finetune';
import { coi } from '../cli/cliProcess';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';

const data = repoPath('test', 'fixtures', 'finetune', 'coi2-excerpt.jsonl');

const usage: readonly { args: readonly string[]; code: number; message: RegExp }[] = [
  { args: ['finetune'], code: 2, message: /Name what to do: setup, start/ },
  { args: ['finetune', 'train'], code: 2, message: /Unknown finetune command 'train'/ },
  { args: ['finetune', 'start', '--data', data], code: 2, message: /Give a CONFIG file, or --base MODEL and --data FILE/ },
  { args: ['finetune', 'start', '--base', 'nowhere', '--data', data], code: 2, message: /Base model folder '[^']*nowhere' not found/ },
  { args: ['finetune', 'start', '--base', '.', '--data', data, '--max-steps', '0'], code: 2, message: /--max-steps must be a whole number/ },
  { args: ['finetune', 'status'], code: 2, message: /Name the job to status/ },
  { args: ['finetune', 'resume', 'ft-none'], code: 2, message: /No job 'ft-none'/ },
  { args: ['finetune', 'start', 'missing.coi-finetune.json'], code: 2, message: /Cannot read 'missing.coi-finetune.json': no such file/ },
];

for (const c of usage) {
  void test(`coi ${c.args.join(' ')} → exit ${c.code}`, () => {
    const result = coi(c.args);
    assert.equal(result.code, c.code, result.stderr);
    assert.match(result.stderr, c.message);
  });
}

void test('a config file with mistakes is refused with file:line:column for each, and no job is created', () => {
  const workspace = tempDir();
  writeFileSync(join(workspace, 'run.coi-finetune.json'), '{\n  "baseModel": "m",\n  "data": "d.jsonl",\n  "method": "qlora",\n  "training": { "epochs": -1 }\n}\n');
  const result = coi(['finetune', 'start', 'run.coi-finetune.json'], { cwd: workspace });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /run\.coi-finetune\.json:4:3: error: 'method' must be "full" or "lora"/);
  assert.match(result.stderr, /run\.coi-finetune\.json:5:17: error: 'epochs' must be a number ≥ 0/);
  assert.deepEqual(listJobIds(workspace), []);
});

void test('start without the training environment says to run setup, and the job is failed (not left queued)', () => {
  const workspace = tempDir();
  const result = coi(['finetune', 'start', '--base', '.', '--data', data], { cwd: workspace, env: { COI_CACHE_DIR: tempDir() } });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /run 'coi finetune setup' first/);
  const [id] = listJobIds(workspace);
  assert.ok(id !== undefined);
  assert.equal(readState(jobDir(workspace, id)).status, 'failed');
  const resumed = coi(['finetune', 'resume', id], { cwd: workspace });
  assert.equal(resumed.code, 1);
  assert.match(resumed.stderr, /is failed and has no checkpoint: only a cancelled or failed job with a checkpoint can be resumed/);
});

void test('--strategy/--gpus/--nodes go into the job config; --gpus without --strategy is a usage error', () => {
  const workspace = tempDir();
  const result = coi(['finetune', 'start', '--base', '.', '--data', data, '--strategy', 'deepspeed-zero3', '--gpus', '8', '--nodes', '2'], { cwd: workspace, env: { COI_CACHE_DIR: tempDir() } });
  assert.equal(result.code, 1, result.stderr); // no training environment here: the job fails at launch, its config is kept
  const [id] = listJobIds(workspace);
  assert.ok(id !== undefined);
  assert.deepEqual(readConfig(jobDir(workspace, id)).distributed, { strategy: 'deepspeed-zero3', gpus: 8, nodes: 2 });
  const usage = coi(['finetune', 'start', '--base', '.', '--data', data, '--gpus', '2'], { cwd: workspace });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--gpus and --nodes go with --strategy/);
});
