import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { repoPath, sharedDataPath, sharedDataSkip } from '../helpers/paths';
import { normalizeMarkedOutput } from '../../core/records/markers';
import {
  formatRecordsJson,
  formatRecordsJsonl,
  importRecord,
  isIssue,
  readRecords,
  splitInstruction,
  writeRecord,
  type ImportedRecord,
  type PaperRecord,
  type ReadResult,
} from '../../core/records/paperRecords';
import { chainToRecords, chainRecord } from '../../core/records/fromChain';
import type { Chain, ChainStep, ChainTest, Expectation } from '../../core/chain/model';

function readData(name: string): ReadResult {
  return readRecords(readFileSync(sharedDataPath(name), 'utf8'));
}

/** What varies in the data: the spelling of the last marker and the whitespace before it. */
function variantOf(record: ImportedRecord): string {
  return `${JSON.stringify(record.layout.markers[1]?.replace(/\d/g, 'N'))} after ${JSON.stringify(record.layout.trailing[0])}`;
}

void describe('paper records: the coi2_test.json excerpt in test/fixtures (records 0, 1, 75, 446, 372)', () => {
  const text = readFileSync(repoPath('test', 'fixtures', 'records', 'coi2-excerpt.json'), 'utf8');
  const result = readRecords(text);
  // Each fixture record keeps its index in coi2_test.json beside the paper's three fields.
  const indexes = (JSON.parse(text) as { index: number }[]).map((r) => r.index);
  const original = (index: number): ImportedRecord | undefined => result.records[indexes.indexOf(index)];

  void it('imports each record as a chain of 2 steps and re-joins it byte for byte', () => {
    assert.deepEqual(result.issues, []);
    assert.equal(result.records.length, 5);
    for (const r of result.records) {
      assert.equal(r.outputs.length, 2);
      assert.deepEqual(writeRecord(r.instructions, r.input, r.outputs, r.layout), { instruction: r.record.instruction, input: r.record.input, output: r.record.output });
    }
    assert.deepEqual([...new Set(result.records.map(variantOf))].sort(), ['"Task N output:" after "  "', '"TaskN output:" after "\\n"']);
  });

  void it('splits an instruction whose second step itself contains " and then " (record 446)', () => {
    assert.deepEqual(original(446)?.instructions, [
      'Generate a question using the provided context and linked information to obtain the given answer.',
      'Identify the part-of-speech tag of a word in a sentence enclosed in curly braces and then Answer the generated question by identifying the part-of-speech tag of the word.',
    ]);
  });

  void it('matches the example of the data README (record 0)', () => {
    assert.deepEqual(original(0)?.outputs, ['They prepared for the start of the race.', 'The input is not ironic']);
  });
});

void describe('paper records: coi2_test.json (the CoI2 test set)', { skip: sharedDataSkip }, () => {
  const result = readData('coi2_test.json');

  void it('imports every one of the 588 records, each a chain of exactly 2 steps', () => {
    assert.deepEqual(result.issues, []);
    assert.equal(result.records.length, 588);
    for (const record of result.records) {
      assert.equal(record.instructions.length, 2, `record ${record.index}`);
      assert.equal(record.outputs.length, 2, `record ${record.index}`);
      for (const output of record.outputs) assert.notEqual(output, '', `record ${record.index} has an empty step output`);
    }
  });

  void it('re-joins every record byte for byte (with the layout as written)', () => {
    for (const r of result.records) {
      assert.deepEqual(writeRecord(r.instructions, r.input, r.outputs, r.layout), r.record, `record ${r.index}`);
    }
  });

  void it('re-joins every record to its canonical form (without the layout)', () => {
    for (const r of result.records) {
      const written = writeRecord(r.instructions, r.input, r.outputs);
      assert.equal(written.instruction, r.record.instruction, `record ${r.index}`);
      assert.equal(written.input, r.record.input);
      assert.equal(written.output, normalizeMarkedOutput(r.record.output, 2), `record ${r.index}`);
      assert.match(written.output, /^Task 1 output and task 2 input: [^\n]+\nTask 2 output: /);
    }
  });

  void it('covers every marker variant of the data', () => {
    const variants = new Map<string, number>();
    for (const r of result.records) variants.set(variantOf(r), (variants.get(variantOf(r)) ?? 0) + 1);
    // Both spellings of the last marker, after two spaces or a newline.
    assert.deepEqual([...variants.keys()].sort(), ['"Task N output:" after "  "', '"TaskN output:" after "\\n"']);
    assert.ok(result.records.every((r) => r.layout.markers[0] === 'Task 1 output and task 2 input:'));
  });

  void it('splits an instruction whose second step itself contains " and then " (record 446)', () => {
    const record = result.records.find((r) => r.index === 446);
    assert.ok(record);
    assert.deepEqual(record.instructions, [
      'Generate a question using the provided context and linked information to obtain the given answer.',
      'Identify the part-of-speech tag of a word in a sentence enclosed in curly braces and then Answer the generated question by identifying the part-of-speech tag of the word.',
    ]);
  });

  void it('matches the example of the data README (record 0)', () => {
    const record = result.records[0];
    assert.ok(record);
    assert.deepEqual(record.outputs, ['They prepared for the start of the race.', 'The input is not ironic']);
    assert.equal(record.instructions[1], 'Determine if the last sentence of the story is ironic or not based on the given definition of irony.');
  });
});

void describe('paper records: coi_2.json (the CoI2 training set)', { skip: sharedDataSkip }, () => {
  const result = readData('coi_2.json');

  void it('imports all but the two records whose instruction does not match their markers, and says why', () => {
    assert.equal(result.records.length + result.issues.length, 2933);
    assert.deepEqual(
      result.issues.map((i) => [i.index, i.field]),
      [
        [1658, 'instruction'],
        [1752, 'instruction'],
      ],
    );
    assert.match(result.issues[0]?.message ?? '', /^record 1658: "instruction" has one instruction \(no " and then "\), but "output" has markers for 2 steps\.$/);
    assert.match(result.issues[1]?.message ?? '', /^record 1752: "instruction" has 3 parts joined by " and then ", but "output" has markers for 2 steps\.$/);
  });

  void it('covers every marker variant of the training data', () => {
    const variants = new Set(result.records.map(variantOf));
    assert.deepEqual([...variants].sort(), ['"Task N output:" after " \\n"', '"TaskN output:" after "\\n"']);
  });

  void it('round-trips every imported record byte for byte, and canonically', () => {
    for (const r of result.records) {
      assert.equal(r.outputs.length, 2);
      assert.deepEqual(writeRecord(r.instructions, r.input, r.outputs, r.layout), r.record, `record ${r.index}`);
      assert.equal(writeRecord(r.instructions, r.input, r.outputs).output, normalizeMarkedOutput(r.record.output, 2));
    }
  });
});

void describe('paper records: reading errors', () => {
  void it('reports invalid JSON with its line and column', () => {
    const result = readRecords('[\n  {"instruction": "a", "input": "b", "output": tru}\n]');
    assert.equal(result.records.length, 0);
    assert.equal(result.issues.length, 1);
    assert.equal(result.issues[0]?.line, 2);
    assert.equal(result.issues[0]?.column, 51); // the "}" where "tru" should have become "true"
    assert.match(result.issues[0]?.message ?? '', /^Invalid JSON: .* at line 2, column 51\.$/);
  });

  void it('reports a trailing comma and a truncated file', () => {
    assert.match(readRecords('[{"a": 1},]').issues[0]?.message ?? '', /line 1, column 11/);
    assert.match(readRecords('[{"instruction": "x"').issues[0]?.message ?? '', /line 1, column 21/);
    assert.match(readRecords('').issues[0]?.message ?? '', /Invalid JSON: .*line 1, column 1/);
  });

  void it('locates an error in deeply nested JSON where it is, not where a depth limit gave out', () => {
    const deep = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
    const cases: { text: string; column: number }[] = [
      { text: '['.repeat(100_000), column: 100_001 }, // the end, where JSON.parse gives up too
      { text: `[{"instruction": ${deep(20_000)}, "input": "b", "output": x}]`, column: 40_044 }, // the x
      { text: `[${deep(50_000)}, {"a": 1,}]`, column: 100_012 }, // the } after a trailing comma
    ];
    for (const c of cases) {
      const issue = readRecords(c.text).issues[0];
      assert.deepEqual([issue?.line, issue?.column], [1, c.column], c.text.slice(-40));
    }
  });

  void it('reports a top level that is not an array', () => {
    assert.match(readRecords('{"instruction": "a"}').issues[0]?.message ?? '', /Expected a JSON array .* found an object/);
  });

  void it('names the record and the field of a wrong shape', () => {
    const good = { instruction: 'A. and then B.', input: 'x', output: 'Task 1 output and task 2 input: a\nTask 2 output: b' };
    const text = JSON.stringify([good, 42, { ...good, input: undefined }, { ...good, output: ['no'] }]);
    const result = readRecords(text);
    assert.equal(result.records.length, 1);
    assert.deepEqual(
      result.issues.map((i) => [i.index, i.field, i.message]),
      [
        [1, undefined, 'record 1: expected an object with instruction, input and output, found a number.'],
        [2, 'input', 'record 2: missing field "input".'],
        [3, 'output', 'record 3: field "output" must be a string, found an array.'],
      ],
    );
  });

  void it('names the record of a missing, duplicated or out-of-order marker', () => {
    const record = (output: string): unknown => ({ instruction: 'A. and then B.', input: 'x', output });
    const missing = importRecord(record('Task 1 output and task 2 input: a'), 7);
    assert.ok(isIssue(missing));
    assert.equal(missing.message, "record 7: No marker for task 2: expected 'Task 2 output:' after the output of task 1.");
    const duplicated = importRecord(record('Task 1 output and task 2 input: a\nTask 2 output: b\nTask 2 output: c'), 8);
    assert.ok(isIssue(duplicated));
    assert.match(duplicated.message, /^record 8: Marker for task 2 appears twice/);
    const disorder = importRecord(record('Task 2 output: b\nTask 1 output and task 2 input: a'), 9);
    assert.ok(isIssue(disorder));
    assert.match(disorder.message, /^record 9: Marker for task 2 .* comes before the marker for task 1/);
    const gap = importRecord(record('Task 1 output and task 2 input: a\nTask 3 output: c'), 10);
    assert.ok(isIssue(gap));
    assert.match(gap.message, /^record 10: No marker for task 2/);
  });

  void it('reads JSON Lines, numbering records and lines', () => {
    const good = JSON.stringify({ instruction: 'A. and then B.', input: 'x', output: 'Task 1 output and task 2 input: a\nTask2 output: b' });
    const result = readRecords(`${good}\n\n{bad\n${good}\n`, 'jsonl');
    assert.deepEqual(
      result.records.map((r) => r.index),
      [0, 2],
    );
    assert.equal(result.issues[0]?.index, 1);
    assert.equal(result.issues[0]?.line, 3);
    assert.match(result.issues[0]?.message ?? '', /^Invalid JSON on line 3: .* at column 2\.$/);
  });

  void it('ignores a byte order mark and extra fields', () => {
    const text = '\uFEFF' + JSON.stringify([{ id: 3, instruction: 'A. and then B.', input: 'x', output: 'Task 1 output and task 2 input: a\nTask 2 output: b' }]);
    assert.equal(readRecords(text).records.length, 1);
  });
});

void describe('paper records: outputs without markers', () => {
  const cases: { name: string; record: PaperRecord; stepFields?: Record<number, string>; instructions: string[]; outputs: string[]; unreferenced?: number[] }[] = [
    { name: 'one instruction: a chain of one step', record: { instruction: 'Sort the words.', input: 'b a', output: ' a b\n' }, instructions: ['Sort the words.'], outputs: ['a b'] },
    {
      name: 'two steps, final answer only',
      record: { instruction: 'Summarize the text and then translate it into French.', input: 'x', output: 'Un résumé.' },
      instructions: ['Summarize the text', 'translate it into French.'],
      outputs: ['', 'Un résumé.'],
      unreferenced: [0],
    },
    {
      name: 'two steps, the intermediate reference from a field',
      record: { instruction: 'Summarize the text and then translate it into French.', input: 'x', output: 'Un résumé.', eng_output: ' A summary. ' } as PaperRecord,
      stepFields: { 1: 'eng_output' },
      instructions: ['Summarize the text', 'translate it into French.'],
      outputs: ['A summary.', 'Un résumé.'],
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const result = readRecords(JSON.stringify([c.record]), 'json', c.stepFields !== undefined ? { stepFields: c.stepFields } : {});
      assert.deepEqual(result.issues, []);
      const record = result.records[0];
      assert.ok(record);
      assert.deepEqual(record.instructions, c.instructions);
      assert.deepEqual(record.outputs, c.outputs);
      assert.deepEqual(record.unreferenced, c.unreferenced);
      // Byte for byte with the layout; the canonical one-step form is the bare output.
      assert.equal(writeRecord(record.instructions, record.input, record.outputs, record.layout).output, c.record.output);
      if (c.instructions.length === 1) assert.equal(writeRecord(record.instructions, record.input, record.outputs).output, c.record.output.trim());
    });
  }

  void it('a --step-field beyond the steps, or a field that is not there, is an issue naming the record', () => {
    const record = { instruction: 'A and then B.', input: 'x', output: 'b' };
    const beyond = readRecords(JSON.stringify([record]), 'json', { stepFields: { 2: 'x' } });
    assert.match(beyond.issues[0]?.message ?? '', /^record 0: --step-field 2=x names step 2, but "instruction" has 2 steps/);
    const absent = readRecords(JSON.stringify([record]), 'json', { stepFields: { 1: 'eng_output' } });
    assert.equal(absent.issues[0]?.message, 'record 0: field "eng_output" (the reference of step 1, --step-field 1=eng_output) must be a string; it is missing.');
  });
});

void describe('paper records: instructions', () => {
  void it('splits on " and then "', () => {
    assert.deepEqual(splitInstruction('Do A. and then Do B. and then Do C.', 3), ['Do A.', 'Do B.', 'Do C.']);
  });

  void it('falls back to sentence ends when an instruction contains " and then "', () => {
    assert.deepEqual(splitInstruction('Read it and then think. and then Answer.', 2), ['Read it and then think.', 'Answer.']);
  });

  void it('reports a count that neither split explains', () => {
    assert.equal(splitInstruction('Do A and then do B', 3), '"instruction" has 2 parts joined by " and then ", but "output" has markers for 3 steps.');
    assert.equal(splitInstruction('A. and then B. and then C.', 2), '"instruction" has 3 parts joined by " and then ", but "output" has markers for 2 steps.');
  });
});

void describe('paper records: writing', () => {
  void it('writes a JSON array and JSONL that read back to the same records', () => {
    const records = [writeRecord(['A.', 'B.'], 'in "quotes"\nline', ['a', 'b\nc']), writeRecord(['X.', 'Y.', 'Z.'], 'i', ['x', 'y', 'z'])];
    const json = formatRecordsJson(records);
    assert.deepEqual(JSON.parse(json), records);
    assert.equal(json.split('\n').length, 5); // "[", two records, "]", final newline
    const jsonl = formatRecordsJsonl(records);
    assert.deepEqual(
      jsonl
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
      records,
    );
    const reread = readRecords(json);
    assert.deepEqual(reread.issues, []);
    assert.deepEqual(
      reread.records.map((r) => r.outputs),
      [
        ['a', 'b\nc'],
        ['x', 'y', 'z'],
      ],
    );
    assert.equal(formatRecordsJson([]), '[]\n');
  });
});

void describe('chains → records', () => {
  const span = { start: 0, end: 0 };
  const step = (id: string, index: number, instruction: string): ChainStep => ({
    id,
    index,
    instruction,
    sources: [],
    contract: { kind: 'text' },
    contractDeclared: false,
    sampling: {},
    span,
    headerSpan: span,
  });
  const expect = (target: string, matcher: Expectation['matcher'], value: string, negated = false): Expectation => ({ target, matcher, value, negated, span });
  const test = (name: string, inputs: Record<string, string>, expectations: Expectation[]): ChainTest => ({ name, inputs, expectations, span });
  const chain = (tests: ChainTest[], inputs = ['article']): Chain => ({
    name: 'summarize-translate',
    profiles: [],
    inputs: inputs.map((name) => ({ name, contract: { kind: 'text' }, span })),
    steps: [step('summary', 0, 'Summarize the article.'), step('french', 1, 'Translate into French.')],
    tests,
  });

  void it('exports each test with a reference for every step', () => {
    const exported = chainToRecords(
      chain([
        test('storm', { article: 'Rain is coming.' }, [expect('summary', 'contains', 'rain'), expect('summary', 'rouge_l', 'Rain.'), expect('output', 'equals', 'Pluie.')]),
        test('partial', { article: 'x' }, [expect('summary', 'rouge_l', 'X.')]),
        test('negated', { article: 'x' }, [expect('summary', 'rouge_l', 'X.'), expect('french', 'equals', 'Y.', true)]),
      ]),
    );
    assert.deepEqual(exported.records, [
      { instruction: 'Summarize the article. and then Translate into French.', input: 'Rain is coming.', output: 'Task 1 output and task 2 input: Rain.\nTask 2 output: Pluie.' },
    ]);
    assert.deepEqual(exported.notes, [
      "Chain 'summarize-translate', test 'partial': no reference for step 'french' (a rouge_l or equals expectation): not exported.",
      "Chain 'summarize-translate', test 'negated': no reference for step 'french' (a rouge_l or equals expectation): not exported.",
    ]);
  });

  void it('exports nothing for a chain without tests, and says so', () => {
    const exported = chainToRecords(chain([]));
    assert.deepEqual(exported.records, []);
    assert.match(exported.notes[0] ?? '', /has no tests: nothing exported/);
  });

  void it('writes several inputs one per line as "name: value"', () => {
    const exported = chainToRecords(chain([test('qa', { passage: 'P.', question: 'Q?' }, [expect('summary', 'equals', 'a'), expect('french', 'equals', 'b')])], ['passage', 'question']));
    assert.equal(exported.records[0]?.input, 'passage: P.\nquestion: Q?');
  });

  void it('leaves out an input no step reads when a test has no value for it; one a step reads is still required', () => {
    const reads = (names: string[]): Chain => {
      const base = chain([], ['passage', 'notes']);
      const first = base.steps[0]!;
      return { ...base, steps: [{ ...first, sources: names.map((name) => ({ kind: 'input' as const, name })) }, base.steps[1]!] };
    };
    const qa = test('qa', { passage: 'P.' }, [expect('summary', 'equals', 'a'), expect('french', 'equals', 'b')]);
    const unread = chainToRecords({ ...reads(['passage']), tests: [qa] });
    assert.equal(unread.records[0]?.input, 'passage: P.');
    const read = chainToRecords({ ...reads(['passage', 'notes']), tests: [qa] });
    assert.deepEqual(read.records, []);
    assert.match(read.notes[0] ?? '', /no value for input 'notes': not exported/);
  });

  void it('writes a run of a chain (step outputs) as a record', () => {
    assert.deepEqual(chainRecord(chain([]), 'in', ['o1', 'o2']), {
      instruction: 'Summarize the article. and then Translate into French.',
      input: 'in',
      output: 'Task 1 output and task 2 input: o1\nTask 2 output: o2',
    });
  });
});

void describe('paper records: fixture cases (test/fixtures/records/cases.json)', () => {
  interface Case {
    name: string;
    record: unknown;
    expected?: { instructions?: string[]; outputs?: string[] };
    error?: string;
  }
  const cases = JSON.parse(readFileSync(repoPath('test', 'fixtures', 'records', 'cases.json'), 'utf8')) as Case[];
  const result = readRecords(JSON.stringify(cases.map((c) => c.record)));

  for (const [index, testCase] of cases.entries()) {
    void it(`${index}: ${testCase.name}`, () => {
      const record = result.records.find((r) => r.index === index);
      const issue = result.issues.find((i) => i.index === index);
      if (testCase.error !== undefined) {
        assert.equal(record, undefined);
        assert.equal(issue?.message, testCase.error);
        return;
      }
      assert.equal(issue, undefined, issue?.message);
      assert.ok(record);
      if (testCase.expected?.instructions !== undefined) assert.deepEqual(record.instructions, testCase.expected.instructions);
      if (testCase.expected?.outputs !== undefined) assert.deepEqual(record.outputs, testCase.expected.outputs);
      assert.deepEqual(writeRecord(record.instructions, record.input, record.outputs, record.layout), record.record);
    });
  }
});
