/**
 * Direct unit tests of core/language on fixtures with cursor markers (the same
 * files the LSP tests open through the server): each query is asked at a marked
 * offset and its answer compared with what a user would see. The table below is
 * the expectation, one row per marker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDocument, readTextIfPossible } from '../../core/check';
import { completionsAt } from '../../core/language/completion';
import { hoverAt } from '../../core/language/hover';
import { outline } from '../../core/language/outline';
import { quickFixes } from '../../core/language/quickFixes';
import { applyEdits, prepareRename, rename } from '../../core/language/rename';
import { selectionSpans } from '../../core/language/selection';
import { indexSymbols, occurrencesAt } from '../../core/language/symbols';
import { fixture, fixtureFile } from '../helpers/markers';
import { repoPath } from '../helpers/paths';

const completion = fixtureFile('completion.coi');
const completionFile = checkDocument(completion.text).file;

function labelsAt(marker: string): string[] {
  const offset = completion.at[marker];
  assert.ok(offset !== undefined, `marker ${marker} is in completion.coi`);
  return completionsAt(completionFile, completion.text, offset).candidates.map((c) => c.label);
}

/** Marker → exactly the candidates offered there, in order (sorted when the order is free). */
const EXACT_COMPLETIONS: readonly [marker: string, labels: readonly string[], sorted?: true][] = [
  ['providerValue', ['local', 'openai']],
  ['inputKind', ['text', 'label', 'list', 'json', 'number', 'boolean', 'code']],
  ['outputKind', ['text', 'label', 'list', 'json', 'number', 'boolean', 'code']],
  ['textOption', ['lang=', 'max_words=', 'max_chars=']],
  ['fromFirst', ['article', 'question', 'third'], true],
  ['fromSecond', ['article', 'question', 'third'], true],
  ['stepModel', ['local', 'api']],
  // `question` is given on another line of that test: offered again, it would be given twice (COI404).
  ['givenName', ['article', 'third'], true],
  ['expectTarget', ['answer', 'output', 'sentiment', 'summary'], true],
  ['labelValue', ['positive', 'negative', 'neutral']],
  ['oneOfValue', ['negative', 'neutral']],
  ['inString', []],
];

for (const [marker, expected, sorted] of EXACT_COMPLETIONS) {
  void test(`completion at ⟦${marker}⟧ offers ${expected.join(', ') || 'nothing'}`, () => {
    const labels = labelsAt(marker);
    assert.deepEqual(sorted ? [...labels].sort() : labels, expected);
  });
}

void test('completion in a step offers the members not yet written, and none written', () => {
  const labels = labelsAt('stepMember');
  for (const k of ['task', 'needs', 'temperature', 'max_tokens']) assert.ok(labels.includes(k), k);
  for (const k of ['instruction', 'from', 'output', 'model']) assert.ok(!labels.includes(k), `${k} is already in the step`);
});

void test('completion in a model block offers the keys of its provider only (issue 12 item 17)', () => {
  const local = labelsAt('modelMember');
  for (const k of ['temperature', 'context', 'gpu', 'threads', 'lora']) assert.ok(local.includes(k), k);
  for (const k of ['base_url', 'model', 'api_key_env']) assert.ok(!local.includes(k), `${k} is an openai key, offered in a local profile`);
  const api = fixture('chain c\nmodel api {\n  provider openai\n  ⟦member⟧\n}\n');
  const labels = completionsAt(checkDocument(api.text).file, api.text, api.at['member'] as number).candidates.map((c) => c.label);
  for (const k of ['base_url', 'model', 'api_key_env', 'temperature']) assert.ok(labels.includes(k), k);
  for (const k of ['path', 'context', 'gpu', 'threads', 'lora']) assert.ok(!labels.includes(k), `${k} is a local key, offered in an openai profile`);
});

void test('the model openai snippet, inserted as offered, checks clean: no OpenAI key named for its local server (COI510)', () => {
  const top = fixture('chain c\n⟦top⟧\n');
  const offered = completionsAt(checkDocument(top.text).file, top.text, top.at['top'] as number).candidates.find((c) => c.label === 'model openai');
  assert.ok(offered?.insertText !== undefined, 'the model openai snippet is offered at the top level');
  // Each placeholder as the editor first fills it in: its default, or the first of its choices.
  const inserted = offered.insertText.replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\{\d+\|([^,|]*)[^}]*\}/g, '$1');
  const text = `chain c\n${inserted}\n\ninput review: text\n\nstep s {\n  instruction "Summarize the review."\n  output text\n  model api\n}\n`;
  assert.deepEqual(checkDocument(text).diagnostics.map((d) => `${d.code} ${d.message}`), []);
  assert.doesNotMatch(inserted, /OPENAI_API_KEY/);
});

void test('completion replaces the word under the cursor', () => {
  const offset = completion.at['fromFirst'] as number;
  const { replace } = completionsAt(completionFile, completion.text, offset);
  assert.equal(completion.text.slice(replace.start, replace.end), 'article');
});

const navigation = fixtureFile('navigation.coi');
const navigationCheck = checkDocument(navigation.text);
const index = indexSymbols(navigationCheck.file);
const at = (marker: string): number => {
  const offset = navigation.at[marker];
  assert.ok(offset !== undefined, `marker ${marker} is in navigation.coi`);
  return offset;
};

void test('every reference marker resolves to its definition marker', () => {
  const pairs: readonly [string, string][] = [
    ['summaryRef', 'summaryDef'],
    ['inputRef', 'inputDef'],
    ['givenRef', 'inputDef'],
    ['profileRef', 'profileDef'],
    ['expectRef', 'summaryDef'],
  ];
  for (const [reference, definition] of pairs) {
    const occurrences = occurrencesAt(index, at(reference));
    assert.equal(occurrences?.definition?.nameSpan.start, at(definition), `${reference} → ${definition}`);
  }
});

void test('references of an input: the from line and the given line', () => {
  const occurrences = occurrencesAt(index, at('inputDef'));
  assert.deepEqual(occurrences?.references.map((r) => r.span.start).sort((a, b) => a - b), [at('inputRef'), at('givenRef')]);
});

void test('hover on a step reference shows the step with its contract', () => {
  const hover = hoverAt(navigationCheck.file, index, at('summaryRef'), { diagnostics: navigationCheck.diagnostics, chain: navigationCheck.chain });
  assert.ok(hover, 'a hover');
  assert.match(hover.markdown, /summary/);
  assert.match(hover.markdown, /text/);
});

void test('a hover at any marker covers the hovered word: its span contains the position (LSP clients rely on it)', () => {
  for (const [marker, offset] of Object.entries(navigation.at)) {
    const hover = hoverAt(navigationCheck.file, index, offset, { diagnostics: navigationCheck.diagnostics, chain: navigationCheck.chain });
    if (!hover) continue;
    assert.ok(hover.span.start <= offset && offset <= hover.span.end, `⟦${marker}⟧ at ${offset}: hover span ${hover.span.start}-${hover.span.end}`);
  }
  const keyword = hoverAt(navigationCheck.file, index, at('stepKeyword'));
  assert.equal(navigation.text.slice(keyword?.span.start, keyword?.span.end), 'step');
  assert.match(keyword?.markdown ?? '', /step `summary`/);
});

void test('rename of a step renames the definition and every reference, and nothing in instruction text', () => {
  assert.deepEqual(prepareRename(index, at('summaryRef')), { span: { start: at('summaryRef') - 'summ'.length, end: at('summaryRef') + 'ary'.length }, placeholder: 'summary' });
  const result = rename(index, at('summaryRef'), 'digest');
  assert.ok('edits' in result, 'error' in result ? result.error : '');
  const renamed = applyEdits(navigation.text, result.edits);
  assert.match(renamed, /step digest \{/);
  assert.match(renamed, /from digest\n/);
  assert.match(renamed, /expect digest contains/);
  assert.match(renamed, /The summary must be short/);
});

void test('rename refuses a name that is not an identifier, taken, or reserved', () => {
  for (const [name, message] of [['two words', /not a valid name/], ['sentiment', /already defined/], ['review', /already defined/], ['output', /reserved/]] as const) {
    const result = rename(index, at('summaryDef'), name);
    assert.ok('error' in result, `${name} is refused`);
    assert.match(result.error, message);
  }
});

/** Marker → a new name the references would read as something else, refused with this message. */
const REFUSED_RENAMES: readonly [marker: string, name: string, message: RegExp][] = [
  ['inputDef', 'output', /reserved/], // `given output`, `from output` name the chain's final output (COI204)
  ['inputRef', 'output', /reserved/],
  ['profileDef', 'true', /boolean/], // `model true` reads as a boolean, not a profile (COI221)
  ['profileRef', 'false', /boolean/],
];

for (const [marker, name, message] of REFUSED_RENAMES) {
  void test(`rename at ⟦${marker}⟧ refuses '${name}'`, () => {
    const result = rename(index, at(marker), name);
    assert.ok('error' in result, `${name} is refused, got ${JSON.stringify(result)}`);
    assert.match(result.error, message);
  });
}

void test('rename refuses what would give an input twice in a test (COI404): an undefined given, or an input, renamed to a name the test already gives', () => {
  const text = 'chain c\ninput text: text\nstep s {\n  instruction "x"\n  from text\n}\ntest "both" {\n  given text = "a"\n  given txet = "b"\n  given extra = "c"\n}\n';
  const names = indexSymbols(checkDocument(text).file);
  for (const [at, name] of [[text.indexOf('given txet') + 7, 'text'], [text.indexOf('input text') + 7, 'extra']] as const) {
    const result = rename(names, at, name);
    assert.ok('error' in result, `refused: ${JSON.stringify(result)}`);
    assert.equal(result.error, `The test "both" already gives '${name}': the rename would give it twice.`);
  }
  // Renaming the misspelt given to a name no test gives is the typo's fix: allowed.
  const fixed = rename(names, text.indexOf('given txet') + 7, 'other');
  assert.ok('edits' in fixed, 'error' in fixed ? fixed.error : '');
});

void test('rename of a step or input to true/false, and of a profile to output, is allowed (they read as ids and profile names there)', () => {
  for (const [marker, name] of [['summaryDef', 'true'], ['inputDef', 'false'], ['profileDef', 'output']] as const) {
    const result = rename(index, at(marker), name);
    assert.ok('edits' in result, `${marker} → ${name}: ${'error' in result ? result.error : ''}`);
    const { diagnostics } = checkDocument(applyEdits(navigation.text, result.edits));
    assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`), []);
  }
});

void test('selection ranges at a reference grow from the word to the whole file', () => {
  const spans = selectionSpans(navigationCheck.file, at('summaryRef'));
  assert.equal(navigation.text.slice(spans[0]?.start, spans[0]?.end), 'summary');
  assert.deepEqual(spans.at(-1), navigationCheck.file.span);
  for (let i = 1; i < spans.length; i++) assert.ok((spans[i]?.start ?? 0) <= (spans[i - 1]?.start ?? 0) && (spans[i - 1]?.end ?? 0) <= (spans[i]?.end ?? 0));
});

void test('the outline is the chain with its declarations in order, each with its kind', () => {
  const [chain, ...others] = outline(navigationCheck.file);
  assert.deepEqual(others, []);
  assert.equal(chain?.name, 'review_pipeline');
  assert.deepEqual(chain.children?.map((s) => `${s.kind} ${s.name}`), ['model local', 'input review', 'step summary', 'step sentiment', 'test happy path']);
});

/** Input contract → the value the COI403 fix gives it: one the contract accepts (no COI412). */
const GIVEN_PLACEHOLDERS: readonly [contract: string, value: string][] = [
  ['text', '"TODO"'],
  ['code lang=python', '"TODO"'],
  ['number', '0'],
  ['number min=3 max=5', '3'],
  ['number max=-2', '-2'],
  ['number min=0.5 max=4 integer=true', '1'],
  ['number min=0.25', '0.25'],
  ['label [yes, no]', 'yes'],
  ['label ["not sure", no]', '"not sure"'],
  ['boolean', 'false'],
  ['json', '"{}"'],
  // A json input with a schema: an example of it (required properties, each of its type), not `{}`.
  [
    `json schema='{"type": "object", "required": ["name", "age", "tags"], "properties": {"name": {"type": "string", "minLength": 6}, "age": {"type": "integer", "minimum": 18}, "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1}, "nick": {"type": "string"}}}'`,
    `'{"name": "TODO__", "age": 18, "tags": ["TODO"]}'`,
  ],
  [
    `json schema='{"$defs": {"place": {"type": "object", "required": ["city", "open"], "properties": {"city": {"type": "string"}, "open": {"type": "boolean"}}}}, "type": "object", "required": ["where", "kind"], "properties": {"where": {"$ref": "#/$defs/place"}, "kind": {"enum": ["shop", "cafe"]}}}'`,
    `'{"where": {"city": "TODO", "open": false}, "kind": "shop"}'`,
  ],
  [`json schema='{"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}, "minItems": 2}'`, `'[0.5, 0.5]'`],
  // A JSON text with a ' in it is written as a "double" string.
  [`json schema='{"type": "object", "required": ["quote"], "properties": {"quote": {"const": "it\\u0027s"}}}'`, `"{\\"quote\\": \\"it's\\"}"`],
  ['list', '["TODO"]'],
  ['list item=number', '[0]'],
  // As many items as min_items asks for (the input reader counts them).
  ['list min_items=3 max_items=4', '["TODO", "TODO", "TODO"]'],
  ['list item=number min_items=2', '[0, 0]'],
];

for (const [contract, value] of GIVEN_PLACEHOLDERS) {
  void test(`the COI403 fix gives an input '${contract}' the value ${value}`, () => {
    const text = `chain c\ninput a: ${contract}\nstep s {\n  instruction "x"\n  output text\n}\ntest t {\n  expect s contains "x"\n}\n`;
    const { file, diagnostics } = checkDocument(text);
    const missing = diagnostics.find((d) => d.code === 'COI403');
    assert.ok(missing, JSON.stringify(diagnostics.map((d) => d.code)));
    const [fix] = quickFixes(file, text, missing);
    assert.ok(fix, 'a fix');
    const fixed = applyEdits(text, fix.edits);
    assert.match(fixed, new RegExp(`\\n  given a = ${value.replace(/[[\]().*+?"{}\\]/g, '\\$&')}\\n  expect`));
    assert.deepEqual(checkDocument(fixed).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`), []);
  });
}

void test("the COI403 fix shapes a json value by the schema_file the check read, not '{}'", () => {
  // person.schema.json requires a string `name`.
  const documentPath = repoPath('test', 'fixtures', 'check', 'placeholder.coi');
  const text = 'chain c\ninput a: json schema_file="person.schema.json"\nstep s {\n  instruction "x"\n  output text\n}\ntest t {\n  expect s contains "x"\n}\n';
  const options = { documentPath, readFile: readTextIfPossible };
  const { file, diagnostics } = checkDocument(text, options);
  const missing = diagnostics.find((d) => d.code === 'COI403');
  assert.ok(missing, JSON.stringify(diagnostics.map((d) => d.code)));
  const [fix] = quickFixes(file, text, missing);
  assert.ok(fix, 'a fix');
  const fixed = applyEdits(text, fix.edits);
  assert.match(fixed, /\n {2}given a = '\{"name": "TODO"\}'\n/);
  assert.deepEqual(checkDocument(fixed, options).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`), []);
});

/** Text the parser skipped after a syntax error that names `summary` where a reference would: a rename would leave it behind. */
const SKIPPED_USES: readonly [what: string, text: string, lines: RegExp][] = [
  [
    'a block after a misspelled keyword',
    'chain c\ninput a: text\nstep summary {\n  instruction "x"\n}\nstpe draft {\n  instruction "y"\n  from summary\n}\n',
    /'summary' on line 8 is in text the parser skipped after the syntax error on line 6/,
  ],
  [
    'the rest of a line after a missing comma',
    'chain c\ninput a: text\nstep summary {\n  instruction "x"\n}\nstep tone {\n  instruction "y"\n  from a summary\n}\n',
    /'summary' on line 8 is in text the parser skipped after a syntax error on that line/,
  ],
  [
    'lines swallowed by an unterminated text block',
    'chain c\ninput a: text\nstep summary {\n  instruction "x"\n}\nstep tone {\n  instruction """Rewrite\n  from summary\n}\n',
    /'summary' on line 8 is in text the parser skipped after the syntax error on line 7/,
  ],
];

for (const [what, text, message] of SKIPPED_USES) {
  void test(`rename refuses a name also written in text the parser skipped: ${what}`, () => {
    const { file } = checkDocument(text);
    const names = indexSymbols(file);
    const offset = text.indexOf('step summary') + 'step su'.length;
    const prepared = prepareRename(names, offset, { file, text });
    assert.ok(prepared && 'error' in prepared, `prepare refuses: ${JSON.stringify(prepared)}`);
    assert.match(prepared.error, message);
    const result = rename(names, offset, 'digest', { file, text });
    assert.ok('error' in result, `rename refuses: ${JSON.stringify(result)}`);
    assert.match(result.error, /Fix the syntax error first/);
  });
}

void test('rename goes on when the text the parser skipped does not name the symbol (or only in a string or comment)', () => {
  const text =
    'chain c\ninput a: text\nstep summary {\n  instruction "x"\n}\nstpe draft {\n  # summary\n  instruction "summary"\n}\nstep tone {\n  instruction "y"\n  from summary\n}\n' +
    'test t {\n  given a = "x"\n  expect tone contains "a" "summary" # summary\n  expect tone label [a b]\n}\n';
  const { file, diagnostics } = checkDocument(text);
  assert.ok(file.skipped.length >= 2, `skipped: ${JSON.stringify(file.skipped)} (${diagnostics.map((d) => d.code).join(', ')})`);
  const result = rename(indexSymbols(file), text.indexOf('step summary') + 6, 'digest', { file, text });
  assert.ok('edits' in result, 'error' in result ? result.error : '');
  const renamed = applyEdits(text, result.edits);
  assert.match(renamed, /step digest \{/);
  assert.match(renamed, /from digest\n/);
  assert.match(renamed, /# summary\n {2}instruction "summary"/);
  assert.match(renamed, /contains "a" "summary" # summary/);
});

void test('a step hover with the composability analysis turned off says so, not that the input composes', () => {
  const text = 'chain c\ninput a: text lang=en\nstep french {\n  instruction "Translate the text into French."\n  output text lang=fr\n}\nstep fix {\n  instruction "Correct the grammar of the English text."\n}\n';
  const off = { enable: false };
  const { file, diagnostics, chain } = checkDocument(text, { composability: off });
  const hover = hoverAt(file, indexSymbols(file), text.indexOf('step fix') + 6, { diagnostics, chain, composability: off });
  assert.match(hover?.markdown ?? '', /\*\*Composability:\*\* not checked \(the analysis is turned off\)/);
  assert.doesNotMatch(hover?.markdown ?? '', /composes with this step/);
  const on = checkDocument(text);
  const checked = hoverAt(on.file, indexSymbols(on.file), text.indexOf('step fix') + 6, { diagnostics: on.diagnostics, chain: on.chain, composability: {} });
  assert.match(checked?.markdown ?? '', /⚠ Step "french" produces French text but step "fix" expects English\. \(COI302\)/);
});
