/**
 * The checker as its users see it: the chain that `checkDocument` builds
 * (bindings, contracts, profiles, tests), the quick-fix data and related
 * locations on diagnostics, partial files, and robustness on mangled input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDocument } from '../../core/check';
import type { Diagnostic } from '../../core/syntax/ast';
import { parse } from '../../core/syntax/parser';
import { quickFixes } from '../../core/language/quickFixes';
import { labelMatches } from '../../core/chain/matching';
import { validateOutput } from '../../core/runner/contract';
import { coiFiles, repoPath } from '../helpers/paths';
import { seededRandom } from '../helpers/random';

const checkFixtures = (): { name: string; text: string }[] => coiFiles(repoPath('test', 'fixtures', 'check'));

function codes(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => d.code);
}

function textAt(text: string, d: { span: { start: number; end: number } }): string {
  return text.slice(d.span.start, d.span.end);
}

const CHAIN = `chain digest
model local {
  provider local
  path "hf:org/repo:Q4_K_M"
  temperature 0.1
  stop ["###", "END"]
}
model api {
  provider openai
  base_url "http://127.0.0.1:8000/v1"
  model "m"
  api_key_env "KEY"
}
input article: text lang=en
input limit: number min=1 max=5 integer=true
step summary {
  instruction """
    Summarize the article.
    Keep names.
  """
  output text lang=en max_words=60
  max_tokens 64
}
step count {
  instruction "Count the sentences of the summary."
  output number min=0 integer=true
}
step both {
  instruction "Write a paragraph from the article and the summary."
  from article, summary, limit
  output json schema='{"type": "object"}'
  model api
  task generation
  needs passage en
}
test "t1" {
  given article = "Hello."
  given limit = 3
  expect summary contains "Hello"
  expect both not contains "draft"
  expect output rouge_l >= 0.5 "ref"
  expect summary one_of [a, b]
  model api
}
`;

void test('checkDocument builds the chain: bindings, contracts, profiles and tests', () => {
  const { chain, diagnostics } = checkDocument(CHAIN);
  assert.deepEqual(
    diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  assert.equal(chain.name, 'digest');
  assert.equal(chain.defaultProfile, 'local');
  assert.deepEqual(chain.profiles[0], {
    name: 'local',
    provider: 'local',
    path: 'hf:org/repo:Q4_K_M',
    sampling: { temperature: 0.1, stop: ['###', 'END'] },
    span: chain.profiles[0]?.span,
  });
  assert.deepEqual(chain.profiles[1] && { ...chain.profiles[1], span: undefined }, {
    name: 'api',
    provider: 'openai',
    baseUrl: 'http://127.0.0.1:8000/v1',
    model: 'm',
    apiKeyEnv: 'KEY',
    sampling: {},
    span: undefined,
  });
  assert.deepEqual(
    chain.inputs.map((i) => [i.name, i.contract]),
    [
      ['article', { kind: 'text', lang: 'en' }],
      ['limit', { kind: 'number', min: 1, max: 5, integer: true }],
    ],
  );
  const [summary, count, both] = chain.steps;
  assert.deepEqual(summary?.sources, [{ kind: 'input', name: 'article' }]);
  assert.equal(summary?.sourceSpans, undefined);
  assert.equal(summary?.instruction, 'Summarize the article.\nKeep names.');
  assert.deepEqual(summary?.contract, { kind: 'text', lang: 'en', maxWords: 60 });
  assert.deepEqual(summary?.sampling, { maxTokens: 64 });
  assert.deepEqual(count?.sources, [{ kind: 'step', id: 'summary' }]);
  assert.deepEqual(count?.contract, { kind: 'number', min: 0, integer: true });
  assert.deepEqual(both?.sources, [
    { kind: 'input', name: 'article' },
    { kind: 'step', id: 'summary' },
    { kind: 'input', name: 'limit' },
  ]);
  assert.deepEqual(
    both?.sourceSpans?.map((span) => CHAIN.slice(span.start, span.end)),
    ['article', 'summary', 'limit'],
  );
  assert.deepEqual(both?.contract, { kind: 'json', schema: { type: 'object' } });
  assert.equal(both?.profile, 'api');
  assert.equal(both?.declaredTask, 'generation');
  assert.equal(both?.declaredNeeds, 'passage');
  assert.equal(both?.declaredNeedsLang, 'en');
  assert.equal(CHAIN.slice(both?.headerSpan.start, both?.headerSpan.end), 'step both');
  const [t1] = chain.tests;
  assert.deepEqual(t1?.inputs, { article: 'Hello.', limit: '3' });
  assert.equal(t1?.profile, 'api');
  assert.deepEqual(
    t1?.expectations.map((e) => ({ ...e, span: undefined })),
    [
      { target: 'summary', matcher: 'contains', negated: false, value: 'Hello', span: undefined },
      { target: 'both', matcher: 'contains', negated: true, value: 'draft', span: undefined },
      { target: 'output', matcher: 'rouge_l', negated: false, threshold: 0.5, value: 'ref', span: undefined },
      { target: 'summary', matcher: 'one_of', negated: false, values: ['a', 'b'], span: undefined },
    ],
  );
  // The step whose output nobody reads is flagged; declarations are respected.
  assert.deepEqual(codes(diagnostics), ['COI208']);
});

void test('a typo in a reference gets the closest id as a fix; a forward reference points at its target', () => {
  const text = 'chain c\ninput article: text\nstep a {\n  instruction "Summarize the article."\n  from artcle\n  output text\n}\nstep b {\n  instruction "x"\n  from c\n  output text\n}\nstep c {\n  instruction "y"\n  output text\n}\n';
  const { diagnostics } = checkDocument(text);
  const unknown = diagnostics.find((d) => d.code === 'COI205');
  assert.equal(textAt(text, unknown!), 'artcle');
  assert.deepEqual(unknown?.data, { suggestion: 'article' });
  const forward = diagnostics.find((d) => d.code === 'COI206');
  assert.equal(textAt(text, forward!), 'c');
  assert.match(forward!.message, /"b" reads step "c", which comes later/);
  assert.equal(forward?.related?.length, 1);
  assert.equal(text.slice(forward!.related![0]!.span.start, forward!.related![0]!.span.end), 'c');
  assert.ok(forward!.related![0]!.span.start > text.indexOf('step c'));
});

void test('a label expectation outside the label set suggests the closest label, or offers to add it', () => {
  const text = 'chain c\ninput r: text\nstep s {\n  instruction "Classify the sentiment of the review."\n  output label [positive, negative]\n}\ntest "t" {\n  given r = "x"\n  expect s label postive\n  expect s label mixed\n}\n';
  const { diagnostics } = checkDocument(text);
  const [typo, unknown] = diagnostics.filter((d) => d.code === 'COI408');
  assert.equal(textAt(text, typo!), 'postive');
  assert.equal(typo?.data?.suggestion, 'positive');
  assert.equal(textAt(text, unknown!), 'mixed');
  assert.equal(unknown?.data?.suggestion, undefined, 'no label is close to mixed');
  const [add] = quickFixes(parse(text).file, text, unknown!);
  assert.equal(add?.title, "Add mixed to the labels of step 's'");
});

void test('a negated expectation the label set settles is a warning that always holds, with no fix that adds the value to the set', () => {
  const text = 'chain c\ninput r: text\nstep s {\n  instruction "Classify the sentiment of the review."\n  output label [positive, negative]\n}\ntest "t" {\n  given r = "x"\n  expect s not label postive\n  expect s not equals "maybe"\n}\n';
  const { diagnostics } = checkDocument(text);
  assert.deepEqual(codes(diagnostics), ['COI414', 'COI414']);
  const [typo, unknown] = diagnostics;
  assert.equal(typo?.severity, 'warning');
  assert.match(typo!.message, /^'not label' always holds: 'postive' is not one of the labels of step "s"/);
  assert.deepEqual(
    quickFixes(parse(text).file, text, typo!).map((f) => f.title),
    ["Change to 'positive'"],
  );
  assert.equal(textAt(text, unknown!), '"maybe"');
  assert.deepEqual(quickFixes(parse(text).file, text, unknown!), [], 'adding maybe to the labels would make the expectation fail');
});

void test("a json step's schema settles equals: a value that breaks it can never pass, negated it always holds; valid_json there always holds, with no fix", () => {
  const schema = '{"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "mood": {"enum": ["happy", "sad"]}}}';
  const text = `chain c\ninput r: text\nstep s {\n  instruction "Extract the reviewer as JSON."\n  output json schema='${schema}'\n}\ntest "t" {\n  given r = "x"\n  expect s equals '{"name": "Ada", "mood": "angry"}'\n  expect s not equals '{"name": 3}'\n  expect s valid_json\n  expect s equals '{"mood": "sad", "name": "Ada"}'\n}\n`;
  const { diagnostics } = checkDocument(text);
  assert.deepEqual(codes(diagnostics), ['COI408', 'COI414', 'COI414']);
  const [broken, negated, validJson] = diagnostics;
  assert.equal(broken?.severity, 'error');
  assert.equal(textAt(text, broken!), `'{"name": "Ada", "mood": "angry"}'`);
  assert.equal(broken?.message, 'Step "s" produces JSON that matches its schema; the expected value breaks it (expected/mood must be equal to one of the allowed values), so the output can never equal it.');
  // The run refuses that value as the step's output, in the words the message quotes.
  const refused = validateOutput({ kind: 'json' }, '{"name": "Ada", "mood": "angry"}', JSON.parse(schema));
  assert.ok(!refused.ok && refused.message.includes('/mood must be equal to one of the allowed values'));
  assert.equal(negated?.severity, 'warning');
  assert.equal(textAt(text, negated!), `'{"name": 3}'`);
  assert.equal(negated?.message, `'not equals' always holds: step "s" produces JSON that matches its schema; the expected value breaks it (expected/name must be string), so the output can never equal it.`);
  assert.equal(textAt(text, validJson!), 'valid_json');
  assert.match(validJson!.message, /^'valid_json' always holds: step "s" has a json contract, so an output that is not valid JSON \(or breaks its schema\) already fails the step\.$/);
  assert.deepEqual(quickFixes(parse(text).file, text, validJson!), []);
});

void test('one_of on a json step compares texts ignoring case: only a value that is not JSON even in lower case is settled', () => {
  const text = `chain c\ninput r: text\nstep s {\n  instruction "Name the colour as a JSON string."\n  output json schema='{"enum": ["red", "blue"]}'\n}\ntest "t" {\n  given r = "x"\n  expect s one_of [red, '"RED"', TRUE]\n  expect s not one_of [blue, '"blue"']\n}\n`;
  const { diagnostics } = checkDocument(text);
  assert.deepEqual(codes(diagnostics), ['COI408', 'COI414']);
  assert.equal(textAt(text, diagnostics[0]!), 'red');
  assert.equal(diagnostics[0]?.message, 'Step "s" produces JSON; "red" is not JSON, so the output can never be it.');
  assert.equal(textAt(text, diagnostics[1]!), 'blue');
  assert.match(diagnostics[1]!.message, /^Excluding 'blue' always holds: /);
  // What is left alone can pass: the run's one_of takes the output "red" for '"RED"'.
  assert.ok(labelMatches('"red"', '"RED"'));
});

void test('an API key written in a profile is an error that suggests api_key_env', () => {
  const text = 'chain c\nmodel m {\n  provider openai\n  base_url "https://api.example.com/v1"\n  model "x"\n  api_key "sk-abc"\n}\n';
  const d = checkDocument(text).diagnostics.find((x) => x.code === 'COI506');
  assert.equal(d?.severity, 'error');
  assert.equal(textAt(text, d!), 'api_key "sk-abc"');
  assert.equal(d?.data?.replaceWith, 'api_key_env');
  assert.doesNotMatch(d!.message, /sk-abc/, 'the message must not repeat the key');
});

void test('schema_file is read relative to the document through the caller-supplied readFile', () => {
  const text = 'chain c\ninput r: text\nstep s {\n  instruction "Extract the person as JSON."\n  output json schema_file="schemas/p.json"\n}\n';
  const asked: string[] = [];
  const files: Record<string, string> = { '/work/doc/schemas/p.json': '{"type": "object"}' };
  const ok = checkDocument(text, {
    documentPath: '/work/doc/chain.coi',
    readFile: (path) => {
      asked.push(path);
      return files[path];
    },
  });
  assert.deepEqual(asked, ['/work/doc/schemas/p.json']);
  assert.deepEqual(codes(ok.diagnostics), []);
  const missing = checkDocument(text, { documentPath: '/elsewhere/chain.coi', readFile: (path) => files[path] });
  assert.deepEqual(codes(missing.diagnostics), ['COI218']);
  files['/work/doc/schemas/p.json'] = '{"type": 12}';
  assert.deepEqual(codes(checkDocument(text, { documentPath: '/work/doc/chain.coi', readFile: (path) => files[path] }).diagnostics), ['COI217']);
});

void test('a partial file still gives a usable chain', () => {
  const text = 'chain partial\ninput a: text\nstep one {\n  instruction "Summarize the text."\n  output text max_words=\n}\nstep {\n  instruction "no id"\n}\nstep two {\n  instruction "Translate the summary into German."\n  from missing\n  output text lang=de\n';
  const { chain, diagnostics } = checkDocument(text);
  assert.deepEqual(
    chain.steps.map((s) => [s.id, s.sources]),
    [
      ['one', [{ kind: 'input', name: 'a' }]],
      ['two', [{ kind: 'step', id: 'one' }]],
    ],
  );
  assert.deepEqual(chain.steps[1]?.contract, { kind: 'text', lang: 'de' });
  assert.ok(codes(diagnostics).includes('COI205'));
  assert.ok(diagnostics.some((d) => d.code.startsWith('COI1')));
});

void test('diagnostics are sorted by position and every range lies inside the document', () => {
  for (const { name, text } of checkFixtures()) {
    const { diagnostics } = checkDocument(text);
    for (let i = 0; i < diagnostics.length; i++) {
      const d = diagnostics[i]!;
      assert.ok(d.span.start >= 0 && d.span.start <= d.span.end && d.span.end <= text.length, `${name}: ${d.code}`);
      for (const r of d.related ?? []) assert.ok(r.span.start >= 0 && r.span.end <= text.length);
      if (i > 0) assert.ok(diagnostics[i - 1]!.span.start <= d.span.start, `${name}: not sorted at ${d.code}`);
    }
  }
});

void test('the checker never throws on mangled files (every prefix, line deletions, byte noise)', () => {
  const next = seededRandom(7);
  const random = (n: number): number => Math.floor(next() * n);
  let checked = 0;
  for (const { text: source } of checkFixtures()) {
    for (let cut = 0; cut < source.length; cut += 17) {
      checkDocument(source.slice(0, cut));
      checked++;
    }
    const lines = source.split('\n');
    for (let i = 0; i < 20; i++) {
      const copy = [...lines];
      copy.splice(random(copy.length), 1 + random(3));
      const noisy = copy.join('\n').replace(/./g, (ch) => (random(40) === 0 ? String.fromCharCode(random(128)) : ch));
      const { diagnostics } = checkDocument(noisy);
      for (const d of diagnostics) assert.ok(d.span.end <= noisy.length);
      checked++;
    }
  }
  assert.ok(checked > 500);
});

void test('a JSON Schema nested thousands of levels deep is COI217 saying so, not a stack overflow', () => {
  const depth = 5000;
  const schema = '{"type":"object","properties":{"a":'.repeat(depth) + '{"type":"string"}' + '}}'.repeat(depth);
  const text = `chain deep\ninput text: text\n\nstep s {\n  instruction "Extract."\n  output json schema='${schema}'\n}\n`;
  const errors = checkDocument(text).diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(codes(errors), ['COI217']);
  assert.match(errors[0]?.message ?? '', /nests more than 256 levels deep .* flatten it/);
  assert.doesNotMatch(errors[0]?.message ?? '', /call stack/);
});

void test('lora in a local profile: the adapter and its scale; a bad scale, a missing file name or an openai profile are reported', () => {
  const profile = (lines: string): string => `chain c\nmodel m {\n  provider local\n  path "base.gguf"\n${lines}\n}\ninput x: text\nstep s {\n  instruction "Summarize the text."\n  from x\n  output text\n}\n`;
  const good = checkDocument(profile('  lora "adapters/a.gguf" 0.5'));
  assert.deepEqual(good.diagnostics.filter((d) => d.severity !== 'info').map((d) => d.code), []);
  const local = good.chain.profiles[0];
  assert.ok(local?.provider === 'local');
  assert.deepEqual(local.lora, { path: 'adapters/a.gguf', scale: 0.5 });
  assert.deepEqual((checkDocument(profile('  lora "a.gguf"')).chain.profiles[0] as { lora?: unknown }).lora, { path: 'a.gguf', scale: 1 });
  assert.deepEqual(checkDocument(profile('  lora "a.gguf" -1')).diagnostics.filter((d) => d.code === 'COI505').length, 1);
  assert.match(checkDocument(profile('  lora')).diagnostics.find((d) => d.code === 'COI505')?.message ?? '', /needs the adapter's GGUF file/);
  const openai = checkDocument('chain c\nmodel o {\n  provider openai\n  base_url "http://127.0.0.1:1/v1"\n  model "m"\n  lora "a.gguf"\n}\n');
  assert.ok(openai.diagnostics.some((d) => d.code === 'COI508' && /'lora' is a setting of provider 'local'/.test(d.message)));
});
