/**
 * `coi run` and `coi test` on a chain in a folder nobody may write (examples installed
 * read-only; `dr-xr-xr-x`, which counts as read-only for root too): the step cache and the run
 * records go to the working folder's `.coi-cache/`, a note says so, the chain's folder is left as
 * it was, and the cache is used (a second run makes no model call). Real CLI, real
 * node-llama-cpp, the tiny model.
 */
import { strict as assert } from 'node:assert';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunRecord } from '../../core/runner';
import { tempDir } from '../helpers/tempDir';
import { tinyModelPath } from '../rig/tinyModel';
import { coi } from './cliProcess';

const CHAIN = ['chain one', 'input a: text', '', 'step first {', '  instruction "Say one word."', '  max_tokens 4', '  temperature 0', '}', '', 'test "no disclaimer" {', '  given a = "x"', '  expect first not contains "As an AI"', '}', ''].join('\n');

/** A read-only folder holding one.coi, and a working folder beside it. */
function readOnlyChain(): { chains: string; work: string } {
  const root = tempDir();
  const chains = join(root, 'chains');
  const work = join(root, 'work');
  mkdirSync(chains);
  mkdirSync(work);
  writeFileSync(join(chains, 'one.coi'), CHAIN);
  chmodSync(chains, 0o555);
  return { chains, work };
}

const NOTE = /^Note: the step cache and the run records? cannot go beside '[^']*one\.coi' \([^)]*chains\/\.coi-cache: permission denied\): the working folder's \.coi-cache\/ is used instead\.$/m;

void test('coi run: the step cache and the record go to the working folder, said once; the read-only folder stays as it was; the second run comes from the cache', () => {
  const { chains, work } = readOnlyChain();
  const args = ['run', '../chains/one.coi', '-i', 'x', '--model', tinyModelPath(), '--threads', '1', '--json'];
  const first = coi(args, { cwd: work, env: { COI_MODEL: '' } });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, NOTE);
  assert.equal(first.stderr.match(/^Note: /gm)?.length, 1, first.stderr);
  assert.deepEqual(readdirSync(chains), ['one.coi'], 'nothing written beside the chain');
  assert.equal(readdirSync(join(work, '.coi-cache', 'runs')).length, 1, 'the record is in the working folder');
  const second = coi(args, { cwd: work, env: { COI_MODEL: '' } });
  assert.equal(second.code, 0, second.stderr);
  assert.equal((JSON.parse(second.stdout) as RunRecord).modelCalls, 0, 'the step came from the cache');
  assert.deepEqual(readdirSync(chains), ['one.coi']);
});

void test('coi test: the same, the note said once for the folder', () => {
  const { chains, work } = readOnlyChain();
  const ran = coi(['test', '../chains/one.coi', '--model', tinyModelPath(), '--threads', '1'], { cwd: work, env: { COI_MODEL: '' } });
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stderr, NOTE);
  assert.deepEqual(readdirSync(chains), ['one.coi'], 'nothing written beside the chain');
  assert.ok(existsSync(join(work, '.coi-cache', 'steps')), 'the step cache is in the working folder');
});
