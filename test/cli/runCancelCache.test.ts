/**
 * `coi run` cancelled (Ctrl-C) after a step finished: its last line says that the finished steps
 * are in the step cache and that running the same command again reuses them (and it does);
 * with --no-cache it says nothing of a cache. Real CLI, real node-llama-cpp, the tiny model.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunRecord } from '../../core/runner';
import { tempDir } from '../helpers/tempDir';
import { tinyModelPath } from '../rig/tinyModel';
import { coi, coiInterrupted } from './cliProcess';

const CHAIN = ['chain two', 'input a: text', '', 'step first {', '  instruction "Say one word."', '  max_tokens 4', '  temperature 0', '}', '', 'step story {', '  instruction "Write a very long story."', '  max_tokens 2000', '}', ''].join('\n');

async function cancelAfterFirstStep(extra: readonly string[]): Promise<{ dir: string; args: string[]; code: number | null; stderr: string }> {
  const dir = tempDir();
  writeFileSync(join(dir, 'two.coi'), CHAIN);
  const args = ['run', 'two.coi', '-i', 'x', '--model', tinyModelPath(), '--threads', '1', ...extra];
  const result = await coiInterrupted(args, dir, /✓ first /, { COI_MODEL: '' });
  return { dir, args, ...result };
}

void test('Ctrl-C after a step finished: the summary says the finished step is cached and the same command reuses it, which it does', async () => {
  const { dir, args, code, stderr } = await cancelAfterFirstStep([]);
  assert.equal(code, 130, stderr);
  assert.match(stderr, /^Cancelled: 2 steps, 0 cached, \d+ model calls?, [\d.]+ m?s\. The finished step is in the step cache: running the same command again reuses it\. Record: /m);
  const again = coi([...args, '--to', 'first', '--json'], { cwd: dir, env: { COI_MODEL: '' } });
  assert.equal(again.code, 0, again.stderr);
  const record = JSON.parse(again.stdout) as RunRecord;
  assert.equal(record.steps.find((step) => step.id === 'first')?.cached, true, 'the finished step came from the cache');
  assert.equal(record.modelCalls, 0);
});

void test('Ctrl-C with --no-cache: the summary says nothing of a cache (nothing was kept)', async () => {
  const { code, stderr } = await cancelAfterFirstStep(['--no-cache']);
  assert.equal(code, 130, stderr);
  assert.match(stderr, /^Cancelled: 2 steps, 0 cached, \d+ model calls?, [\d.]+ m?s\. Record: /m);
  assert.doesNotMatch(stderr, /step cache|reuses/);
});
