/**
 * `coi run` and `coi test` on a chain in a folder nobody may write (examples installed
 * read-only; `dr-xr-xr-x`, which counts as read-only for root too): the step cache and the run
 * records go to the working folder's `.coi-cache/`, a note says so, the chain's folder is left as
 * it was, and the cache is used (a second run makes no model call). Real CLI, real
 * node-llama-cpp, the tiny model. Also $COI_CACHE_DIR read-only (a note says what is not kept), and empty (unset).
 */
import { strict as assert } from 'node:assert';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
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

/** Every file under `dir`, with its size and modification time. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => {
      const stat = statSync(join(dir, name));
      return `${name} ${stat.size} ${stat.mtimeMs}`;
    })
    .sort();
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

void test('coi run and coi test with $COI_CACHE_DIR read-only: a note says that no answer is kept and nothing recorded (and that the variable chose the folder), and nothing is written there, by root either; the runs succeed', () => {
  const root = tempDir();
  const cache = join(root, 'cache');
  mkdirSync(cache);
  writeFileSync(join(root, 'one.coi'), CHAIN);
  const env = { COI_MODEL: '', COI_CACHE_DIR: cache };
  // An answer cached while the folder could be written is still read from it.
  const cached = coi(['run', 'one.coi', '-i', 'cached', '--model', tinyModelPath(), '--threads', '1'], { cwd: root, env });
  assert.equal(cached.code, 0, cached.stderr);
  chmodSync(cache, 0o555);
  const before = listing(cache);
  const again = coi(['run', 'one.coi', '-i', 'cached', '--model', tinyModelPath(), '--threads', '1', '--json'], { cwd: root, env });
  assert.equal(again.code, 0, again.stderr);
  assert.equal((JSON.parse(again.stdout) as RunRecord).modelCalls, 0, 'the cached answer is read');
  const run = coi(['run', 'one.coi', '-i', 'x', '--model', tinyModelPath(), '--threads', '1'], { cwd: root, env });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /^Note: the step cache and the run record cannot be written \([^)]*cache: permission denied\): no answer of this run is kept for the next, and the run is not recorded \(\$COI_CACHE_DIR chooses the folder\)\.$/m);
  const tests = coi(['test', 'one.coi', '--model', tinyModelPath(), '--threads', '1'], { cwd: root, env });
  assert.equal(tests.code, 0, tests.stderr);
  assert.match(tests.stderr, /^Note: the step cache and the run records cannot be written \([^)]*: permission denied\): no answer of these tests is kept for the next run, and they are not recorded \(\$COI_CACHE_DIR chooses the folder\)\.$/m);
  assert.deepEqual(listing(cache), before, 'nothing written in the read-only folder');
  const noCache = coi(['run', 'one.coi', '-i', 'x', '--model', tinyModelPath(), '--threads', '1', '--no-cache'], { cwd: root, env });
  assert.match(noCache.stderr, /^Note: the run record cannot be written \([^)]*: permission denied\): the run is not recorded \(\$COI_CACHE_DIR chooses the folder\)\.$/m);
  assert.deepEqual(listing(cache), before, 'nothing written in the read-only folder');
});

void test('an empty $COI_CACHE_DIR is unset: the cache goes beside the chain, not into the working folder as steps/ and runs/', () => {
  const root = tempDir();
  const work = join(root, 'work');
  mkdirSync(work);
  writeFileSync(join(root, 'one.coi'), CHAIN);
  const run = coi(['run', '../one.coi', '-i', 'x', '--model', tinyModelPath(), '--threads', '1'], { cwd: work, env: { COI_MODEL: '', COI_CACHE_DIR: '' } });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(readdirSync(work), [], 'nothing in the working folder');
  assert.deepEqual(readdirSync(join(root, '.coi-cache')).sort(), ['runs', 'steps']);
});
