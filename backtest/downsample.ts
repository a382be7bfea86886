import type { EquityCurve, EquityPoint } from './types';

/**
 * Which points of a curve (its equity column) to draw, keeping its shape: a curve of at most `maxPoints` points is kept
 * whole (one point per bar); a longer one is cut into ⌊maxPoints/2⌋ equal runs of bars and each run
 * keeps its lowest and its highest point, in time order, so every trough and peak (and so the
 * drawdowns) survive. A longer curve therefore gives exactly 2⌊maxPoints/2⌋ indices.
 */
export function minMaxIndices(equity: ArrayLike<number>, maxPoints: number): number[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new RangeError(`maxPoints must be an integer ≥ 2, got ${maxPoints}`);
  const n = equity.length;
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const buckets = Math.floor(maxPoints / 2);
  const out: number[] = new Array(buckets * 2);
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.floor(((b + 1) * n) / buckets);
    // First lowest and last highest: two distinct bars whenever the run has two or more.
    let lo = from;
    let hi = from;
    for (let k = from + 1; k < to; k++) {
      const e = equity[k];
      if (e < equity[lo]) lo = k;
      if (e >= equity[hi]) hi = k;
    }
    out[2 * b] = Math.min(lo, hi);
    out[2 * b + 1] = Math.max(lo, hi);
  }
  return out;
}

/** The points `minMaxIndices` keeps. */
export function downsampleMinMax(curve: EquityCurve, maxPoints: number): EquityPoint[] {
  return minMaxIndices(curve.equity, maxPoints).map((i) => ({ ts: curve.ts[i], equity: curve.equity[i] }));
}
