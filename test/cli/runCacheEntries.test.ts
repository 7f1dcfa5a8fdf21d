/**
 * The step cache as `coi run` uses it, with the real CLI and the tiny model: an entry spoilt on
 * disk is asked again (never a failed step), and a request that changed in what the key did not
 * see (the context size, the model file replaced at the same path) is not answered from the cache,
 * while the same request again is.
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunRecord } from '../../core/runner';
import { tempDir } from '../helpers/tempDir';
import { tinyModelPath, writeTinyModel } from '../rig/tinyModel';
import { coi } from './cliProcess';

const CHAIN = ['chain one', 'input a: text', '', 'step only {', '  instruction "Write."', '  temperature 0', '}', ''].join('\n');

function run(dir: string, extra: readonly string[]): RunRecord {
  const result = coi(['run', 'one.coi', '-i', 'hi', '--threads', '1', '--json', ...extra], { cwd: dir, env: { COI_MODEL: '' } });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as RunRecord;
}

function chainFolder(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'one.coi'), CHAIN);
  copyFileSync(tinyModelPath(), join(dir, 'm.gguf'));
  return dir;
}

void test('a step cache entry spoilt on disk (null, cut short) is asked again, and its new answer replaces it', () => {
  const dir = chainFolder();
  const args = ['--model', './m.gguf', '--max-tokens', '4'];
  run(dir, args);
  const steps = join(dir, '.coi-cache', 'steps');
  for (const [i, name] of readdirSync(steps).entries()) writeFileSync(join(steps, name), i % 2 === 0 ? 'null' : '{"text":"cut sh');
  const again = run(dir, args);
  assert.equal(again.steps[0]?.cached, false, 'the spoilt entry is not an answer');
  assert.equal(again.modelCalls, 1);
  assert.equal(run(dir, args).steps[0]?.cached, true, 'the new answer was cached in its place');
});

void test('--context changed: an output cut by the shorter context is not served from the cache; the same --context again is', () => {
  const dir = chainFolder();
  const short = run(dir, ['--model', './m.gguf', '--context', '256']);
  assert.equal(short.steps[0]?.completionTokens, 64, 'without max_tokens, a quarter of the context');
  assert.equal(short.steps[0]?.finishReason, 'length');
  const longer = run(dir, ['--model', './m.gguf', '--context', '1024']);
  assert.equal(longer.steps[0]?.cached, false);
  assert.equal(longer.steps[0]?.completionTokens, 256);
  assert.equal(run(dir, ['--model', './m.gguf', '--context', '1024']).steps[0]?.cached, true);
});

void test('a model file replaced at the same path is asked, not answered by the old model\'s cached outputs; the record names the same model', () => {
  const dir = chainFolder();
  const args = ['--model', './m.gguf', '--max-tokens', '8'];
  const before = run(dir, args);
  assert.equal(run(dir, args).steps[0]?.cached, true);
  writeTinyModel(join(dir, 'm.gguf'), { seed: 7 });
  const after = run(dir, args);
  assert.equal(after.steps[0]?.cached, false);
  assert.equal(after.modelCalls, 1);
  assert.equal(after.model, before.model);
  assert.equal(run(dir, args).steps[0]?.cached, true);
});
