import type { Frame } from './frame';
import { type Timeframe, timeframeMs } from './timeframe';

/**
 * Deterministic synthetic frames for demos, tests and benchmarks: a seeded random walk in log
 * price plus a slow sine trend, so trend-following systems have something to trade. The same
 * options always give the same frames (no clock, no Math.random).
 */

export interface SyntheticOptions {
  /** Default `SYN`. */
  symbol?: string;
  /** Default `1m`. */
  timeframe?: Timeframe;
  /** Epoch-ms start of the first frame; must be aligned to the timeframe. Default 2024-01-01T00:00Z. */
  start?: number;
  count: number;
  /** Seed of the PRNG (any 32-bit integer). Default 1. */
  seed?: number;
  /** Open of the first frame. Default 100. */
  startPrice?: number;
  /** Standard deviation of the per-frame random return, in percent. Default 0.3. */
  volatilityPct?: number;
  /** Length of one sine trend cycle, in frames; 0 disables the trend. Default 100. */
  trendCycle?: number;
  /** Peak deviation of the trend from the start price, in percent. Default 5. */
  trendAmplitudePct?: number;
}

const DEFAULT_START = Date.UTC(2024, 0, 1);
const TICK = 1e-4;

/** mulberry32: a tiny, fast, well-distributed 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviate by Box-Muller. */
function gaussian(rand: () => number): number {
  const u = 1 - rand(); // (0, 1]: log(u) is finite
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const roundTo = (x: number, fn: (y: number) => number) => Math.max(TICK, fn(x / TICK) * TICK);
const round = (x: number) => Number(roundTo(x, Math.round).toFixed(4));
const roundUp = (x: number) => Number(roundTo(x, Math.ceil).toFixed(4));
const roundDown = (x: number) => Number(roundTo(x, Math.floor).toFixed(4));

/** Generates `count` consecutive frames valid under FrameSchema (prices on a 0.0001 tick). */
export function generateFrames(options: SyntheticOptions): Frame[] {
  const {
    symbol = 'SYN',
    timeframe = '1m',
    start = DEFAULT_START,
    count,
    seed = 1,
    startPrice = 100,
    volatilityPct = 0.3,
    trendCycle = 100,
    trendAmplitudePct = 5,
  } = options;
  const step = timeframeMs(timeframe);
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  if (!Number.isInteger(start) || start < 0 || start % step !== 0) {
    throw new RangeError(`start ${start} must be a non-negative epoch-ms aligned to timeframe ${timeframe}`);
  }
  if (!(startPrice > 0)) throw new RangeError(`startPrice must be positive, got ${startPrice}`);
  if (!(volatilityPct >= 0)) throw new RangeError(`volatilityPct must be >= 0, got ${volatilityPct}`);
  if (!(trendCycle >= 0)) throw new RangeError(`trendCycle must be >= 0, got ${trendCycle}`);

  const rand = mulberry32(seed);
  const vol = volatilityPct / 100;
  const amp = Math.log(1 + trendAmplitudePct / 100);
  const trend = (i: number) => (trendCycle > 0 ? amp * Math.sin((2 * Math.PI * i) / trendCycle) : 0);

  const frames: Frame[] = [];
  let open = round(startPrice);
  for (let i = 0; i < count; i++) {
    const logReturn = trend(i + 1) - trend(i) + vol * gaussian(rand);
    const close = round(open * Math.exp(logReturn));
    const wickUp = Math.abs(gaussian(rand)) * vol * 0.5;
    const wickDown = Math.abs(gaussian(rand)) * vol * 0.5;
    const high = roundUp(Math.max(open, close) * (1 + wickUp));
    const low = roundDown(Math.min(open, close) * (1 - wickDown));
    const volume = Math.floor(100 + rand() * 900);
    frames.push({ symbol, timeframe, start: start + i * step, open, high, low, close, volume });
    open = close;
  }
  return frames;
}

const CSV_COLUMNS = ['symbol', 'timeframe', 'start', 'open', 'high', 'low', 'close', 'volume'] as const;

/** Frames as CSV with a header row; `start` stays epoch-ms so the file loads back losslessly. */
export function toCsv(frames: readonly Frame[]): string {
  const rows = frames.map((f) => CSV_COLUMNS.map((c) => String(f[c])).join(','));
  return [CSV_COLUMNS.join(','), ...rows].join('\n') + '\n';
}
