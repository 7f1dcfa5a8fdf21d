/** Small helpers shared by the benchmarks: repeated timing and summary figures. */
export interface Summary {
  readonly samples: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly minMs: number;
}

export function summarize(durationsMs: readonly number[]): Summary {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { samples: sorted.length, medianMs: at(0.5), p95Ms: at(0.95), minMs: sorted[0] ?? NaN };
}

/** Times `fn` `samples` times after `warmup` untimed calls. */
export async function timeRepeated(fn: () => unknown, samples: number, warmup = 3): Promise<Summary> {
  for (let i = 0; i < warmup; i++) await fn();
  const durations: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await fn();
    durations.push(performance.now() - start);
  }
  return summarize(durations);
}

/** How every benchmark reports a goal: `met`, or `MISSED` in capitals so it cannot be overlooked. */
export function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

export function formatSummary(label: string, s: Summary): string {
  return `${label}: median ${s.medianMs.toFixed(2)} ms, p95 ${s.p95Ms.toFixed(2)} ms (n=${s.samples})`;
}
