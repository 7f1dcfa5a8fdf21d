/**
 * The Together API key stays with the engine that calls Together, and no other key reaches the
 * processes the engines start: the trainer's environment and the Slurm commands (sbatch exports
 * its environment to the cluster's nodes) never get an API key or the Hugging Face token (the
 * token only where the trainer may download its base model),
 * from the CLI (a shell that exports TOGETHER_API_KEY) or from the editor (which puts the key
 * from its secret storage into the engine context).
 */
import { strict as assert } from 'node:assert';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileAppears } from '../helpers/fileAppears';
import { test } from 'node:test';
import { createJob, jobDir, PAPER_DEFAULTS, readState, startJob, venvLocation, withTogetherApiKey, batchScript, type JobConfig } from '../../core/finetune';
import { trainingEnv } from '../../core/finetune/trl';
import { coi } from '../cli/cliProcess';
import { tempDir } from '../helpers/tempDir';
import { coi2Excerpt, hfModelFolder } from '../helpers/finetuneInputs';

const data = coi2Excerpt;
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

/** Every key coi knows of, each with a value of its own. */
const KEYS = { TOGETHER_API_KEY: KEY, together_api_key: KEY, OPENAI_API_KEY: 'sk-openai-secret-77aa', MY_SERVER_API_KEY: 'profile-secret-9b1e', HF_TOKEN: 'hf_secret_token_5d2c', HUGGING_FACE_HUB_TOKEN: 'hf_old_secret_6e3f' };
const SECRETS = [...new Set(Object.values(KEYS))];

function leaked(text: string): string[] {
  return SECRETS.filter((secret) => text.includes(secret));
}

void test('the training process gets the caller\'s environment without any key; the Hub token only where it may download the base model', () => {
  const env = trainingEnv({ PATH: '/usr/bin', ...KEYS });
  assert.deepEqual(leaked(JSON.stringify(env)), []);
  assert.equal(env['PATH'], '/usr/bin', 'other variables pass');
  const online = trainingEnv({ PATH: '/usr/bin', HF_HUB_OFFLINE: '0', ...KEYS });
  assert.deepEqual(leaked(JSON.stringify(online)), ['hf_secret_token_5d2c', 'hf_old_secret_6e3f'], 'a trainer that downloads keeps the Hub token, and only it');
});

void test("torch's OpenMP threads sleep between operations unless the caller says otherwise (spinning ones crawl beside other work): the local trainer and the Slurm batch script", () => {
  assert.equal(trainingEnv({ PATH: '/usr/bin' })['OMP_WAIT_POLICY'], 'PASSIVE');
  assert.equal(trainingEnv({ PATH: '/usr/bin', OMP_WAIT_POLICY: 'ACTIVE' })['OMP_WAIT_POLICY'], 'ACTIVE', "the caller's choice is kept");
  const config: JobConfig = { engine: 'slurm', baseModel: '/models/base', data: '/data/train.jsonl', method: 'full', training: PAPER_DEFAULTS };
  assert.match(batchScript('/work/.coi-jobs/j1', '/work', config, '/venv/bin/python', { PATH: '/usr/bin' }, undefined), /^export .* OMP_WAIT_POLICY='?PASSIVE'?$/m);
  assert.match(batchScript('/work/.coi-jobs/j1', '/work', config, '/venv/bin/python', { PATH: '/usr/bin', OMP_WAIT_POLICY: 'ACTIVE' }, undefined), /^export .* OMP_WAIT_POLICY='?ACTIVE'?$/m);
});

void test('coi finetune start (local engine) with every key exported: the trainer it launches gets none of them', async () => {
  const workspace = tempDir();
  hfModelFolder(workspace, 'base');
  const env = { ...readyVenvEnv(), ...KEYS, COI_MARKER: 'passed' };
  const python = venvLocation(env).python;
  const dump = join(tempDir(), 'trainer.env');
  mkdirSync(dirname(python), { recursive: true });
  // The venv's python, as the engine launches it: it writes its environment and stops.
  writeFileSync(python, `#!/bin/sh\nenv > '${dump}.tmp' && mv '${dump}.tmp' '${dump}'\n`);
  chmodSync(python, 0o755);
  const appears = fileAppears(dump);
  const result = coi(['finetune', 'start', '--engine', 'trl', '--base', 'base', '--data', data, '--json'], { cwd: workspace, env });
  assert.equal(result.code, 0, result.stderr);
  const trainerEnv = await appears;
  assert.match(trainerEnv, /^COI_MARKER=passed$/m, 'the trainer got the environment');
  assert.deepEqual(leaked(trainerEnv), [], 'the trainer got no key');
});

void test('coi finetune start --engine slurm with every key exported: sbatch and scontrol run without any', () => {
  const slurm = fakeSlurm();
  const workspace = tempDir();
  hfModelFolder(workspace, 'base');
  const env = { ...readyVenvEnv(), PATH: `${slurm.bin}:${process.env['PATH'] ?? ''}`, ...KEYS, COI_MARKER: 'passed' };
  const result = coi(['finetune', 'start', '--engine', 'slurm', '--base', 'base', '--data', data, '--json'], { cwd: workspace, env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal((JSON.parse(result.stdout) as { slurmJobId?: string }).slurmJobId, '4242');
  for (const command of ['sbatch', 'scontrol']) {
    assert.match(slurm.envOf(command), /^COI_MARKER=passed$/m, `${command} got the environment`);
    assert.deepEqual(leaked(slurm.envOf(command)), [], `${command} got no key (OpenAI's, a profile's, Together's, the Hub token)`);
  }
});

void test('coi finetune start --engine slurm with HF_HUB_OFFLINE=0 (the nodes download the base model): sbatch passes the Hub token on, and no API key; scontrol gets none', () => {
  const slurm = fakeSlurm();
  const workspace = tempDir();
  hfModelFolder(workspace, 'base');
  const env = { ...readyVenvEnv(), PATH: `${slurm.bin}:${process.env['PATH'] ?? ''}`, ...KEYS, HF_HUB_OFFLINE: '0' };
  const result = coi(['finetune', 'start', '--engine', 'slurm', '--base', 'base', '--data', data, '--json'], { cwd: workspace, env });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(leaked(slurm.envOf('sbatch')), ['hf_secret_token_5d2c', 'hf_old_secret_6e3f']);
  assert.deepEqual(leaked(slurm.envOf('scontrol')), []);
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
