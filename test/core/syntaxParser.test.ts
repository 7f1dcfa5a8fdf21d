import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from '../../core/syntax/parser';
import type { Declaration, ExpectNode, Span, StepDecl, TestDecl, InputDecl, ModelDecl, Value } from '../../core/syntax/ast';
import { repoPath } from '../helpers/paths';

/** Span of the `occurrence`-th (0-based) appearance of `snippet` in `text`. */
function spanOf(text: string, snippet: string, occurrence = 0): Span {
  let start = -1;
  for (let i = 0; i <= occurrence; i++) {
    start = text.indexOf(snippet, start + 1);
    assert.ok(start >= 0, `snippet ${JSON.stringify(snippet)} #${occurrence} not found`);
  }
  return { start, end: start + snippet.length };
}

/** Spans from `from` (inclusive) to the end of `to` (inclusive), both snippets. */
function spanFromTo(text: string, from: string, to: string): Span {
  const start = spanOf(text, from).start;
  const end = text.indexOf(to, start) + to.length;
  return { start, end };
}

function parseClean(text: string): Declaration[] {
  const { file, diagnostics } = parse(text);
  assert.deepEqual(diagnostics, [], 'no syntax diagnostics');
  return [...file.declarations];
}

function plain(value: Value | undefined): unknown {
  if (!value) return undefined;
  if (value.kind === 'list') return value.items.map(plain);
  return value.value;
}

void test('every ```coi example in README.md and docs/*.md parses without syntax errors', () => {
  const files = ['README.md', ...readdirSync(repoPath('docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const blocks = files.flatMap((name) => [...readFileSync(repoPath(name), 'utf8').matchAll(/```coi\n([\s\S]*?)```/g)].map((m) => m[1] ?? ''));
  assert.ok(blocks.length >= 8, 'the tour and the reference have examples');
  for (const block of blocks) {
    const { diagnostics } = parse(block);
    assert.deepEqual(
      diagnostics.map((d) => `${d.code} ${d.message}`),
      [],
      block.slice(0, 80),
    );
  }
});

void test('chain and description: names as identifiers or strings, spans from keyword to value', () => {
  const text = 'chain my_chain\ndescription """\n  Text.\n"""\n';
  const [chain, description] = parseClean(text);
  assert.equal(chain?.kind, 'chain');
  if (chain?.kind !== 'chain' || description?.kind !== 'description') return;
  assert.deepEqual(chain.name, { kind: 'identifier', name: 'my_chain', span: spanOf(text, 'my_chain') });
  assert.deepEqual(chain.keyword, spanOf(text, 'chain'));
  assert.deepEqual(chain.span, spanOf(text, 'chain my_chain'));
  assert.equal(description.text?.value, 'Text.');
  assert.equal(description.text?.style, 'block');
  assert.deepEqual(description.span, { start: text.indexOf('description'), end: text.length - 1 });

  const [named] = parseClean('chain "Summarize, then translate"');
  assert.equal(named?.kind === 'chain' && named.name?.kind === 'string' ? named.name.value : undefined, 'Summarize, then translate');
});

void test('model: properties with words, strings, numbers, lists; body spans { to }', () => {
  const text = 'model local {\n  provider local\n  path "m.gguf"\n  temperature 0.2\n  stop ["\\n\\n", "END"]\n  verbose true\n}';
  const [model] = parseClean(text) as [ModelDecl];
  assert.equal(model.name?.name, 'local');
  assert.deepEqual(
    model.properties.map((p) => [p.key.name, p.values.map(plain)]),
    [
      ['provider', ['local']],
      ['path', ['m.gguf']],
      ['temperature', [0.2]],
      ['stop', [['\n\n', 'END']]],
      ['verbose', [true]],
    ],
  );
  assert.deepEqual(model.body, spanFromTo(text, '{', '}'));
  assert.deepEqual(model.span, { start: 0, end: text.length });
  assert.deepEqual(model.properties[2]?.span, spanOf(text, 'temperature 0.2'));
  const temperature = model.properties[2]?.values[0];
  assert.deepEqual(temperature, { kind: 'number', value: 0.2, raw: '0.2', span: spanOf(text, '0.2') });
});

void test('input: name, contract kind, options and label sets', () => {
  const text = 'input article: text lang=en max_words=60\ninput mood: label [happy, "so sad"] strict=true\ninput n: number min=-1 max=0.5\ninput other: custom';
  const inputs = parseClean(text) as InputDecl[];
  const [article, mood, n, other] = inputs;
  assert.equal(article?.name?.name, 'article');
  assert.equal(article?.contract?.contractKind, 'text');
  assert.deepEqual(
    article?.contract?.options.map((o) => [o.key.name, plain(o.value)]),
    [
      ['lang', 'en'],
      ['max_words', 60],
    ],
  );
  assert.deepEqual(article?.contract?.options[1]?.span, spanOf(text, 'max_words=60'));
  assert.deepEqual(article?.contract?.span, spanOf(text, 'text lang=en max_words=60'));
  assert.deepEqual(article?.span, spanOf(text, 'input article: text lang=en max_words=60'));
  assert.deepEqual(plain(mood?.contract?.labels), ['happy', 'so sad']);
  assert.deepEqual(mood?.contract?.labels?.span, spanOf(text, '[happy, "so sad"]'));
  assert.deepEqual(
    mood?.contract?.options.map((o) => plain(o.value)),
    [true],
  );
  assert.deepEqual(
    n?.contract?.options.map((o) => plain(o.value)),
    [-1, 0.5],
  );
  assert.equal(other?.contract?.kindName.name, 'custom');
  assert.equal(other?.contract?.contractKind, undefined, 'unknown kinds are left to the checker');
});

void test('step: instruction, from (several refs), output, other properties; members in source order', () => {
  const text = [
    'step summary {',
    '  instruction """',
    '    Summarize.',
    '  """',
    '  from article, intro',
    '  output text lang=en',
    '  model api',
    '  temperature 0.7',
    '}',
  ].join('\n');
  const [step] = parseClean(text) as [StepDecl];
  assert.equal(step.id?.name, 'summary');
  assert.deepEqual(step.keyword, spanOf(text, 'step'));
  assert.equal(step.instruction?.text?.value, 'Summarize.');
  assert.deepEqual(step.instruction?.span, spanFromTo(text, 'instruction', '  """'));
  assert.deepEqual(
    step.from?.refs.map((r) => [r.name, r.span]),
    [
      ['article', spanOf(text, 'article')],
      ['intro', spanOf(text, 'intro')],
    ],
  );
  assert.deepEqual(step.from?.span, spanOf(text, 'from article, intro'));
  assert.equal(step.output?.contract?.contractKind, 'text');
  assert.deepEqual(step.output?.span, spanOf(text, 'output text lang=en'));
  assert.deepEqual(
    step.properties.map((p) => p.key.name),
    ['model', 'temperature'],
  );
  assert.deepEqual(
    step.members.map((m) => m.kind),
    ['instruction', 'from', 'output', 'property', 'property'],
  );
  assert.deepEqual(step.body, { start: text.indexOf('{'), end: text.length });
  assert.deepEqual(step.span, { start: 0, end: text.length });
});

void test('step: a repeated member stays in members, the first one is the field (the checker reports duplicates)', () => {
  const [step] = parseClean('step s {\n  instruction "one"\n  instruction "two"\n}') as [StepDecl];
  assert.equal(step.instruction?.text?.value, 'one');
  assert.equal(step.members.length, 2);
});

void test('test: given and every expect form (not, >=, values, options)', () => {
  const text = [
    'test "positive review" {',
    '  given review = "I loved it."',
    '  given count = 3',
    '  expect sentiment label positive',
    '  expect output one_of [positive, neutral]',
    '  expect summary not contains "As an AI"',
    "  expect summary matches '^[A-Z]'",
    '  expect person valid_json',
    '  expect french rouge_l >= 0.4 """reference text"""',
    '  expect summary judge """Mentions the date.""" model=api',
    '  expect x custom_matcher',
    '  model api',
    '}',
  ].join('\n');
  const [decl] = parseClean(text) as [TestDecl];
  assert.equal(decl.name?.kind === 'string' ? decl.name.value : '', 'positive review');
  assert.deepEqual(
    decl.givens.map((g) => [g.name?.name, plain(g.value)]),
    [
      ['review', 'I loved it.'],
      ['count', 3],
    ],
  );
  assert.deepEqual(decl.givens[0]?.span, spanOf(text, 'given review = "I loved it."'));
  const summary = (e: ExpectNode): unknown[] => [e.target?.name, e.negated !== undefined, e.matcher ?? `?${e.matcherName?.name}`, e.threshold?.value, plain(e.value), e.options.map((o) => `${o.key.name}=${String(plain(o.value))}`)];
  assert.deepEqual(decl.expects.map(summary), [
    ['sentiment', false, 'label', undefined, 'positive', []],
    ['output', false, 'one_of', undefined, ['positive', 'neutral'], []],
    ['summary', true, 'contains', undefined, 'As an AI', []],
    ['summary', false, 'matches', undefined, '^[A-Z]', []],
    ['person', false, 'valid_json', undefined, undefined, []],
    ['french', false, 'rouge_l', 0.4, 'reference text', []],
    ['summary', false, 'judge', undefined, 'Mentions the date.', ['model=api']],
    ['x', false, '?custom_matcher', undefined, undefined, []],
  ]);
  const negated = decl.expects[2];
  assert.deepEqual(negated?.negated, spanOf(text, 'not'));
  assert.deepEqual(negated?.span, spanOf(text, 'expect summary not contains "As an AI"'));
  assert.deepEqual(decl.expects[5]?.threshold?.span, spanOf(text, '0.4'));
  assert.deepEqual(
    decl.properties.map((p) => p.key.name),
    ['model'],
  );
  assert.deepEqual(
    decl.members.map((m) => m.kind),
    ['given', 'given', 'expect', 'expect', 'expect', 'expect', 'expect', 'expect', 'expect', 'expect', 'property'],
  );
  const [named] = parseClean('test plain_name {\n}') as [TestDecl];
  assert.equal(named.name?.kind === 'identifier' ? named.name.name : '', 'plain_name');
});

void test('a lone > before a rouge_l threshold is reported once and read as >=: the threshold and the reference count', () => {
  const text = 'test t {\n  expect french rouge_l > 0.4 "reference text"\n}';
  const { file, diagnostics } = parse(text);
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.span]),
    [['COI101', spanOf(text, '>')]],
  );
  const [decl] = file.declarations as [TestDecl];
  const [expect] = decl.expects;
  assert.deepEqual([expect?.comparison, expect?.threshold?.value, plain(expect?.value)], [spanOf(text, '>'), 0.4, 'reference text']);
});
void test('=>, =, ≥ or no comparison before a rouge_l threshold: one diagnostic, and the threshold and the reference are read as meant', () => {
  for (const [written, code] of [['=>', 'COI101'], ['=', 'COI105'], ['≥', 'COI101'], ['', 'COI105']] as const) {
    const text = `test t {\n  expect french rouge_l ${written} 0.4 "reference text"\n}`;
    const { file, diagnostics } = parse(text);
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      [code],
      `rouge_l ${written} 0.4`,
    );
    const [decl] = file.declarations as [TestDecl];
    const [expect] = decl.expects;
    assert.deepEqual([expect?.threshold?.value, plain(expect?.value)], [0.4, 'reference text'], `rouge_l ${written} 0.4`);
  }
});

void test('an expectation value the parser could not read is noted where it is (ExpectNode.unread), so the checker does not call it missing', () => {
  const text = 'test t {\n  expect s equals .5\n  expect s equals mode=exact\n}';
  const [decl] = parse(text).file.declarations as [TestDecl];
  const [unreadable, none] = decl.expects;
  assert.deepEqual([unreadable?.value, unreadable?.unread], [undefined, spanOf(text, '.5')]);
  assert.deepEqual([none?.value, none?.unread], [undefined, undefined]);
});

void test('lists may span lines and end with a trailing comma', () => {
  const text = 'model m {\n  stop [\n    "a",\n    b,\n  ]\n  seed 1\n}';
  const [model] = parseClean(text) as [ModelDecl];
  assert.deepEqual(plain(model.properties[0]?.values[0]), ['a', 'b']);
  assert.deepEqual(model.properties[0]?.values[0]?.span, spanFromTo(text, '[', ']'));
  assert.equal(model.properties[1]?.key.name, 'seed');
});

void test('one-line blocks and a { on the next line are accepted', () => {
  const [a, b] = parseClean('step a { instruction "x" }\nstep b\n{\n  instruction "y"\n}\n') as StepDecl[];
  assert.equal(a?.instruction?.text?.value, 'x');
  assert.equal(b?.instruction?.text?.value, 'y');
});

void test('an unclosed block is reported at its { and closed before the next column-0 declaration', () => {
  const text = 'step a {\n  instruction "x"\n  output text\n\nstep b {\n  instruction "y"\n}\n';
  const { file, diagnostics } = parse(text);
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.span]),
    [['COI106', spanOf(text, '{')]],
  );
  assert.match(diagnostics[0]?.message ?? '', /step 'a'/);
  assert.equal(diagnostics[0]?.data, undefined, 'the quick fix finds where the } goes from the tree');
  const [a, b] = file.declarations as StepDecl[];
  assert.deepEqual(a?.span, spanFromTo(text, 'step a', 'output text'));
  assert.deepEqual(a?.body, spanFromTo(text, '{', 'output text'));
  assert.equal(b?.id?.name, 'b');
  assert.equal(b?.instruction?.text?.value, 'y');
});

void test('a bad line is reported once and the next lines still parse', () => {
  const text = 'step a {\n  instruction "x" extra "stuff" here\n  output text lang=\n  from b\n}\n';
  const { file, diagnostics } = parse(text);
  assert.deepEqual(
    diagnostics.map((d) => d.code),
    ['COI105', 'COI105'],
  );
  assert.match(diagnostics[0]?.message ?? '', /Expected the end of the line, found 'extra'/);
  assert.match(diagnostics[1]?.message ?? '', /Expected a value after 'lang='/);
  const [step] = file.declarations as StepDecl[];
  assert.equal(step?.from?.refs[0]?.name, 'b');
  assert.equal(step?.output?.contract?.options[0]?.value, undefined);
});

void test('unknown declarations and stray braces are reported; known ones around them survive', () => {
  const text = 'stpe a {\n  instruction "x"\n}\n}\nchain c\n';
  const { file, diagnostics } = parse(text);
  assert.deepEqual(
    diagnostics.map((d) => [d.code, text.slice(d.span.start, d.span.end)]),
    [
      ['COI107', 'stpe'],
      ['COI109', '}'],
    ],
  );
  assert.deepEqual(diagnostics[0]?.data, { found: 'stpe' });
  assert.deepEqual(
    file.declarations.map((d) => d.kind),
    ['chain'],
  );
});

void test('the file records the text it skipped: the rest of a bad line, a block it could not place, an unterminated text block', () => {
  const text = 'stpe a {\n  from summary\n}\nstep b extra {\n  instruction "x" extra "stuff"\n  from summary\n}\nstep c {\n  instruction """Rewrite\n  from summary\n';
  const { file } = parse(text);
  assert.deepEqual(
    file.skipped.map((span) => text.slice(span.start, span.end)),
    ['stpe a {\n  from summary\n}', 'extra', 'extra "stuff"', 'Rewrite\n  from summary\n'],
  );
  assert.deepEqual(parse('chain c\nstep a {\n  instruction "x"\n}\n').file.skipped, []);
});

void test('empty and whitespace-only documents parse to an empty file', () => {
  for (const text of ['', '\n\n', '   # only a comment\n']) {
    const { file, diagnostics } = parse(text);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(file.declarations, []);
    assert.deepEqual(file.span, { start: 0, end: text.length });
  }
});

void test('the valid fixtures use every construct without diagnostics', () => {
  for (const name of ['valid-full.coi', 'valid-contracts.coi']) {
    const text = readFileSync(repoPath('test', 'fixtures', 'syntax', name), 'utf8');
    const { file, diagnostics } = parse(text);
    assert.deepEqual(diagnostics, [], name);
    assert.ok(file.declarations.length > 5, name);
  }
});
