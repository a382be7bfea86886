import type { EquityCurve, EquityPoint } from './types';

/** The points of a curve as objects, in order (for tests and small curves: one object per bar). */
export function equityPoints(curve: EquityCurve): EquityPoint[] {
  const out: EquityPoint[] = new Array(curve.ts.length);
  for (let k = 0; k < out.length; k++) out[k] = { ts: curve.ts[k], equity: curve.equity[k] };
  return out;
}

/** A curve from points (for tests, and for callers that hold points, e.g. rows of `mt_<account>.equity`). */
export function equityCurveOf(points: readonly EquityPoint[]): EquityCurve {
  const ts = new Float64Array(points.length);
  const equity = new Float64Array(points.length);
  for (let k = 0; k < points.length; k++) {
    ts[k] = points[k].ts;
    equity[k] = points[k].equity;
  }
  return { ts, equity };
}
