/** Latency summaries for the benchmarks: nearest-rank percentiles over recorded samples (ms). */

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array: the smallest value with ≥ p % at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  if (p <= 0) return sorted[0];
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarise(samples: readonly number[]): Percentiles {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s.length > 0 ? s[s.length - 1] : NaN,
  };
}

/** Events per second over a window in ms; NaN for an empty window. */
export function rate(count: number, windowMs: number): number {
  return windowMs > 0 ? (count * 1000) / windowMs : NaN;
}

/**
 * Completions per second at saturation: the rate over completions after the warm-up share
 * (`skip`, default the first 20 %), so start-up and the ramp do not count. Times in ms.
 */
export function steadyRate(completedAt: readonly number[], skip = 0.2): number {
  const s = [...completedAt].sort((a, b) => a - b);
  const from = Math.floor(s.length * skip);
  if (s.length - from < 2) return NaN;
  return rate(s.length - 1 - from, s[s.length - 1] - s[from]);
}

/** Rounds for the results JSON and the tables: 3 significant digits below 100, integers above. */
export function round(n: number): number {
  if (!Number.isFinite(n)) return n;
  if (Math.abs(n) >= 100) return Math.round(n);
  return Number(n.toPrecision(3));
}
