/**
 * The one reader of a chain input's value (core/chain/inputValue.ts) against what a step's
 * output is held to (core/runner/contract.ts): a `text` input's `max_words`, `max_chars` and
 * `lang` are checked as they are for an output (the same counts, the same cautious language
 * guess, never decided on a short text), and a `list` value reaches the steps in the one form a
 * list step's output does — `- ` lines — whichever way it was written, and reads back as itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readInputValue } from '../../core/chain/inputValue';
import type { Contract } from '../../core/chain/model';
import { validateOutput } from '../../core/runner/contract';

const read = (contract: Contract, text: string): string => {
  const value = readInputValue(contract, text, 'x');
  return value.ok ? value.value : `REFUSED ${value.problem}`;
};

const ENGLISH = 'The storm will reach the coast tonight and the people who live near the river have been asked to leave.';
const FRENCH = 'La tempête atteindra la côte ce soir et les autorités ont demandé aux habitants de partir avant la nuit.';

void test('a text input over max_words or max_chars is refused, counted as a step output is', () => {
  const words = { kind: 'text', maxWords: 3 } as const;
  assert.equal(read(words, '  one two\nthree  '), '  one two\nthree  ');
  assert.equal(read(words, 'one two three four'), 'REFUSED must have at most 3 words, not 4');
  const chars = { kind: 'text', maxChars: 5 } as const;
  assert.equal(read(chars, ' abcde '), ' abcde ');
  assert.equal(read(chars, 'abcdef'), 'REFUSED must have at most 5 characters, not 6');
  // Characters are Unicode code points: an emoji (2 UTF-16 units) counts 1, as a user counts it.
  assert.equal(read(chars, 'ok 🌊🌊'), 'ok 🌊🌊');
  assert.equal(read(chars, '🌊🌊🌊🌊🌊'), '🌊🌊🌊🌊🌊');
  assert.equal(read(chars, '🌊🌊🌊🌊🌊🌊'), 'REFUSED must have at most 5 characters, not 6');
  // The counts agree with the output contract's on every text.
  for (const text of ['one two three four', ' abcde ', 'abcdef', 'a\tb  c\n\nd', '🌊🌊🌊🌊🌊', '𝔸𝔹𝔺 é 😀']) {
    for (const contract of [words, chars]) {
      assert.equal(readInputValue(contract, text, 'x').ok, validateOutput(contract, text).ok, `${JSON.stringify(text)} under ${JSON.stringify(contract)}`);
    }
  }
  // An empty text has no words: it fits any max_words.
  assert.equal(read({ kind: 'text', maxWords: 1 }, ''), '');
});

void test('a text input that clearly reads as another language than its lang is refused; one too short to tell is not', () => {
  assert.equal(read({ kind: 'text', lang: 'en' }, ENGLISH), ENGLISH);
  assert.equal(read({ kind: 'text', lang: 'en' }, FRENCH), 'REFUSED is English (lang=en), but the value given reads as French (5 of 19 words are common fr words)');
  assert.match(read({ kind: 'text', lang: 'fr' }, 'Шторм достигнет побережья сегодня вечером, и власти попросили жителей уйти.'), /^REFUSED is French \(lang=fr\), but the value given reads as Russian \(\d+ of \d+ letters are Cyrillic\)$/);
  // What the output contract only warns about is what the input reader refuses: the same guess.
  assert.match((validateOutput({ kind: 'text', lang: 'en' }, FRENCH) as { warnings?: string[] }).warnings?.[0] ?? '', /reads as French, not English \(5 of 19 words/);
  // Short or mixed: no guess, no refusal.
  for (const text of ['Le chat dort.', 'Bonjour', 'ok', '', 'Paris, Berlin, Roma', 'The cat sleeps. Le chat dort. Die Katze schläft.']) {
    assert.equal(read({ kind: 'text', lang: 'en' }, text), text);
  }
  // A language without a word profile is told apart by its script only.
  assert.equal(read({ kind: 'text', lang: 'sv' }, ENGLISH), ENGLISH);
});

void test('a list input reaches the steps as `- ` lines, as a list step\'s output does, however it was written', () => {
  const list = { kind: 'list', item: 'text' } as const;
  for (const written of ['["a", "b c"]', ' a \n\n b c ', '- a\n- b c', '[" a ", "b c"]']) assert.equal(read(list, written), '- a\n- b c', written);
  const numbers = { kind: 'list', item: 'number' } as const;
  for (const written of ['[1, 2.50]', '1\n2.50', '- 1\n- 2.50']) assert.equal(read(numbers, written), '- 1\n- 2.5', written);
  // A model's list output, numbered or as JSON, is passed on in the same form.
  for (const output of ['1. a\n2. b c', '["a", "b c"]', '* a\n* b c', '- a\n- b c']) assert.equal((validateOutput(list, output) as { value: string }).value, '- a\n- b c', output);
  // Only the steps' own bullets come off, and only when every line has one.
  assert.equal(read(list, '* a\n* b'), '- * a\n- * b');
  assert.equal(read(list, '- a\nb'), '- - a\n- b');
  assert.equal(read(list, '["- a"]'), '- - a');
});

void test('a list input read again from the value the steps were fed is the same list (a re-run from a record)', () => {
  const cases: [Contract, string][] = [
    [{ kind: 'list', item: 'text' }, '["a", "- b", "* c", "1. d"]'],
    [{ kind: 'list', item: 'text', maxItems: 2 }, 'x\ny'],
    [{ kind: 'list', item: 'number', minItems: 2 }, '[1, 2e3]'],
  ];
  for (const [contract, written] of cases) {
    const fed = read(contract, written);
    assert.doesNotMatch(fed, /^REFUSED/);
    assert.equal(read(contract, fed), fed, written);
  }
});

void test('a JSON list item that would not read back as one line is refused: an empty one, one spanning lines', () => {
  const list = { kind: 'list', item: 'text' } as const;
  assert.equal(read(list, '["a", " "]'), 'REFUSED is a list, but item 2 is empty');
  assert.equal(read(list, '["a", "b\\nc"]'), 'REFUSED is a list, but item 2 ("b\\nc") spans several lines: the steps read one item per line');
});
