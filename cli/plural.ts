/** `1 file`, `2 files`: a count with its noun, for the summaries the commands print. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
