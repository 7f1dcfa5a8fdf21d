// `coi dataset build|stats|convert` through the real bundled CLI: chain tests and
// dataset files into a training set, bad rows and empty results, token counts with
// the tiny GGUF, composition with the OpenAI test server, and the paper's data.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DATASET_FORMATS, readDataset } from '../../core/dataset';
import { repoPath, sharedDataPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { tinyModelPath } from '../rig/tinyModel';
import { coi, coiAsync, coiInterrupted, coiWithFileSizeLimit } from './cliProcess';

const CHAIN = `chain storm
input source: text

step summary {
  instruction "Summarize the text."
}

step french {
  instruction "Translate the summary into French."
}

test "storm" {
  given source = "The storm closed all roads."
  expect summary rouge_l >= 0.5 "Roads closed."
  expect french rouge_l >= 0.5 "Routes fermées."
}

test "no references" {
  given source = "Rain."
  expect output contains "pluie"
}
`;

const row = (instruction: string, input: string, output: string): string => JSON.stringify({ instruction, input, output });
const CHAINS_JSONL = [
  row('Summarize the text. and then Translate the summary into French.', 'Rain fell all day.', 'Task 1 output and task 2 input: It rained.\nTask 2 output: Il a plu.'),
  row('Summarize the text. and then Translate the summary into French.', 'Rain fell all day.', 'Task 1 output and task 2 input: It rained.\nTask 2 output: Il a plu.'),
  '{"instruction": "Summarize the text.", "input": 5, "output": "x"}',
  row('List the colours. and then Count the items.', 'red, green and blue', 'Task 1 output and task 2 input: red\ngreen\nblue\nTask 2 output: 3'),
  row('Reverse the word. and then Uppercase it.', 'stop', 'Task 1 output and task 2 input: pots\nTask 2 output: POTS'),
].join('\n');

const GOOD_ROWS_SINGLES = [row('Summarize the text.', 'Rain fell all day.', 'It rained.'), row('Translate the text into French.', 'It rained.', 'Il a plu.')].join('\n') + '\n';

function workspace(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'storm.coi'), CHAIN);
  writeFileSync(join(dir, 'chains.jsonl'), CHAINS_JSONL + '\n');
  return dir;
}

interface Manifest {
  format: string;
  train: number;
  validation: number;
  duplicates: number;
  malformed: number;
  overContext: number;
  contextSize?: number;
  sources: Record<string, number>;
  stats: { examples: number; tokens?: { max: number } };
}

void describe('coi dataset build', () => {
  void it('makes a training set from chain tests and a dataset file: repeats dropped, bad rows reported by line, provenance kept', () => {
    const dir = workspace();
    const result = coi(['dataset', 'build', 'storm.coi', 'chains.jsonl', '--out', 'out', '--validation', '0.25', '--json'], { cwd: dir });
    assert.equal(result.code, 1, result.stderr); // written, but a malformed row is an error
    assert.match(result.stderr, /^chains\.jsonl:3:\d*:? ?.*field "input" must be a string, found a number/m);
    assert.match(result.stderr, /test 'no references': no reference for step 'summary'/);
    const manifest = JSON.parse(result.stdout) as Manifest;
    assert.deepEqual([manifest.train, manifest.validation, manifest.duplicates, manifest.malformed], [3, 1, 1, 1]);
    assert.deepEqual(manifest.sources, { 'coi-test': 1, 'alpaca-jsonl': 4 });
    const train = readDataset(readFileSync(join(dir, 'out', 'train.jsonl'), 'utf8'));
    const validation = readDataset(readFileSync(join(dir, 'out', 'validation.jsonl'), 'utf8'));
    assert.equal(train.format, 'trl-prompt-completion');
    const all = [...train.examples, ...validation.examples];
    const storm = all.find((e) => e.input === 'The storm closed all roads.');
    assert.deepEqual(storm?.steps, [
      { instruction: 'Summarize the text.', output: 'Roads closed.' },
      { instruction: 'Translate the summary into French.', output: 'Routes fermées.' },
    ]);
    const provenance = readFileSync(join(dir, 'out', 'provenance.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(provenance.length, 4);
    assert.deepEqual(provenance.find((p) => p['source'] === 'coi-test'), provenance.find((p) => p['name'] === 'storm'));
    assert.equal(provenance.find((p) => p['name'] === 'storm')?.['line'], 12);
    assert.deepEqual(provenance.map((p) => p['split']), ['train', 'train', 'train', 'validation']);
  });

  void it('the same records reached as imported chains and as the records file are one example each: counted as duplicates, none in both train and validation', () => {
    const dir = tempDir();
    // The paper's data writes its markers unevenly (two spaces or a newline before one, `Task2`); `coi import` writes them one way.
    const records = [
      { instruction: 'Summarize the text. and then Translate the summary into French.', input: 'Rain fell all day.', output: 'Task 1 output and task 2 input: It rained.  Task 2 output: Il a plu.' },
      { instruction: 'Reverse the word. and then Uppercase it.', input: 'stop', output: 'Task 1 output and task 2 input: pots \nTask2 output: POTS' },
      { instruction: 'Name the colour. and then Translate it into German.', input: 'The  sky\nis blue.', output: 'Task 1 output and task 2 input: blue\nTask 2 output:  blau' },
      { instruction: 'Count the words.', input: 'one two three', output: '3' },
    ];
    writeFileSync(join(dir, 'records.json'), JSON.stringify(records, null, 2));
    const imported = coi(['import', 'records.json', '--out', 'chains/'], { cwd: dir });
    assert.equal(imported.code, 0, imported.stderr);
    const result = coi(['dataset', 'build', 'chains/', 'records.json', '--out', 'data', '--validation', '0.5', '--json'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const manifest = JSON.parse(result.stdout) as Manifest;
    assert.deepEqual([manifest.train + manifest.validation, manifest.duplicates], [4, 4]);
    const prompts = (file: string): string[] => readDataset(readFileSync(join(dir, 'data', file), 'utf8')).examples.map((e) => `${e.instruction}\n${e.input}`);
    const [train, validation] = [prompts('train.jsonl'), prompts('validation.jsonl')];
    assert.equal(validation.length, 2);
    assert.deepEqual(train.filter((p) => validation.includes(p)), [], 'no prompt in both sets');
    assert.equal(new Set([...train, ...validation]).size, 4, 'each record once');
  });

  void it('the split is the same for the same seed and changes with another', () => {
    const dir = workspace();
    const validationOf = (seed: string, out: string): string => {
      const result = coi(['dataset', 'build', 'storm.coi', 'chains.jsonl', '--out', out, '--validation', '0.5', '--seed', seed, '-q'], { cwd: dir });
      assert.equal(result.code, 1, result.stderr);
      return readFileSync(join(dir, out, 'validation.jsonl'), 'utf8');
    };
    assert.equal(validationOf('1', 'a'), validationOf('1', 'b'));
    const others = ['2', '3', '4', '5'].map((seed) => validationOf(seed, `s${seed}`));
    assert.ok(others.some((v) => v !== validationOf('1', 'a')), 'another seed picks other validation examples');
  });

  void it('writes each format: openai-chat rows carry the messages', () => {
    const dir = workspace();
    const result = coi(['dataset', 'build', 'storm.coi', '--out', 'out', '--format', 'openai-chat', '--validation', '0'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Wrote 1 training and 0 validation examples \(openai-chat\) to out\/\./);
    const rowRead = JSON.parse(readFileSync(join(dir, 'out', 'train.jsonl'), 'utf8')) as { messages: { role: string; content: string }[] };
    assert.deepEqual(rowRead.messages.map((m) => m.role), ['system', 'user', 'assistant']);
    assert.equal(rowRead.messages[2]?.content, 'Task 1 output and task 2 input: Roads closed.\nTask 2 output: Routes fermées.');
    assert.equal(existsSync(join(dir, 'out', 'validation.jsonl')), false);
  });

  void it('an empty result is an error and writes nothing', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.jsonl'), '{"instruction": "a"}\nnot json\n');
    const result = coi(['dataset', 'build', 'bad.jsonl', '--out', 'out'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^bad\.jsonl:1: missing field "output"\.$/m);
    assert.match(result.stderr, /^bad\.jsonl:2:\d+: invalid JSON: [^\d]*$/m);
    assert.match(result.stderr, /The training set is empty: 0 examples read, 2 malformed rows\. Nothing written\./);
    assert.equal(existsSync(join(dir, 'out')), false);
  });

  void it('counts tokens with the GGUF tokenizer; examples over the context are reported, left out and counted', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'long.jsonl'), row('Summarize the text. and then Translate the summary into French.', 'x', `Task 1 output and task 2 input: ${'long '.repeat(300)}\nTask 2 output: long`) + '\n');
    const result = coi(['dataset', 'build', 'storm.coi', 'chains.jsonl', 'long.jsonl', '--out', 'out', '--tokenizer', tinyModelPath(), '--context', '1000', '--validation', '0', '--json'], { cwd: dir });
    const manifest = JSON.parse(result.stdout) as Manifest;
    assert.equal(manifest.contextSize, 1000);
    assert.deepEqual([manifest.train, manifest.overContext], [4, 1]);
    assert.ok((manifest.stats.tokens?.max ?? Infinity) <= 1000);
    assert.match(result.stderr, /^long\.jsonl:1: left out: \d{4} tokens, over the context of 1000 tokens\.$/m);
    const provenance = readFileSync(join(dir, 'out', 'provenance.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tokens: number });
    assert.ok(provenance.every((p) => p.tokens > 100 && p.tokens <= 1000));
  });

  void it("without --context, examples over the GGUF's training context (2048 tokens for the tiny model) are left out; a JSON array's record is named by its index", () => {
    const dir = workspace();
    const records = [
      { instruction: 'Summarize the text. and then Translate the summary into French.', input: 'x', output: 'Task 1 output and task 2 input: short\nTask 2 output: court' },
      { instruction: 'Summarize the text. and then Translate the summary into French.', input: 'x', output: `Task 1 output and task 2 input: ${'long '.repeat(600)}\nTask 2 output: long` },
    ];
    writeFileSync(join(dir, 'records.json'), JSON.stringify(records)); // one line, as the paper's test set
    const result = coi(['dataset', 'build', 'records.json', '--out', 'out', '--tokenizer', tinyModelPath(), '--validation', '0', '--json'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const manifest = JSON.parse(result.stdout) as Manifest;
    assert.equal(manifest.contextSize, 2048);
    assert.deepEqual([manifest.train, manifest.overContext], [1, 1]);
    assert.match(result.stderr, /^records\.json:1: record 1: left out: \d+ tokens, over the context of 2048 tokens\.$/m);
  });

  void it('a bad tokenizer file is a clear error', () => {
    const dir = workspace();
    const result = coi(['dataset', 'build', 'storm.coi', '--out', 'out', '--tokenizer', 'missing.gguf'], { cwd: dir });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--tokenizer missing\.gguf: Model file not found/);
  });

  void it('usage errors name what is missing', () => {
    const dir = workspace();
    assert.match(coi(['dataset'], { cwd: dir }).stderr, /Name a verb: build, stats, convert/);
    assert.match(coi(['dataset', 'bild'], { cwd: dir }).stderr, /Unknown verb 'bild'/);
    // With --help too: the same usage error, not the general help with exit 0.
    const helpOfNoVerb = coi(['dataset', 'split', '--help'], { cwd: dir });
    assert.equal(helpOfNoVerb.code, 2);
    assert.equal(helpOfNoVerb.stdout, '');
    assert.match(helpOfNoVerb.stderr, /^coi dataset: Unknown verb 'split' \(verbs: build, stats, convert\)\.\n/);
    // An option's value before the verb is not taken for the verb.
    const verbHelp = coi(['dataset', '--format', 'paper', 'build', '--help'], { cwd: dir });
    assert.equal(verbHelp.code, 0, verbHelp.stderr);
    assert.match(verbHelp.stdout, /^coi dataset — /);
    assert.match(coi(['dataset', 'build', 'storm.coi'], { cwd: dir }).stderr, /build needs --out DIR/);
    writeFileSync(join(dir, 'rows.csv'), 'instruction,input,output\n');
    assert.match(coi(['dataset', 'build', 'rows.csv', '--out', 'o'], { cwd: dir }).stderr, /'rows\.csv' is neither a \.coi file nor a dataset file/);
    assert.match(coi(['dataset', 'stats', 'storm.coi'], { cwd: dir }).stderr, /'storm\.coi' is not a dataset file \(\.json or \.jsonl\); give --from FORMAT/);
    assert.match(coi(['dataset', 'build', '--singles', 'chains.jsonl', '--out', 'o'], { cwd: dir, env: { COI_MODEL: '' } }).stderr, /--singles needs --model/);
  });

  void it('options another verb or --singles reads are refused, not ignored', () => {
    const dir = workspace();
    const refused = (args: string[], message: RegExp): void => {
      const result = coi(['dataset', ...args], { cwd: dir });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
    };
    refused(['build', 'storm.coi', '--to', 'paper', '--out', 'o'], /--to goes with 'coi dataset convert', not with 'coi dataset build' \(build writes the format of --format FORMAT: paper, alpaca-jsonl/);
    refused(['convert', 'chains.jsonl', '--format', 'paper'], /--format goes with 'coi dataset build', not with 'coi dataset convert' \(convert writes the format of --to FORMAT: paper, alpaca-jsonl/);
    // stats and convert take none of build's options, nor each other's: nothing is read, nothing written.
    refused(['stats', 'chains.jsonl', '--out', 'stats.json'], /^coi dataset: --out goes with 'coi dataset build' and 'coi dataset convert', not with 'coi dataset stats'\.$/m);
    refused(['stats', 'chains.jsonl', '--validation', '0.3'], /--validation goes with 'coi dataset build', not with 'coi dataset stats'\./);
    refused(['stats', 'chains.jsonl', '--to', 'paper'], /--to goes with 'coi dataset convert', not with 'coi dataset stats'\./);
    // Every misplaced option is named at once, one line each.
    refused(['stats', 'chains.jsonl', '--seed', '3', '--out', 'stats.json'], /^coi dataset: --out goes with 'coi dataset build' and 'coi dataset convert', not with 'coi dataset stats'\.\n--seed goes with 'coi dataset build', not with 'coi dataset stats'\.$/m);
    refused(['convert', 'chains.jsonl', '--to', 'openai-chat', '--tokenizer', 'x.gguf', '--out', 'c.jsonl'], /--tokenizer goes with 'coi dataset build' and 'coi dataset stats', not with 'coi dataset convert'\./);
    refused(['convert', 'chains.jsonl', '--to', 'openai-chat', '--singles', 'chains.jsonl', '--out', 'c.jsonl'], /--singles goes with 'coi dataset build', not with 'coi dataset convert'\./);
    refused(['convert', 'chains.jsonl', '--to', 'openai-chat', '--validation', '0.3', '--out', 'c.jsonl'], /--validation goes with 'coi dataset build', not with 'coi dataset convert'\./);
    refused(['convert', 'chains.jsonl', '--to', 'openai-chat', '--context', '100', '--out', 'c.jsonl'], /--context goes with 'coi dataset build' and 'coi dataset stats', not with 'coi dataset convert'\./);
    assert.equal(existsSync(join(dir, 'stats.json')), false);
    assert.equal(existsSync(join(dir, 'c.jsonl')), false);
    refused(['build', 'storm.coi', '--chains', '3', '--out', 'o'], /--chains goes with --singles FILE/);
    refused(['build', 'storm.coi', '--max-length', '3', '--out', 'o'], /--max-length goes with --singles FILE/);
    refused(['build', 'storm.coi', '--model-verdict', '--out', 'o'], /--model-verdict goes with --singles FILE/);
    refused(['build', 'storm.coi', '--threads', '1', '--out', 'o'], /--threads goes with --singles FILE/);
    refused(['build', 'storm.coi', '--max-tokens', '8', '--out', 'o'], /--max-tokens goes with --singles FILE/);
    assert.equal(existsSync(join(dir, 'o')), false);
  });
});

/** The files of a folder, sorted. */
function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** The files of a folder with their contents. */
function contentsOf(dir: string): Record<string, string> {
  return Object.fromEntries(filesIn(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
}

/**
 * A dataset file whose token count with the tiny GGUF (a few characters a token) takes seconds:
 * ROWS different two-step examples of about 1,000 characters each.
 */
function bigDataset(dir: string, rows = 2000): string {
  const lines = Array.from({ length: rows }, (_, i) => row('Summarize the text. and then Translate the summary into French.', `Report ${i}: ${'the storm closed the roads and the rain kept falling. '.repeat(10)}`, `Task 1 output and task 2 input: Roads ${i} closed.\nTask 2 output: ${'Routes fermées. '.repeat(20)}${i}`));
  writeFileSync(join(dir, 'big.jsonl'), lines.join('\n') + '\n');
  return 'big.jsonl';
}

void describe('coi dataset build: examples from chain tests that do not read back as their chain', () => {
  void it('a step instruction holding " and then " (which joins the steps of an example) is noted, as coi export notes it; the example is kept', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'joined.coi'), 'chain joined\ninput source: text\n\nstep s1 {\n  instruction "Read the text and then summarize it"\n}\n\nstep s2 {\n  instruction "Translate it."\n}\n\ntest "t" {\n  given source = "x"\n  expect s1 rouge_l >= 0.5 "o1"\n  expect s2 rouge_l >= 0.5 "o2"\n}\n');
    const result = coi(['dataset', 'build', 'joined.coi', '--out', 'out', '--validation', '0', '--json'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^joined\.coi: note: Chain 'joined': the instruction of step 's1' holds " and then ", which joins the steps of a record: its records do not import back as this chain's 2 steps\.$/m);
    assert.equal((JSON.parse(result.stdout) as Manifest).train, 1);
  });
});

void describe('coi dataset: Ctrl-C while tokens are counted', () => {
  void it('build --tokenizer: the count stops at the next batch, exit 130, nothing written, the previous build in --out left as it was', async () => {
    const dir = tempDir();
    const big = bigDataset(dir);
    const previous = coi(['dataset', 'build', big, '--out', 'out', '-q'], { cwd: dir });
    assert.equal(previous.code, 0, previous.stderr);
    const before = contentsOf(join(dir, 'out'));
    // Another format: a build that went on would replace train.jsonl and write train.prompt-completion... files.
    const cancelled = await coiInterrupted(['dataset', 'build', big, '--out', 'out', '--tokenizer', tinyModelPath(), '--format', 'openai-chat'], dir, /Counting tokens: \d+\/2000\n/);
    assert.equal(cancelled.code, 130, cancelled.stderr);
    assert.match(cancelled.stderr, /coi dataset: cancelled; nothing written\.\n$/);
    assert.doesNotMatch(cancelled.stderr, /Counting tokens: 2000\/2000/, 'the count stopped before the end');
    assert.deepEqual(contentsOf(join(dir, 'out')), before);
  });

  void it('stats --tokenizer: exit 130, no statistics printed', async () => {
    const dir = tempDir();
    const big = bigDataset(dir);
    const cancelled = await coiInterrupted(['dataset', 'stats', big, '--tokenizer', tinyModelPath(), '--json'], dir, /Counting tokens: \d+\/2000\n/);
    assert.equal(cancelled.code, 130, cancelled.stderr);
    assert.match(cancelled.stderr, /coi dataset: cancelled\.\n$/);
    assert.doesNotMatch(cancelled.stderr, /Counting tokens: 2000\/2000/);
  });
});

void describe('coi dataset build: the output folder', () => {
  const GOOD_ROWS = CHAINS_JSONL.split('\n').filter((line) => !line.includes('"input": 5')).join('\n') + '\n';

  void it("replaces the previous build's set: its files this build does not write are removed and said so; other files stay", () => {
    const dir = workspace();
    writeFileSync(join(dir, 'good.jsonl'), GOOD_ROWS);
    const build = (...args: string[]): { code: number | null; stderr: string } => coi(['dataset', 'build', 'good.jsonl', '--out', 'out', ...args], { cwd: dir });
    assert.equal(build('--validation', '0.5').code, 0);
    writeFileSync(join(dir, 'out', 'notes.txt'), 'mine');
    const noValidation = build('--validation', '0');
    assert.equal(noValidation.code, 0, noValidation.stderr);
    assert.match(noValidation.stderr, /^removed validation\.jsonl of the previous build$/m);
    assert.deepEqual(filesIn(join(dir, 'out')), ['dataset.json', 'notes.txt', 'provenance.jsonl', 'train.jsonl']);
    const paper = build('--validation', '0.5', '--format', 'paper');
    assert.equal(paper.code, 0, paper.stderr);
    assert.match(paper.stderr, /^removed train\.jsonl of the previous build$/m);
    assert.deepEqual(filesIn(join(dir, 'out')), ['dataset.json', 'notes.txt', 'provenance.jsonl', 'train.json', 'validation.json']);
  });

  void it('a failed write leaves no manifest beside a half-new set, and no temporary files', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'good.jsonl'), GOOD_ROWS);
    assert.equal(coi(['dataset', 'build', 'good.jsonl', '--out', 'out', '--validation', '0'], { cwd: dir }).code, 0);
    mkdirSync(join(dir, 'out', 'validation.jsonl', 'in-the-way'), { recursive: true });
    const failed = coi(['dataset', 'build', 'good.jsonl', '--out', 'out', '--validation', '0.5'], { cwd: dir });
    assert.equal(failed.code, 2, failed.stderr);
    assert.match(failed.stderr, /Cannot write the training set to '.*out'/);
    assert.deepEqual(filesIn(join(dir, 'out')).filter((name) => name === 'dataset.json' || name.includes('.partial-')), []);
  });

  void it('a source among the files the build writes or replaces is a usage error, and nothing is written', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'good.jsonl'), GOOD_ROWS);
    assert.equal(coi(['dataset', 'build', 'good.jsonl', '--out', 'd4', '-q'], { cwd: dir }).code, 0);
    const before = filesIn(join(dir, 'd4')).map((name) => readFileSync(join(dir, 'd4', name), 'utf8'));
    for (const source of ['d4/train.jsonl', 'd4/validation.jsonl']) {
      const result = coi(['dataset', 'build', source, '--out', './d4/', '--format', 'openai-chat', '--validation', '0'], { cwd: dir });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`'${source}' is a source of this build and one of the files it writes or replaces in --out`));
    }
    assert.deepEqual(filesIn(join(dir, 'd4')).map((name) => readFileSync(join(dir, 'd4', name), 'utf8')), before);
  });
});

void describe('coi dataset build --singles: a model that cannot be used', () => {
  void it('--model problems found before composing are usage errors (exit 2), not internal errors', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'tasks.jsonl'), GOOD_ROWS_SINGLES);
    const composing = (env: Record<string, string>, ...args: string[]): { code: number | null; stderr: string } => coi(['dataset', 'build', '--singles', 'tasks.jsonl', '--out', 'out', ...args], { cwd: dir, env });
    const cases: [Record<string, string>, string[], RegExp][] = [
      [{ OPENAI_API_KEY: '' }, ['--model', 'openai:gpt-4o-mini'], /No API key for https:\/\/api\.openai\.com\/v1/],
      [{}, ['--model', 'missing.gguf'], /--model: cannot read the model '.*missing\.gguf': no such file or directory/],
      [{}, ['--model', 'bogus:thing'], /--model: cannot read the model '.*bogus:thing'/],
      [{ OPENAI_API_KEY: 'sk-test' }, ['--model', 'openai:tiny', '--base-url', 'notaurl'], /--base-url 'notaurl' is not a URL/],
    ];
    for (const [env, args, message] of cases) {
      const result = composing(env, ...args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /internal error/);
    }
    assert.equal(existsSync(join(dir, 'out')), false);
  });
});

void describe('coi dataset build --singles: the tiny GGUF model', () => {
  /** `coi dataset build --singles tasks.jsonl` in `dir` with the tiny model, its step cache in `dir/cache`. */
  const composeWithTinyModel = (dir: string, ...args: string[]): ReturnType<typeof coi> =>
    coi(['dataset', 'build', '--singles', 'tasks.jsonl', '--model', tinyModelPath(), '--validation', '0', ...args], { cwd: dir, env: { COI_MODEL: '', COI_CACHE_DIR: join(dir, 'cache') } });

  void it("takes coi run's model options: --threads 1 and --max-tokens 8 reach the local model; a bad value is a usage error", () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tasks.jsonl'), GOOD_ROWS_SINGLES);
    const result = composeWithTinyModel(dir, '--threads', '1', '--max-tokens', '8', '--out', 'out', '--json');
    assert.equal(result.code, 0, result.stderr);
    assert.ok((JSON.parse(result.stdout) as Manifest).train >= 1);
    assert.match(result.stderr, /^local model default\.gguf on CPU \(1 thread\)$/m);
    // Every answer (summaries, generated outputs) as the step cache kept it: cut at 8 tokens, not the default 512.
    const answers = readdirSync(join(dir, 'cache', 'steps')).filter((name) => name.endsWith('.json')).map((name) => JSON.parse(readFileSync(join(dir, 'cache', 'steps', name), 'utf8')) as { completionTokens: number });
    assert.ok(answers.length >= 3, `${answers.length} answers`);
    for (const answer of answers) assert.ok(answer.completionTokens >= 1 && answer.completionTokens <= 8, `${answer.completionTokens} tokens`);

    const cases: [string[], RegExp][] = [
      [['--threads', '0'], /--threads must be a whole number from 1 to 1024 \(got '0'\)/],
      [['--max-tokens', '1.5'], /--max-tokens must be a whole number from 1 to 1000000 \(got '1\.5'\)/],
      [['--timeout', 'soon'], /--timeout must be a number from 0 to \d+ \(got 'soon'\)/],
    ];
    for (const [args, message] of cases) {
      const refused = composeWithTinyModel(dir, ...args, '--out', 'refused');
      assert.equal(refused.code, 2, `${args.join(' ')}: ${refused.stderr}`);
      assert.match(refused.stderr, message);
    }
    assert.equal(existsSync(join(dir, 'refused')), false);
  });

  void it('a malformed single task is a malformed row as in a plain build: reported by line, counted, the set written, exit 1', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tasks.jsonl'), GOOD_ROWS_SINGLES + '{"instruction": "Summarize the text.", "input": 5, "output": "x"}\n');
    const plain = coi(['dataset', 'build', 'tasks.jsonl', '--validation', '0', '--out', 'plain'], { cwd: dir });
    const composed = composeWithTinyModel(dir, '--threads', '1', '--max-tokens', '8', '--out', 'composed');
    for (const [result, out] of [[plain, 'plain'], [composed, 'composed']] as const) {
      assert.equal(result.code, 1, `${out}: ${result.stderr}`);
      assert.match(result.stderr, /^tasks\.jsonl:3:\d*:? ?.*field "input" must be a string, found a number/m);
      assert.match(result.stdout, /^Left out: 1 malformed row\.$/m);
      assert.equal((JSON.parse(readFileSync(join(dir, out, 'dataset.json'), 'utf8')) as Manifest).malformed, 1);
    }
  });
});

void describe('coi dataset build --singles: chains composed by a model on the OpenAI test server', () => {
  let server: OpenAITestServer;
  before(async () => {
    server = await startOpenAITestServer();
  });
  after(async () => {
    await server.close();
  });

  void it('summarises, checks and composes, and records the provenance of each generated example', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'tasks.jsonl'),
      [
        row('Summarize the passage in one sentence.', 'Heavy rain flooded the road, so the school closed early.', 'Flooding closed the school.'),
        row('Translate the text into French.', 'The museum opens at nine.', 'Le musée ouvre à neuf heures.'),
        row('Classify the sentiment of the review as positive or negative.', 'I loved it.', 'positive'),
      ].join('\n'),
    );
    // The first call is rate-limited once: waited out, and said on stderr.
    server.injectFaults([{ kind: 'status', status: 429, retryAfter: '0' }, ...['Summarize the passage.', 'Translate into French.', 'Classify the sentiment.'].map((content) => ({ kind: 'reply' as const, content }))]);
    const result = await coiAsync(['dataset', 'build', '--singles', 'tasks.jsonl', '--model', 'openai:tiny', '--base-url', server.baseURL, '--chains', '2', '--validation', '0', '--format', 'paper', '--out', 'out', '--json'], {
      cwd: dir,
      env: { OPENAI_API_KEY: 'sk-test' },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Summarising instructions: 3\/3/);
    assert.match(result.stderr, /tiny at http:\/\/127\.0\.0\.1:\d+\/v1: HTTP 429; trying again in 0 ms \(retry 1\)\n/);
    const manifest = JSON.parse(result.stdout) as Manifest & { composition: { pairsChecked: number; pairsComposable: number } };
    assert.ok(manifest.train >= 1);
    assert.ok(manifest.composition.pairsComposable >= 1 && manifest.composition.pairsChecked >= manifest.composition.pairsComposable);
    const records = JSON.parse(readFileSync(join(dir, 'out', 'train.json'), 'utf8')) as { instruction: string; output: string }[];
    for (const record of records) {
      assert.match(record.instruction, /^(Summarize the passage\.|Translate into French\.) and then (Summarize the passage\.|Translate into French\.|Classify the sentiment\.)$/);
      assert.match(record.output, /^Task 1 output and task 2 input: .+\nTask 2 output: /s);
    }
    const provenance = readFileSync(join(dir, 'out', 'provenance.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { source: string; generatedBy: string; generatedSteps: number[]; parts: { file: string; line: number }[] });
    for (const p of provenance) {
      assert.equal(p.source, 'composed');
      assert.equal(p.generatedBy, 'openai:tiny');
      assert.deepEqual(p.generatedSteps, [2]);
      assert.deepEqual(p.parts.map((part) => part.file), ['tasks.jsonl', 'tasks.jsonl']);
    }

    // Every model answer was kept in .coi-cache/: the same build again calls the model no more.
    const calls = server.count('/v1/chat/completions');
    const again = await coiAsync(['dataset', 'build', '--singles', 'tasks.jsonl', '--model', 'openai:tiny', '--base-url', server.baseURL, '--chains', '2', '--validation', '0', '--format', 'paper', '--out', 'again', '-q'], {
      cwd: dir,
      env: { OPENAI_API_KEY: 'sk-test' },
    });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(server.count('/v1/chat/completions'), calls);
    assert.equal(readFileSync(join(dir, 'again', 'train.json'), 'utf8'), readFileSync(join(dir, 'out', 'train.json'), 'utf8'));
  });

  void it('a model that fails (HTTP 500 after every retry) stops the build with one line and exit 1; nothing written', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tasks.jsonl'), GOOD_ROWS_SINGLES);
    server.injectFaults(Array.from({ length: 5 }, () => ({ kind: 'status' as const, status: 500, retryAfter: '0' })));
    const result = await coiAsync(['dataset', 'build', '--singles', 'tasks.jsonl', '--model', 'openai:tiny', '--base-url', server.baseURL, '--out', 'out', '-q'], { cwd: dir, env: { OPENAI_API_KEY: 'sk-test' } });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^coi dataset: The model tiny at http:\/\/127\.0\.0\.1:\d+\/v1 failed; nothing written: .*500/m);
    assert.doesNotMatch(result.stderr, /internal error/);
    assert.equal(existsSync(join(dir, 'out')), false);
  });

  void it('a step cache that cannot be written ($COI_CACHE_DIR a file) does not fail the build', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tasks.jsonl'), GOOD_ROWS_SINGLES);
    writeFileSync(join(dir, 'not-a-folder'), '');
    server.injectFaults([{ kind: 'reply', content: 'Summarize.' }, { kind: 'reply', content: 'Translate.' }]);
    const result = await coiAsync(['dataset', 'build', '--singles', 'tasks.jsonl', '--model', 'openai:tiny', '--base-url', server.baseURL, '--validation', '0', '--out', 'out', '-q'], {
      cwd: dir,
      env: { OPENAI_API_KEY: 'sk-test', COI_CACHE_DIR: join(dir, 'not-a-folder') },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(existsSync(join(dir, 'out', 'dataset.json')));
  });

  void it('Ctrl-C cancels with exit 130 and writes nothing; what was finished is not asked again', async () => {
    const dir = tempDir();
    const instructions = ['Summarize the report in one sentence.', 'Translate the text into German.', 'Rewrite the text politely.'];
    writeFileSync(join(dir, 'tasks.jsonl'), instructions.map((instruction, i) => row(instruction, `Input ${i}.`, `Output ${i}.`)).join('\n'));
    // The first summary is answered; the second never is, until the build is cancelled.
    server.injectFaults([{ kind: 'reply', content: 'Summarize the report.' }, { kind: 'stall' }]);
    const args = ['dataset', 'build', '--singles', 'tasks.jsonl', '--model', 'openai:tiny', '--base-url', server.baseURL, '--chains', '1', '--out', 'out'];
    const cancelled = await coiInterrupted(args, dir, /Summarising instructions: 1\/3/, { OPENAI_API_KEY: 'sk-test' });
    assert.equal(cancelled.code, 130, cancelled.stderr);
    assert.match(cancelled.stderr, /cancelled; nothing written/);
    assert.equal(existsSync(join(dir, 'out')), false);

    const seen = server.requests.length;
    server.injectFaults([{ kind: 'reply', content: 'Translate into German.' }, { kind: 'reply', content: 'Be polite.' }]);
    const resumed = await coiAsync([...args, '--json'], { cwd: dir, env: { OPENAI_API_KEY: 'sk-test' } });
    assert.equal(resumed.code, 0, resumed.stderr);
    const prompts = server.requests.slice(seen).map((r) => JSON.stringify(r.body));
    assert.ok(!prompts.some((p) => p.includes(instructions[0]!) && p.includes('Rewrite the task instruction')), 'the finished summary came from the cache');
    assert.ok(prompts.some((p) => p.includes(instructions[1]!) && p.includes('Rewrite the task instruction')));
  });
});

const sharedMissing = existsSync(sharedDataPath('coi2_test.json')) ? false : 'skipped: ../shared/data/coi (the paper data) is not here';

void describe('coi dataset stats and convert', () => {
  void it('stats: a paper JSON record whose output is only the final answer counts the steps of its instruction, and says so', () => {
    const result = coi(['dataset', 'stats', repoPath('test', 'fixtures', 'records', 'final-answer.json')], { cwd: tempDir() });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Examples: 2 \(2 × 2 steps\)\n {2}2 of them final answer only: no step markers in the output, so each counts the steps its instruction joins by " and then ", the middle ones without outputs\./);
  });

  void it('convert --out into folders that do not exist yet makes them, as coi export does', () => {
    const dir = tempDir();
    const result = coi(['dataset', 'convert', repoPath('test', 'fixtures', 'records', 'one-instruction.json'), '--to', 'openai-chat', '--out', join('sets', 'chat', 'train.jsonl')], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(readFileSync(join(dir, 'sets', 'chat', 'train.jsonl'), 'utf8'), /^\{"messages":/);
  });

  void it('convert: every format written ends with a newline', () => {
    const dir = tempDir();
    for (const to of DATASET_FORMATS) {
      const out = `out.${to}`;
      const result = coi(['dataset', 'convert', repoPath('test', 'fixtures', 'records', 'one-instruction.json'), '--to', to, '--out', out, '-q'], { cwd: dir });
      assert.equal(result.code, 0, result.stderr);
      const written = readFileSync(join(dir, out), 'utf8');
      assert.ok(/[\]}]\n$/.test(written), `${to}: ${JSON.stringify(written.slice(-20))}`);
      const printed = coi(['dataset', 'convert', repoPath('test', 'fixtures', 'records', 'one-instruction.json'), '--to', to, '-q'], { cwd: dir });
      assert.ok(printed.stdout.endsWith('\n'), `${to} on standard output`);
    }
  });

  void it('convert: the CoI2 test set to OpenAI chat and back gives the same bytes, with a final newline', { skip: sharedMissing }, () => {
    const dir = tempDir();
    const toChat = coi(['dataset', 'convert', sharedDataPath('coi2_test.json'), '--to', 'openai-chat', '--out', 'chat.jsonl', '--json'], { cwd: dir });
    assert.equal(toChat.code, 0, toChat.stderr);
    assert.deepEqual(JSON.parse(toChat.stdout), { from: 'paper', to: 'openai-chat', examples: 588, malformed: 0, out: 'chat.jsonl' });
    const back = coi(['dataset', 'convert', 'chat.jsonl', '--to', 'paper', '--out', 'back.json', '-q'], { cwd: dir });
    assert.equal(back.code, 0, back.stderr);
    // The same bytes, and a final newline (the paper's file ends without one).
    assert.equal(readFileSync(join(dir, 'back.json'), 'utf8'), `${readFileSync(sharedDataPath('coi2_test.json'), 'utf8')}\n`);
  });

  void it('convert --out the input file is a usage error and leaves the file as it was (its bad rows included)', () => {
    const dir = workspace();
    for (const out of ['chains.jsonl', './chains.jsonl']) {
      const result = coi(['dataset', 'convert', 'chains.jsonl', '--to', 'alpaca-jsonl', '--out', out], { cwd: dir });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`--out '${out.replace('.', '\\.')}' is the file being converted`));
    }
    assert.equal(readFileSync(join(dir, 'chains.jsonl'), 'utf8'), CHAINS_JSONL + '\n');
  });

  void it('convert --out replaces the previous file only once the new one is whole: a write that fails leaves it as it was', { skip: process.platform === 'win32' ? 'ulimit is POSIX' : false }, () => {
    const dir = workspace();
    const rows = Array.from({ length: 200 }, (_, i) => row('Summarize the text. and then Translate the summary into French.', `Rain fell on day ${i}.`, 'Task 1 output and task 2 input: It rained.\nTask 2 output: Il a plu.'));
    writeFileSync(join(dir, 'many.jsonl'), rows.join('\n') + '\n');
    const previous = 'the previous good conversion\n';
    writeFileSync(join(dir, 'chat.jsonl'), previous, { mode: 0o640 });
    chmodSync(join(dir, 'chat.jsonl'), 0o640);
    symlinkSync('chat.jsonl', join(dir, 'link.jsonl'));
    for (const out of ['chat.jsonl', 'link.jsonl']) {
      // Some 60 KB to write under a limit of 2 blocks (at most 2 KiB): the write fails midway.
      const failed = coiWithFileSizeLimit(['dataset', 'convert', 'many.jsonl', '--to', 'openai-chat', '--out', out], dir, 2);
      assert.equal(failed.code, 2, failed.stderr);
      assert.match(failed.stderr, new RegExp(`^coi dataset: Cannot write '${out.replace('.', '\\.')}': the file is larger than the system allows`, 'm'));
      assert.equal(readFileSync(join(dir, 'chat.jsonl'), 'utf8'), previous, 'the previous file is whole');
    }
    assert.deepEqual(readdirSync(dir).sort(), ['chains.jsonl', 'chat.jsonl', 'link.jsonl', 'many.jsonl', 'storm.coi'], 'no temporary is left behind');
    const done = coi(['dataset', 'convert', 'many.jsonl', '--to', 'openai-chat', '--out', 'link.jsonl', '-q'], { cwd: dir });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(readDataset(readFileSync(join(dir, 'chat.jsonl'), 'utf8')).examples.length, 200, 'written through the link');
    assert.equal(lstatSync(join(dir, 'link.jsonl')).isSymbolicLink(), true);
    assert.equal(statSync(join(dir, 'chat.jsonl')).mode & 0o777, 0o640, 'the permissions of the file replaced are kept');
  });

  void it('stats --json: counts, steps and lengths per file; malformed rows make the exit code 1', () => {
    const dir = workspace();
    const result = coi(['dataset', 'stats', 'chains.jsonl', '--json'], { cwd: dir });
    assert.equal(result.code, 1);
    const report = JSON.parse(result.stdout) as { files: { file: string; format: string; examples: number; steps: Record<string, number>; outputChars: { max: number } }[]; malformed: number };
    assert.equal(report.malformed, 1);
    assert.deepEqual(report.files.map((f) => [f.file, f.format, f.examples, f.steps]), [['chains.jsonl', 'alpaca-jsonl', 4, { '2': 4 }]]);
    assert.equal(report.files[0]?.outputChars.max, 'Task 1 output and task 2 input: It rained.\nTask 2 output: Il a plu.'.length);
  });

  void it('stats refuses a file with no example (empty, or only malformed rows) as convert does: exit 1, no statistics', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'empty.jsonl'), '');
    writeFileSync(join(dir, 'bad.jsonl'), '{"instruction": "x"}\n');
    for (const verb of [['stats'], ['convert', '--to', 'paper']]) {
      const empty = coi(['dataset', ...verb, 'empty.jsonl'], { cwd: dir });
      assert.equal(empty.code, 1, empty.stderr);
      assert.match(empty.stderr, /^coi dataset: 'empty\.jsonl' holds no example: (no statistics|nothing written)\.$/m);
      assert.equal(empty.stdout, '');
    }
    const bad = coi(['dataset', 'stats', 'chains.jsonl', 'bad.jsonl', '--json'], { cwd: dir });
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /^coi dataset: 'bad\.jsonl' holds no example \(1 malformed row\): no statistics\.$/m);
    assert.equal(bad.stdout, '');
  });

  void it('a folder given as a dataset file or as --tokenizer is said to be one at once', () => {
    const dir = workspace();
    mkdirSync(join(dir, 'adir'));
    for (const args of [['stats', 'adir'], ['convert', 'adir', '--to', 'paper'], ['stats', 'adir', '--from', 'paper']]) {
      const result = coi(['dataset', ...args], { cwd: dir });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^coi dataset: 'adir' is a directory: name dataset files \(\.json or \.jsonl\)\.$/m);
    }
    for (const verb of [['stats', 'chains.jsonl'], ['build', 'chains.jsonl', '--out', 'o']]) {
      const result = coi(['dataset', ...verb, '--tokenizer', 'adir'], { cwd: dir });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^coi dataset: --tokenizer adir: 'adir' is a directory, not a GGUF model file\.$/m);
    }
    assert.equal(existsSync(join(dir, 'o')), false);
  });

  void it('invalid UTF-8: build and convert refuse the file at FILE:LINE:COLUMN and write nothing (the trainer refuses such data too); stats warns and counts', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'latin1.jsonl'), Buffer.concat([Buffer.from(`${row('Summarize the text.', 'x', 'y')}\n{"instruction": "R`), Buffer.from([0xe9]), Buffer.from('sume the text.", "input": "x", "output": "z"}\n')]));
    // Read as U+FFFD, the é would go into the new dataset as if it were the text, and `coi finetune start` would then take it.
    const refusal = 'coi dataset: latin1.jsonl:2:19: not UTF-8 text (byte 0xE9 there): read as U+FFFD, it would be written into the dataset so. Save it as UTF-8 (from Latin-1 or Windows-1252, e.g. iconv -f WINDOWS-1252 -t UTF-8). Nothing was written.\n';
    for (const args of [['convert', 'latin1.jsonl', '--to', 'paper'], ['convert', 'latin1.jsonl', '--to', 'paper', '--out', 'out.json'], ['build', 'latin1.jsonl', '--out', 'o'], ['build', 'storm.coi', '--singles', 'latin1.jsonl', '--model', 'openai:m', '--base-url', 'http://127.0.0.1:9/v1', '--out', 'o']]) {
      const result = coi(['dataset', ...args, '--quiet'], { cwd: dir, env: { OPENAI_API_KEY: 'k' } });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr, refusal, args.join(' '));
      assert.equal(result.stdout, '');
    }
    assert.deepEqual(readdirSync(dir).sort(), ['chains.jsonl', 'latin1.jsonl', 'storm.coi'], 'nothing written');
    const stats = coi(['dataset', 'stats', 'latin1.jsonl', '--quiet'], { cwd: dir });
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal(stats.stderr, "coi dataset: warning: latin1.jsonl:2:19: invalid UTF-8 (byte 0xE9 at offset 81); it is read as U+FFFD (\uFFFD), as is every other invalid byte. Save the file as UTF-8.\n");
    assert.match(stats.stdout, /^Examples: 2 /m);
  });

  void it('invalid UTF-8 in a .coi source: build refuses it at FILE:LINE:COLUMN and writes nothing, as it refuses a dataset file', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'latin1.coi'), Buffer.from(CHAIN.replace('Routes fermées.', 'Routes ferm\u00e9es.'), 'latin1'));
    const line = CHAIN.split('\n').findIndex((l) => l.includes('Routes fermées.')) + 1;
    const column = CHAIN.split('\n')[line - 1]!.indexOf('ées') + 1;
    const result = coi(['dataset', 'build', 'latin1.coi', 'storm.coi', '--out', 'o'], { cwd: dir });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`^coi dataset: latin1\\.coi:${line}:${column}: not UTF-8 text \\(byte 0xE9 there\\): read as U\\+FFFD, it would be written into the dataset so\\.`, 'm'));
    assert.equal(existsSync(join(dir, 'o')), false);
  });

  void it('build: a link in a source folder that cannot be followed is skipped with a warning, as coi export skips it', { skip: process.platform === 'win32' ? 'symbolic links need privileges' : false }, () => {
    const dir = workspace();
    mkdirSync(join(dir, 'chains'));
    writeFileSync(join(dir, 'chains', 'storm.coi'), CHAIN);
    symlinkSync('missing.coi', join(dir, 'chains', 'dangling.coi'));
    symlinkSync('loop2.coi', join(dir, 'chains', 'loop1.coi'));
    symlinkSync('loop1.coi', join(dir, 'chains', 'loop2.coi'));
    const result = coi(['dataset', 'build', 'chains', '--out', 'o', '--quiet'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stderr,
      "coi dataset: warning: skipped 'chains/dangling.coi': it is a symbolic link whose target does not exist.\n" +
        "coi dataset: warning: skipped 'chains/loop1.coi': it is a symbolic link in a loop of links.\n" +
        "coi dataset: warning: skipped 'chains/loop2.coi': it is a symbolic link in a loop of links.\n",
    );
  });

  void it('stats with a tokenizer reports token lengths', () => {
    const dir = workspace();
    const result = coi(['dataset', 'stats', 'chains.jsonl', '--tokenizer', tinyModelPath()], { cwd: dir });
    assert.match(result.stdout, /^ {2}tokens +min \d+, median \d+, mean [\d.]+, p95 \d+, max \d+$/m);
  });
});
