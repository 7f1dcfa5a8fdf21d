/**
 * Direct unit tests of core/language on fixtures with cursor markers (the same
 * files the LSP tests open through the server): each query is asked at a marked
 * offset and its answer compared with what a user would see. The table below is
 * the expectation, one row per marker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDocument } from '../../core/check';
import { completionsAt } from '../../core/language/completion';
import { hoverAt } from '../../core/language/hover';
import { outline } from '../../core/language/outline';
import { applyEdits, prepareRename, rename } from '../../core/language/rename';
import { selectionSpans } from '../../core/language/selection';
import { indexSymbols, occurrencesAt } from '../../core/language/symbols';
import { fixture, fixtureFile } from '../helpers/markers';

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
  ['givenName', ['article', 'question', 'third'], true],
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
