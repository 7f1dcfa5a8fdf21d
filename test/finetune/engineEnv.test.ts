/**
 * The Together API key stays with the engine that calls Together: the trainer's environment
 * and the Slurm commands (sbatch exports its environment to the cluster's nodes) never get it,
 * from the CLI (a shell that exports TOGETHER_API_KEY) or from the editor (which puts the key
 * from its secret storage into the engine context).
 */
import { strict as assert } from 'node:assert';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createJob, jobDir, PAPER_DEFAULTS, readState, startJob, venvLocation, withTogetherApiKey } from '../../core/finetune';
import { trainingEnv } from '../../core/finetune/trl';
import { coi } from '../cli/cliProcess';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { hfModelFolder } from '../helpers/finetuneInputs';

const data = repoPath('test', 'fixtures', 'finetune', 'coi2-excerpt.jsonl');
const KEY = 'tg-secret-key-4c1d';

/** A folder with an sbatch and an scontrol that write the environment they got into `<name>.env` beside them. */
function fakeSlurm(): { bin: string; envOf: (command: string) => string } {
  const bin = tempDir();
  for (const [command, answer] of [['sbatch', '4242'], ['scontrol', 'ClusterName = fake']] as const) {
    writeFileSync(join(bin, command), `#!/bin/sh\nenv > "${join(bin, command)}.env"\necho '${answer}'\n`);
    chmodSync(join(bin, command), 0o755);
  }
  return { bin, envOf: (command) => readFileSync(join(bin, `${command}.env`), 'utf8') };
}

/** An environment whose training venv counts as set up (nothing in it runs: sbatch is the fake). */
function readyVenvEnv(): Record<string, string> {
  const env = { COI_CACHE_DIR: tempDir() };
  const venv = venvLocation(env);
  mkdirSync(venv.dir, { recursive: true });
  writeFileSync(join(venv.dir, '.coi-ready'), 'test\n');
  return env;
}

void test('the training process gets the caller\'s environment without the Together key', () => {
  const env = trainingEnv({ PATH: '/usr/bin', HF_TOKEN: 'hf', TOGETHER_API_KEY: KEY, together_api_key: KEY });
  assert.deepEqual(Object.values(env).filter((v) => v === KEY), []);
  assert.equal(env['PATH'], '/usr/bin');
  assert.equal(env['HF_TOKEN'], 'hf', 'other variables pass');
});

void test('coi finetune start --engine slurm with TOGETHER_API_KEY exported: sbatch and scontrol run without it', () => {
  const slurm = fakeSlurm();
  const workspace = tempDir();
  hfModelFolder(workspace, 'base');
  const env = { ...readyVenvEnv(), PATH: `${slurm.bin}:${process.env['PATH'] ?? ''}`, TOGETHER_API_KEY: KEY, COI_MARKER: 'passed' };
  const result = coi(['finetune', 'start', '--engine', 'slurm', '--base', 'base', '--data', data, '--json'], { cwd: workspace, env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal((JSON.parse(result.stdout) as { slurmJobId?: string }).slurmJobId, '4242');
  for (const command of ['sbatch', 'scontrol']) {
    assert.match(slurm.envOf(command), /^COI_MARKER=passed$/m, `${command} got the environment`);
    assert.doesNotMatch(slurm.envOf(command), new RegExp(KEY), `${command} got no Together key`);
  }
});

void test('a Slurm job started with the editor\'s context (the key from its secret storage): sbatch runs without the key', async () => {
  const slurm = fakeSlurm();
  const workspace = tempDir();
  const { id } = createJob(workspace, { engine: 'slurm', baseModel: '/m', data, method: 'full', training: PAPER_DEFAULTS });
  const context = withTogetherApiKey({ workspace, env: { ...readyVenvEnv(), PATH: `${slurm.bin}:${process.env['PATH'] ?? ''}`, COI_MARKER: 'passed' } }, KEY);
  const state = await startJob(id, context);
  assert.deepEqual([state.status, state.slurmJobId], ['queued', '4242']);
  assert.equal(readState(jobDir(workspace, id)).slurmJobId, '4242');
  assert.match(slurm.envOf('sbatch'), /^COI_MARKER=passed$/m);
  assert.doesNotMatch(slurm.envOf('sbatch'), new RegExp(KEY));
});
