/**
 * `coi eval` says the warnings its runs give, as `coi run` does, but each distinct one once (not
 * once per item): a composed evaluation of a chain whose steps set their own sampling warns on
 * stderr that the composed runs leave it out, and the report (the evaluation's, `coi eval report`
 * from the store, --json) says it too. The bundled CLI against the OpenAI-protocol test server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalReport } from '../../core/eval/types';
import { storedResults } from '../helpers/evalStore';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync, type CliResult } from './cliProcess';
import { coiWithKeys, openaiProfileBlock } from './profileChecks';

const MARKED = 'Task 1 output and task 2 input: Rain on Tuesday.\nTask 2 output: Pluie mardi.';
const WARNING = "A composed run is one generation, so the steps' own sampling is not used (temperature, seed of summary; max_tokens of french): it applies to stepwise runs.";

/** Three test blocks: three items, each of whose composed runs gives the warning. */
const TESTS = ['Heavy rain on Tuesday.', 'Rain again on Wednesday.', 'Sun on Thursday.'].map((text, i) => `test "day ${i + 1}" {\n  given article = "${text}"\n  expect output contains "Pluie"\n}\n`).join('\n');

/** How many times `text` holds `part`. */
const occurrences = (text: string, part: string): number => text.split(part).length - 1;

void describe("coi eval: the runs' warnings", () => {
  let server: OpenAITestServer;
  let dir: string;
  before(async () => {
    server = await startOpenAITestServer({ reply: () => MARKED });
    dir = tempDir();
    const profile = openaiProfileBlock(server.baseURL, 'api', 'COI_TEST_KEY');
    writeFileSync(
      join(dir, 'sampled.coi'),
      'chain sampled\ninput article: text\n\n' +
        profile +
        'step summary {\n  instruction "Summarize the article."\n  temperature 0.9\n  seed 7\n}\n\n' +
        'step french {\n  instruction "Translate the summary into French."\n  max_tokens 40\n}\n\n' +
        TESTS,
    );
    writeFileSync(join(dir, 'plain.coi'), 'chain plain\ninput article: text\n\n' + profile + 'step summary {\n  instruction "Summarize the article."\n}\n\nstep french {\n  instruction "Translate the summary into French."\n}\n\n' + TESTS);
  });
  after(async () => server.close());

  /** `coi eval report DIR ...`: it reads the store and runs nothing (no --no-cache). */
  const report = (args: readonly string[]): Promise<CliResult> => coiAsync(['eval', 'report', ...args], { cwd: dir, env: { COI_MODEL: '' } });
  const expected = [{ message: WARNING, results: 3, groups: [{ model: 'profile:api', mode: 'composed' }] }];

  void test('a composed evaluation of steps with their own sampling: the warning once on stderr, in the table, --json and the report re-printed from the store', async () => {
    const table = await coiWithKeys(dir, ['eval', 'sampled.coi', '--mode', 'composed', '--out', 'composed']);
    assert.equal(table.code, 0, table.stderr);
    assert.equal(occurrences(table.stderr, `⚠ ${WARNING}\n`), 1, `once, not once per item:\n${table.stderr}`);
    assert.match(table.stderr, /^eval: 0\/3 done[^\n]*\n⚠ A composed run/m, 'a line of its own, beside the progress lines');
    assert.ok(table.stdout.includes(`\nWarnings of the runs:\n⚠ ${WARNING} (3 results: api · composed)\n`), table.stdout);
    // Each result line keeps its run's warning: the store is where a re-print reads it.
    assert.deepEqual(storedResults(join(dir, 'composed')).map((r) => r.warnings), [[WARNING], [WARNING], [WARNING]]);

    const json = await coiWithKeys(dir, ['eval', 'sampled.coi', '--mode', 'composed', '--out', 'json', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(occurrences(json.stderr, WARNING), 1, json.stderr);
    assert.deepEqual((JSON.parse(json.stdout) as EvalReport).warnings, expected);

    const reprinted = await report(['composed', '--format', 'json']);
    assert.equal(reprinted.code, 0, reprinted.stderr);
    assert.deepEqual((JSON.parse(reprinted.stdout) as EvalReport).warnings, expected);
    const markdown = await report(['composed', '--format', 'markdown']);
    assert.ok(markdown.stdout.includes('\n## Warnings of the runs\n\n- ⚠ A composed run is one generation'), markdown.stdout);
    // CSV keeps its shape: the warning goes to stderr, once.
    const csv = await report(['composed', '--format', 'csv']);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(occurrences(csv.stderr, WARNING), 1, csv.stderr);
    assert.doesNotMatch(csv.stdout, /composed run is one generation/);
  });

  void test('a stepwise evaluation of steps without their own sampling: no warning anywhere', async () => {
    const json = await coiWithKeys(dir, ['eval', 'plain.coi', '--mode', 'stepwise', '--out', 'plain', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.doesNotMatch(json.stderr, /⚠/);
    assert.deepEqual((JSON.parse(json.stdout) as EvalReport).warnings, []);
    const table = await report(['plain']);
    assert.equal(table.code, 0, table.stderr);
    assert.doesNotMatch(table.stdout, /Warnings of the runs/);
  });
});
