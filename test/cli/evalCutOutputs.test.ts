/**
 * `coi eval` tells a user when step outputs were cut short: the OpenAI-protocol test server ends
 * some answers at their token bound (`finish_reason: "length"`) or by its content filter
 * (`"content_filter"`), and the evaluation's table, `coi eval report` (table, JSON, CSV) and
 * `coi eval compare` say how many, per model and mode. The bundled CLI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreComparison } from '../../core/eval/report';
import type { EvalReport } from '../../core/eval/types';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync } from './cliProcess';
import { digestProject } from './digestProject';

void describe('coi eval: step outputs cut short', () => {
  let server: OpenAITestServer;
  before(async () => {
    server = await startOpenAITestServer({ reply: () => 'the crew fixed the dock' });
  });
  after(async () => {
    await server.close();
  });
  const env = { COI_MODEL: '', OPENAI_API_KEY: 'k' };
  const run = (args: readonly string[], cwd: string): ReturnType<typeof coiAsync> => coiAsync(args, { cwd, env });
  const evalArgs = (...more: string[]): string[] => ['eval', 'digest.coi', '--dataset', 'rows.jsonl', '--base-url', server.baseURL, '--no-cache', '--model', 'openai:tiny', ...more];

  const lengthNote = (mode: string): string =>
    `openai:tiny · ${mode}: 2 of 4 step outputs were cut at their token bound (finish reason: length): their scores count only what was generated; raise --max-tokens (or the ${mode === 'composed' ? "profile's" : "step's"} max_tokens; for a local model, --context too) and evaluate again.`;
  const filterNote = (mode: string): string => `openai:tiny · ${mode}: 1 of 4 step outputs was cut by the provider's content filter (finish reason: content_filter): its score counts only what came before the cut.`;

  void test('the server cuts 2 answers at their bound and filters 1: the evaluation, its report in every format and compare say how many', async () => {
    const cwd = digestProject(0);
    writeFileSync(join(cwd, 'rows.jsonl'), [1, 2, 3, 4].map((i) => JSON.stringify({ text: `Report row ${i}: the crew fixed the dock.`, 'expected.output': 'the crew fixed the dock' })).join('\n') + '\n');
    // Rows 1 and 2 reach their token bound, row 3 the provider's content filter, in both modes; row 4 is whole.
    server.setFaultChooser(({ body }) => {
      const text = JSON.stringify(body);
      if (text.includes('Report row 1') || text.includes('Report row 2')) return { kind: 'reply', content: 'the crew', finishReason: 'length' };
      if (text.includes('Report row 3')) return { kind: 'reply', content: 'the crew fixed', finishReason: 'content_filter' };
      return undefined;
    });
    let cut;
    try {
      cut = await run(evalArgs('--mode', 'both', '--out', 'A'), cwd);
    } finally {
      server.setFaultChooser(undefined);
    }
    assert.equal(cut.code, 0, cut.stderr);
    // The composed runs' record warning of their generation cut short is these counts: not said again, item by item, as a run's warning.
    assert.doesNotMatch(cut.stderr, /⚠|The composed generation/, cut.stderr);
    for (const mode of ['stepwise', 'composed']) {
      assert.ok(cut.stdout.includes(`\n⚠ ${lengthNote(mode)}\n⚠ ${filterNote(mode)}\n`), `the evaluation's table says it (${mode}):\n${cut.stdout}`);
    }

    const table = await run(['eval', 'report', 'A'], cwd);
    assert.equal(table.code, 0, table.stderr);
    assert.ok(table.stdout.includes(`\n⚠ ${lengthNote('stepwise')}\n⚠ ${filterNote('stepwise')}\n⚠ ${lengthNote('composed')}\n⚠ ${filterNote('composed')}\n`), table.stdout);

    const json = JSON.parse((await run(['eval', 'report', 'A', '--json'], cwd)).stdout) as EvalReport;
    assert.deepEqual(
      json.groups.map((g) => [g.mode, g.cutOutputs]),
      [
        ['stepwise', { stepOutputs: 4, byReason: { length: 2, 'content-filter': 1 } }],
        ['composed', { stepOutputs: 4, byReason: { length: 2, 'content-filter': 1 } }],
      ],
    );

    const csv = await run(['eval', 'report', 'A', '--format', 'csv'], cwd);
    assert.match(csv.stdout, /\ncount,openai:tiny,stepwise,cutOutputs\.length,,2,/);
    assert.equal(csv.stderr, [lengthNote('stepwise'), filterNote('stepwise'), lengthNote('composed'), filterNote('composed')].map((note) => `warning: ${note}\n`).join(''));

    // The same items with whole answers: nothing said; compared with the cut store, compare says it.
    const whole = await run(evalArgs('--mode', 'both', '--out', 'B'), cwd);
    assert.equal(whole.code, 0, whole.stderr);
    assert.doesNotMatch(whole.stdout, /cut|⚠/, whole.stdout);
    const said =
      "A and B differ in step outputs cut short: A has 4 of 8 cut at their token bound (finish reason: length) and 2 by the provider's content filter (finish reason: content_filter); B has none of 8. A cut output's scores count only what came before the cut, so the paired differences measure the cuts too, not only the models.";
    const compared = await run(['eval', 'compare', 'A', 'B'], cwd);
    assert.equal(compared.code, 0, compared.stderr);
    assert.ok(compared.stdout.includes(`\n⚠ ${said}\n`), compared.stdout);
    const comparedJson = JSON.parse((await run(['eval', 'compare', 'A', 'B', '--json'], cwd)).stdout) as StoreComparison & { warnings: string[] };
    assert.deepEqual(comparedJson.warnings, [said]);
    assert.doesNotMatch((await run(['eval', 'compare', 'B', 'B'], cwd)).stdout, /cut short/);
  });
});
