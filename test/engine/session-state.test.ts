import type { Frame } from '../../market/frame';
import { mulberry32 } from '../../market/synthetic';
import { enqueueFrame, initialSessionState, nextCleanTime, pnlOf, type SessionState } from '../../engine/session-state';
import type { Position } from '../../trading/position';

const DAY = 86_400_000;

describe('nextCleanTime', () => {
  it('is later the same day when the clean time has not passed yet', () => {
    expect(nextCleanTime(Date.UTC(2024, 2, 10, 10, 0), '23:45')).toBe(Date.UTC(2024, 2, 10, 23, 45));
    expect(nextCleanTime(Date.UTC(2024, 2, 10, 23, 44, 59, 999), '23:45')).toBe(Date.UTC(2024, 2, 10, 23, 45));
  });

  it('is the next day when the clean time has passed', () => {
    expect(nextCleanTime(Date.UTC(2024, 2, 10, 23, 50), '23:45')).toBe(Date.UTC(2024, 2, 11, 23, 45));
    expect(nextCleanTime(Date.UTC(2024, 2, 10, 23, 45, 0, 1), '23:45')).toBe(Date.UTC(2024, 2, 11, 23, 45));
  });

  it('is strictly after now: exactly at the clean time gives the next day', () => {
    const at = Date.UTC(2024, 2, 10, 23, 45);
    expect(nextCleanTime(at, '23:45')).toBe(at + DAY);
  });

  it('accepts HH:MM:SS', () => {
    expect(nextCleanTime(Date.UTC(2024, 5, 1, 6, 30, 14), '06:30:15')).toBe(Date.UTC(2024, 5, 1, 6, 30, 15));
    expect(nextCleanTime(Date.UTC(2024, 5, 1, 6, 30, 15), '06:30:15')).toBe(Date.UTC(2024, 5, 2, 6, 30, 15));
  });

  it('handles midnight', () => {
    expect(nextCleanTime(Date.UTC(2024, 5, 1, 23, 59), '00:00')).toBe(Date.UTC(2024, 5, 2, 0, 0));
    expect(nextCleanTime(Date.UTC(2024, 5, 1, 0, 0), '00:00')).toBe(Date.UTC(2024, 5, 2, 0, 0));
  });

  it('rolls over months, leap days and years', () => {
    expect(nextCleanTime(Date.UTC(2024, 0, 31, 23, 50), '23:45')).toBe(Date.UTC(2024, 1, 1, 23, 45));
    expect(nextCleanTime(Date.UTC(2024, 1, 28, 23, 50), '23:45')).toBe(Date.UTC(2024, 1, 29, 23, 45));
    expect(nextCleanTime(Date.UTC(2024, 1, 29, 23, 50), '23:45')).toBe(Date.UTC(2024, 2, 1, 23, 45));
    expect(nextCleanTime(Date.UTC(2023, 1, 28, 23, 50), '23:45')).toBe(Date.UTC(2023, 2, 1, 23, 45));
    expect(nextCleanTime(Date.UTC(2024, 11, 31, 23, 46), '23:45')).toBe(Date.UTC(2025, 0, 1, 23, 45));
  });

  it('is always within (now, now + 1 day] and at the clock time', () => {
    const rnd = mulberry32(7);
    for (let i = 0; i < 500; i++) {
      const now = Date.UTC(2020, 0, 1) + Math.floor(rnd() * 2000 * DAY);
      const at = nextCleanTime(now, '23:45');
      expect(at).toBeGreaterThan(now);
      expect(at).toBeLessThanOrEqual(now + DAY);
      expect(new Date(at).toISOString()).toMatch(/T23:45:00\.000Z$/);
    }
  });
});

const T0 = Date.UTC(2024, 0, 2, 10, 0);
const frame = (symbol: string, minute: number, timeframe: Frame['timeframe'] = '1m'): Frame => ({
  symbol,
  timeframe,
  start: T0 + minute * 60_000,
  open: 1,
  high: 1,
  low: 1,
  close: 1,
  volume: 0,
});
const keys = (q: Frame[]) => q.map((f) => `${f.symbol}|${f.timeframe}@${(f.start - T0) / 60_000}`);

describe('enqueueFrame', () => {
  it('appends frames arriving in order', () => {
    const q: Frame[] = [];
    expect(enqueueFrame(q, frame('A', 0))).toBe(true);
    expect(enqueueFrame(q, frame('A', 1))).toBe(true);
    expect(enqueueFrame(q, frame('A', 2))).toBe(true);
    expect(keys(q)).toEqual(['A|1m@0', 'A|1m@1', 'A|1m@2']);
  });

  it('inserts a late frame at its place by start', () => {
    const q = [frame('A', 0), frame('A', 2), frame('A', 3)];
    expect(enqueueFrame(q, frame('A', 1))).toBe(true);
    expect(enqueueFrame(q, frame('A', -1))).toBe(true);
    expect(keys(q)).toEqual(['A|1m@-1', 'A|1m@0', 'A|1m@1', 'A|1m@2', 'A|1m@3']);
  });

  it('orders frames of the same start by stream key', () => {
    const q = [frame('A', 0), frame('C', 0), frame('A', 1)];
    expect(enqueueFrame(q, frame('B', 0))).toBe(true);
    expect(enqueueFrame(q, frame('A', 0, '5m'))).toBe(true);
    expect(keys(q)).toEqual(['A|1m@0', 'A|5m@0', 'B|1m@0', 'C|1m@0', 'A|1m@1']);
  });

  it('detects a duplicate wherever it sits among other streams, and leaves the queue unchanged', () => {
    const q = [frame('A', 0), frame('B', 0), frame('C', 0), frame('A', 1), frame('B', 1), frame('C', 1)];
    const before = keys(q);
    for (const dup of [frame('A', 0), frame('B', 0), frame('C', 0), frame('A', 1), frame('C', 1)]) {
      expect(enqueueFrame(q, dup)).toBe(false);
    }
    expect(keys(q)).toEqual(before);
  });

  it('does not take another stream with the same start (or the same symbol on another timeframe) for a duplicate', () => {
    const q = [frame('A', 0), frame('A', 1)];
    expect(enqueueFrame(q, frame('B', 1))).toBe(true);
    expect(enqueueFrame(q, frame('A', 1, '5m'))).toBe(true);
    expect(q).toHaveLength(4);
  });

  it('any arrival order with repeats yields the sorted set of distinct frames', () => {
    const rnd = mulberry32(11);
    const distinct: Frame[] = [];
    for (let m = 0; m < 30; m++) for (const s of ['EURUSD', 'GBPUSD', 'USDJPY']) distinct.push(frame(s, m));
    const arrivals = [...distinct, ...distinct.filter(() => rnd() < 0.3)];
    for (let i = arrivals.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [arrivals[i], arrivals[j]] = [arrivals[j], arrivals[i]];
    }
    const q: Frame[] = [];
    const accepted = arrivals.filter((f) => enqueueFrame(q, f)).length;
    expect(accepted).toBe(distinct.length);
    expect(keys(q)).toEqual(keys(distinct)); // distinct is built in (start, symbol) order
  });
});

describe('pnlOf', () => {
  const pos = (over: Partial<Position>): Position => ({
    positionRef: 'acc-000001',
    systemId: 'a',
    symbol: 'EURUSD',
    side: 'long',
    quantity: 2,
    entryPrice: 100,
    openedAt: T0,
    ...over,
  });
  const state = (over: Partial<SessionState>): SessionState => ({ ...initialSessionState(), startingBalance: 100_000, ...over });

  it('is zero with no systems', () => {
    expect(pnlOf(state({}))).toEqual({ realised: 0, unrealised: 0, total: 0, bySystem: {} });
  });

  it('sums realised P&L and marks open positions to the last price, per system and in total', () => {
    const view = pnlOf(
      state({
        systems: {
          a: { params: {}, state: {}, realisedPnl: 10 },
          b: { params: {}, state: {}, realisedPnl: -4 },
          c: { params: {}, state: {}, realisedPnl: 1.5 },
        },
        positions: {
          a: pos({ systemId: 'a', symbol: 'EURUSD', side: 'long', quantity: 2, entryPrice: 100 }),
          b: pos({ systemId: 'b', symbol: 'GBPUSD', side: 'short', quantity: 3, entryPrice: 50 }),
        },
        lastPrice: { EURUSD: 103, GBPUSD: 51 },
      }),
    );
    expect(view.bySystem).toEqual({
      a: { realised: 10, unrealised: 6 },
      b: { realised: -4, unrealised: -3 },
      c: { realised: 1.5, unrealised: 0 },
    });
    expect(view.realised).toBe(7.5);
    expect(view.unrealised).toBe(3);
    expect(view.total).toBe(10.5);
  });

  it('counts a position without a last price as zero unrealised', () => {
    const view = pnlOf(
      state({ systems: { a: { params: {}, state: {}, realisedPnl: 2 } }, positions: { a: pos({ symbol: 'NOPRICE' }) }, lastPrice: { EURUSD: 1 } }),
    );
    expect(view).toEqual({ realised: 2, unrealised: 0, total: 2, bySystem: { a: { realised: 2, unrealised: 0 } } });
  });
});
