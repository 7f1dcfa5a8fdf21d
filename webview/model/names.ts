/**
 * Accessible names told apart. A screen reader user moves from one row's control to the next
 * by its name: every row's "Open", "Compare…" or item button must say which run, model or job
 * it is for, or the user hears the same words again and cannot tell the rows apart. Pure: no DOM.
 */

/**
 * `name(item)` for each item; where two or more items would get the same name (two runs of a
 * chain started in the same second), each of those gets `apart(item)` after it, in brackets.
 * `apart` must differ between such items (an id).
 */
export function namesApart<T>(items: readonly T[], name: (item: T) => string, apart: (item: T) => string): string[] {
  const names = items.map(name);
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return names.map((n, index) => ((counts.get(n) ?? 0) > 1 ? `${n} (${apart(items[index] as T)})` : n));
}
