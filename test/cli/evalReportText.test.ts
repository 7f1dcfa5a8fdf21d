/**
 * `coi eval`, `coi eval report` and `coi eval compare` with names a user did not expect: a model
 * id in Chinese with an emoji (the terminal table lines its columns up by the columns they take),
 * an evaluation name with a line break and an escape sequence (the run's first line on stderr),
 * and stores that ran in different modes (compare says so in every format). The bundled CLI
 * against the OpenAI-protocol test server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreComparison } from '../../core/eval/report';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync } from './cliProcess';
import { digestProject } from './digestProject';

/** A model id a terminal shows in more columns than it has UTF-16 units in some places (模型: 2 units, 4 columns) and as many in others (😀: 2 and 2). */
const WIDE_MODEL = '模型-😀';

/** Terminal columns of text made only of ASCII, CJK ideographs and the emoji above (what these tests print). */
function columns(text: string): number {
  return [...text].reduce((n, c) => n + (/[\u4e00-\u9fff\u{1f600}-\u{1f64f}]/u.test(c) ? 2 : 1), 0);
}

void describe('coi eval reports with unexpected names', () => {
  let server: OpenAITestServer;
  before(async () => {
    server = await startOpenAITestServer({ models: ['tiny', WIDE_MODEL], reply: ({ model }) => (model === 'tiny' ? 'the crew fixed the dock' : 'the dock is fine') });
  });
  after(async () => {
    await server.close();
  });
  const env = { COI_MODEL: '', OPENAI_API_KEY: 'k' };
  const run = (args: readonly string[], cwd: string): ReturnType<typeof coiAsync> => coiAsync(args, { cwd, env });
  const project = (): string => {
    const cwd = digestProject(0);
    writeFileSync(join(cwd, 'rows.jsonl'), [1, 2, 3].map((i) => JSON.stringify({ text: `Report row ${i}: the crew fixed the dock.`, 'expected.output': 'the crew fixed the dock' })).join('\n') + '\n');
    return cwd;
  };
  const evalArgs = (...more: string[]): string[] => ['eval', 'digest.coi', '--dataset', 'rows.jsonl', '--base-url', server.baseURL, '--no-cache', ...more];

  void test('the table lines its columns up by the terminal columns a Chinese and emoji model label takes', async () => {
    const cwd = project();
    const r = await run(evalArgs('--model', 'openai:tiny', '--model', `openai:${WIDE_MODEL}`, '--out', 'S'), cwd);
    assert.equal(r.code, 0, r.stderr);
    const report = await run(['eval', 'report', 'S'], cwd);
    assert.equal(report.code, 0, report.stderr);
    const lines = report.stdout.split('\n');
    const header = lines.find((l) => l.startsWith('model · mode'))!;
    const rows = lines.filter((l) => / · stepwise\s+3\s/.test(l) && !l.includes(' vs '));
    assert.equal(rows.length, 2, report.stdout);
    assert.ok(rows.some((l) => l.startsWith(`openai:${WIDE_MODEL} · stepwise`)), report.stdout);
    // Where the n column ends, and where the next one starts, in terminal columns: the same on every line.
    const nEnds = [header, ...rows].map((l) => columns(/^.*? · \S+\s+(?:n|\d+)/.exec(l)![0]));
    assert.deepEqual(nEnds, [nEnds[0], nEnds[0], nEnds[0]], report.stdout);
    const lineEnds = [header, ...rows].map(columns);
    assert.deepEqual(lineEnds, [lineEnds[0], lineEnds[0], lineEnds[0]], `every line as wide:\n${report.stdout}`);
  });

  void test("the run's first line shows a name's line break and escape sequence as escapes, on one line, in a log too", async () => {
    const cwd = project();
    const r = await run(evalArgs('--model', 'openai:tiny', '--name=dock\nnews\u001b]0;title\u0007', '--out', 'N'), cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Evaluating dock\\nnews\\u001b\]0;title\\u0007: 3 items × 1 model \(openai:tiny\) × stepwise\. Store: N$/m);
    assert.doesNotMatch(r.stderr, /[\u0007\u001b]/, 'no control character reaches the log');
  });

  void test('compare of a stepwise store with a composed one says that runs are compared only in the same mode, in every format', async () => {
    const cwd = project();
    for (const [mode, out] of [['stepwise', 'A'], ['composed', 'B'], ['both', 'C']] as const) {
      const r = await run(evalArgs('--model', 'openai:tiny', '--mode', mode, '--out', out), cwd);
      assert.equal(r.code, 0, r.stderr);
    }
    const said = 'A ran stepwise, B composed: runs are compared only in the same mode, so nothing is compared.';
    const table = await run(['eval', 'compare', 'A', 'B'], cwd);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /\n3 items paired .*\n⚠ A ran stepwise, B composed: runs are compared only in the same mode, so nothing is compared\.\n$/);
    assert.doesNotMatch(table.stdout, /No item was scored in both stores/, 'the items were scored in both, in other modes');
    const markdown = await run(['eval', 'compare', 'A', 'B', '--format', 'markdown'], cwd);
    assert.ok(markdown.stdout.includes(`> ⚠ ${said}`), markdown.stdout);
    assert.doesNotMatch(markdown.stdout, /\| B vs A \|/, 'no empty table');
    const csv = await run(['eval', 'compare', 'A', 'B', '--format', 'csv'], cwd);
    assert.equal(csv.stdout, 'b,a,mode,metric,n,difference,low,high,wins,ties,losses\n');
    assert.equal(csv.stderr, `warning: ${said}\n`);
    const json = JSON.parse((await run(['eval', 'compare', 'A', 'B', '--json'], cwd)).stdout) as StoreComparison & { warnings: string[] };
    assert.deepEqual(json.warnings, [said]);
    assert.deepEqual([json.a.modes, json.b.modes], [['stepwise'], ['composed']]);

    // A store of both modes against a stepwise one: compared in stepwise, and said.
    const partly = await run(['eval', 'compare', 'C', 'A'], cwd);
    assert.match(partly.stdout, /⚠ Compared in stepwise only \(A also ran composed\): runs are compared only in the same mode\.\n/);
    assert.match(partly.stdout, /tiny · stepwise \(B\) vs openai:tiny · stepwise \(A\)\s+final\.rougeL\s+3 /);
  });

  void test('compare of two stores with no item in common says so in Markdown too, not with an empty table', async () => {
    const cwd = project();
    writeFileSync(join(cwd, 'other.jsonl'), JSON.stringify({ text: 'Another report entirely.', 'expected.output': 'x' }) + '\n');
    for (const [rows, out] of [['rows.jsonl', 'A'], ['other.jsonl', 'D']] as const) {
      const r = await run(['eval', 'digest.coi', '--dataset', rows, '--base-url', server.baseURL, '--no-cache', '--model', 'openai:tiny', '--out', out], cwd);
      assert.equal(r.code, 0, r.stderr);
    }
    for (const format of ['table', 'markdown']) {
      const r = await run(['eval', 'compare', 'A', 'D', '--format', format], cwd);
      assert.match(r.stdout, /\nThe two stores evaluated different data: 0 items paired \(same inputs and references\); paired bootstrap, seed 42\.\n[\s\S]*No item was scored in both stores\.\n$/, format);
      assert.doesNotMatch(r.stdout, /\| B vs A \|/, format);
    }
  });

  void test('compare of stores run with another --template and --max-tokens says so in every format (CSV: on stderr)', async () => {
    const cwd = project();
    for (const [out, more] of [['A', ['--concurrency', '1']], ['B', ['--template', 'alpaca', '--max-tokens', '64', '--concurrency', '3']]] as const) {
      const r = await run(evalArgs('--model', 'openai:tiny', '--out', out, ...more), cwd);
      assert.equal(r.code, 0, r.stderr);
    }
    const said = 'A and B ran with other settings (template chat in A, alpaca in B; max tokens the default in A, 64 in B): the paired differences measure these too, not only the models.';
    const table = await run(['eval', 'compare', 'A', 'B'], cwd);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /\n3 items paired \(same inputs and references\); paired bootstrap, seed 42\.\n/);
    assert.ok(table.stdout.includes(`\n⚠ ${said}\n`), table.stdout);
    assert.ok((await run(['eval', 'compare', 'A', 'B', '--format', 'markdown'], cwd)).stdout.includes(`> ⚠ ${said}`));
    const csv = await run(['eval', 'compare', 'A', 'B', '--format', 'csv'], cwd);
    assert.equal(csv.stderr, `warning: ${said}\n`);
    assert.match(csv.stdout, /^b,a,mode,metric,n,difference,low,high,wins,ties,losses\n/);
    const json = JSON.parse((await run(['eval', 'compare', 'A', 'B', '--json'], cwd)).stdout) as StoreComparison & { warnings: string[] };
    assert.deepEqual(json.differentSettings, [{ setting: 'template', a: 'chat', b: 'alpaca' }, { setting: 'maxTokens', a: null, b: 64 }]);
    assert.deepEqual(json.warnings, [said]);
    // The same settings (concurrency aside): nothing said.
    const same = await run(['eval', 'compare', 'A', 'A'], cwd);
    assert.doesNotMatch(same.stdout, /other settings/);
  });

  void test('report and compare refuse a store whose eval.json has an unknown mode, or was written by a newer CoI Studio, with exit 2', async () => {
    const cwd = project();
    const r = await run(evalArgs('--model', 'openai:tiny', '--out', 'S'), cwd);
    assert.equal(r.code, 0, r.stderr);
    const file = join(cwd, 'S', 'eval.json');
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...stored, modes: ['weird'] }));
    for (const args of [['eval', 'report', 'S'], ['eval', 'compare', 'S', 'S']]) {
      const refused = await run(args, cwd);
      assert.equal(refused.code, 2, refused.stdout);
      assert.equal(refused.stdout, '');
      assert.match(refused.stderr, /^coi eval: .*\/S\/eval\.json: "modes" holds "weird", not a mode \(stepwise or composed\); it is not an evaluation configuration written by coi\.\n$/);
    }
    writeFileSync(file, JSON.stringify({ ...stored, version: 3 }));
    const newer = await run(['eval', 'report', 'S'], cwd);
    assert.equal(newer.code, 2);
    assert.match(newer.stderr, /\/S\/eval\.json was written by a newer CoI Studio \(store version 3; this one reads up to version 1\): update CoI Studio to read it\.\n$/);
  });
});
