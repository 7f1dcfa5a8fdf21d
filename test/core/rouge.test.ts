import { test } from 'node:test';
import assert from 'node:assert/strict';
import { porterStem } from '../../core/metrics/porter';
import { lcsLength, rougeL, rougeTokenize } from '../../core/metrics/rouge';
import { seededRandom } from '../helpers/random';

/** Outputs of nltk 3.8 `PorterStemmer().stem(word)` (default NLTK_EXTENSIONS mode). */
const NLTK_STEMS: ReadonlyArray<readonly [string, string]> = [
  ["caresses", "caress"],
  ["ponies", "poni"],
  ["ties", "tie"],
  ["cats", "cat"],
  ["feed", "feed"],
  ["agreed", "agre"],
  ["disabled", "disabl"],
  ["matting", "mat"],
  ["mating", "mate"],
  ["meeting", "meet"],
  ["milling", "mill"],
  ["messing", "mess"],
  ["meetings", "meet"],
  ["happy", "happi"],
  ["skies", "sky"],
  ["dying", "die"],
  ["flies", "fli"],
  ["dies", "die"],
  ["spied", "spi"],
  ["died", "die"],
  ["generalization", "gener"],
  ["relational", "relat"],
  ["conditional", "condit"],
  ["rational", "ration"],
  ["digitizer", "digit"],
  ["radicalli", "radic"],
  ["differentli", "differ"],
  ["vietnamization", "vietnam"],
  ["predication", "predic"],
  ["operator", "oper"],
  ["feudalism", "feudal"],
  ["decisiveness", "decis"],
  ["hopefulness", "hope"],
  ["callousness", "callous"],
  ["formaliti", "formal"],
  ["sensitiviti", "sensit"],
  ["sensibiliti", "sensibl"],
  ["triplicate", "triplic"],
  ["formative", "form"],
  ["formalize", "formal"],
  ["electrical", "electr"],
  ["hopeful", "hope"],
  ["goodness", "good"],
  ["revival", "reviv"],
  ["allowance", "allow"],
  ["inference", "infer"],
  ["airliner", "airlin"],
  ["gyroscopic", "gyroscop"],
  ["adjustable", "adjust"],
  ["defensible", "defens"],
  ["irritant", "irrit"],
  ["replacement", "replac"],
  ["adjustment", "adjust"],
  ["dependent", "depend"],
  ["adoption", "adopt"],
  ["communism", "commun"],
  ["activate", "activ"],
  ["effective", "effect"],
  ["bowdlerize", "bowdler"],
  ["probate", "probat"],
  ["rate", "rate"],
  ["cease", "ceas"],
  ["controll", "control"],
  ["roll", "roll"],
  ["geology", "geolog"],
  ["theology", "theolog"],
  ["archaeology", "archaeolog"],
  ["enjoy", "enjoy"],
  ["enjoyment", "enjoy"],
  ["innings", "inning"],
  ["proceed", "proceed"],
];

void test('the Porter stemmer gives NLTK\'s outputs', () => {
  for (const [word, stem] of NLTK_STEMS) assert.equal(porterStem(word), stem, word);
});

void test('tokens are lower-cased, split on every run outside [a-z0-9], stemmed only above 3 chars', () => {
  assert.deepEqual(rougeTokenize('The cats are running quickly.'), ['the', 'cat', 'are', 'run', 'quickli']);
  // Accented letters are separators, exactly as rouge-score does it.
  assert.deepEqual(rougeTokenize('Café crème'), ['caf', 'cr', 'me']);
  // "ties" has 4 chars (stemmed), "dies" too; "was" has 3 (left alone).
  assert.deepEqual(rougeTokenize('was ties'), ['was', 'tie']);
  assert.deepEqual(rougeTokenize('Hello-world_2024!!', { stem: false }), ['hello', 'world', '2024']);
});

void test('LCS length', () => {
  assert.equal(lcsLength(['a', 'b', 'c', 'd'], ['a', 'c', 'd']), 3);
  // 33 and 64 positions: the second 32-bit word of the bit vector, and a full last word.
  const long = Array.from({ length: 70 }, (_, i) => `w${i}`);
  assert.equal(lcsLength(long, long.slice(0, 33)), 33);
  assert.equal(lcsLength(long.slice(3), long.slice(0, 64)), 61);
  assert.equal(lcsLength(['a', 'a', 'a'], ['a']), 1);
  assert.equal(lcsLength(['x'], ['a', 'b']), 0);
  assert.equal(lcsLength([], ['a']), 0);
});

void test('ROUGE-L F-measure matches rouge-score on hand-computed cases', () => {
  // target [the cat are run quickli], prediction [a cat run quick]: LCS 2, P 2/4, R 2/5.
  const s = rougeL('The cats are running quickly.', 'A cat runs quick!');
  assert.equal(s.precision, 0.5);
  assert.equal(s.recall, 0.4);
  assert.ok(Math.abs(s.fmeasure - 4 / 9) < 1e-12);
  // LCS [rain expect the north tuesday] = 5 of 9 target and 7 predicted tokens.
  const t = rougeL('Heavy rain is expected across the north on Tuesday.', 'Rain expected in the north Tuesday, heavy.');
  assert.ok(Math.abs(t.fmeasure - 0.625) < 1e-12);
  const fr = rougeL('De fortes pluies sont attendues mardi', 'Des pluies fortes attendues mardi');
  assert.ok(Math.abs(fr.fmeasure - 6 / 11) < 1e-12);
  assert.equal(rougeL('same words here', 'Same, words... HERE').fmeasure, 1);
});

void test('an empty side scores 0', () => {
  assert.equal(rougeL('', 'something').fmeasure, 0);
  assert.equal(rougeL('something', '  !!! ').fmeasure, 0);
  assert.equal(rougeL('Café', 'cafe').fmeasure, 0);
});

/** The definition, written plainly: lower-case, runs of [a-z0-9], stems, a string LCS table. */
function plainRougeL(target: string, prediction: string): number {
  const tokens = (text: string): string[] => (text.toLowerCase().match(/[a-z0-9]+/g) ?? []).map((t) => (t.length > 3 ? porterStem(t) : t));
  const a = tokens(target);
  const b = tokens(prediction);
  if (a.length === 0 || b.length === 0) return 0;
  const table = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) table[i]![j] = a[i - 1] === b[j - 1] ? table[i - 1]![j - 1]! + 1 : Math.max(table[i - 1]![j]!, table[i]![j - 1]!);
  }
  const lcs = table[a.length]![b.length]!;
  const p = lcs / b.length;
  const r = lcs / a.length;
  return p + r > 0 ? (2 * p * r) / (p + r) : 0;
}

void test('ROUGE-L equals the plain definition on random texts (case, accents, digits, punctuation, Unicode lower-casing)', () => {
  const random = seededRandom(11);
  const words = ['The', 'cats', 'running', 'RAN', 'quickly', 'café', 'Über', 'naïve', '2024', 'x1', 'İstanbul', '\u212Aelvin', 'ties', 'dies', 'a', 'of', 'generalization', 'don\'t', 'e-mail', '...', '—', '日本語'];
  const separators = [' ', '  ', '\n', ', ', '; ', '\t', '!', '', '/'];
  // Up to 150 words: LCS bit vectors of one to five 32-bit words, and their carries.
  const text = (): string => Array.from({ length: Math.floor(random() * (random() < 0.5 ? 40 : 150)) }, () => (words[Math.floor(random() * words.length)] ?? '') + (separators[Math.floor(random() * separators.length)] ?? '')).join('');
  for (let n = 0; n < 1000; n++) {
    const target = text();
    const prediction = random() < 0.2 ? target : text();
    assert.equal(rougeL(target, prediction).fmeasure, plainRougeL(target, prediction), JSON.stringify({ target, prediction }));
  }
});

void test('a word of 100,000 y\'s is stemmed and scored (the y rule once recursed per letter: stack overflow)', () => {
  const ys = 'y'.repeat(100_000);
  assert.equal(porterStem(ys), `${'y'.repeat(99_999)}i`);
  assert.equal(rougeL(ys, ys).fmeasure, 1);
  assert.equal(rougeL('a short reference', `${ys} short`).fmeasure, 0.4);
});
