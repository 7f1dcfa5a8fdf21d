/**
 * `coi eval` and `coi dataset` after the audit: default stores of evaluations started together,
 * `coi eval compare` pairing items by content, store problems in every format, control
 * characters in JSON error messages, empty records, datasets without references, duplicate CSV
 * columns, the resume refusal. The bundled CLI against the OpenAI-protocol test server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from '../../core/eval/items';
import type { StoreComparison } from '../../core/eval/report';
import type { EvalReport } from '../../core/eval/types';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coi, coiAsync } from './cliProcess';
import { digestProject } from './digestProject';

/** Rows whose reference is `digest of WORD`; the server answers it right for the words in RIGHT only. */
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];
const RIGHT = new Set(['alpha', 'charlie', 'echo']);

function rows(words: readonly string[], reference: (word: string) => string = (w) => `digest of ${w}`): string {
  return words.map((w) => JSON.stringify({ text: `Report about ${w}.`, 'expected.output': reference(w) })).join('\n') + '\n';
}

/** Control characters, the byte-order mark or a bidirectional control: none may reach the terminal raw. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufeff]/;

void describe('coi eval after the audit', () => {
  let server: OpenAITestServer;
  before(async () => {
    server = await startOpenAITestServer({
      models: ['tiny', 'modelA', 'modelB'],
      reply: ({ messages }) => {
        const word = /Report about (\w+)/.exec(String(messages.filter((m) => m.role === 'user').at(-1)?.content ?? ''))?.[1] ?? '?';
        return RIGHT.has(word) ? `digest of ${word}` : 'a summary of something else entirely';
      },
    });
  });
  after(async () => {
    await server.close();
  });
  const env = { COI_MODEL: '', OPENAI_API_KEY: 'k' };
  const run = (args: readonly string[], cwd: string): ReturnType<typeof coiAsync> => coiAsync(args, { cwd, env });
  const evalArgs = (data: string, ...more: string[]): string[] => ['eval', 'digest.coi', '--dataset', data, '--model', 'openai:tiny', '--base-url', server.baseURL, '--no-cache', ...more];

  void test('two evaluations started together without --out get a store each', async () => {
    const cwd = digestProject(3);
    const both = await Promise.all(
      ['modelA', 'modelB'].map((model) => run(['eval', 'digest.coi', '--dataset', 'rows.jsonl', '--model', `openai:${model}`, '--base-url', server.baseURL, '--no-cache', '--json'], cwd)),
    );
    for (const r of both) assert.equal(r.code, 0, r.stderr);
    const stores = readdirSync(join(cwd, '.coi-evals'));
    assert.equal(stores.length, 2, `two stores: ${stores.join(', ')}`);
    for (const store of stores) assert.match(store, /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-digest-rows(-\d+)?$/, 'named to the millisecond');
    assert.notEqual((JSON.parse(both[0]!.stdout) as EvalReport).store, (JSON.parse(both[1]!.stdout) as EvalReport).store);
  });

  void test('compare pairs items by content: a row inserted at the top pairs nothing wrongly; a changed reference is not paired, and said', async () => {
    const cwd = digestProject(0);
    writeFileSync(join(cwd, 'a.jsonl'), rows(WORDS));
    writeFileSync(join(cwd, 'b.jsonl'), rows(['zulu', ...WORDS]));
    writeFileSync(join(cwd, 'c.jsonl'), rows(WORDS, (w) => (w === 'bravo' ? 'digest of bravo, revised' : `digest of ${w}`)));
    for (const [data, out] of [['a.jsonl', 'A'], ['b.jsonl', 'B'], ['c.jsonl', 'C']] as const) {
      const r = await run(evalArgs(data, '--out', out), cwd);
      assert.equal(r.code, 0, r.stderr);
    }
    const inserted = await run(['eval', 'compare', 'A', 'B', '--json'], cwd);
    assert.equal(inserted.code, 0, inserted.stderr);
    const moved = JSON.parse(inserted.stdout) as StoreComparison & { warnings: string[] };
    assert.equal(moved.commonItems, 6);
    assert.deepEqual([moved.pairing.by, moved.pairing.moved, moved.pairing.differing], ['fingerprints', 6, 0]);
    const final = moved.comparisons.find((c) => c.metric === 'final.rougeL')!;
    assert.deepEqual([final.n, final.difference.mean, final.wins, final.losses], [6, 0, 0, 0], 'the same model on the same rows: no difference');
    assert.ok(moved.warnings.some((w) => /6 items were paired with the item of the same content under another id/.test(w)), moved.warnings.join('\n'));

    const changed = await run(['eval', 'compare', 'A', 'C'], cwd);
    assert.equal(changed.code, 0, changed.stderr);
    assert.match(changed.stdout, /5 items paired/);
    assert.match(changed.stdout, /⚠ 1 item has the same id in both stores but other inputs or references \(e\.g\. "row 2"\): not paired, not compared\./);
    const json = JSON.parse((await run(['eval', 'compare', 'A', 'C', '--json'], cwd)).stdout) as StoreComparison & { warnings: string[] };
    assert.deepEqual([json.commonItems, json.pairing.differing, json.pairing.differingExamples], [5, 1, ['row 2']]);

    const same = await run(['eval', 'compare', 'A', './A', '--format', 'csv'], cwd);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stderr, /warning: A and B are the same store: every difference is zero\./);
  });

  void test("a store's unreadable lines are said in every format, and compare's JSON carries them", async () => {
    const cwd = digestProject(0);
    writeFileSync(join(cwd, 'a.jsonl'), rows(WORDS.slice(0, 3)));
    assert.equal((await run(evalArgs('a.jsonl', '--out', 'S'), cwd)).code, 0);
    appendFileSync(join(cwd, 'S', 'results.jsonl'), 'garbage\n{"torn":');
    const csv = await run(['eval', 'report', 'S', '--format', 'csv'], cwd);
    assert.equal(csv.code, 0, csv.stderr);
    assert.match(csv.stderr, /warning: results\.jsonl line 4: not valid JSON/);
    assert.match(csv.stderr, /warning: results\.jsonl: its last line was cut short/);
    const parsed = parseCsv(csv.stdout);
    assert.ok(parsed.records.every((r) => r.fields.length === 12), 'the CSV keeps its shape');
    const markdown = await run(['eval', 'report', 'S', '--format', 'markdown'], cwd);
    assert.match(markdown.stdout, /> ⚠ results\.jsonl line 4: not valid JSON/);
    for (const format of ['table', 'markdown']) assert.match((await run(['eval', 'compare', 'S', 'S', '--format', format], cwd)).stdout, /B: results\.jsonl line 4: not valid JSON/);
    const compared = JSON.parse((await run(['eval', 'compare', 'S', 'S', '--json'], cwd)).stdout) as StoreComparison;
    assert.equal(compared.a.problems.length, 2);
    assert.equal(compared.b.problems.length, 2);
    assert.match((await run(['eval', 'compare', 'S', 'S', '--format', 'csv'], cwd)).stderr, /warning: A: results\.jsonl line 4/);
  });

  void test('a resume of changed data is refused naming the item, before announcing anything', async () => {
    const cwd = digestProject(0);
    writeFileSync(join(cwd, 'a.jsonl'), rows(WORDS.slice(0, 3)));
    assert.equal((await run(evalArgs('a.jsonl', '--out', 'S'), cwd)).code, 0);
    writeFileSync(join(cwd, 'a.jsonl'), rows(WORDS.slice(0, 3), (w) => (w === 'bravo' ? 'another reference' : `digest of ${w}`)));
    for (const args of [['eval', '--resume', 'S'], evalArgs('a.jsonl', '--out', 'S')]) {
      const r = await run(args, cwd);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /changed since it started \(1 item's inputs or references differ \("row 2"\)\)/);
      assert.doesNotMatch(r.stderr, /Evaluating|Resuming/);
    }
  });

  void test('a dataset without any reference is noted before the model calls, naming a look-alike column; a CSV column named twice is refused', async () => {
    const cwd = digestProject(0);
    writeFileSync(join(cwd, 'typo.jsonl'), WORDS.slice(0, 2).map((w) => JSON.stringify({ text: `Report about ${w}.`, expected_output: `digest of ${w}` })).join('\n') + '\n');
    const before = server.requests.length;
    const r = await run(evalArgs('typo.jsonl', '--out', 'T'), cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Note: typo\.jsonl: no row gives a reference \(a column expected\.output or expected\.summary\), so no output is scored against one .* The column 'expected_output' is not read: rename it expected\.output or expected\.STEP\./);
    assert.ok(r.stderr.indexOf('Note:') < r.stderr.indexOf('Evaluating'), 'said first');
    assert.ok(server.requests.length > before);
    writeFileSync(join(cwd, 'twice.csv'), 'text,text\nReport about alpha.,Report about bravo.\n');
    const twice = await run(evalArgs('twice.csv', '--out', 'U'), cwd);
    assert.equal(twice.code, 2, twice.stderr);
    assert.match(twice.stderr, /line 1: the header names the column 'text' twice/);
  });

  void test('--records refuses an empty record as coi dataset does, with its line', async () => {
    const cwd = digestProject(0);
    writeFileSync(join(cwd, 'records.jsonl'), [JSON.stringify({ instruction: 'Summarize.', input: 'x', output: 'y' }), JSON.stringify({ instruction: '', input: '', output: '' })].join('\n') + '\n');
    const r = await run(['eval', '--records', 'records.jsonl', '--model', 'openai:tiny', '--base-url', server.baseURL, '--out', 'R'], cwd);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /records\.jsonl: line 2: record 1: "instruction" is empty\./);
    const dataset = coi(['dataset', 'stats', 'records.jsonl'], { cwd });
    assert.match(dataset.stderr, /records\.jsonl:2: "instruction" is empty\./);
  });

  void test('JSON errors never carry control characters, whatever form V8 quotes the bad text in', async () => {
    const cwd = digestProject(0);
    const bad = `\ufeffT\u001b]0;PWNED\u0007 ${'and more text '.repeat(8)}\u001b[2J`;
    writeFileSync(join(cwd, 'bad.jsonl'), `${JSON.stringify({ text: 'Report about alpha.' })}\n${bad}\n`);
    writeFileSync(join(cwd, 'bad.json'), `[${bad}]`);
    for (const data of ['bad.jsonl', 'bad.json']) {
      const r = await run(evalArgs(data, '--out', 'X'), cwd);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /invalid JSON/);
      assert.doesNotMatch(r.stderr, RAW_CONTROL, JSON.stringify(r.stderr));
    }
    writeFileSync(join(cwd, 'bad-records.jsonl'), `${JSON.stringify({ instruction: 'Summarize.', input: 'x', output: 'y' })}\n${bad}\n`);
    const converted = coi(['dataset', 'convert', 'bad-records.jsonl', '--to', 'openai-chat'], { cwd });
    assert.match(converted.stderr, /bad-records\.jsonl:2:1: invalid JSON: Unexpected token '\\ufeff'/);
    assert.doesNotMatch(converted.stderr, RAW_CONTROL, JSON.stringify(converted.stderr));
  });
});
