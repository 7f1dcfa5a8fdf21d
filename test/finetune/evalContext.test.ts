/**
 * `coi finetune eval --context TOKENS`: the context of both local models, as `coi eval --context`
 * gives it. A record whose prompt overflows the model's own context fails there with a hint to
 * give a larger one; with --context it runs. A real `coi` process, the tiny GGUF as both the
 * job's model and its base (a completed job written by the store's functions). No Python.
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { jobDir } from '../../core/finetune';
import { coi } from '../cli/cliProcess';
import { writeCompletedJob } from '../helpers/jobFixture';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { tinyModelPath } from '../rig/tinyModel';

/** The errors of the items of an evaluation store. */
function errorsIn(store: string): string[] {
  return readFileSync(join(store, 'results.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      const { error } = JSON.parse(line) as { error?: string };
      return error === undefined ? [] : [error];
    });
}

void test('coi finetune eval --context N gives the local models a larger context: a record whose prompt overflows the default one runs; --context goes with --resume and is checked in the command\'s words', () => {
  const workspace = tempDir();
  const { state } = writeCompletedJob(workspace);
  const model = tinyModelPath();
  copyFileSync(model, state.ggufPath ?? '');
  const [record] = JSON.parse(readFileSync(repoPath('test', 'fixtures', 'records', 'coi2-excerpt.json'), 'utf8')) as { input: string }[];
  // About 2,600 tokens of the tiny model's vocabulary: over its 2,048-token context.
  writeFileSync(join(workspace, 'long.json'), JSON.stringify([{ ...record, input: `${record?.input ?? ''} ${'The boat sailed on. '.repeat(110)}` }]));
  const options = ['--data', 'long.json', '--base-gguf', model, '--threads', '1', '--max-tokens', '16'];
  const stores = (): string[] => readdirSync(join(jobDir(workspace, state.id), 'eval')).sort().map((name) => join(jobDir(workspace, state.id), 'eval', name));

  const overflow = coi(['finetune', 'eval', state.id, ...options], { cwd: workspace });
  assert.equal(overflow.code, 0, overflow.stderr);
  assert.match(overflow.stderr, /^Done: 2 run now, 0 already in the store, 2 failures\.$/m);
  const errors = errorsIn(stores()[0] ?? '');
  assert.equal(errors.length, 2);
  for (const error of errors) assert.match(error, /The prompt is \d+ tokens long but the context of \S+ holds 2048\. Give a larger context \(--context N/);

  const larger = coi(['finetune', 'eval', state.id, ...options, '--context', '4096'], { cwd: workspace });
  assert.equal(larger.code, 0, larger.stderr);
  assert.match(larger.stderr, /^Done: 2 run now, 0 already in the store, 0 failures\.$/m);
  const store = stores()[1] ?? '';
  assert.deepEqual(errorsIn(store), []);

  // It is not fixed by the store: it goes with --resume (nothing is left to run here).
  const resumed = coi(['finetune', 'eval', state.id, '--resume', store, '--context', '4096', '--threads', '1'], { cwd: workspace });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /^Done: 0 run now, 2 already in the store, 0 failures\.$/m);

  const tiny = coi(['finetune', 'eval', state.id, ...options, '--context', '8'], { cwd: workspace });
  assert.equal(tiny.code, 2, tiny.stderr);
  assert.match(tiny.stderr, /^coi finetune: --context must be a whole number from 16 to 4194304 \(got '8'\)/);
  const start = coi(['finetune', 'start', '--base', 'm', '--data', 'long.json', '--context', '4096'], { cwd: workspace });
  assert.equal(start.code, 2, start.stderr);
  assert.match(start.stderr, /^coi finetune: --context goes with 'coi finetune eval', not with 'coi finetune start' \(it is the context of the local models in an evaluation; training cuts examples at a config file's training\.maxLength\)\./);
  assert.equal(stores().length, 2, 'the refused commands made no store');
});
