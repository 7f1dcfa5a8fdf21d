/**
 * `coi eval --dataset`: a row needs the chain inputs the steps read (core's inputsNeeded, the rule
 * of `coi run` and `coi test`), not one no step reads (the checker's COI207 warning); a row without
 * a needed input stays an error naming the row and the input. The bundled CLI in a child process,
 * against the OpenAI-protocol test server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { storedResults } from '../helpers/evalStore';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type ChatBody, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync, type CliResult } from './cliProcess';

// article: the first step reads it by default; audience: the second step's `from`; notes: no step reads it.
const CHAIN =
  'chain retold\ninput article: text\ninput notes: text\ninput audience: text\n\n' +
  'step summary {\n  instruction "Summarize the article."\n  output text\n}\n\n' +
  'step retell {\n  instruction "Retell the summary for the audience."\n  from summary, audience\n  output text\n}\n';

void describe('coi eval --dataset needs the inputs the steps read', () => {
  let server: OpenAITestServer;
  let dir: string;
  before(async () => {
    server = await startOpenAITestServer({ reply: () => 'Rain on Tuesday.', models: ['tiny'] });
    dir = tempDir();
    writeFileSync(join(dir, 'retold.coi'), CHAIN);
  });
  after(async () => server.close());

  const coi = (args: readonly string[]): Promise<CliResult> =>
    coiAsync(['eval', 'retold.coi', ...args, '--model', 'openai:tiny', '--base-url', server.baseURL, '--api-key-env', 'EVAL_KEY', '--no-cache'], { cwd: dir, env: { COI_MODEL: '', EVAL_KEY: 'sk-test' } });
  const prompts = (from: number): string[] => server.chatRequests(from).map((request) => JSON.stringify((request.body as ChatBody).messages));

  void test('rows (JSONL) and a CSV header without the input no step reads are evaluated; a value given for it reaches no prompt', async () => {
    writeFileSync(join(dir, 'rows.jsonl'), '{"article": "Heavy rain on Tuesday.", "audience": "children"}\n{"article": "Sun on Friday.", "audience": "sailors", "notes": "An unread remark."}\n');
    writeFileSync(join(dir, 'rows.csv'), 'article,audience\nHeavy rain on Tuesday.,children\n');
    const before = server.requests.length;
    const jsonl = await coi(['--dataset', 'rows.jsonl', '--out', 'jsonl']);
    assert.equal(jsonl.code, 0, jsonl.stderr);
    const results = storedResults(join(dir, 'jsonl'));
    assert.deepEqual(results.map((r) => [r.item, r.error]).sort(), [['row 1', undefined], ['row 2', undefined]]);
    const asked = prompts(before);
    assert.equal(asked.length, 4, 'two steps for each of the two rows');
    assert.ok(asked.some((p) => p.includes('sailors')), 'the second step is fed the audience');
    assert.ok(asked.every((p) => !p.includes('An unread remark')), asked.join('\n'));

    const csv = await coi(['--dataset', 'rows.csv', '--out', 'csv']);
    assert.equal(csv.code, 0, csv.stderr);
    assert.deepEqual(storedResults(join(dir, 'csv')).map((r) => [r.item, r.error]), [['row 1', undefined]]);
  });

  void test('a row or a CSV header without an input a step reads is an error naming it (exit 2), the unread one not named; nothing runs', async () => {
    writeFileSync(join(dir, 'missing.jsonl'), '{"article": "Heavy rain on Tuesday.", "audience": "children"}\n{"article": "Sun on Friday."}\n');
    writeFileSync(join(dir, 'missing.csv'), 'article,notes\nHeavy rain on Tuesday.,x\n');
    const before = server.requests.length;
    const row = await coi(['--dataset', 'missing.jsonl', '--out', 'missing-rows']);
    assert.equal(row.code, 2, row.stderr);
    assert.match(row.stderr, /missing\.jsonl: line 2: no value for the chain input 'audience'\.\n/);
    assert.doesNotMatch(row.stderr, /'notes'/);
    const header = await coi(['--dataset', 'missing.csv', '--out', 'missing-header']);
    assert.equal(header.code, 2, header.stderr);
    assert.match(header.stderr, /missing\.csv: line 1: the header has no column 'audience' for the chain input \(columns: article, notes\)\.\n/);
    assert.equal(server.requests.length, before, 'no model call');
  });
});
