/**
 * `coi eval --context TOKENS` is kept in the store like `--threads`: a local model's default
 * output bound is a quarter of its context, so a resume without `--context` must generate
 * within the same bound as the part of the evaluation before it. The bundled CLI in a child
 * process, with the tiny GGUF model.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalResult } from '../../core/eval/types';
import { storedResults } from '../helpers/evalStore';
import { tempDir } from '../helpers/tempDir';
import { tinyModelPath } from '../rig/tinyModel';
import { coiAsync, type CliResult } from './cliProcess';

/** Small enough that a quarter of it (the default output bound) cuts every answer of the tiny model. */
const CONTEXT = 256;
const BOUND = CONTEXT / 4;

/**
 * Five items, one step, no `max_tokens`: the third item's input does not fit the context,
 * a failure of that item's that stops the evaluation with `--max-failures 1` before the
 * fourth (the local model runs its items one at a time, in order).
 */
function chainText(): string {
  const given = (i: number): string => (i === 3 ? `Cranes. ${'The crew repaired the cranes. '.repeat(12)}` : `Report ${i}: cranes fixed.`);
  const tests = [1, 2, 3, 4, 5].map((i) => `test "case ${i}" {\n  given report = ${JSON.stringify(given(i))}\n  expect output contains "cranes"\n}`);
  return `chain dock\ninput report: text\n\nstep summary {\n  instruction "Summarize."\n  temperature 0\n}\n\n${tests.join('\n\n')}\n`;
}

const caseOf = (result: EvalResult): number => Number(/case (\d+)/.exec(result.item)![1]);

void describe('coi eval --resume keeps --context', () => {
  const dir = tempDir();
  const coi = (args: readonly string[]): Promise<CliResult> => coiAsync(args, { cwd: dir, env: { COI_MODEL: '', COI_CACHE_DIR: join(dir, 'cache') } });

  void test('a resume without --context bounds the remaining answers as the first part did; given again, it wins', async () => {
    writeFileSync(join(dir, 'dock.coi'), chainText());
    const first = await coi(['eval', 'dock.coi', '--model', tinyModelPath(), '--threads', '1', '--context', String(CONTEXT), '--no-cache', '--max-failures', '1', '--out', 'store']);
    assert.equal(first.code, 1, first.stderr);
    assert.match(first.stderr, /Stopped: 1 items? failed in this run \(--max-failures 1\); 3\/5 done/);
    const before = storedResults(join(dir, 'store'));
    assert.deepEqual(before.map(caseOf).sort(), [1, 2, 3]);
    assert.match(before.find((r) => caseOf(r) === 3)?.error ?? '', /holds 256/);
    for (const result of before.filter((r) => caseOf(r) !== 3)) assert.equal(result.tokensOut, BOUND, `${result.item}: cut at a quarter of the context`);
    const stored = JSON.parse(readFileSync(join(dir, 'store', 'eval.json'), 'utf8')) as { settings?: { contextSize?: number } };
    assert.equal(stored.settings?.contextSize, CONTEXT);
    // A copy of the stopped store, for a resume that gives another --context.
    cpSync(join(dir, 'store'), join(dir, 'other'), { recursive: true });

    const resumed = await coi(['eval', '--resume', 'store']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const after = storedResults(join(dir, 'store')).filter((r) => caseOf(r) > 3);
    assert.deepEqual(after.map(caseOf).sort(), [4, 5]);
    for (const result of after) assert.equal(result.tokensOut, BOUND, `${result.item}: ${result.tokensOut} tokens, not the first part's bound of ${BOUND}`);

    // Given again, --context wins for that run.
    const given = await coi(['eval', '--resume', 'other', '--context', String(2 * CONTEXT)]);
    assert.equal(given.code, 0, given.stderr);
    for (const result of storedResults(join(dir, 'other')).filter((r) => caseOf(r) > 3)) assert.equal(result.tokensOut, 2 * BOUND, result.item);
  });
});
