/**
 * `coi eval --endpoint`: one model served by several OpenAI-compatible servers (three of the
 * project's test servers on 127.0.0.1, through the real openai SDK in the bundled CLI). The
 * items are spread over them; a server that dies mid-run is taken out of the pool and its
 * items run elsewhere — every item exactly once in the store, none lost; when every server is
 * down the evaluation stops, keeps what finished, and resumes on a server that is up.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { EvalReport } from '../../core/eval/types';
import { startOpenAITestServer, type FaultChooser, type OpenAITestServer, type Replier } from '../rig/openaiServer';
import { coiAsync } from './cliProcess';
import { digestProject } from './digestProject';
import { storedResults } from '../helpers/evalStore';

const ROWS = 30;
/** Answers after a short pause (so the items overlap and spread), echoing the row it was given. */
const echoRow: Replier = async ({ messages }) => {
  await new Promise((resolve) => setTimeout(resolve, 15));
  const user = messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  return `digest of ${/row \d+/.exec(user)?.[0] ?? '?'}`;
};

const env = { COI_MODEL: '', OPENAI_API_KEY: 'test-key' };

void describe('coi eval across several endpoints (three test servers)', () => {
  const servers: OpenAITestServer[] = [];
  const urls = (): string[] => servers.map((s) => s.baseURL);
  before(async () => {
    for (let i = 0; i < 3; i++) servers.push(await startOpenAITestServer({ reply: echoRow }));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
  });

  const args = (targets: readonly string[], out: string): string[] => ['eval', 'digest.coi', '--dataset', 'rows.jsonl', '--model', 'openai:tiny', '--base-url', targets[0] ?? '', ...targets.slice(1).flatMap((u) => ['--endpoint', u]), '--concurrency', '2', '--no-cache', '--out', out, '--json'];

  void test('the items are spread over the three; every item once; the report shows each endpoint\'s throughput', async () => {
    const cwd = digestProject(ROWS);
    const before = servers.map((s) => s.count('/v1/chat/completions'));
    const r = await coiAsync(args(urls(), 'spread'), { cwd, env });
    assert.equal(r.code, 0, r.stderr);
    const stored = storedResults(join(cwd, 'spread'));
    assert.equal(stored.length, ROWS);
    assert.equal(new Set(stored.map((x) => x.item)).size, ROWS, 'no item twice');
    assert.ok(stored.every((x) => x.error === undefined && x.steps[0]?.output?.startsWith('digest of row') === true));
    const served = servers.map((s, i) => s.count('/v1/chat/completions') - (before[i] ?? 0));
    assert.ok(served.every((n) => n > 0), `every server answered some: ${served.join(', ')}`);
    const report = JSON.parse(r.stdout) as EvalReport;
    assert.deepEqual(report.endpoints?.map((e) => e.url).sort(), urls().sort());
    assert.equal(report.endpoints?.reduce((t, e) => t + e.items, 0), ROWS);
    assert.ok(report.endpoints?.every((e) => e.itemsPerSecond > 0 && e.failedTries === 0));
    const table = await coiAsync(['eval', 'report', 'spread'], { cwd, env });
    assert.match(table.stdout, /Endpoints:\n[\s\S]*items\/s/);
  });

  void test('a server that dies mid-run: its items run elsewhere, nothing lost, nothing doubled', async () => {
    const cwd = digestProject(ROWS);
    const dying = servers[1]!;
    let answered = 0;
    dying.setReplier(async (request) => {
      if (++answered === 3) setImmediate(() => void dying.close());
      await new Promise((resolve) => setTimeout(resolve, 40)); // still answering when it goes
      return echoRow(request);
    });
    const started = Date.now();
    const r = await coiAsync(args(urls(), 'dies'), { cwd, env });
    const elapsedMs = Date.now() - started;
    assert.equal(r.code, 0, r.stderr);
    // The time it spent out of the pool, not the cooldowns it was given: never more than the run took.
    const out = new RegExp(`Endpoint ${dying.baseURL.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: \\d+ served, \\d+ failed tr(?:y|ies), ([\\d.]+) (s|ms) out of the pool`).exec(r.stderr);
    assert.ok(out !== null, r.stderr);
    const outMs = Number(out[1]) * (out[2] === 's' ? 1000 : 1);
    assert.ok(outMs > 0 && outMs <= elapsedMs, `${outMs} ms out of the pool in a run of ${elapsedMs} ms`);
    const stored = storedResults(join(cwd, 'dies'));
    assert.equal(stored.length, ROWS, 'nothing lost');
    assert.equal(new Set(stored.map((x) => x.item)).size, ROWS, 'nothing doubled');
    assert.ok(stored.every((x) => x.error === undefined), 'no item recorded as failed: each ran elsewhere');
    assert.ok(stored.some((x) => x.endpoint?.failedTries?.some((t) => t.url === dying.baseURL) === true), 'an item tried on the dead server first');
    assert.match(r.stderr, new RegExp(`endpoint ${dying.baseURL.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} out of the pool`));
    const report = JSON.parse(r.stdout) as EvalReport;
    const dead = report.endpoints?.find((e) => e.url === dying.baseURL);
    assert.ok(dead !== undefined && dead.failedTries >= 1 && dead.items < ROWS / 3, JSON.stringify(report.endpoints));
  });

  void test("an item every server fails (500) while they serve the others: recorded as the item's own failure after 3 tries, the evaluation completes", async () => {
    const cwd = digestProject(ROWS);
    const poisoned = 'Report row 7:';
    const choose: FaultChooser = ({ body }) => (JSON.stringify(body).includes(poisoned) ? { kind: 'status', status: 500, retryAfter: '0', message: 'Injected crash on row 7' } : undefined);
    servers.forEach((s) => s.setFaultChooser(choose));
    try {
      const r = await coiAsync(args(urls(), 'poisoned'), { cwd, env });
      assert.equal(r.code, 0, r.stderr);
      const stored = storedResults(join(cwd, 'poisoned'));
      assert.equal(stored.length, ROWS, 'every row, the poisoned one included');
      assert.equal(new Set(stored.map((x) => x.item)).size, ROWS, 'nothing doubled');
      const failed = stored.filter((x) => x.error !== undefined);
      assert.deepEqual(failed.map((x) => x.item), ['row 7']);
      assert.match(failed[0]!.error!, /Injected crash on row 7/);
      assert.equal(failed[0]!.endpoint?.failedTries?.length, 2, 'two tries failed before the one recorded');
    } finally {
      servers.forEach((s) => s.setFaultChooser(undefined));
    }
  });

  void test('every server down: the evaluation stops and says why; resumed on a server that is up, it completes', async () => {
    const cwd = digestProject(ROWS);
    const down = [await startOpenAITestServer({ reply: echoRow }), await startOpenAITestServer({ reply: echoRow })];
    const targets = down.map((s) => s.baseURL);
    await Promise.all(down.map((s) => s.close()));
    const stopped = await coiAsync(args(targets, 'down'), { cwd, env });
    assert.equal(stopped.code, 1, stopped.stderr);
    assert.match(stopped.stderr, /Stopped: every endpoint failed 3 times in a row: .*connection refused/);
    assert.match(stopped.stderr, /coi eval --resume down/);
    assert.deepEqual(storedResults(join(cwd, 'down')), [], 'nothing recorded as a failure: a resume runs it all');
    const alive = servers[0]!;
    const resumed = await coiAsync(['eval', '--resume', 'down', '--endpoint', alive.baseURL, '--json'], { cwd, env });
    assert.equal(resumed.code, 0, resumed.stderr);
    const stored = storedResults(join(cwd, 'down'));
    assert.equal(stored.length, ROWS);
    assert.ok(stored.every((x) => x.endpoint?.url === alive.baseURL));
  });
});
