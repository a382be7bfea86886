import { emulatedExitHit, initialTrailLevel, trailAfter } from '../../trading/exits';
import type { Position } from '../../trading/position';

const pos = (over: Partial<Position> = {}): Position => ({
  positionRef: 'acc-000001',
  systemId: 'cb',
  symbol: 'EURUSD',
  side: 'long',
  quantity: 1,
  entryPrice: 100,
  openedAt: 0,
  ...over,
});
const bar = (open: number, high: number, low: number) => ({ open, high, low });

describe('emulatedExitHit', () => {
  it('is null for a position without take-profit or trailing stop, whatever the frame', () => {
    expect(emulatedExitHit(pos(), bar(100, 1_000, 1))).toBeNull();
    expect(emulatedExitHit(pos({ side: 'short' }), bar(100, 1_000, 1))).toBeNull();
  });

  it('long take-profit: hit when the high reaches it, at the level; not below it', () => {
    const p = pos({ takeProfit: 105 });
    expect(emulatedExitHit(p, bar(101, 104.99, 100))).toBeNull();
    expect(emulatedExitHit(p, bar(101, 105, 100))).toEqual({ kind: 'take-profit', level: 105 });
    // A gap up through the level is a hit too (the fill is the market's, not the level).
    expect(emulatedExitHit(p, bar(108, 110, 107))).toEqual({ kind: 'take-profit', level: 105 });
  });

  it('short take-profit: hit when the low reaches it', () => {
    const p = pos({ side: 'short', takeProfit: 95 });
    expect(emulatedExitHit(p, bar(99, 100, 95.01))).toBeNull();
    expect(emulatedExitHit(p, bar(99, 100, 95))).toEqual({ kind: 'take-profit', level: 95 });
    expect(emulatedExitHit(p, bar(90, 91, 89))).toEqual({ kind: 'take-profit', level: 95 });
  });

  it('long trailing stop: hit when the low reaches the level, gaps included', () => {
    const p = pos({ trailing: { distance: 2, level: 98 } });
    expect(emulatedExitHit(p, bar(100, 101, 98.01))).toBeNull();
    expect(emulatedExitHit(p, bar(100, 101, 98))).toEqual({ kind: 'trailing-stop', level: 98 });
    expect(emulatedExitHit(p, bar(95, 96, 94))).toEqual({ kind: 'trailing-stop', level: 98 });
  });

  it('short trailing stop: hit when the high reaches the level, gaps included', () => {
    const p = pos({ side: 'short', trailing: { distance: 2, level: 102 } });
    expect(emulatedExitHit(p, bar(100, 101.99, 99))).toBeNull();
    expect(emulatedExitHit(p, bar(100, 102, 99))).toEqual({ kind: 'trailing-stop', level: 102 });
    expect(emulatedExitHit(p, bar(105, 106, 104))).toEqual({ kind: 'trailing-stop', level: 102 });
  });

  it('a frame spanning both levels is the trailing stop (the worse case), long and short', () => {
    expect(emulatedExitHit(pos({ takeProfit: 103, trailing: { distance: 2, level: 98 } }), bar(100, 104, 97))).toEqual({ kind: 'trailing-stop', level: 98 });
    expect(emulatedExitHit(pos({ side: 'short', takeProfit: 97, trailing: { distance: 2, level: 102 } }), bar(100, 103, 96))).toEqual({
      kind: 'trailing-stop',
      level: 102,
    });
  });

  it('with both set, only the take-profit reached is the take-profit', () => {
    expect(emulatedExitHit(pos({ takeProfit: 103, trailing: { distance: 2, level: 98 } }), bar(100, 103.5, 99))).toEqual({ kind: 'take-profit', level: 103 });
  });

  it('ignores the native stop: that one is the broker\'s', () => {
    expect(emulatedExitHit(pos({ stop: 99 }), bar(100, 100, 90))).toBeNull();
  });
});

describe('trailAfter', () => {
  it('is undefined without a trailing stop', () => {
    expect(trailAfter(pos(), bar(100, 110, 90))).toBeUndefined();
  });

  it('long: follows the high at the distance and never moves down', () => {
    const p = pos({ trailing: { distance: 2, level: 98 } });
    expect(trailAfter(p, bar(100, 103, 99))).toBe(101);
    expect(trailAfter(p, bar(100, 99.5, 98.5))).toBe(98);
    expect(trailAfter(p, bar(100, 100, 99))).toBe(98);
  });

  it('short: follows the low at the distance and never moves up', () => {
    const p = pos({ side: 'short', trailing: { distance: 2, level: 102 } });
    expect(trailAfter(p, bar(100, 101, 97))).toBe(99);
    expect(trailAfter(p, bar(100, 101.5, 100.5))).toBe(102);
  });

  it('rounds to 1e-8 like stored prices', () => {
    const p = pos({ entryPrice: 0.25, trailing: { distance: 0.1, level: 0.1 } });
    expect(0.3 - 0.1).not.toBe(0.2);
    expect(trailAfter(p, bar(0.25, 0.3, 0.25))).toBe(0.2);
    const s = pos({ side: 'short', entryPrice: 0.75, trailing: { distance: 0.1, level: 0.9 } });
    expect(0.7 + 0.1).not.toBe(0.8);
    expect(trailAfter(s, bar(0.75, 0.75, 0.7))).toBe(0.8);
  });
});

describe('initialTrailLevel', () => {
  it('sits the distance from the fill on the losing side', () => {
    expect(initialTrailLevel('long', 100, 2.5)).toBe(97.5);
    expect(initialTrailLevel('short', 100, 2.5)).toBe(102.5);
    expect(initialTrailLevel('long', 0.3, 0.1)).toBe(0.2);
  });
});
