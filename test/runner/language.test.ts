// The language guess behind `text lang=CODE`: clear text in each profiled language is
// recognised, short or mixed text gets no guess, and the English reference outputs of the
// paper's CoI2 test set are never taken for another language.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { guessLanguage, languageMismatch } from '../../core/lexicon/languageGuess';
import { validateOutput } from '../../core/runner/contract';
import { languageName } from '../../core/lexicon/languages';
import { splitStepOutputs } from '../../core/records/markers';
import { repoPath, sharedDataPath, sharedDataSkip } from '../helpers/paths';

const SAMPLES: Readonly<Record<string, string>> = {
  en: 'The storm will reach the coast tonight and the authorities have asked people who live near the river to leave their homes before it gets dark.',
  fr: "La tempête atteindra la côte ce soir et les autorités ont demandé aux habitants qui vivent près de la rivière de quitter leurs maisons avant la nuit.",
  de: 'Der Sturm wird heute Nacht die Küste erreichen, und die Behörden haben die Menschen, die in der Nähe des Flusses wohnen, gebeten, ihre Häuser vor der Dunkelheit zu verlassen.',
  es: 'La tormenta llegará a la costa esta noche y las autoridades han pedido a las personas que viven cerca del río que abandonen sus casas antes de que oscurezca.',
  it: 'La tempesta raggiungerà la costa questa notte e le autorità hanno chiesto alle persone che vivono vicino al fiume di lasciare le loro case prima che faccia buio.',
  pt: 'A tempestade vai chegar à costa esta noite e as autoridades pediram às pessoas que vivem perto do rio para deixarem as suas casas antes que escureça, porque o nível da água está muito alto.',
  nl: 'De storm bereikt vannacht de kust en de autoriteiten hebben de mensen die bij de rivier wonen gevraagd om hun huizen te verlaten voordat het donker wordt.',
  ru: 'Шторм достигнет побережья сегодня ночью, и власти попросили людей, живущих у реки, покинуть свои дома до наступления темноты.',
  el: 'Η καταιγίδα θα φτάσει στην ακτή απόψε και οι αρχές ζήτησαν από τους κατοίκους κοντά στο ποτάμι να φύγουν από τα σπίτια τους.',
  ar: 'ستصل العاصفة إلى الساحل الليلة وقد طلبت السلطات من الأشخاص الذين يعيشون بالقرب من النهر مغادرة منازلهم قبل حلول الظلام.',
  hi: 'तूफ़ान आज रात तट पर पहुँचेगा और अधिकारियों ने नदी के पास रहने वाले लोगों से अँधेरा होने से पहले अपने घर छोड़ने को कहा है।',
  ko: '폭풍이 오늘 밤 해안에 도달할 예정이며 당국은 강 근처에 사는 사람들에게 어두워지기 전에 집을 떠나라고 요청했습니다.',
  ja: '嵐は今夜海岸に到達する見込みで、当局は川の近くに住む人々に暗くなる前に家を離れるよう求めています。',
  zh: '暴风雨今晚将抵达海岸，当局已要求住在河边的居民在天黑之前离开自己的家并前往安全的地方避难。',
};

for (const [lang, text] of Object.entries(SAMPLES)) {
  void test(`a clear ${languageName(lang)} text is recognised as ${lang}`, () => {
    const guess = guessLanguage(text);
    assert.ok(guess, `no guess for ${lang}`);
    assert.ok(guess.fits.includes(lang), `${lang} guessed as ${guess.lang} (${guess.evidence})`);
    assert.equal(languageMismatch(text, lang, languageName), undefined);
  });
}

void test('a text in another language than the expected one is reported, with the evidence', () => {
  assert.match(languageMismatch(SAMPLES.en!, 'fr', languageName) ?? '', /^the output reads as English, not French \(\d+ of \d+ words are common en words\)$/);
  assert.match(languageMismatch(SAMPLES.fr!, 'de', languageName) ?? '', /reads as French, not German/);
  assert.match(languageMismatch(SAMPLES.ru!, 'en', languageName) ?? '', /reads as Russian, not English \(\d+ of \d+ letters are Cyrillic\)/);
  assert.match(languageMismatch(SAMPLES.ja!, 'zh', languageName) ?? '', /reads as Japanese, not Chinese/);
  assert.match(languageMismatch(SAMPLES.en!, 'ko', languageName) ?? '', /reads as English, not Korean/);
  // A language without a word profile is still told apart by its script, never by words.
  assert.match(languageMismatch(SAMPLES.ru!, 'sv', languageName) ?? '', /reads as Russian, not Swedish/);
  assert.equal(languageMismatch(SAMPLES.de!, 'sv', languageName), undefined);
  // Chinese characters alone fit Japanese too: no claim.
  assert.equal(languageMismatch(SAMPLES.zh!, 'ja', languageName), undefined);
  // Ukrainian shares the Cyrillic script with Russian: no claim either.
  assert.equal(languageMismatch(SAMPLES.ru!, 'uk', languageName), undefined);
});

void test('short, mixed or unfamiliar text gets no guess', () => {
  for (const text of [
    'Bonjour tout le monde.', // too few words
    'positive',
    'Paris, Berlin, Madrid, Rome, Lisbon, Amsterdam, Vienna, Prague, Warsaw', // names only
    'x = compute(a, b) + 42; return x * 2; // done', // code
    'Le chat est sur the table and the dog is dans la maison avec le garçon and the girl.', // mixed
    'Stormen når kusten i natt och myndigheterna har bett människor som bor nära floden att lämna sina hem.', // Swedish: no profile
  ]) {
    assert.equal(guessLanguage(text), undefined, `${JSON.stringify(text)} → ${JSON.stringify(guessLanguage(text))}`);
  }
});

void test('`text lang=fr` accepts an English output with a warning, a French one without', () => {
  const contract = { kind: 'text', lang: 'fr' } as const;
  const english = validateOutput(contract, SAMPLES.en!);
  assert.ok(english.ok);
  assert.deepEqual(english.warnings?.map((w) => w.replace(/\(.*\)/, '(…)')), ['the output reads as English, not French (…)']);
  const french = validateOutput(contract, SAMPLES.fr!);
  assert.ok(french.ok);
  assert.equal(french.warnings, undefined);
  const unchecked = validateOutput({ kind: 'text' }, SAMPLES.en!);
  assert.ok(unchecked.ok && unchecked.warnings === undefined);
});

void test('the English reference outputs of CoI2 are never taken for another language', { skip: sharedDataSkip }, () => {
  assertEnglishOutputsRecognised(JSON.parse(readFileSync(sharedDataPath('coi2_test.json'), 'utf8')) as { instruction: string; output: string }[]);
});

void test('the English reference outputs of the CoI2 excerpt in test/fixtures are never taken for another language', () => {
  assertEnglishOutputsRecognised(JSON.parse(readFileSync(repoPath('test', 'fixtures', 'records', 'coi2-excerpt.json'), 'utf8')) as { instruction: string; output: string }[]);
});

function assertEnglishOutputsRecognised(records: readonly { instruction: string; output: string }[]): void {
  let outputs = 0;
  let recognised = 0;
  const wrong: string[] = [];
  for (const record of records) {
    const split = splitStepOutputs(record.output, 2);
    if (!split.ok) continue;
    // The German translation task of the set is the one record whose output is not English.
    if (/\b(?:into|to) German\b/.test(record.instruction)) continue;
    for (const output of split.outputs) {
      outputs++;
      const guess = guessLanguage(output);
      if (guess?.lang === 'en') recognised++;
      const mismatch = languageMismatch(output, 'en', languageName);
      if (mismatch !== undefined) wrong.push(`${mismatch}: ${output.slice(0, 80)}`);
    }
  }
  assert.ok(outputs >= 2 * (records.length - 1), `${outputs} outputs`);
  assert.deepEqual(wrong, [], `${wrong.length} of ${outputs} English outputs taken for another language`);
  // Most are long enough to be recognised as English at all.
  assert.ok(recognised > 0.5 * outputs, `${recognised} of ${outputs} recognised as English`);
}
