/**
 * core/eval's store: a torn last line is discarded and redone, a triple is kept
 * once, another configuration or changed data is refused, one writer at a time,
 * and pages of results.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createEvalConfig } from '../../core/eval/config';
import { formatReport, reportWarnings } from '../../core/eval/format';
import { computeReport } from '../../core/eval/report';
import { EvalStoreError, openEvalStore, queryResults, readEvalStore } from '../../core/eval/store';
import { LOCK_FILE } from '../../core/eval/storeLock';
import type { EvalConfig, EvalResult } from '../../core/eval/types';
import { tempDir } from '../helpers/tempDir';

function config(overrides: Partial<Pick<EvalConfig, 'modes' | 'template'>> = {}): EvalConfig {
  return {
    ...createEvalConfig({
      name: 'store-test',
      source: { kind: 'dataset', files: ['/x/rows.jsonl'], chainFile: '/x/chain.coi' },
      models: [{ key: 'm', label: 'm', identity: { backend: 'openai', model: 'm@x' } }],
      modes: overrides.modes ?? ['stepwise'],
      template: overrides.template ?? 'chat',
      items: [],
      toolVersion: 'test',
    }),
    itemCount: 3,
  };
}

function result(item: string, rouge: number, latencyMs = 10): EvalResult {
  return { item, model: 'm', mode: 'stepwise', chainLength: 1, steps: [], final: { rougeL: rouge }, splitFailed: false, tokensIn: 1, tokensOut: 1, latencyMs, modelCalls: 1, cached: false, runId: item };
}

void describe('the eval store', () => {
  void test('resume after a torn last line: the line is discarded, cut off, and the triple is redone once', () => {
    const dir = join(tempDir(), 's');
    const store = openEvalStore(dir, config());
    store.append(result('row 1', 10));
    store.append(result('row 2', 20));
    store.close();
    appendFileSync(join(dir, 'results.jsonl'), JSON.stringify(result('row 3', 30)).slice(0, 25));

    const read = readEvalStore(dir);
    assert.deepEqual(read.results.map((r) => r.item), ['row 1', 'row 2']);
    assert.equal(read.tornLine, true);
    assert.deepEqual(read.problems, []);

    const resumed = openEvalStore(dir, config());
    assert.equal(resumed.has('row 3', 'm', 'stepwise'), false);
    assert.equal(resumed.has('row 1', 'm', 'stepwise'), true);
    resumed.append(result('row 3', 30));
    resumed.append(result('row 3', 99)); // a second finish of the same triple is not written
    resumed.close();
    const lines = readFileSync(join(dir, 'results.jsonl'), 'utf8').split('\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as EvalResult).item), ['row 1', 'row 2', 'row 3']);
    assert.equal(readEvalStore(dir).tornLine, false);
  });

  void test('a duplicated or broken middle line: the first result of a triple wins, the broken line is reported', () => {
    const dir = join(tempDir(), 's');
    openEvalStore(dir, config()).close();
    writeFileSync(join(dir, 'results.jsonl'), [JSON.stringify(result('row 1', 10)), 'not json', JSON.stringify(result('row 1', 50)), JSON.stringify(result('row 2', 20)), ''].join('\n'));
    const read = readEvalStore(dir);
    assert.deepEqual(read.results.map((r) => [r.item, r.final.rougeL]), [['row 1', 10], ['row 2', 20]]);
    assert.deepEqual(read.problems, ['results.jsonl line 2: not valid JSON; the line is ignored and its triple runs again on --resume.']);
  });

  void test('a result line whose chain length is not a whole number is ignored like any line that is not a result, and its triple runs again', () => {
    const dir = join(tempDir(), 's');
    openEvalStore(dir, config()).close();
    const lines = [result('row 1', 10), { ...result('row 2', 20), chainLength: '<img src=x onerror=alert(1)>' }, { ...result('row 3', 30), chainLength: 1.5 }, { ...result('row 1', 40), chainLength: undefined }];
    writeFileSync(join(dir, 'results.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
    const read = readEvalStore(dir);
    assert.deepEqual(read.results.map((r) => r.item), ['row 1']);
    assert.deepEqual(read.problems, [2, 3, 4].map((n) => `results.jsonl line ${n}: not an evaluation result; ignored.`));
    const resumed = openEvalStore(dir, config());
    assert.deepEqual(['row 1', 'row 2', 'row 3'].map((item) => resumed.has(item, 'm', 'stepwise')), [true, false, false]);
    resumed.close();
  });

  void test("a step's finish reason is kept for an output cut short: a line written before it (no field) reads as before, one whose reason is not a reason's name is not a result", () => {
    const dir = join(tempDir(), 's');
    openEvalStore(dir, config()).close();
    const step = { id: 'summary', index: 0, category: 'summarization', output: 'the crew', reference: 'the crew fixed the dock', rougeL: 50, exact: false, contractValid: true, status: 'ok' };
    // Row 1 as a store written before finish reasons wrote it (a literal line, not this version's writer); row 2 cut at its bound; row 3 with a reason coi never writes.
    const old = `{"item":"row 1","model":"m","mode":"stepwise","chainLength":1,"steps":[${JSON.stringify(step)}],"final":{"reference":"the crew fixed the dock","rougeL":50,"exact":false,"outputIsLastStep":true},"splitFailed":false,"tokensIn":1,"tokensOut":1,"latencyMs":10,"modelCalls":1,"cached":false,"runId":"r1"}`;
    const cut = { ...result('row 2', 50), steps: [{ ...step, finishReason: 'length' }] };
    const unknown = { ...result('row 3', 50), steps: [{ ...step, finishReason: '<b>stop</b>' }] };
    writeFileSync(join(dir, 'results.jsonl'), [old, JSON.stringify(cut), JSON.stringify(unknown), ''].join('\n'));
    const read = readEvalStore(dir);
    assert.deepEqual(read.results.map((r) => [r.item, r.steps[0]?.finishReason]), [['row 1', undefined], ['row 2', 'length']]);
    assert.equal(read.results[0]!.final.output, 'the crew', 'the old line reads as before');
    assert.deepEqual(read.problems, ['results.jsonl line 3: not an evaluation result; ignored.']);
    // The report counts the cut output among both lines' outputs.
    const report = computeReport(read);
    assert.deepEqual(report.groups[0]!.cutOutputs, { stepOutputs: 2, byReason: { length: 1 } });
  });

  void test("a finish reason a later coi wrote (one this version does not know) keeps its line: not run again on resume, counted as cut under its own name, said once", () => {
    const dir = join(tempDir(), 's');
    openEvalStore(dir, config()).close();
    const step = { id: 'summary', index: 0, category: 'summarization', output: 'the crew', reference: 'the crew fixed the dock', rougeL: 50, exact: false, contractValid: true, status: 'ok' };
    const cutBy = (item: string, finishReason: unknown): object => ({ ...result(item, 50), steps: [{ ...step, finishReason }] });
    // Rows 1 and 3 as a later coi with a new reason writes them; row 4's reason is not text, so that line is still no result.
    const lines = [cutBy('row 1', 'context-shift'), cutBy('row 2', 'length'), cutBy('row 3', 'context-shift'), cutBy('row 4', 42)];
    writeFileSync(join(dir, 'results.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join(''));

    const read = readEvalStore(dir);
    assert.deepEqual(read.results.map((r) => [r.item, r.steps[0]?.finishReason, r.final.rougeL]), [['row 1', 'context-shift', 50], ['row 2', 'length', 50], ['row 3', 'context-shift', 50]]);
    assert.deepEqual(read.problems, ['results.jsonl line 4: not an evaluation result; ignored.']);
    const resumed = openEvalStore(dir, config());
    assert.deepEqual(['row 1', 'row 2', 'row 3', 'row 4'].map((item) => resumed.has(item, 'm', 'stepwise')), [true, true, true, false], 'only the line that is no result runs again');
    resumed.close();

    const report = computeReport(read);
    assert.equal(report.counts.results, 3);
    assert.deepEqual(report.groups[0]!.cutOutputs, { stepOutputs: 3, byReason: { length: 1, 'context-shift': 2 } });
    const unknownNote = 'The store holds a finish reason this version of CoI Studio does not know (context-shift), written by a newer one: its outputs are counted as cut short, under its own name; update CoI Studio to learn what it means.';
    const table = formatReport(report, 'table');
    assert.ok(table.includes('\n⚠ m · stepwise: 2 of 3 step outputs were cut short (finish reason: context-shift): their scores count only what came before the cut.\n'), table);
    assert.equal(table.split(unknownNote).length, 2, 'said once, not per line');
    assert.match(formatReport(report, 'csv'), /\ncount,m,stepwise,cutOutputs\.context-shift,,2,/);
    assert.equal(reportWarnings(report).filter((w) => w === unknownNote).length, 1, 'CSV says it once on stderr');
  });

  void test("the runs' warnings: kept with each result and reported once each; a line without them (written before) reads as none, one whose warnings are not text keeps its result", () => {
    const dir = join(tempDir(), 's');
    openEvalStore(dir, config()).close();
    const said = 'A composed run is one generation, so the steps\' own sampling is not used (temperature of a): it applies to stepwise runs.';
    const lines = [result('row 1', 50), { ...result('row 2', 60), warnings: [said] }, { ...result('row 3', 70), warnings: [said, 42, { html: '<b>' }] }, { ...result('row 4', 70), warnings: 'not a list' }];
    writeFileSync(join(dir, 'results.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const read = readEvalStore(dir);
    assert.deepEqual(read.problems, []);
    assert.deepEqual(read.results.map((r) => [r.item, r.warnings]), [['row 1', undefined], ['row 2', [said]], ['row 3', [said]], ['row 4', undefined]]);
    assert.deepEqual(computeReport(read).warnings, [{ message: said, results: 2, groups: [{ model: 'm', mode: 'stepwise' }] }]);
  });

  void test('an eval.json whose seed is not a whole number is refused as not written by coi', () => {
    for (const seed of ['<script>', 1.5, null, undefined]) {
      const dir = join(tempDir(), 's');
      openEvalStore(dir, config()).close();
      const stored = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(dir, 'eval.json'), JSON.stringify({ ...stored, seed }));
      assert.throws(() => readEvalStore(dir), (err: EvalStoreError) => err.code === 'unreadable' && /is not an evaluation configuration written by coi/.test(err.message), String(seed));
    }
  });

  void test("an eval.json whose modes are not coi's (unknown, none, one twice) is refused, naming the file and the value", () => {
    for (const [modes, said] of [
      [['weird'], '"modes" holds "weird", not a mode (stepwise or composed)'],
      [['stepwise', 3], '"modes" holds 3, not a mode (stepwise or composed)'],
      [[], '"modes" is empty'],
      [['composed', 'composed'], '"modes" names "composed" twice'],
    ] as const) {
      const dir = join(tempDir(), 's');
      openEvalStore(dir, config()).close();
      const stored = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(dir, 'eval.json'), JSON.stringify({ ...stored, modes }));
      assert.throws(() => readEvalStore(dir), (err: EvalStoreError) => err.code === 'unreadable' && err.message === `${join(dir, 'eval.json')}: ${said}; it is not an evaluation configuration written by coi.`, JSON.stringify(modes));
    }
  });

  void test("an eval.json whose template is not coi's (unknown, missing) is refused, naming the file and the value", () => {
    for (const [template, said] of [
      ['weird', '"template" is "weird", not a template (chat or alpaca)'],
      [undefined, '"template" is missing, not a template (chat or alpaca)'],
    ] as const) {
      const dir = join(tempDir(), 's');
      openEvalStore(dir, config()).close();
      const stored = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(dir, 'eval.json'), JSON.stringify({ ...stored, template }));
      assert.throws(() => readEvalStore(dir), (err: EvalStoreError) => err.code === 'unreadable' && err.message === `${join(dir, 'eval.json')}: ${said}; it is not an evaluation configuration written by coi.`, String(template));
    }
  });

  const refusals: readonly { name: string; prepare: (dir: string) => void; open: (dir: string) => unknown; code: EvalStoreError['code']; message: RegExp }[] = [
    {
      name: 'another configuration',
      prepare: (dir) => openEvalStore(dir, config()).close(),
      open: (dir) => openEvalStore(dir, config({ modes: ['stepwise', 'composed'], template: 'alpaca' })),
      code: 'config-mismatch',
      message: /holds another evaluation: the modes \(stored: stepwise; now: stepwise, composed\), the template \(stored: chat; now: alpaca\) changed/,
    },
    {
      name: 'changed data',
      prepare: (dir) => openEvalStore(dir, config()).close(),
      open: (dir) => openEvalStore(dir, { ...config(), dataHash: 'other' }),
      code: 'data-changed',
      message: /The data of the evaluation in '.*' changed since it started/,
    },
    {
      name: 'a folder with other files',
      prepare: (dir) => {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'notes.txt'), 'mine');
      },
      open: (dir) => openEvalStore(dir, config()),
      code: 'not-empty',
      message: /is not empty and holds no evaluation/,
    },
    { name: 'no folder at all', prepare: () => undefined, open: (dir) => readEvalStore(dir), code: 'not-a-store', message: /^'.*store' does not exist: name an evaluation store/ },
    { name: 'a folder without a store', prepare: (dir) => mkdirSync(dir, { recursive: true }), open: (dir) => readEvalStore(dir), code: 'not-a-store', message: /is not an evaluation store: it has no eval\.json/ },
    {
      name: 'an eval.json of something else',
      prepare: (dir) => {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'eval.json'), '{"version": "2"}');
      },
      open: (dir) => readEvalStore(dir),
      code: 'unreadable',
      message: /is not an evaluation configuration written by coi/,
    },
    {
      name: 'a store written by a newer CoI Studio',
      prepare: (dir) => {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'eval.json'), '{"version": 2}');
      },
      open: (dir) => readEvalStore(dir),
      code: 'unreadable',
      message: /eval\.json was written by a newer CoI Studio \(store version 2; this one reads up to version 1\): update CoI Studio to read it\.$/,
    },
    {
      name: 'a folder that cannot be created',
      prepare: (dir) => {
        mkdirSync(join(dir, '..'), { recursive: true });
        writeFileSync(join(dir, '..', 'file'), '');
      },
      open: (dir) => openEvalStore(join(dir, '..', 'file', 'store'), config()),
      code: 'unwritable',
      message: /Cannot write the evaluation store '.*store': a part of the path is a file, not a folder\.$/,
    },
    {
      // Root may write it all the same: coi does not (the paper's data, installed read-only).
      name: 'a new store inside a folder no one may write (dr-xr-xr-x), even for root',
      prepare: (dir) => {
        mkdirSync(join(dir, '..'), { recursive: true });
        chmodSync(join(dir, '..'), 0o555);
      },
      open: (dir) => openEvalStore(dir, config()),
      code: 'unwritable',
      message: /^Cannot write the evaluation store '.*store': permission denied \(read-only\)\.$/,
    },
    {
      name: 'resuming a store whose folder was made read-only, even for root',
      prepare: (dir) => {
        openEvalStore(dir, config()).close();
        chmodSync(dir, 0o555);
      },
      open: (dir) => openEvalStore(dir, config()),
      code: 'unwritable',
      message: /^Cannot write the evaluation store '.*store': permission denied \(read-only\)\.$/,
    },
    {
      name: 'a file given as the store to resume or report',
      prepare: (dir) => {
        mkdirSync(join(dir, '..'), { recursive: true });
        writeFileSync(dir, 'notes');
      },
      open: (dir) => readEvalStore(dir),
      code: 'not-a-store',
      message: /^'.*store' is not an evaluation store: it is a file, not a folder\.$/,
    },
    {
      name: 'a file where the store folder must be',
      prepare: (dir) => {
        mkdirSync(join(dir, '..'), { recursive: true });
        writeFileSync(dir, 'notes');
      },
      open: (dir) => openEvalStore(dir, config()),
      code: 'unwritable',
      message: /Cannot write the evaluation store '.*store': it is a file, not a folder\.$/,
    },
  ];
  for (const refusal of refusals) {
    void test(`refused: ${refusal.name}`, () => {
      const dir = join(tempDir(), 'store');
      refusal.prepare(dir);
      assert.throws(
        () => refusal.open(dir),
        (error: unknown) => error instanceof EvalStoreError && error.code === refusal.code && refusal.message.test(error.message),
      );
    });
  }

  const inUse = (message: RegExp) => (error: unknown) => error instanceof EvalStoreError && error.code === 'in-use' && message.test(error.message);
  const lines = (dir: string): string[] => readFileSync(join(dir, 'results.jsonl'), 'utf8').split('\n').filter((l) => l !== '');

  void test('one writer at a time: a second opener is refused naming the holder and writes nothing; readers need no lock; free again after close', () => {
    const dir = join(tempDir(), 's');
    const writer = openEvalStore(dir, config());
    writer.append(result('row 1', 10));
    const holder = new RegExp(`is being written by coi \\(pid ${process.pid} on ${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): wait for it to finish, or delete .*${LOCK_FILE} if no such process runs`);
    assert.throws(() => openEvalStore(dir, config()), inUse(holder));
    assert.throws(() => openEvalStore(dir), inUse(holder));
    assert.deepEqual(readEvalStore(dir).results.map((r) => r.item), ['row 1'], 'a reader reads while it is written');
    writer.append(result('row 2', 20));
    writer.close();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false, 'released on close');
    assert.deepEqual(lines(dir).map((l) => (JSON.parse(l) as EvalResult).item), ['row 1', 'row 2'], 'the refused opener wrote nothing');
    const next = openEvalStore(dir, config());
    next.append(result('row 3', 30));
    next.close();
    assert.equal(lines(dir).length, 3);
  });

  void test('two evaluations started on one new folder: the second is refused, not told the folder is not empty', () => {
    const dir = join(tempDir(), 's');
    const first = openEvalStore(dir, config());
    assert.throws(() => openEvalStore(dir, config()), inUse(/is being written by coi/));
    first.close();
  });

  void test('a lock left by a process that no longer runs is taken over; one of another host, or unreadable, is respected', () => {
    const dir = join(tempDir(), 's');
    openEvalStore(dir, config()).close();
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: dead, host: hostname(), since: '2026-01-01T00:00:00.000Z' }));
    const store = openEvalStore(dir, config());
    assert.equal((JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number }).pid, process.pid);
    store.close();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);

    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: dead, host: 'gpu-node-7', since: '2026-01-01T00:00:00.000Z' }));
    assert.throws(() => openEvalStore(dir, config()), inUse(new RegExp(`by coi \\(pid ${dead} on gpu-node-7\\)`)));
    writeFileSync(join(dir, LOCK_FILE), '');
    assert.throws(() => openEvalStore(dir, config()), inUse(/is being written by another process/));
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), '', 'a lock it cannot judge is left alone');
  });

  void test('a process that exits without closing the store (a second Ctrl-C) leaves no lock behind', () => {
    const dir = join(tempDir(), 's');
    openEvalStore(dir, config()).close();
    const script = `const { openEvalStore, readConfig } = require(${JSON.stringify(join(__dirname, '..', '..', 'core', 'eval', 'store.js'))});
const dir = ${JSON.stringify(dir)};
openEvalStore(dir, readConfig(dir));
process.stdout.write(require('node:fs').existsSync(require('node:path').join(dir, ${JSON.stringify(LOCK_FILE)})) ? 'held' : 'not held');
process.exit(130);`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    assert.equal(child.status, 130, child.stderr);
    assert.equal(child.stdout, 'held');
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
  });

  void test('pages of results: filter, sort, offset and limit', () => {
    const results = [result('row 1', 10, 30), result('row 2', 90, 10), { ...result('row 3', 50, 20), error: 'boom' }, { ...result('row 10', 70, 40), splitFailed: true }];
    assert.deepEqual(queryResults(results, { sortBy: 'final.rougeL', descending: true, limit: 2 }).results.map((r) => r.item), ['row 2', 'row 10']);
    assert.deepEqual(queryResults(results, { sortBy: 'latencyMs', offset: 1, limit: 2 }), { total: 4, offset: 1, results: [results[2], results[0]] });
    assert.deepEqual(queryResults(results, { only: 'failures' }).results.map((r) => r.item), ['row 3']);
    assert.deepEqual(queryResults(results, { only: 'split-failures' }).results.map((r) => r.item), ['row 10']);
    assert.deepEqual(queryResults(results, { item: 'ROW 1' }).results.map((r) => r.item), ['row 1', 'row 10']);
    assert.equal(queryResults(results, { model: 'other' }).total, 0);
  });
});
