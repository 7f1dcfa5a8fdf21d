/**
 * Dataset readers and writers: every format round-trips a chain example, the paper's
 * training set round-trips byte for byte, and malformed rows are reported by line.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DATASET_FORMATS, detectFormat, exampleFrom, readDataset, writeDataset, type DatasetFormat, type TrainingExample } from '../../core/dataset';
import { readRecords } from '../../core/records/paperRecords';
import { COMPOSED_SYSTEM_PROMPT, DEFAULT_SYSTEM_PROMPT } from '../../core/runner/prompt';
import { repoPath, sharedDataPath } from '../helpers/paths';

const chain = exampleFrom(
  'Summarize the text in one sentence. and then Translate the sentence into French.',
  'The cat sat on the mat all day, watching birds.',
  'Task 1 output and task 2 input: A cat watched birds from the mat.\nTask 2 output: Un chat regardait les oiseaux depuis le tapis.',
  { source: 'coi-test', name: 'cat' },
);
const single = exampleFrom('Name the capital of the country.', 'France', 'Paris', { source: 'alpaca' });
const withoutInput = exampleFrom('Write a haiku about "rain".\nKeep it short.', '', 'Soft rain on the roof', { source: 'alpaca' });

void describe('dataset formats: write then read', () => {
  for (const format of DATASET_FORMATS) {
    void it(`${format}: keeps instruction, input, output and steps`, () => {
      const text = writeDataset([chain, single, withoutInput], format);
      assert.equal(detectFormat(text), format === 'alpaca-jsonl' ? 'alpaca-jsonl' : format);
      const read = readDataset(text, { file: 'data' });
      assert.deepEqual(read.issues, []);
      assert.deepEqual(
        read.examples.map((e) => [e.instruction, e.input, e.output, e.steps]),
        [chain, single, withoutInput].map((e) => [e.instruction, e.input, e.output, e.steps]),
      );
      assert.equal(read.examples[0]?.provenance.file, 'data');
    });
  }

  void it('splits a chain into its steps with their outputs', () => {
    assert.deepEqual(chain.steps, [
      { instruction: 'Summarize the text in one sentence.', output: 'A cat watched birds from the mat.' },
      { instruction: 'Translate the sentence into French.', output: 'Un chat regardait les oiseaux depuis le tapis.' },
    ]);
    assert.deepEqual(single.steps, [{ instruction: 'Name the capital of the country.', output: 'Paris' }]);
  });

  void it('trl-prompt-completion puts the Alpaca prompt of the paper in the prompt and only the answer in the completion', () => {
    const row = JSON.parse(writeDataset([single], 'trl-prompt-completion')) as { prompt: string; completion: string };
    assert.equal(
      row.prompt,
      'Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nName the capital of the country.\n\n### Input:\nFrance\n\n### Response:\n',
    );
    assert.equal(row.completion, 'Paris');
  });

  void it('openai-chat writes system, user and assistant messages; a chain gets the composed system prompt', () => {
    const row = JSON.parse(writeDataset([chain], 'openai-chat')) as { messages: { role: string; content: string }[] };
    assert.deepEqual(row.messages.map((m) => m.role), ['system', 'user', 'assistant']);
    assert.match(row.messages[0]!.content, /chain of instructions/);
    assert.equal(row.messages[1]!.content, `${chain.instruction}\n\nInput:\n${chain.input}`);
    const bare = JSON.parse(writeDataset([chain], 'openai-chat', { systemPrompt: '' })) as { messages: { role: string }[] };
    assert.deepEqual(bare.messages.map((m) => m.role), ['user', 'assistant']);
  });

  void it('an empty list writes an empty file (paper: an empty array)', () => {
    assert.equal(writeDataset([], 'paper'), '[]\n');
    assert.equal(writeDataset([], 'openai-chat'), '');
  });
});

void describe('dataset reading: bad rows are reported with their line and left out', () => {
  const cases: { name: string; text: string; format?: DatasetFormat; lines: number[]; message: RegExp; kept: number }[] = [
    { name: 'invalid JSON line', text: '{"instruction":"a","input":"","output":"b"}\n{"instruction": \n{"instruction":"c","output":"d"}\n', lines: [2], message: /^invalid JSON: [^\d]*$/, kept: 2 },
    { name: 'two rows on one line (lone CR line ends): the place said once, as line and column', text: '{"instruction":"a","output":"b"}\r{"instruction":"c","output":"d"}\r', lines: [1], message: /^invalid JSON: [^\d]*$/, kept: 0 },
    { name: 'missing output', text: '{"instruction":"a","input":"x"}\n', lines: [1], message: /missing field "output"/, kept: 0 },
    { name: 'number as input', text: '\n\n{"instruction":"a","input":3,"output":"b"}\n', lines: [3], message: /^field "input" must be a string, found a number/, kept: 0 },
    { name: 'chat with two user turns', text: '{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}\n', lines: [1], message: /one user message and then one assistant message/, kept: 0 },
    { name: 'chat with a bad role', text: '{"messages":[{"role":"bot","content":"a"}]}\n', lines: [1], message: /"role" must be system, user or assistant/, kept: 0 },
    { name: 'prompt string with completion list', text: '{"prompt":"a","completion":"b"}\n{"prompt":"a","completion":[{"role":"assistant","content":"b"}]}\n', format: 'trl-prompt-completion', lines: [2], message: /must both be strings or both be lists/, kept: 1 },
    { name: 'record in an array', text: '[\n  {"instruction": "a", "input": "", "output": "b"},\n  {"instruction": "a", "input": ""}\n]', lines: [3], message: /^record 1: missing field "output"/, kept: 1 },
    { name: 'broken array', text: '[\n  {"instruction": "a",\n  "input": }\n]', lines: [3], message: /^invalid JSON: [^\d]*$/, kept: 0 },
    { name: 'a chat row read as Alpaca (--from)', text: '{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}\n', format: 'alpaca-jsonl', lines: [1], message: /^missing field "instruction"/, kept: 0 },
    { name: 'a string instead of a record', text: '"Summarize the text."\n', format: 'paper', lines: [1], message: /^expected an object with instruction, input and output, found a string/, kept: 0 },
    { name: 'an empty step in an instruction', text: '{"instruction":"a","input":"","output":"b"}\n{"instruction":"a. and then ","input":"","output":"b"}\n', lines: [2], message: /^"instruction" joins 2 steps by " and then ", and step 2 is empty\.$/, kept: 1 },
    { name: 'chat with an empty user message', text: '{"messages":[{"role":"user","content":" "},{"role":"assistant","content":"b"}]}\n', lines: [1], message: /^the instruction of the user message is empty\.$/, kept: 0 },
    { name: 'chat whose user message is only an input', text: '{"messages":[{"role":"user","content":"\\n\\nInput:\\nx"},{"role":"assistant","content":"b"}]}\n', lines: [1], message: /^the instruction of the user message is empty\.$/, kept: 0 },
    { name: 'an empty prompt', text: '{"prompt":"","completion":"b"}\n', lines: [1], message: /^"prompt" is empty\.$/, kept: 0 },
    { name: 'a conversational prompt with an empty user message', text: '{"prompt":[{"role":"user","content":""}],"completion":[{"role":"assistant","content":"b"}]}\n', lines: [1], message: /^the instruction of the user message is empty\.$/, kept: 0 },
    { name: 'one pretty-printed object: one issue that says so, not one per line', text: '{\n  "instruction": "a",\n  "input": "",\n  "output": "b"\n}\n', lines: [1], message: /^one JSON object written over 5 lines: JSON Lines hold one row per line\./, kept: 0 },
    { name: 'a broken row over several lines is still read line by line', text: '{\n  "instruction": "a",\n  "output": \n}\n', lines: [1, 2, 3, 4], message: /^invalid JSON/, kept: 0 },
    { name: 'a number instead of an array', text: '[1, {"instruction": "a", "input": "", "output": "b"}]', lines: [1], message: /^record 0: expected an object/, kept: 1 },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const read = readDataset(c.text, c.format === undefined ? {} : { format: c.format });
      assert.deepEqual(read.issues.map((i) => i.line), c.lines);
      assert.match(read.issues[0]?.message ?? '', c.message);
      assert.equal(read.examples.length, c.kept);
    });
  }

  void it('keeps the line of each record of a JSON array in its provenance', () => {
    const read = readDataset('[\n  {"instruction": "a", "input": "", "output": "b"},\n\n  {"instruction": "c", "input": "", "output": "d"}\n]', { file: 'f.json' });
    assert.deepEqual(read.examples.map((e) => e.provenance), [
      { source: 'paper', index: 0, line: 2, file: 'f.json' },
      { source: 'paper', index: 1, line: 4, file: 'f.json' },
    ]);
  });
});

/** Each record's steps as `coi import` reads it, and as `coi dataset` does: the same count. */
function stepCounts(text: string): { records: number[]; dataset: number[] } {
  const records = readRecords(text);
  const dataset = readDataset(text);
  const accepted = new Set(records.records.map((r) => r.index));
  return {
    records: records.records.map((r) => r.instructions.length),
    dataset: dataset.examples.filter((e) => accepted.has(e.provenance.index ?? -1)).map((e) => e.steps.length),
  };
}

void describe('a paper JSON file: each record has the steps `coi import` reads in it', () => {
  for (const fixture of ['final-answer.json', 'one-instruction.json', 'coi2-excerpt.json']) {
    void it(fixture, () => {
      const { records, dataset } = stepCounts(readFileSync(repoPath('test', 'fixtures', 'records', fixture), 'utf8'));
      assert.ok(records.length > 0);
      assert.deepEqual(dataset, records);
    });
  }

  void it('a multi-step record without markers (final answer only) has its steps, the last with the answer, and the plain system prompt', () => {
    const [example] = readDataset(readFileSync(repoPath('test', 'fixtures', 'records', 'final-answer.json'), 'utf8')).examples;
    assert.deepEqual(example?.steps, [
      { instruction: 'Summarize the following news article in one sentence' },
      { instruction: 'translate the summary into French.', output: 'Le conseil municipal ferme le vieux pont pendant trois mois de travaux.' },
    ]);
    // Its target has no markers to write: it is trained with the plain system prompt, not the composed one.
    assert.equal((JSON.parse(writeDataset([example!], 'openai-chat')) as { messages: { content: string }[] }).messages[0]?.content, DEFAULT_SYSTEM_PROMPT);
    assert.equal((JSON.parse(writeDataset([chain], 'openai-chat')) as { messages: { content: string }[] }).messages[0]?.content, COMPOSED_SYSTEM_PROMPT);
  });
});

const paperFiles = ['coi_2.json', 'coi2_test.json'];
const sharedMissing = existsSync(sharedDataPath('coi_2.json')) ? false : 'skipped: ../shared/data/coi (the paper data) is not here';

void describe("the paper's data", () => {
  for (const file of paperFiles) {
    void it(`${file} round-trips byte for byte through every format (plus the final newline the paper's file lacks)`, { skip: sharedMissing }, () => {
      const text = readFileSync(sharedDataPath(file), 'utf8');
      const read = readDataset(text);
      assert.equal(read.format, 'paper');
      assert.deepEqual(read.issues, []);
      assert.equal(writeDataset(read.examples, 'paper'), `${text}\n`);
      for (const format of DATASET_FORMATS) {
        const again: readonly TrainingExample[] = readDataset(writeDataset(read.examples, format)).examples;
        assert.equal(writeDataset(again, 'paper'), `${text}\n`, format);
      }
    });
  }

  void it('coi_2.json: all but a few records split into chains of two or more steps with per-step outputs', { skip: sharedMissing }, () => {
    const read = readDataset(readFileSync(sharedDataPath('coi_2.json'), 'utf8'));
    assert.equal(read.examples.length, 2933);
    // Record 1658 has markers for two steps but no " and then " in its instruction: one step, its output unknown.
    const chains = read.examples.filter((e) => e.steps.length >= 2 && e.steps.every((s) => s.output !== undefined && s.output !== '')).length;
    assert.ok(chains >= 2930, `${chains} of 2933 split into per-step outputs`);
  });

  for (const file of paperFiles) {
    void it(`${file}: every record that coi import reads has the same number of steps in coi dataset`, { skip: sharedMissing }, () => {
      const { records, dataset } = stepCounts(readFileSync(sharedDataPath(file), 'utf8'));
      assert.deepEqual(dataset, records);
    });
  }
});
