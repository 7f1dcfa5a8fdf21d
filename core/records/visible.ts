/**
 * Text from a file shown on a terminal: its control characters (ESC, BEL, CR, line breaks…),
 * the byte-order mark and the bidirectional controls written as visible escapes (`\u001b`,
 * `\n`), so that a crafted file can neither drive the terminal nor hide what it says.
 */
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function visibleText(text: string): string {
  return text.replace(INVISIBLE, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The same for text of several lines (a model's output in `coi test`'s report): tabs and line
 * feeds are kept as they are; everything else `visibleText` escapes is escaped.
 */
export function visibleLines(text: string): string {
  return text.replace(INVISIBLE, (c) => (c === '\n' || c === '\t' ? c : visibleText(c)));
}

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * East Asian wide and fullwidth characters (CJK ideographs, kana, Hangul syllables, fullwidth
 * forms) and emoji shown as pictures: two columns of a terminal each.
 */
const WIDE =
  /[\u1100-\u115f\u2329\u232a\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6\u{17000}-\u{18cff}\u{1b000}-\u{1b2ff}\u{1f200}-\u{1f2ff}\u{20000}-\u{3fffd}]|\p{Emoji_Presentation}|\p{Extended_Pictographic}\ufe0f/u;

/** A character cluster of no width: combining marks or invisible format characters alone. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]+$/u;

/**
 * How many terminal columns `text` takes, for lining up a table: a cluster of characters (a
 * letter and its accents, an emoji with its modifiers) is one column, or two when it is wide
 * (`模型`, `😀`, `👍🏽`); `.length` counts UTF-16 units, one for `模` and four for `👍🏽`. Meant for
 * text already made visible (`visibleText`): control characters are not measured.
 */
export function displayWidth(text: string): number {
  if (/^[\u0020-\u007e]*$/.test(text)) return text.length;
  let width = 0;
  for (const { segment } of GRAPHEMES.segment(text)) width += WIDE.test(segment) ? 2 : ZERO_WIDTH.test(segment) ? 0 : 1;
  return width;
}
