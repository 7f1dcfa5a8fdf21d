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
