/**
 * Language names and ISO 639-1 codes.
 *
 * Used by the checker to validate `lang=` options and by the composability
 * analysis to read "into French" / "the English text" in instructions.
 */

/** Every ISO 639-1 two-letter code (184 codes). */
export const ISO_639_1_CODES: ReadonlySet<string> = new Set(
  (
    'aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy ' +
    'da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ' +
    'ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo ' +
    'lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps ' +
    'pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn ' +
    'to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu'
  ).split(' '),
);

/** Language names (lower case) as they appear in instructions → ISO 639-1 code. */
export const LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  afrikaans: 'af',
  albanian: 'sq',
  amharic: 'am',
  arabic: 'ar',
  armenian: 'hy',
  basque: 'eu',
  belarusian: 'be',
  bengali: 'bn',
  bangla: 'bn',
  bosnian: 'bs',
  bulgarian: 'bg',
  burmese: 'my',
  catalan: 'ca',
  chinese: 'zh',
  mandarin: 'zh',
  croatian: 'hr',
  czech: 'cs',
  danish: 'da',
  dutch: 'nl',
  english: 'en',
  esperanto: 'eo',
  estonian: 'et',
  filipino: 'tl',
  tagalog: 'tl',
  finnish: 'fi',
  french: 'fr',
  galician: 'gl',
  georgian: 'ka',
  german: 'de',
  greek: 'el',
  gujarati: 'gu',
  hausa: 'ha',
  hebrew: 'he',
  hindi: 'hi',
  hungarian: 'hu',
  icelandic: 'is',
  igbo: 'ig',
  indonesian: 'id',
  irish: 'ga',
  italian: 'it',
  japanese: 'ja',
  javanese: 'jv',
  kannada: 'kn',
  kazakh: 'kk',
  khmer: 'km',
  korean: 'ko',
  kurdish: 'ku',
  lao: 'lo',
  latin: 'la',
  latvian: 'lv',
  lithuanian: 'lt',
  macedonian: 'mk',
  malay: 'ms',
  malayalam: 'ml',
  maltese: 'mt',
  marathi: 'mr',
  mongolian: 'mn',
  nepali: 'ne',
  norwegian: 'no',
  odia: 'or',
  oriya: 'or',
  panjabi: 'pa',
  punjabi: 'pa',
  pashto: 'ps',
  persian: 'fa',
  farsi: 'fa',
  polish: 'pl',
  portuguese: 'pt',
  romanian: 'ro',
  russian: 'ru',
  serbian: 'sr',
  sinhala: 'si',
  slovak: 'sk',
  slovenian: 'sl',
  somali: 'so',
  spanish: 'es',
  swahili: 'sw',
  swedish: 'sv',
  tamil: 'ta',
  telugu: 'te',
  thai: 'th',
  tibetan: 'bo',
  turkish: 'tr',
  ukrainian: 'uk',
  urdu: 'ur',
  uzbek: 'uz',
  vietnamese: 'vi',
  welsh: 'cy',
  xhosa: 'xh',
  yiddish: 'yi',
  yoruba: 'yo',
  zulu: 'zu',
};

/** One alternation of every language name, longest first, for regular expressions. */
export const LANGUAGE_NAME_PATTERN = Object.keys(LANGUAGE_NAMES)
  .sort((a, b) => b.length - a.length)
  .join('|');

const NAME_TO_CODE: ReadonlyMap<string, string> = new Map(Object.entries(LANGUAGE_NAMES));

const CODE_TO_NAME: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>();
  for (const [name, code] of Object.entries(LANGUAGE_NAMES)) {
    if (!map.has(code)) map.set(code, name.charAt(0).toUpperCase() + name.slice(1));
  }
  return map;
})();

/** `fr` → `French`; unknown codes come back as written. */
export function languageName(code: string): string {
  return CODE_TO_NAME.get(code.toLowerCase()) ?? code;
}

/** `French` / `french` → `fr`; undefined when not a known language name. */
export function languageCode(name: string): string | undefined {
  return NAME_TO_CODE.get(name.toLowerCase());
}

/** Whether a lower-case word is a language name (a fast check, no allocation). */
export function isLanguageName(lowerCaseWord: string): boolean {
  return NAME_TO_CODE.has(lowerCaseWord);
}
