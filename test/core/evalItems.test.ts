/**
 * core/eval's item readers: tests of a chain, datasets (JSONL, JSON, CSV) with
 * their bad inputs located, and the paper's records (with the composability
 * check's verdict kept, not dropped). The CoI2 test set when ../shared is there.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { checkDocument } from '../../core/check/index';
import { EvalInputError, itemsFromDataset, itemsFromRecords, itemsFromTests, parseCsv, type DatasetFormat } from '../../core/eval/items';
import { describeSubset, selectItems, subsetNote, withSubset } from '../../core/eval/subset';
import { sharedDataPath } from '../helpers/paths';
import { readDataset, writeDataset } from '../../core/dataset/index';

const CHAIN = checkDocument(`chain news
input article: text
input audience: text

step summary {
  instruction "Summarize the article for the audience."
  from article, audience
}

step headline {
  instruction "Write a headline for the summary."
}

test "storm" {
  given article = "The storm closed roads."
  given audience = "drivers"
  expect summary rouge_l >= 0.4 "Roads closed by the storm."
  expect output equals "Storm shuts roads"
  expect headline contains "Storm"
}

test "calm" {
  given article = "Again."
  given audience = "all"
}
`).chain;

const INFO = { source: 'rows', display: 'news.coi' };

function datasetError(text: string, format: DatasetFormat): string {
  try {
    itemsFromDataset(CHAIN, text, format, INFO);
  } catch (error) {
    assert.ok(error instanceof EvalInputError, String(error));
    return error.message;
  }
  assert.fail('no error');
}

void describe('items from tests', () => {
  void test('inputs, references from rouge_l/equals expectations, unique ids, categories', () => {
    const items = itemsFromTests(CHAIN, { display: 'news.coi', baseDir: '/x' });
    assert.deepEqual(items.map((i) => i.id), ['news.coi#storm', 'news.coi#calm']);
    assert.deepEqual(items[0]!.inputs, { article: 'The storm closed roads.', audience: 'drivers' });
    assert.deepEqual(items[0]!.references, { summary: 'Roads closed by the storm.' });
    assert.equal(items[0]!.finalReference, 'Storm shuts roads');
    assert.equal(items[0]!.test?.expectations.length, 3);
    assert.deepEqual(items[0]!.categories, ['summarization', 'generation']);
  });
});

void describe('items from a dataset', () => {
  void test('JSONL, JSON and CSV rows with expected.STEP and expected.output columns', () => {
    const jsonl = itemsFromDataset(CHAIN, '{"article": "A", "audience": "kids", "expected.summary": "s", "expected": "h"}\n\n{"article": "B", "audience": "all"}\n', 'jsonl', INFO);
    assert.deepEqual(
      jsonl.map((i) => [i.id, i.inputs, i.references, i.finalReference]),
      [
        ['row 1', { article: 'A', audience: 'kids' }, { summary: 's' }, 'h'],
        ['row 2', { article: 'B', audience: 'all' }, {}, undefined],
      ],
    );
    const json = itemsFromDataset(CHAIN, '[{"article": "A", "audience": 3, "expected.headline": "t"}]', 'json', INFO);
    assert.deepEqual([json[0]!.inputs, json[0]!.references], [{ article: 'A', audience: '3' }, { headline: 't' }]);
    const csv = itemsFromDataset(CHAIN, 'article,audience,expected.output\n"Roads, bridges and ""tunnels""\nclosed",drivers,Closed\r\nB,all,\n', 'csv', INFO);
    assert.deepEqual(
      csv.map((i) => [i.inputs.article, i.finalReference]),
      [
        ['Roads, bridges and "tunnels"\nclosed', 'Closed'],
        ['B', undefined],
      ],
    );
  });

  const bad: readonly [string, string, DatasetFormat, RegExp][] = [
    ['a malformed JSONL line (its number)', '{"article": "A", "audience": "x"}\n{"article": \n', 'jsonl', /^rows: line 2, column \d+: invalid JSON: [^:]*$/],
    ['a JSONL line that is not an object', '{"article": "A", "audience": "x"}\n\n["A"]\n', 'jsonl', /^rows: line 3: expected an object/],
    ['a row missing an input', '{"article": "A"}\n', 'jsonl', /^rows: line 1: no value for the chain input 'audience'\.$/],
    ['an empty dataset', '\n \n', 'jsonl', /^rows: the dataset is empty/],
    ['JSON that is not an array', '{"article": "A"}', 'json', /^rows: expected a JSON array of rows/],
    ['invalid JSON (line and column)', '[\n{"article": }]', 'json', /^rows: line 2, column \d+: invalid JSON: [^:]*$/],
    ['CSV without a column for an input', 'article,expected.summary\nA,s\n', 'csv', /^rows: line 1: the header has no column 'audience' for the chain input \(columns: article, expected\.summary\)\.$/],
    ['CSV with a short row', 'article,audience\nA,x\nB\n', 'csv', /^rows: row 2 \(line 3\): 1 fields, but the header has 2 columns\.$/],
    ['CSV with an unclosed quote', 'article,audience\n"A,x\n', 'csv', /^rows: line 2: a quoted field is not closed/],
    ['CSV with only a header', 'article,audience\n', 'csv', /^rows: the dataset is empty/],
    ['an expected column naming no step', '{"article": "A", "audience": "x", "expected.sumary": "s"}\n', 'jsonl', /column 'expected\.sumary' names no step of the chain \(steps: summary, headline\)/],
  ];
  for (const [name, text, format, message] of bad) {
    void test(`bad input: ${name}`, () => {
      assert.match(datasetError(text, format), message);
    });
  }

  void test('several problems are listed together, each with its place', () => {
    const message = datasetError('{"article": "A"}\n{"audience": "B"}\n', 'jsonl');
    assert.match(message, /^rows: 2 problems:\n {2}rows: line 1: no value for the chain input 'audience'\.\n {2}rows: line 2: no value for the chain input 'article'\.$/);
  });

  void test('CSV parsing keeps the line each record starts on', () => {
    assert.deepEqual(parseCsv('a,b\n"x\ny",z\n\nq,r'), { records: [{ line: 1, fields: ['a', 'b'] }, { line: 2, fields: ['x\ny', 'z'] }, { line: 5, fields: ['q', 'r'] }] });
  });
});

const RECORDS = JSON.stringify([
  {
    instruction: 'Summarize the review in one sentence. and then Translate the summary into French.',
    input: 'The boots were warm, sturdy and cheap.',
    output: 'Task 1 output and task 2 input: Warm, sturdy, cheap boots.\nTask 2 output: Des bottes chaudes, solides et bon marché.',
  },
  {
    instruction: 'Classify the sentiment of the review as positive or negative. and then Summarize the text in three paragraphs.',
    input: 'I loved it.',
    output: 'Task 1 output and task 2 input: positive  Task 2 output: It was positive.',
  },
]);

void describe("items from the paper's records", () => {
  void test('each record its own chain: per-step references, the whole output, the composability verdict kept', () => {
    const items = itemsFromRecords(RECORDS, 'json', { source: 'r.json', sourceName: 'r.json' });
    assert.deepEqual(items.map((i) => i.id), ['record 0', 'record 1']);
    const [first, second] = items;
    assert.deepEqual(first!.references, { step1: 'Warm, sturdy, cheap boots.', step2: 'Des bottes chaudes, solides et bon marché.' });
    assert.equal(first!.finalReference, 'Des bottes chaudes, solides et bon marché.');
    assert.equal(first!.wholeReference, JSON.parse(RECORDS)[0].output);
    assert.deepEqual(first!.inputs, { source: 'The boots were warm, sturdy and cheap.' });
    assert.deepEqual(first!.categories, ['summarization', 'translation']);
    assert.equal(first!.composability, undefined);
    assert.match(second!.composability ?? '', /^COI3\d\d: /);
  });

  const bad: readonly [string, string, RegExp][] = [
    ['not an array', '{"instruction": "x"}', /not the paper's record format/],
    ['no records', '[]', /holds no records to evaluate/],
    ['a bad JSONL line', '{"instruction": 1}\n', /line 1: record 0: field "instruction" must be a string/],
  ];
  for (const [name, text, message] of bad) {
    void test(`bad records: ${name}`, () => {
      assert.throws(() => itemsFromRecords(text, name.includes('JSONL') ? 'jsonl' : 'json', { source: 'r.json' }), (error: unknown) => error instanceof EvalInputError && message.test(error.message));
    });
  }

  void test('the files coi dataset writes (TRL prompt-completion or chat, OpenAI chat) are read as the same records', () => {
    const paper = itemsFromRecords(RECORDS, 'json', { source: 'r.json' });
    const examples = readDataset(RECORDS).examples;
    for (const format of ['trl-prompt-completion', 'trl-chat', 'openai-chat', 'alpaca-jsonl'] as const) {
      const items = itemsFromRecords(writeDataset(examples, format), 'jsonl', { source: `validation.${format}.jsonl` });
      assert.deepEqual(items.map((i) => [i.id, i.inputs, i.references, i.wholeReference, i.chain.steps.map((s) => s.instruction)]), paper.map((i) => [i.id, i.inputs, i.references, i.wholeReference, i.chain.steps.map((s) => s.instruction)]), format);
    }
    assert.throws(
      () => itemsFromRecords('{"prompt": "x", "completion": "y"}\n{"prompt": 3}\n', 'jsonl', { source: 'v.jsonl' }),
      (error: unknown) => error instanceof EvalInputError && /line 2: /.test(error.message),
    );
  });

  void test('a record without markers is evaluated on its final answer (the summarize-then-translate shape)', () => {
    const [item] = itemsFromRecords(JSON.stringify([{ instruction: 'Summarize the text and then Translate it into French', input: 'x', output: 'une réponse' }]), 'json', { source: 'r.json' });
    assert.equal(item!.chain.steps.length, 2);
    assert.equal(item!.finalReference, 'une réponse');
    assert.equal(Object.keys(item!.references).length, 1, 'only the last step has a reference');
  });

  const coi2 = sharedDataPath('coi2_test.json');
  void test('the CoI2 test set: 588 items, some flagged by the composability check', { skip: existsSync(coi2) ? false : 'skipped: ../shared/data/coi/coi2_test.json is not here' }, () => {
    const items = itemsFromRecords(readFileSync(coi2, 'utf8'), 'json', { source: 'coi2_test.json' });
    assert.equal(items.length, 588);
    assert.ok(items.every((i) => i.chain.steps.length === 2 && Object.keys(i.references).length === 2 && i.wholeReference !== undefined));
    const flagged = items.filter((i) => i.composability !== undefined).length;
    assert.ok(flagged > 0 && flagged < 60, `flagged: ${flagged}`);
  });
});

void describe('part of the items (--limit, --sample)', () => {
  const items = Array.from({ length: 100 }, (_, i) => `item ${i}`);

  void test('the first N, or all of them when N is as large', () => {
    assert.deepEqual(selectItems(items, { kind: 'first', count: 3 }), ['item 0', 'item 1', 'item 2']);
    assert.deepEqual(selectItems(items, { kind: 'first', count: 500 }), items);
    assert.deepEqual(selectItems(items, undefined), items);
  });

  void test('a sample: N distinct items in their order, the same for the same seed, others for another', () => {
    const drawn = selectItems(items, { kind: 'sample', count: 10, seed: 42 });
    assert.equal(new Set(drawn).size, 10);
    assert.deepEqual(drawn, [...drawn].sort((a, b) => Number(a.slice(5)) - Number(b.slice(5))), 'in the items\' order');
    assert.notDeepEqual(drawn, items.slice(0, 10));
    assert.deepEqual(selectItems(items, { kind: 'sample', count: 10, seed: 42 }), drawn);
    assert.notDeepEqual(selectItems(items, { kind: 'sample', count: 10, seed: 43 }), drawn);
    assert.deepEqual(selectItems(items, { kind: 'sample', count: 100, seed: 1 }), items);
  });

  void test('every item can be drawn: over many seeds, each of 20 items appears in some sample of 5', () => {
    const few = items.slice(0, 20);
    const seen = new Set<string>();
    for (let seed = 0; seed < 60; seed++) for (const item of selectItems(few, { kind: 'sample', count: 5, seed })) seen.add(item);
    assert.equal(seen.size, 20);
  });

  void test('the source as kept: with its subset when it is a part, without one when it is all the items', () => {
    const source = { kind: 'records', files: ['/x/r.json'] } as const;
    const part = withSubset({ ...source, subset: { kind: 'sample', count: 3, seed: 1 } }, items);
    assert.deepEqual([part.items.length, part.source.subset], [3, { kind: 'sample', count: 3, seed: 1 }]);
    const all = withSubset({ ...source, subset: { kind: 'first', count: 100 } }, items);
    assert.deepEqual([all.items, all.source], [items, source]);
    assert.deepEqual(withSubset(source, items), { source, items });
  });

  void test('described for the line an evaluation starts with', () => {
    assert.equal(describeSubset({ kind: 'first', count: 50 }, 588), 'the first 50 of 588 items');
    assert.equal(describeSubset({ kind: 'sample', count: 50, seed: 7 }, 588), '50 of 588 items, drawn at random (seed 7)');
    assert.equal(describeSubset({ kind: 'sample', count: 600, seed: 7 }, 588), undefined);
    assert.equal(describeSubset(undefined, 588), undefined);
    assert.equal(subsetNote({ kind: 'sample', count: 50, seed: 7 }), 'drawn at random, seed 7');
    assert.equal(subsetNote({ kind: 'first', count: 50 }), "the source's first 50");
  });
});
