/**
 * What a contract means for a value whoever wrote it: the user (a chain input, read by
 * core/chain/inputValue.ts) or a model (a step's output, validated by core/runner/contract.ts).
 * Both sides measure a `text` value's bounds here, and write a `list` value in the one form
 * the steps read it in, so a value reaches a step's prompt in the same shape from either side.
 */
import type { Contract } from './model';
import { characterCount } from '../syntax/characters';

export type TextContract = Extract<Contract, { kind: 'text' }>;

/** A `max_words` or `max_chars` bound that a text goes over. */
export interface BrokenTextBound {
  readonly unit: 'words' | 'characters';
  readonly max: number;
  readonly count: number;
}

/**
 * The first bound of `contract` that `text` goes over (words, then characters), or undefined.
 * Spaces around the text are not counted; words are runs of non-space characters; characters
 * are Unicode code points (an emoji counts 1, not the 2 UTF-16 units of its surrogate pair).
 */
export function brokenTextBound(contract: TextContract, text: string): BrokenTextBound | undefined {
  const trimmed = text.trim();
  if (contract.maxWords !== undefined) {
    const words = trimmed === '' ? 0 : trimmed.split(/\s+/).length;
    if (words > contract.maxWords) return { unit: 'words', max: contract.maxWords, count: words };
  }
  if (contract.maxChars !== undefined && trimmed.length > contract.maxChars) {
    // A text within the bound in UTF-16 units is within it in code points: count only past that.
    const characters = characterCount(trimmed);
    if (characters > contract.maxChars) return { unit: 'characters', max: contract.maxChars, count: characters };
  }
  return undefined;
}

/** What starts every item of a list value as the steps read it (and as a list grammar makes a model write it). */
export const LIST_BULLET = '- ';

/**
 * A list value as the steps read it — a chain input's and a step's output alike: one item per
 * line, each behind `- ` (`- apples\n- pears`), the form a list contract asks a model to answer
 * in. An item's own line breaks (possible in a JSON array) become spaces, so every line is one item.
 */
export function listText(items: readonly string[]): string {
  return items.map((item) => `${LIST_BULLET}${item.replace(/\s*[\r\n]+\s*/g, ' ')}`).join('\n');
}
