import { marketFillPrice, stopFillPrice } from '../../../brokers/paper/fill-model';

const CFG = { spreadBps: 2, slippageBps: 1 };

describe('marketFillPrice', () => {
  it('moves a buy up and a sell down by half the spread plus slippage', () => {
    // half spread 1 bp + slippage 1 bp = 2 bp adverse.
    expect(marketFillPrice(100, 'buy', CFG)).toBe(100.02);
    expect(marketFillPrice(100, 'sell', CFG)).toBe(99.98);
  });

  it('is always adverse to the taker: buy ≥ quote ≥ sell', () => {
    for (const price of [0.0001, 1.0842, 97.5, 43_210.12345678]) {
      const buy = marketFillPrice(price, 'buy', CFG);
      const sell = marketFillPrice(price, 'sell', CFG);
      expect(buy).toBeGreaterThan(price);
      expect(sell).toBeLessThan(price);
    }
  });

  it('fills at the quote itself with zero spread and slippage', () => {
    expect(marketFillPrice(1.2345, 'buy', { spreadBps: 0, slippageBps: 0 })).toBe(1.2345);
    expect(marketFillPrice(1.2345, 'sell', { spreadBps: 0, slippageBps: 0 })).toBe(1.2345);
  });

  it('uses only the spread or only the slippage when the other is zero', () => {
    expect(marketFillPrice(100, 'buy', { spreadBps: 10, slippageBps: 0 })).toBe(100.05);
    expect(marketFillPrice(100, 'sell', { spreadBps: 0, slippageBps: 10 })).toBe(99.9);
  });

  it('rounds to 1e-8 like the DECIMAL(20,8) ledger columns', () => {
    const p = marketFillPrice(1.08423457, 'buy', CFG);
    expect(p).toBe(Math.round(1.08423457 * 1.0002 * 1e8) / 1e8);
    // Unrounded, 1.08423457 * 1.0002 has 12 decimals.
    expect(p.toString().split('.')[1].length).toBeLessThanOrEqual(8);
    expect(p).toBe(1.08445142);
  });
});

describe('stopFillPrice', () => {
  const long = { side: 'long' as const, stopLevel: 98 };
  const short = { side: 'short' as const, stopLevel: 102 };

  it('returns null when the frame does not reach the stop', () => {
    expect(stopFillPrice(long, { open: 100, high: 101, low: 98.01 }, CFG)).toBeNull();
    expect(stopFillPrice(short, { open: 100, high: 101.99, low: 99 }, CFG)).toBeNull();
  });

  it('a long stop triggers on the low and fills at the stop less slippage', () => {
    expect(stopFillPrice(long, { open: 99.5, high: 100, low: 97.5 }, CFG)).toBe(97.9902);
  });

  it('a long stop touched exactly (low == stop) triggers', () => {
    expect(stopFillPrice(long, { open: 99, high: 99.5, low: 98 }, CFG)).toBe(97.9902);
  });

  it('a long stop gapped through fills at the open, not the stop', () => {
    expect(stopFillPrice(long, { open: 97, high: 97.2, low: 96.5 }, CFG)).toBe(96.9903);
  });

  it('a short stop triggers on the high and fills at the stop plus slippage', () => {
    expect(stopFillPrice(short, { open: 100.5, high: 102.5, low: 100 }, CFG)).toBe(102.0102);
    expect(stopFillPrice(short, { open: 101, high: 102, low: 100 }, CFG)).toBe(102.0102);
  });

  it('a short stop gapped through fills at the open', () => {
    expect(stopFillPrice(short, { open: 103, high: 104, low: 102.5 }, CFG)).toBe(103.0103);
  });

  it('a long stop ignores highs and a short stop ignores lows', () => {
    expect(stopFillPrice(long, { open: 100, high: 150, low: 99 }, CFG)).toBeNull();
    expect(stopFillPrice(short, { open: 100, high: 101, low: 50 }, CFG)).toBeNull();
  });

  it('with zero slippage fills exactly at the level', () => {
    expect(stopFillPrice(long, { open: 99, high: 99, low: 90 }, { slippageBps: 0 })).toBe(98);
    expect(stopFillPrice(short, { open: 101, high: 110, low: 101 }, { slippageBps: 0 })).toBe(102);
  });
});
