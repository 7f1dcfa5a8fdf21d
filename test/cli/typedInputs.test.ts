/**
 * Typed chain inputs (number, boolean, label, list, json, and text with its bounds and
 * language) are read by one rule, as a user writes them: the editor's check of a test's `given`
 * (COI412, here through `coi check`) and `coi run --input` agree on every value — what one
 * reports the other refuses (exit 2, in the same words, before any model call) — and the step
 * is fed the canonical value (the declared label's spelling, the number as written by
 * JavaScript, a list as `- ` lines, the form a list step's output is passed on in), as the
 * prompt the OpenAI-protocol test server received shows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync, type CliResult } from './cliProcess';
import { tempDir } from '../helpers/tempDir';

const INPUTS = {
  mood: 'label [positive, negative, Mixed]',
  stars: 'number min=1 max=5',
  ok: 'boolean',
  scores: 'list item=number min_items=2',
  tags: 'list max_items=2',
  person: 'json schema=\'{"type": "object", "required": ["name"]}\'',
  note: 'text lang=en max_words=20 max_chars=120',
} as const;
type Name = keyof typeof INPUTS;

/** Canonical values: the editor reports nothing and the run goes through. */
const CANONICAL: Record<Name, string> = { mood: 'positive', stars: '4', ok: 'false', scores: '[1,2]', tags: '["a","b"]', person: '{"name": "Ada"}', note: 'A short note.' };

/** The chain, with one test giving `givens` (the canonical values for the others). */
function chain(givens: Partial<Record<Name, string>> = {}): string {
  const names = Object.keys(INPUTS) as Name[];
  return [
    'chain typed',
    ...names.map((name) => `input ${name}: ${INPUTS[name]}`),
    'step echo {',
    '  instruction "Repeat the inputs."',
    `  from ${names.join(', ')}`,
    '  output text',
    '}',
    'test "given" {',
    ...names.map((name) => `  given ${name} = ${JSON.stringify(givens[name] ?? CANONICAL[name])}`),
    '  expect echo contains "x"',
    '}',
    '',
  ].join('\n');
}

void describe('typed chain inputs: one reader for the editor and the run', () => {
  let server: OpenAITestServer;
  let dir: string;
  before(async () => {
    dir = tempDir();
    server = await startOpenAITestServer({ reply: () => 'ok' });
  });
  after(async () => server.close());

  const write = (name: string, text: string): string => {
    const file = join(dir, `${name}.coi`);
    writeFileSync(file, text);
    return file;
  };
  const run = (file: string, inputs: Partial<Record<Name, string>>): Promise<CliResult> => {
    const all = { ...CANONICAL, ...inputs };
    const args = Object.entries(all).flatMap(([name, value]) => ['--input', `${name}=${value}`]);
    return coiAsync(['run', file, ...args, '--model', 'openai:tiny', '--base-url', server.baseURL, '--no-cache'], { cwd: dir, env: { COI_MODEL: '', OPENAI_API_KEY: 'sk-test', COI_CACHE_DIR: join(dir, 'cache') } });
  };
  /** The COI412 problems `coi check` reports for a test giving `given`. */
  const editorProblems = async (name: string, given: Partial<Record<Name, string>>): Promise<string[]> => {
    const checked = await coiAsync(['check', write(name, chain(given))], { cwd: dir, env: { COI_MODEL: '' } });
    return [...checked.stdout.matchAll(/ COI412: (.*)$/gm)].map((m) => m[1]!);
  };
  const userPrompt = (): string => {
    const chat = server.requests.filter((r) => r.path === '/v1/chat/completions').at(-1);
    const messages = (chat?.body as { messages: { role: string; content: string }[] }).messages;
    return messages.at(-1)!.content;
  };

  void test('values written differently from the canonical one (spaces, case, 05, lines): no problem in the editor, and the step is fed the canonical value', async () => {
    const written: Partial<Record<Name, string>> = { mood: ' Positive ', stars: '05', ok: ' TRUE ', scores: '1\n2.50', tags: ' a \n\n b ' };
    assert.deepEqual(await editorProblems('spelled', written), []);
    const ran = await run(write('spelled-run', chain()), written);
    assert.equal(ran.code, 0, ran.stderr);
    const prompt = userPrompt();
    for (const expected of ['[mood]\npositive\n', '[stars]\n5\n', '[ok]\ntrue\n', '[scores]\n- 1\n- 2.5\n', '[tags]\n- a\n- b\n', '[person]\n{"name": "Ada"}']) {
      assert.ok(prompt.includes(expected), `${JSON.stringify(expected)} not in the prompt:\n${prompt}`);
    }
    // A text too short to tell its language is not refused for its lang.
    assert.deepEqual(await editorProblems('short-french', { note: 'Le chat dort.' }), []);
    assert.equal((await run(write('short-french-run', chain()), { note: 'Le chat dort.' })).code, 0);
    // A label in another case is fed in its declared spelling.
    await run(write('mixed-run', chain()), { mood: 'mixed' });
    assert.ok(userPrompt().includes('[mood]\nMixed\n'), userPrompt());
  });

  void test("a list reaches a step's prompt in one form, `- ` lines, from a list input and from a list step's output (kept raw in the record)", async () => {
    const file = write(
      'lists',
      [
        'chain lists',
        'input fruits: list',
        'step pick {',
        '  instruction "Pick the ripe fruits."',
        '  output list',
        '}',
        'step compare {',
        '  instruction "Compare the two lists."',
        '  from fruits, pick',
        '  output text',
        '}',
        '',
      ].join('\n'),
    );
    // The model numbers its list; the next step reads it as the input list is written.
    server.setReplier(({ messages }) => (messages.at(-1)!.content.startsWith('Pick the ripe fruits.') ? '1. apples\n2. ripe pears' : 'ok'));
    try {
      const ran = await coiAsync(['run', file, '--input', 'fruits=["apples", "ripe pears", "plums"]', '--model', 'openai:tiny', '--base-url', server.baseURL, '--no-cache', '--json'], {
        cwd: dir,
        env: { COI_MODEL: '', OPENAI_API_KEY: 'sk-test' },
      });
      assert.equal(ran.code, 0, ran.stderr);
      const chats = server.requests.filter((r) => r.path === '/v1/chat/completions').slice(-2);
      const content = (i: number): string => (chats[i]!.body as { messages: { content: string }[] }).messages.at(-1)!.content;
      assert.ok(content(0).endsWith('Input:\n- apples\n- ripe pears\n- plums'), content(0));
      assert.ok(content(1).endsWith('Input:\n[fruits]\n- apples\n- ripe pears\n- plums\n\n[pick]\n- apples\n- ripe pears'), content(1));
      const record = JSON.parse(ran.stdout) as { inputs: Record<string, string>; steps: { output?: string; rawOutput?: string }[] };
      assert.equal(record.inputs.fruits, '- apples\n- ripe pears\n- plums');
      assert.equal(record.steps[0]!.output, '- apples\n- ripe pears');
      assert.equal(record.steps[0]!.rawOutput, '1. apples\n2. ripe pears');
    } finally {
      server.setReplier(() => 'ok');
    }
  });

  void test("coi run --pin of a list step is read as a list: fed to the next step as `- ` lines, and refused against the list contract in the input reader's words (exit 2, before the run is announced)", async () => {
    const file = write(
      'pinned-list',
      [
        'chain pinned',
        'input text: text',
        'step pick {',
        '  instruction "Pick the ripe fruits."',
        '  output list item=number max_items=3',
        '}',
        'step compare {',
        '  instruction "Compare the fruits."',
        '  from pick',
        '  output text',
        '}',
        '',
      ].join('\n'),
    );
    const pin = (value: string, ...more: string[]): Promise<CliResult> =>
      coiAsync(['run', file, '--input', 'text=x', '--pin', `pick=${value}`, '--model', 'openai:tiny', '--base-url', server.baseURL, '--no-cache', ...more], {
        cwd: dir,
        env: { COI_MODEL: '', OPENAI_API_KEY: 'sk-test' },
      });
    const ran = await pin('[1, 2.50]', '--json');
    assert.equal(ran.code, 0, ran.stderr);
    assert.ok(userPrompt().endsWith('Input:\n- 1\n- 2.5'), userPrompt());
    const record = JSON.parse(ran.stdout) as { steps: { output?: string; pinned: boolean }[] };
    assert.deepEqual([record.steps[0]!.output, record.steps[0]!.pinned], ['- 1\n- 2.5', true]);
    // The form a run passes on reads back as the same list.
    assert.equal((await pin('- 1\n- 2.5')).code, 0);
    const calls = server.count('/v1/chat/completions');
    for (const [value, words] of [
      ['1\n2\n3\n4', 'must have at most 3 items, not 4'],
      ['1, 2', 'is a list of numbers, but item 1 ("1, 2") is not a number'],
      ['', 'is a list, but the value given is empty'],
    ] as const) {
      const refused = await pin(value);
      assert.equal(refused.code, 2, refused.stderr);
      assert.ok(refused.stderr.includes(`The pinned output of step "pick" ${words}.`), refused.stderr);
      assert.doesNotMatch(refused.stderr, /^Running /m);
    }
    assert.equal(server.count('/v1/chat/completions'), calls, 'no model call');
  });

  // A model's decorations (quotes, a trailing period, yes/no, `5.`) and values out of the contract.
  const refused: [Name, string, RegExp][] = [
    ['mood', ' "Positive." ', /^must be one of positive, negative, Mixed, not " \\"Positive\.\\" "$/],
    ['mood', 'neutral', /^must be one of positive, negative, Mixed, not "neutral"$/],
    ['stars', '5.', /^is a number, but the value given is "5\."$/],
    ['stars', '0x3', /^is a number, but the value given is "0x3"$/],
    ['stars', '7', /^must be at most 5, not 7$/],
    ['ok', 'yes', /^is a boolean \(true or false\), not "yes"$/],
    ['scores', '1, 2', /^is a list of numbers, but item 1 \("1, 2"\) is not a number$/],
    ['scores', '[3]', /^must have at least 2 items, not 1$/],
    ['tags', 'a\nb\nc', /^must have at most 2 items, not 3$/],
    ['person', '{"age": 3}', /^does not match its JSON Schema: person must have required property 'name'$/],
    ['note', 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty twenty-one', /^must have at most 20 words, not 21$/],
    ['note', 'x'.repeat(121), /^must have at most 120 characters, not 121$/],
    ['note', 'La tempête atteindra la côte ce soir et les autorités ont demandé aux habitants de partir.', /^is English \(lang=en\), but the value given reads as French \(\d+ of \d+ words are common fr words\)$/],
  ];
  for (const [name, value, problem] of refused) {
    void test(`${name} = ${JSON.stringify(value)}: the editor reports it, and coi run --input refuses it in the same words (exit 2, no model call)`, async () => {
      const problems = await editorProblems(`refused-${name}`, { [name]: value });
      assert.equal(problems.length, 1, problems.join('\n'));
      const words = /^Input '(\w+)' (.*)\.$/.exec(problems[0]!);
      assert.equal(words?.[1], name, problems[0]);
      assert.match(words[2]!, problem);
      const calls = server.count('/v1/chat/completions');
      const ran = await run(write(`refused-${name}-run`, chain()), { [name]: value });
      assert.equal(ran.code, 2, ran.stderr);
      assert.ok(ran.stderr.includes(`Chain input "${name}" ${words[2]!}.`), ran.stderr);
      // Refused before the run is announced.
      assert.doesNotMatch(ran.stderr, /^Running /m);
      assert.equal(server.count('/v1/chat/completions'), calls);
    });
  }
});
