/**
 * `coi finetune eval` stopped with Ctrl-C and continued: a real `coi` process, the tiny GGUF
 * as both the job's model and its base (a completed job written by the store's functions),
 * SIGINT once results are in the store. No Python.
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { jobDir, readState } from '../../core/finetune';
import { coi, coiInterrupted } from '../cli/cliProcess';
import { writeCompletedJob } from '../helpers/jobFixture';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { tinyModelPath } from '../rig/tinyModel';

void test('Ctrl-C during coi finetune eval says how far it got and the command that continues the store; that command finishes it in the same store', async () => {
  const workspace = tempDir();
  const { state } = writeCompletedJob(workspace);
  const model = tinyModelPath();
  copyFileSync(model, state.ggufPath ?? '');
  // 40 records × 2 models: seconds of work, so the signal lands with results stored and items left.
  const records = JSON.parse(readFileSync(repoPath('test', 'fixtures', 'records', 'coi2-excerpt.json'), 'utf8')) as unknown[];
  writeFileSync(join(workspace, 'held-out.json'), JSON.stringify(Array.from({ length: 8 }, () => records).flat().slice(0, 40)));
  const options = ['--data', 'held-out.json', '--base-gguf', model, '--threads', '1', '--max-tokens', '32'];

  const cancelled = await coiInterrupted(['finetune', 'eval', state.id, ...options], workspace, /^eval: [1-9]\d*\/80 done/m);
  assert.equal(cancelled.code, 130, cancelled.stderr);
  const stop = /^Cancelled after (\d+)\/80; what finished is in the store\. Continue with: (coi finetune eval \S+ --resume (\S+))$/m.exec(cancelled.stderr);
  assert.ok(stop !== null, cancelled.stderr);
  const [, done, command, store] = stop as unknown as [string, string, string, string];
  assert.ok(Number(done) >= 1 && Number(done) < 80, cancelled.stderr);
  assert.equal(store, `.coi-jobs/${state.id}/eval/${readdirSync(join(jobDir(workspace, state.id), 'eval'))[0] ?? ''}`);
  assert.equal(readState(jobDir(workspace, state.id)).evaluation, join(workspace, store), 'the job records the stopped evaluation');

  // The printed command, word for word (and --threads, which the store does not fix).
  const resumed = coi([...command.split(' ').slice(1), '--threads', '1'], { cwd: workspace });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`^Resuming ${state.id} vs base: 40 items × 2 models`, 'm'));
  assert.match(resumed.stderr, new RegExp(`^Done: ${80 - Number(done)} run now, ${done} already in the store, 0 failures\\.$`, 'm'));
  assert.equal(readdirSync(join(jobDir(workspace, state.id), 'eval')).length, 1, 'no second store');
  assert.equal(readState(jobDir(workspace, state.id)).evaluation, join(workspace, store));

  // What the store fixes cannot be given again; a store that is not one of this job's is refused.
  const refused: readonly [readonly string[], RegExp][] = [
    [['--resume', store, '--data', 'held-out.json'], /^coi finetune: --resume continues the evaluation as it was started \(its eval\.json says what and how\): --data cannot be given with it \(only --threads, --context, --json\)\./],
    [['--resume', workspace], /^coi finetune: --resume '\S+' is not an evaluation of job \S+: its evaluations are in \S+\/eval\./],
    [['--resume', 'nowhere'], /^coi finetune: --resume: cannot read '\S+nowhere': no such file or directory\./],
  ];
  for (const [args, message] of refused) {
    const result = coi(['finetune', 'eval', state.id, ...args], { cwd: workspace });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});
