/**
 * Part of an evaluation's items (`coi eval --limit N`, `--sample N`, the editor's "which
 * items" question). Pure, so the side panel's bundle can name a sample too.
 */
import { seededRandom } from '../metrics/random';
import type { ItemSubset } from './types';

/**
 * The items of `subset` (all of them without one): the first `count`, or `count` drawn at
 * random, the same ones for the same seed and items, in their order. A prompt engineer tries 50
 * of the 588 records before running them all; a resume selects the same items again.
 */
export function selectItems<T>(items: readonly T[], subset: ItemSubset | undefined): T[] {
  if (subset === undefined || subset.count >= items.length) return [...items];
  if (subset.kind === 'first') return items.slice(0, subset.count);
  // A partial Fisher–Yates shuffle of the indices draws `count` of them without repeats.
  const random = seededRandom(subset.seed);
  const indices = Array.from(items, (_, i) => i);
  for (let i = 0; i < subset.count; i++) {
    const j = i + Math.floor(random() * (indices.length - i));
    [indices[i], indices[j]] = [indices[j]!, indices[i]!];
  }
  return indices
    .slice(0, subset.count)
    .sort((a, b) => a - b)
    .map((i) => items[i]!);
}

/** "50 of 588 items, drawn at random (seed 42)", for the line an evaluation starts with; undefined for all of them. */
export function describeSubset(subset: ItemSubset | undefined, total: number): string | undefined {
  if (subset === undefined || subset.count >= total) return undefined;
  return subset.kind === 'first' ? `the first ${subset.count} of ${total} items` : `${subset.count} of ${total} items, drawn at random (seed ${subset.seed})`;
}

/** How a report names the subset its items are: "drawn at random, seed 42", "the source's first 50". */
export function subsetNote(subset: ItemSubset): string {
  return subset.kind === 'first' ? `the source's first ${subset.count}` : `drawn at random, seed ${subset.seed}`;
}
