/**
 * Characters as users count them: Unicode code points. A JavaScript string's `length` counts
 * UTF-16 code units, so an emoji or any other character outside the Basic Multilingual Plane
 * (a surrogate pair) would count 2. `max_chars` bounds (core/chain/contractValues.ts) count
 * with `characterCount`; a text cut to a length is cut with `headOf`, which never splits a pair.
 */

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** The number of code points of `text` (`[...text].length`, without building the array): a lone surrogate counts 1. */
export function characterCount(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    if (isHighSurrogate(text.charCodeAt(i)) && isLowSurrogate(text.charCodeAt(i + 1))) {
      count--;
      i++;
    }
  }
  return count;
}

/**
 * The first non-blank line of `text`, trimmed, cut with an ellipsis at `max` UTF-16 units (never
 * inside a surrogate pair): a one-line glimpse of a longer text (an editor preview, an error in a summary).
 */
export function firstLine(text: string, max: number): string {
  const line = text.split(/\r\n|\r|\n/).find((l) => l.trim() !== '')?.trim() ?? '';
  return line.length > max ? `${headOf(line, max - 1)}…` : line;
}

/** The first `units` UTF-16 code units of `text`, one fewer where the cut would split a surrogate pair. */
export function headOf(text: string, units: number): string {
  if (units <= 0) return '';
  if (units >= text.length) return text;
  const splitsPair = isHighSurrogate(text.charCodeAt(units - 1)) && isLowSurrogate(text.charCodeAt(units));
  return text.slice(0, splitsPair ? units - 1 : units);
}
