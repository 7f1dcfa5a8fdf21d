/**
 * Seeded bootstrap confidence intervals: resample the per-item values with
 * replacement, take the mean of each resample, and report the 2.5th and 97.5th
 * percentiles of those means (the percentile method). A fixed seed makes a
 * report reproducible byte for byte.
 */
import type { Interval } from './types';
import { seededRandom } from '../metrics/random';

export const DEFAULT_RESAMPLES = 1000;
export const DEFAULT_SEED = 42;

export { seededRandom };

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Linear interpolation between closest ranks (numpy's default) of sorted values. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  const low = sorted[below]!;
  return low + (sorted[above]! - low) * (position - below);
}

export interface BootstrapOptions {
  readonly seed?: number;
  readonly resamples?: number;
  /** Coverage of the interval (default 0.95). */
  readonly level?: number;
}

/** Mean of `values` with its bootstrap interval; an empty list gives NaN with n = 0. */
export function bootstrapMean(values: readonly number[], options: BootstrapOptions = {}): Interval {
  const n = values.length;
  const m = mean(values);
  if (n === 0) return { mean: NaN, low: NaN, high: NaN, n: 0 };
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const alpha = (1 - (options.level ?? 0.95)) / 2;
  const random = seededRandom(options.seed ?? DEFAULT_SEED);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)]!;
    means[r] = sum / n;
  }
  means.sort();
  // Rounding noise must not put the interval outside the mean of constant data.
  return { mean: m, low: Math.min(m, quantile(means, alpha)), high: Math.max(m, quantile(means, 1 - alpha)), n };
}

/**
 * The paired bootstrap: the mean of the per-item differences b − a with its
 * interval (items are resampled together, so what differs between items cancels).
 */
export function pairedBootstrap(a: readonly number[], b: readonly number[], options: BootstrapOptions = {}): Interval {
  if (a.length !== b.length) throw new RangeError(`Paired samples must have the same length (${a.length} vs ${b.length}).`);
  return bootstrapMean(
    b.map((value, i) => value - a[i]!),
    options,
  );
}

/** Wins/ties/losses of b over a, item by item (a tie is a difference below `epsilon`). */
export function winsTiesLosses(a: readonly number[], b: readonly number[], epsilon = 1e-9): { wins: number; ties: number; losses: number } {
  let wins = 0;
  let ties = 0;
  let losses = 0;
  b.forEach((value, i) => {
    const d = value - a[i]!;
    if (Math.abs(d) <= epsilon) ties++;
    else if (d > 0) wins++;
    else losses++;
  });
  return { wins, ties, losses };
}
