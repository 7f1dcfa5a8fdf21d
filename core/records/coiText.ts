/**
 * Writing values as `.coi` source text.
 *
 * A value is written as a `"""` text block when the block reads back exactly the same
 * (see `decodeTextBlock` in core/syntax/lexer.ts: first/last blank line dropped,
 * whitespace-only lines emptied, common indentation removed, no `"""` inside);
 * otherwise as a `"double"` string with JSON escapes, which holds any text.
 */

export const INDENT = '  ';

export interface StringLayout {
  /** Indentation of the line the value is written on. */
  readonly indent: string;
  /** Single-line values up to this length are written as `"double"` strings. */
  readonly inlineMax?: number;
}

/** True when `value` can be written as a text block and decode to itself. */
export function fitsTextBlock(value: string): boolean {
  if (value === '' || value.includes('"""') || /[\r\u0000-\u0008\u000b-\u001f\u007f]/.test(value)) return false;
  const lines = value.split('\n');
  const first = lines[0] ?? '';
  const last = lines[lines.length - 1] ?? '';
  if (first.trim() === '' || last.trim() === '') return false;
  let someLineUnindented = false;
  for (const line of lines) {
    if (line !== '' && line.trim() === '') return false; // would decode as an empty line
    if (/[ \t]$/.test(line)) return false; // trailing blanks are invisible and easy to lose
    if (line !== '' && !/^[ \t]/.test(line)) someLineUnindented = true;
  }
  // Every line indented: the common indentation would be removed on reading.
  return someLineUnindented;
}

/** A `"double"` string literal (JSON escapes, which the `.coi` lexer decodes). */
export function doubleQuoted(value: string): string {
  return JSON.stringify(value);
}

/**
 * The source text of a string value written after a key on a line indented by
 * `layout.indent`: a `"double"` string for short single-line text, a text block
 * (content one level deeper, closing quotes aligned with the key) otherwise.
 */
export function stringLiteral(value: string, layout: StringLayout): string {
  const inlineMax = layout.inlineMax ?? 72;
  const singleLine = !value.includes('\n');
  if ((singleLine && value.length <= inlineMax) || !fitsTextBlock(value)) return doubleQuoted(value);
  const inner = layout.indent + INDENT;
  const body = value
    .split('\n')
    .map((line) => (line === '' ? '' : inner + line))
    .join('\n');
  return `"""\n${body}\n${layout.indent}"""`;
}

/** The longest slug `slugify` gives: file names stay far below the file systems' 255 bytes. */
export const MAX_SLUG_LENGTH = 60;

/**
 * A lowercase ASCII slug of the first `maxWords` words of `text` (`complete-the-story`), at
 * most `maxLength` characters: cut after the last whole word that fits, or inside the first
 * word when even that one is longer.
 */
export function slugify(text: string, maxWords = 3, maxLength = MAX_SLUG_LENGTH): string {
  const words = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '')
    .slice(0, maxWords);
  let slug = '';
  for (const word of words) {
    const longer = slug === '' ? word : `${slug}-${word}`;
    if (longer.length > maxLength) return slug === '' ? word.slice(0, maxLength) : slug;
    slug = longer;
  }
  return slug;
}

/** A number as `.coi` source (`0.5`, `1`). */
export function numberLiteral(value: number): string {
  const fixed = value.toFixed(6);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}
