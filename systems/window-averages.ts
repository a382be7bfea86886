/**
 * Fast and slow moving averages over a bounded window of closes, updated in O(1) per close and kept in a
 * plain JSON object (a system's state is carried across continue-as-new and snapshotted to MySQL, which
 * trading-signals' indicator objects are not).
 *
 * The values are those trading-signals gives when fed the window afresh, as `ma-crossover` used to
 * compute them on every frame: SMA = `getAverage` of the last `period` closes; EMA = an `EMA(period)`
 * fed the whole window (seeded with its oldest close). The running values are recomputed exactly that
 * way each time the ring buffer wraps (every `windowLength` closes, amortised O(1)), so rounding drift
 * never outlives one window, and whenever fast and slow are so close that the drift could change which
 * is above (so a crossover decision is always the rebuild's).
 */

export type MaType = 'sma' | 'ema';

export type AveragesSpec = { maType: MaType; fastPeriod: number; slowPeriod: number };

/** JSON-serialisable running averages. `closes` is a ring buffer: oldest at `head` once full, else at 0. */
export type WindowAverages = {
  closes: number[];
  head: number;
  /** SMA: sum of the last min(fastPeriod, n) closes; EMA: the fast EMA over the window (stable or not). */
  fastAcc: number;
  slowAcc: number;
  /** The spec the running values were built for; any other spec (or none: an older state) means a rebuild. */
  builtFor: AveragesSpec;
};

/**
 * How many closes are kept. An SMA needs exactly `slowPeriod`. An EMA is recursive, so it is taken over
 * a longer window (4 × slowPeriod leaves the seed a weight of about e^-8).
 */
export function windowLength(p: Pick<AveragesSpec, 'slowPeriod' | 'maType'>): number {
  return p.maType === 'ema' ? 4 * p.slowPeriod : p.slowPeriod;
}

export function builtFor(w: Partial<WindowAverages>, spec: AveragesSpec): boolean {
  const b = w.builtFor;
  return b !== undefined && b.maType === spec.maType && b.fastPeriod === spec.fastPeriod && b.slowPeriod === spec.slowPeriod && typeof w.head === 'number';
}

/** The closes oldest first. */
export function linearCloses(w: { closes: readonly number[]; head?: number }): number[] {
  const h = w.head ?? 0;
  return h === 0 ? [...w.closes] : [...w.closes.slice(h), ...w.closes.slice(0, h)];
}

/**
 * trading-signals' getAverage numerator over the last `period` closes of the ring: a left-to-right sum
 * from 0 (same values, same order, same rounding as the per-frame rebuild).
 */
function tailSum(closes: readonly number[], head: number, period: number): number {
  const n = closes.length;
  let sum = 0;
  for (let j = Math.max(0, n - period); j < n; j++) sum += closes[(head + j) % n];
  return sum;
}

/** trading-signals' EMA(period) fed the ring's closes oldest first: the seed is the oldest close. */
function emaOver(closes: readonly number[], head: number, period: number): number {
  const n = closes.length;
  const k = 2 / (period + 1);
  let e = NaN;
  for (let j = 0; j < n; j++) {
    const x = closes[(head + j) % n];
    e = x * k + (j === 0 ? x : e) * (1 - k);
  }
  return e;
}

/** Sets the running values to what the per-frame rebuild computes from the closes. */
function recompute(w: WindowAverages): void {
  const { maType, fastPeriod, slowPeriod } = w.builtFor;
  w.fastAcc = maType === 'sma' ? tailSum(w.closes, w.head, fastPeriod) : emaOver(w.closes, w.head, fastPeriod);
  w.slowAcc = maType === 'sma' ? tailSum(w.closes, w.head, slowPeriod) : emaOver(w.closes, w.head, slowPeriod);
}

/** New running averages for `spec` from the closes a state holds (any order convention, any length). */
export function rebuildAverages(from: { closes: readonly number[]; head?: number }, spec: AveragesSpec): WindowAverages {
  const closes = linearCloses(from).slice(-windowLength(spec));
  const w: WindowAverages = { closes, head: 0, fastAcc: 0, slowAcc: 0, builtFor: { maType: spec.maType, fastPeriod: spec.fastPeriod, slowPeriod: spec.slowPeriod } };
  recompute(w);
  return w;
}

/**
 * Adds a close to `w`, in place (no allocation once the ring is full), and writes the averages to
 * `out.fast`/`out.slow`: null while that average has fewer closes than its period.
 */
export function pushClose(w: WindowAverages, close: number, out: { fast: number | null; slow: number | null }): void {
  const { maType, fastPeriod, slowPeriod } = w.builtFor;
  const closes = w.closes;
  const cap = windowLength(w.builtFor);
  const n = closes.length;
  const head = w.head;
  if (maType === 'sma') {
    // The closes leaving each window (read before the ring slot is overwritten).
    if (n >= fastPeriod) w.fastAcc -= closes[(head + n - fastPeriod) % n];
    if (n >= slowPeriod) w.slowAcc -= closes[head];
    w.fastAcc += close;
    w.slowAcc += close;
  } else {
    const kf = 2 / (fastPeriod + 1);
    const ks = 2 / (slowPeriod + 1);
    if (n === 0) {
      w.fastAcc = close * kf + close * (1 - kf);
      w.slowAcc = close * ks + close * (1 - ks);
    } else {
      if (n === cap) {
        // The window slides: drop the seed x0, x1 becomes the seed. x1's weight goes from k(1-k)^(n-2) to
        // (1-k)^(n-2), x0's (1-k)^(n-1) goes, so the EMA over x1.. is e + (1-k)^(n-1) (x1 - x0).
        const d = closes[(head + 1) % n] - closes[head];
        w.fastAcc += Math.pow(1 - kf, n - 1) * d;
        w.slowAcc += Math.pow(1 - ks, n - 1) * d;
      }
      w.fastAcc = close * kf + w.fastAcc * (1 - kf);
      w.slowAcc = close * ks + w.slowAcc * (1 - ks);
    }
  }
  if (n < cap) closes.push(close);
  else {
    closes[head] = close;
    w.head = head + 1 === cap ? 0 : head + 1;
    // Once per window, the exact values again: rounding drift never outlives one window.
    if (w.head === 0) recompute(w);
  }
  averagesOf(w, out);
  // Near a tie, the running values' rounding (at most a few ulps per close since the last recompute)
  // could put fast − slow on the other side of 0 than the rebuild does, and the sign is the crossover
  // decision. So within a bound far above that error the exact values are computed (O(window); rare,
  // except in a flat market, where it costs what the per-frame rebuild always cost).
  const { fast, slow } = out;
  if (fast !== null && slow !== null && Math.abs(fast - slow) <= tieTolerance(cap) * Math.max(Math.abs(fast), Math.abs(slow))) {
    recompute(w);
    averagesOf(w, out);
  }
}

/** Relative: 64 ulps per close in the window, and never under 1e-9. */
function tieTolerance(cap: number): number {
  return Math.max(1e-9, 64 * cap * Number.EPSILON);
}

function averagesOf(w: WindowAverages, out: { fast: number | null; slow: number | null }): void {
  const { maType, fastPeriod, slowPeriod } = w.builtFor;
  const m = w.closes.length;
  out.fast = m >= fastPeriod ? (maType === 'sma' ? w.fastAcc / fastPeriod : w.fastAcc) : null;
  out.slow = m >= slowPeriod ? (maType === 'sma' ? w.slowAcc / slowPeriod : w.slowAcc) : null;
}
