import { FrameSchema } from '../../market/frame';
import { generateFrames, mulberry32, toCsv } from '../../market/synthetic';
import { timeframeMs } from '../../market/timeframe';
import { MaCrossoverParamsSchema, maCrossover, type PositionView } from '../../systems';

describe('generateFrames', () => {
  it('is deterministic: same seed, same frames; another seed, other frames', () => {
    const a = generateFrames({ count: 200, seed: 42 });
    expect(generateFrames({ count: 200, seed: 42 })).toEqual(a);
    expect(generateFrames({ count: 200, seed: 43 })).not.toEqual(a);
  });

  it.each([
    [{ count: 500 }],
    [{ count: 500, seed: 9, timeframe: '1h' as const, start: Date.UTC(2023, 5, 1, 13), startPrice: 1.0842, volatilityPct: 2 }],
    [{ count: 300, seed: 5, startPrice: 0.01, volatilityPct: 5, trendCycle: 0 }],
  ])('every frame passes FrameSchema, frames are consecutive and aligned (%j)', (opts) => {
    const frames = generateFrames(opts);
    expect(frames).toHaveLength(opts.count);
    const step = timeframeMs(frames[0].timeframe);
    frames.forEach((f, i) => {
      expect(FrameSchema.safeParse(f)).toEqual({ success: true, data: f });
      expect(f.high).toBeGreaterThanOrEqual(Math.max(f.open, f.close));
      expect(f.low).toBeLessThanOrEqual(Math.min(f.open, f.close));
      expect(f.low).toBeGreaterThan(0);
      if (i > 0) {
        expect(f.start - frames[i - 1].start).toBe(step);
        expect(f.open).toBe(frames[i - 1].close);
      }
    });
  });

  it('uses the given symbol, timeframe, start and start price', () => {
    const start = Date.UTC(2024, 2, 4, 8, 15);
    const [f] = generateFrames({ symbol: 'EURUSD', timeframe: '15m', start, count: 1, startPrice: 1.1 });
    expect(f).toMatchObject({ symbol: 'EURUSD', timeframe: '15m', start, open: 1.1 });
  });

  it('rejects a start not aligned to the timeframe', () => {
    expect(() => generateFrames({ count: 1, timeframe: '1h', start: Date.UTC(2024, 0, 1, 0, 30) })).toThrow(/aligned/);
    expect(() => generateFrames({ count: -1 })).toThrow(RangeError);
  });

  it('500 frames with default options make ma-crossover (default params) cross at least 4 times', () => {
    for (const maType of ['sma', 'ema'] as const) {
      const params = MaCrossoverParamsSchema.parse({ maType });
      let state = maCrossover.initialState(params);
      let position: PositionView | null = null;
      let trades = 0;
      for (const frame of generateFrames({ count: 500 })) {
        const out = maCrossover.decide({ frame, portfolio: { position, realisedPnl: 0 }, params, state });
        state = out.state;
        const { action, quantity } = out.decision;
        if (action === 'none') continue;
        trades++;
        position = action === 'close' ? null : { side: action === 'buy' ? 'long' : 'short', quantity, entryPrice: frame.close };
      }
      expect(trades).toBeGreaterThanOrEqual(4);
    }
  });
});

describe('mulberry32', () => {
  it('yields the same floats in [0, 1) for the same seed', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBe(1000);
  });
});

describe('toCsv', () => {
  it('writes a header and one row per frame', () => {
    const frames = generateFrames({ count: 3, seed: 1 });
    const lines = toCsv(frames).trimEnd().split('\n');
    expect(lines[0]).toBe('symbol,timeframe,start,open,high,low,close,volume');
    expect(lines).toHaveLength(4);
    const [symbol, timeframe, start, open, high, low, close, volume] = lines[2].split(',');
    expect({ symbol, timeframe, start: Number(start), open: Number(open), high: Number(high), low: Number(low), close: Number(close), volume: Number(volume) }).toEqual(frames[1]);
  });

  it('writes just the header for no frames', () => {
    expect(toCsv([])).toBe('symbol,timeframe,start,open,high,low,close,volume\n');
  });
});
