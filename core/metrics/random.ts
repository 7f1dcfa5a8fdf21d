/**
 * mulberry32: a tiny, well-known seeded generator of floats in [0, 1), deterministic across
 * platforms. Bootstrap intervals, dataset splits and chain composition draw from it, so the
 * same seed gives the same report or dataset everywhere (and the tests' generated data can be
 * replayed from its seed).
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
