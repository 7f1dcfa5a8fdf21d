/**
 * A cautious guess at the language of a text, for `text lang=CODE` contracts: a step's output
 * (core/runner/contract.ts) and a chain input's value as the user wrote it
 * (core/chain/inputValue.ts) are judged by this one guess, with the same thresholds.
 *
 * Two kinds of evidence: the writing system (Cyrillic, Han, kana, Hangul, Arabic, ... tell a
 * language or a family apart from Latin-script ones) and, for Latin-script languages, the
 * share of very common function words of each language ("the", "und", "les", ...). A guess is
 * given only when the evidence is clear: enough letters or words, one language well ahead of
 * the others. Short, mixed or unfamiliar text gets no guess, never a wrong one: a text the
 * guess cannot decide is never called a mismatch.
 */

/** Writing systems that name a language (or a small family) on their own. */
type Script = 'latin' | 'cyrillic' | 'greek' | 'arabic' | 'hebrew' | 'devanagari' | 'thai' | 'hangul' | 'kana' | 'han';

const SCRIPT_RANGES: ReadonlyArray<readonly [Script, RegExp]> = [
  ['latin', /\p{Script=Latin}/u],
  ['cyrillic', /\p{Script=Cyrillic}/u],
  ['greek', /\p{Script=Greek}/u],
  ['arabic', /\p{Script=Arabic}/u],
  ['hebrew', /\p{Script=Hebrew}/u],
  ['devanagari', /\p{Script=Devanagari}/u],
  ['thai', /\p{Script=Thai}/u],
  ['hangul', /\p{Script=Hangul}/u],
  ['kana', /[\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ['han', /\p{Script=Han}/u],
];

/** The languages (ISO 639-1) written in each non-Latin script. */
const SCRIPT_LANGUAGES: Readonly<Record<Exclude<Script, 'latin'>, readonly string[]>> = {
  cyrillic: ['ru', 'uk', 'bg', 'sr', 'mk', 'be', 'kk', 'ky', 'mn', 'tg'],
  greek: ['el'],
  arabic: ['ar', 'fa', 'ur', 'ps', 'ku', 'sd', 'ug'],
  hebrew: ['he', 'yi'],
  devanagari: ['hi', 'mr', 'ne', 'sa'],
  thai: ['th'],
  hangul: ['ko'],
  kana: ['ja'],
  han: ['zh', 'ja'],
};

/** Very common function words; a word listed for several languages counts for each in part. */
const FUNCTION_WORDS: Readonly<Record<string, string>> = {
  en: 'the a and of to is in that it for with as was on are this be by not or have from an they which you were their has will would can there been its but we he she his her at these more into about than also our',
  fr: 'le la les des et est un une du que qui dans pour pas sur au aux avec ce cette il elle ils elles sont par plus ne se ses son sa nous vous été mais ou leur être comme tout aussi très fait entre',
  de: 'der die das und ist nicht ein eine zu den von mit sich des auf für im dem auch es an als wird sind werden nach aus bei oder wie noch einer über hat wurde ich sie wir sehr kann',
  es: 'el la los las de y que en un una es por con para no se del al lo como más pero sus su le ya o este esta son fue ha muy también entre cuando sobre hay',
  it: 'il lo la gli le di e che è un una per non con del della dei nel nella si da sono come più ma anche questo questa alla al ha essere suo sua molto tra',
  pt: 'o a os as de e que em um uma é do da dos das não para com por no na se mais como mas foi ao ele ela são seu sua também muito já está isso',
  nl: 'de het een en van is dat niet in op te zijn voor met die er ook als aan maar om door bij naar uit worden wordt dit wat heeft ik je we hij zij',
};

const WORD_WEIGHTS: ReadonlyMap<string, ReadonlyMap<string, number>> = (() => {
  const byWord = new Map<string, string[]>();
  for (const [lang, words] of Object.entries(FUNCTION_WORDS)) {
    for (const word of words.split(' ')) byWord.set(word, [...(byWord.get(word) ?? []), lang]);
  }
  return new Map([...byWord].map(([word, langs]) => [word, new Map(langs.map((l) => [l, 1 / langs.length]))]));
})();

/** Fewer letters than this in a non-Latin script, or words in a Latin one: no guess. */
const MIN_LETTERS = 20;
const MIN_WORDS = 8;

export interface LanguageGuess {
  /** ISO 639-1 code of the best-supported language. */
  readonly lang: string;
  /** Every code the evidence fits (a script shared by several languages lists them all). */
  readonly fits: readonly string[];
  /** What the guess rests on, for messages ("42 of 50 letters are Cyrillic"). */
  readonly evidence: string;
}

function dominantScript(text: string): { script: Script; count: number; letters: number } | undefined {
  const counts = new Map<Script, number>();
  let letters = 0;
  for (const ch of text) {
    if (!/\p{L}/u.test(ch)) continue;
    letters++;
    const script = SCRIPT_RANGES.find(([, re]) => re.test(ch))?.[0];
    if (script) counts.set(script, (counts.get(script) ?? 0) + 1);
  }
  // Japanese mixes kana and Han: any real share of kana makes it Japanese.
  const kana = counts.get('kana') ?? 0;
  if (kana > 0 && kana >= 0.1 * letters) counts.set('kana', kana + (counts.get('han') ?? 0));
  const best = [...counts].sort((a, b) => b[1] - a[1])[0];
  return best ? { script: best[0], count: best[1], letters } : undefined;
}

function functionWordScores(words: readonly string[]): Map<string, number> {
  const scores = new Map<string, number>();
  for (const word of words) {
    for (const [lang, weight] of WORD_WEIGHTS.get(word) ?? []) scores.set(lang, (scores.get(lang) ?? 0) + weight);
  }
  return scores;
}

const SCRIPT_NAMES: Readonly<Record<Script, string>> = {
  latin: 'Latin',
  cyrillic: 'Cyrillic',
  greek: 'Greek',
  arabic: 'Arabic',
  hebrew: 'Hebrew',
  devanagari: 'Devanagari',
  thai: 'Thai',
  hangul: 'Hangul',
  kana: 'Japanese kana',
  han: 'Chinese characters',
};

/** The language of `text` when the evidence is clear, else undefined. */
export function guessLanguage(text: string): LanguageGuess | undefined {
  const script = dominantScript(text);
  if (!script || script.letters < MIN_LETTERS || script.count < 0.6 * script.letters) return undefined;
  if (script.script !== 'latin') {
    const fits = SCRIPT_LANGUAGES[script.script];
    return { lang: fits[0]!, fits, evidence: `${script.count} of ${script.letters} letters are ${SCRIPT_NAMES[script.script]}` };
  }
  const words = text.toLowerCase().split(/[^\p{L}]+/u).filter((w) => w.length > 0);
  if (words.length < MIN_WORDS) return undefined;
  const ranked = [...functionWordScores(words)].sort((a, b) => b[1] - a[1]);
  const [best, second] = ranked;
  // Clear evidence: common words make a real share of the text, and one language leads by far.
  if (!best || best[1] < 3 || best[1] < 0.15 * words.length || (second !== undefined && second[1] > 0.5 * best[1])) return undefined;
  return { lang: best[0], fits: [best[0]], evidence: `${Math.round(best[1])} of ${words.length} words are common ${best[0]} words` };
}

/** The script a language is written in, when we know it (Latin for the function-word languages). */
function scriptOfLanguage(lang: string): Script | undefined {
  if (lang in FUNCTION_WORDS) return 'latin';
  for (const [script, langs] of Object.entries(SCRIPT_LANGUAGES)) if (langs.includes(lang)) return script as Script;
  return undefined;
}

/**
 * The guess when `text` clearly reads as another language than `expected`; undefined when it
 * fits or when the evidence is not clear. A language we have no profile for is only told
 * apart by its script.
 */
export function otherLanguage(text: string, expected: string): LanguageGuess | undefined {
  const guess = guessLanguage(text);
  if (!guess || guess.fits.includes(expected)) return undefined;
  const expectedScript = scriptOfLanguage(expected);
  const guessedScript = scriptOfLanguage(guess.lang);
  // An unprofiled Latin-script language (Swedish, Polish, ...) can share words with a profiled one.
  if (expectedScript === undefined && guessedScript === 'latin') return undefined;
  return guess;
}

/**
 * Why a model's output `text` does not look like language `expected`, or undefined when it
 * does or when the evidence is not clear (see otherLanguage).
 */
export function languageMismatch(text: string, expected: string, nameOf: (code: string) => string): string | undefined {
  const guess = otherLanguage(text, expected);
  return guess === undefined ? undefined : `the output reads as ${nameOf(guess.lang)}, not ${nameOf(expected)} (${guess.evidence})`;
}
