/**
 * `coi eval --limit N` / `--sample N`: part of the items, through the bundled CLI against the
 * OpenAI-protocol test server. The server is asked about those items only; the same seed draws
 * the same items; a resume keeps to them; the options are refused where they make no sense.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalReport } from '../../core/eval/types';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync } from './cliProcess';
import { digestProject } from './digestProject';
import { storedResults } from '../helpers/evalStore';

const ROWS = 30;

/** The items stored in `dir`, by row number. */
function storedItems(dir: string): string[] {
  return storedResults(dir)
    .map((r) => r.item)
    .sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')));
}

void describe('coi eval on part of the items (--limit, --sample)', () => {
  let server: OpenAITestServer;
  /** The rows the server was asked about ("row 7"), in the order asked. */
  const askedRows = (): string[] =>
    server.requests
      .filter((r) => r.path === '/v1/chat/completions')
      .map((r) => {
        const messages = (r.body as { messages: { role: string; content: string }[] }).messages;
        return /row \d+/.exec(messages.filter((m) => m.role === 'user').at(-1)?.content ?? '')?.[0] ?? '?';
      });
  before(async () => {
    server = await startOpenAITestServer({
      apiKey: 'the-right-key',
      reply: ({ messages }) => `digest of ${/row \d+/.exec(String(messages.filter((m) => m.role === 'user').at(-1)?.content ?? ''))?.[0] ?? '?'}`,
    });
  });
  after(async () => {
    await server.close();
  });
  // The server's key is named (--api-key-env): $OPENAI_API_KEY goes only to api.openai.com.
  const coi = (args: readonly string[], cwd: string, apiKey = 'the-right-key'): ReturnType<typeof coiAsync> => coiAsync(args, { cwd, env: { COI_MODEL: '', EVAL_KEY: apiKey } });
  const evalArgs = (out: string, ...more: string[]): string[] => ['eval', 'digest.coi', '--dataset', 'rows.jsonl', '--model', 'openai:tiny', '--base-url', server.baseURL, '--api-key-env', 'EVAL_KEY', '--no-cache', '--out', out, ...more];

  void test('--limit 3 evaluates the first three rows only', async () => {
    const cwd = digestProject(ROWS);
    const before = askedRows().length;
    const r = await coi([...evalArgs('first', '--limit', '3'), '--json'], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Evaluating digest-rows: the first 3 of 30 items × 1 model/);
    assert.deepEqual(storedItems(join(cwd, 'first')), ['row 1', 'row 2', 'row 3']);
    assert.deepEqual(askedRows().slice(before).sort(), ['row 1', 'row 2', 'row 3']);
    const report = JSON.parse(r.stdout) as EvalReport;
    assert.deepEqual([report.counts.items, report.counts.results, report.counts.missing], [3, 3, 0]);
  });

  void test('--sample 5 draws five rows, the same five for the same seed and others for another; only they are asked', async () => {
    const cwd = digestProject(ROWS);
    const before = askedRows().length;
    const first = await coi(evalArgs('a', '--sample', '5', '--sample-seed', '7'), cwd);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /Evaluating digest-rows: 5 of 30 items, drawn at random \(seed 7\) × 1 model/);
    const drawn = storedItems(join(cwd, 'a'));
    assert.equal(new Set(drawn).size, 5);
    assert.notDeepEqual(drawn, ['row 1', 'row 2', 'row 3', 'row 4', 'row 5'], 'drawn, not the first five');
    assert.deepEqual(askedRows().slice(before).sort(), [...drawn].sort(), 'the server was asked about the drawn rows only');
    const again = await coi(evalArgs('b', '--sample', '5', '--sample-seed', '7'), cwd);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(storedItems(join(cwd, 'b')), drawn, 'the same seed draws the same rows');
    const other = await coi(evalArgs('c', '--sample', '5', '--sample-seed', '8'), cwd);
    assert.equal(other.code, 0, other.stderr);
    assert.notDeepEqual(storedItems(join(cwd, 'c')), drawn, 'another seed draws other rows');
    const all = await coi(evalArgs('d', '--sample', '31'), cwd);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stderr, /Evaluating digest-rows: 30 items × 1 model/, 'a sample as large as the data is all of it');
    assert.equal((JSON.parse(readFileSync(join(cwd, 'd', 'eval.json'), 'utf8')) as { source: { subset?: unknown } }).source.subset, undefined, 'and is not kept as a sample');
  });

  void test('a resume keeps to the sampled rows', async () => {
    const cwd = digestProject(ROWS);
    // The key refused: the evaluation stops before recording anything.
    const stopped = await coi(evalArgs('resumed', '--sample', '4', '--sample-seed', '3'), cwd, 'a-wrong-key');
    assert.equal(stopped.code, 1, stopped.stderr);
    assert.deepEqual(storedItems(join(cwd, 'resumed')), []);
    const resumed = await coi(['eval', '--resume', 'resumed', '--api-key-env', 'EVAL_KEY', '--json'], cwd);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /Resuming digest-rows: 4 of 30 items, drawn at random \(seed 3\)/);
    const direct = await coi(evalArgs('direct', '--sample', '4', '--sample-seed', '3'), cwd);
    assert.equal(direct.code, 0, direct.stderr);
    assert.deepEqual(storedItems(join(cwd, 'resumed')), storedItems(join(cwd, 'direct')));
    assert.equal((JSON.parse(resumed.stdout) as EvalReport).counts.items, 4);
  });

  void test('refused: --limit with --sample, --sample-seed alone, a subset on --resume, a count that is not a whole number', async () => {
    const cwd = digestProject(ROWS);
    const cases: [string[], RegExp][] = [
      [evalArgs('x', '--limit', '2', '--sample', '2'), /Give either --limit or --sample, not both/],
      [evalArgs('x', '--sample-seed', '3'), /--sample-seed goes with --sample N/],
      [['eval', '--resume', 'nowhere', '--sample', '3'], /--resume takes what to evaluate from .*: --sample cannot be given with it/],
      [evalArgs('x', '--limit', '0'), /--limit/],
      [evalArgs('x', '--sample', '2.5'), /--sample/],
    ];
    for (const [args, message] of cases) {
      const r = await coi(args, cwd);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.equal(existsSync(join(cwd, 'x')), false, 'no store was made');
  });
});
