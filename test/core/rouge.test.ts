import { test } from 'node:test';
import assert from 'node:assert/strict';
import { porterStem } from '../../core/metrics/porter';
import { lcsLength, rougeL, rougeTokenize } from '../../core/metrics/rouge';

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
