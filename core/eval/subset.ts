/**
 * Part of an evaluation's items (`coi eval --limit N`, `--sample N`, the editor's "which
 * items" question). Pure, so the side panel's bundle can name a sample too.
 */
import { seededRandom } from '../metrics/random';
import type { EvalSource, ItemSubset } from './types';

/** The seed of a sample when none is given (`--sample-seed`, the editor's question). */
export const DEFAULT_SAMPLE_SEED = 42;

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

/**
 * The items of `source`'s subset, and the source as the evaluation keeps it: a subset as large
 * as the items is all of them, and is dropped, so no report calls it a sample.
 */
export function withSubset<T>(source: EvalSource, items: readonly T[]): { readonly source: EvalSource; readonly items: T[] } {
  const chosen = selectItems(items, source.subset);
  if (source.subset === undefined || chosen.length < items.length) return { source, items: chosen };
  const { subset: _all, ...whole } = source;
  return { source: whole, items: chosen };
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
