/**
 * `coi eval` on files that are not UTF-8 (saved as Latin-1): a .coi file whose tests are the items,
 * the chain of `--dataset` and its rows, `--records`. Each bad byte is read as U+FFFD with a warning
 * naming the file's first one (FILE:LINE:COLUMN), in the words of `coi check` and `coi run`, and the
 * evaluation runs: it writes scores, not a dataset (`coi dataset build` and `coi import` refuse such
 * files). The bundled CLI in a child process, against the OpenAI-protocol test server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { storedResults } from '../helpers/evalStore';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync, type CliResult } from './cliProcess';

const CHAIN = 'chain two\ninput article: text\n\nstep summary {\n  instruction "Summarize the article."\n  output text\n}\n\nstep title {\n  instruction "Write a title for the summary."\n  output text\n}\n';
const TESTED = `${CHAIN}\ntest "one" {\n  given article = "Le café ferme."\n  expect output contains "Rain"\n}\n`;

/** Writes `text` as Latin-1 (é is the one byte 0xE9) and returns the warning `coi eval` gives for it. */
function latin1File(dir: string, name: string, text: string): string {
  const bytes = Buffer.from(text, 'latin1');
  writeFileSync(join(dir, name), bytes);
  const at = bytes.indexOf(0xe9);
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  return `coi eval: warning: ${name}:${line}:${column}: invalid UTF-8 (byte 0xE9 at offset ${at}); it is read as U+FFFD (\uFFFD), as is every other invalid byte. Save the file as UTF-8.\n`;
}

/** The lines of `stderr` that are warnings about UTF-8. */
function utf8Warnings(stderr: string): string[] {
  return stderr.split(/(?<=\n)/).filter((line) => line.includes('UTF-8'));
}

void describe('coi eval reads files that are not UTF-8 with a warning naming FILE:LINE:COLUMN, and evaluates them', () => {
  let server: OpenAITestServer;
  let dir: string;
  before(async () => {
    server = await startOpenAITestServer({ reply: () => 'Rain on Tuesday.', models: ['tiny'] });
    dir = tempDir();
  });
  after(async () => server.close());

  const coi = (args: readonly string[]): Promise<CliResult> =>
    coiAsync(['eval', ...args, '--model', 'openai:tiny', '--base-url', server.baseURL, '--api-key-env', 'EVAL_KEY', '--no-cache'], { cwd: dir, env: { COI_MODEL: '', EVAL_KEY: 'sk-test' } });

  void test('the tests of a .coi file', async () => {
    const warning = latin1File(dir, 'tested.coi', TESTED);
    const result = await coi(['tested.coi', '--out', 'tests']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(utf8Warnings(result.stderr), [warning]);
    assert.equal(storedResults(join(dir, 'tests')).length, 1, 'the test was evaluated');
  });

  void test('the chain of --dataset and its rows, each named', async () => {
    const chainWarning = latin1File(dir, 'chain.coi', CHAIN.replace('Summarize the article.', 'Résumez the article.'));
    const rowsWarning = latin1File(dir, 'rows.jsonl', '{"article": "Rain on Tuesday."}\n{"article": "Le café ferme."}\n');
    const result = await coi(['chain.coi', '--dataset', 'rows.jsonl', '--out', 'rows']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(utf8Warnings(result.stderr), [chainWarning, rowsWarning]);
    assert.equal(storedResults(join(dir, 'rows')).length, 2, 'both rows were evaluated');
  });

  void test('--records', async () => {
    const record = { instruction: 'Summarize the text. and then Write a title.', input: 'Le café ferme.', output: 'Task 1 output and task 2 input: Closed.\nTask 2 output: Closed' };
    const warning = latin1File(dir, 'records.json', `[${JSON.stringify(record)}]`);
    const result = await coi(['--records', 'records.json', '--out', 'records']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(utf8Warnings(result.stderr), [warning]);
    assert.equal(storedResults(join(dir, 'records')).length, 1, 'the record was evaluated');
  });
});
