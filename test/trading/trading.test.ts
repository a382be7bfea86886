import type { OrderReport } from '../../trading/order-report';
import { clientOrderIdFor, fillOf } from '../../trading/order';
import { directionOf, stopTouched, unrealisedPnl, type Position } from '../../trading/position';
import { closeTrade, round8 } from '../../trading/trade';

const pos = (over: Partial<Position> = {}): Position => ({
  positionRef: 'acc-000001',
  systemId: 'ma',
  symbol: 'EURUSD',
  side: 'long',
  quantity: 2,
  entryPrice: 100,
  openedAt: 1_700_000_000_000,
  ...over,
});

describe('clientOrderIdFor', () => {
  it('is the account and the sequence padded to 6 digits', () => {
    expect(clientOrderIdFor('acc', 1)).toBe('acc-000001');
    expect(clientOrderIdFor('acc', 42)).toBe('acc-000042');
    expect(clientOrderIdFor('acc', 999_999)).toBe('acc-999999');
  });

  it('is deterministic and distinct per account and per sequence', () => {
    expect(clientOrderIdFor('acc', 7)).toBe(clientOrderIdFor('acc', 7));
    expect(clientOrderIdFor('acc', 7)).not.toBe(clientOrderIdFor('acc', 8));
    expect(clientOrderIdFor('acc', 7)).not.toBe(clientOrderIdFor('acd', 7));
    const ids = new Set(Array.from({ length: 1000 }, (_, i) => clientOrderIdFor('acc', i + 1)));
    expect(ids.size).toBe(1000);
  });

  it('sorts in sequence order (zero padding)', () => {
    const ids = [1, 2, 9, 10, 99, 100, 12_345].map((s) => clientOrderIdFor('acc', s));
    expect([...ids].sort()).toEqual(ids);
  });

  it('fits 30 chars of [A-Za-z0-9_-] (IG deal reference) for a 20-char account id', () => {
    const account = 'abcdefghij_klmnopq12';
    expect(account).toHaveLength(20);
    for (const seq of [1, 999_999, 1_000_000, 999_999_999]) {
      const id = clientOrderIdFor(account, seq);
      expect(id.length).toBeLessThanOrEqual(30);
      expect(id).toMatch(/^[A-Za-z0-9_-]{1,30}$/);
    }
  });
});

describe('stopTouched', () => {
  it('is never touched without a stop', () => {
    expect(stopTouched(pos(), { open: 1, high: 1000, low: 0.0001 })).toEqual({ touched: false });
  });

  it('a long stop is touched by the low, at the stop, or at the open after a gap', () => {
    const p = pos({ side: 'long', stop: 98 });
    expect(stopTouched(p, { open: 100, high: 101, low: 98.5 })).toEqual({ touched: false });
    expect(stopTouched(p, { open: 100, high: 101, low: 98 })).toEqual({ touched: true, price: 98 });
    expect(stopTouched(p, { open: 99, high: 101, low: 97 })).toEqual({ touched: true, price: 98 });
    expect(stopTouched(p, { open: 96, high: 96.5, low: 95 })).toEqual({ touched: true, price: 96 });
  });

  it('a short stop is touched by the high, at the stop, or at the open after a gap', () => {
    const p = pos({ side: 'short', stop: 102 });
    expect(stopTouched(p, { open: 100, high: 101.5, low: 99 })).toEqual({ touched: false });
    expect(stopTouched(p, { open: 100, high: 102, low: 99 })).toEqual({ touched: true, price: 102 });
    expect(stopTouched(p, { open: 101, high: 103, low: 100 })).toEqual({ touched: true, price: 102 });
    expect(stopTouched(p, { open: 104, high: 105, low: 103 })).toEqual({ touched: true, price: 104 });
  });
});

describe('unrealisedPnl', () => {
  it('is (price - entry) × quantity for a long and the opposite for a short', () => {
    expect(directionOf('long')).toBe(1);
    expect(directionOf('short')).toBe(-1);
    expect(unrealisedPnl(pos({ side: 'long', quantity: 2, entryPrice: 100 }), 103)).toBe(6);
    expect(unrealisedPnl(pos({ side: 'long', quantity: 2, entryPrice: 100 }), 97)).toBe(-6);
    expect(unrealisedPnl(pos({ side: 'short', quantity: 3, entryPrice: 50 }), 48)).toBe(6);
    expect(unrealisedPnl(pos({ side: 'short', quantity: 3, entryPrice: 50 }), 51)).toBe(-3);
    expect(unrealisedPnl(pos(), 100)).toBe(0);
  });
});

describe('closeTrade', () => {
  it('carries the position and the exit into a trade', () => {
    const p = pos({ side: 'long', quantity: 2, entryPrice: 100, stop: 98 });
    expect(closeTrade(p, { clientOrderId: 'acc-000002', price: 103.5, at: 1_700_000_060_000, reason: 'signal' })).toEqual({
      positionRef: 'acc-000001',
      exitClientOrderId: 'acc-000002',
      systemId: 'ma',
      symbol: 'EURUSD',
      side: 'long',
      quantity: 2,
      entryPrice: 100,
      exitPrice: 103.5,
      pnl: 7,
      openedAt: 1_700_000_000_000,
      closedAt: 1_700_000_060_000,
      exitReason: 'signal',
    });
  });

  it('books a short with the sign reversed', () => {
    const t = closeTrade(pos({ side: 'short', quantity: 3, entryPrice: 50 }), { clientOrderId: 'x-S', price: 52, at: 1, reason: 'stop' });
    expect(t.pnl).toBe(-6);
    expect(t.exitReason).toBe('stop');
  });

  it('rounds P&L to 1e-8, so it equals what DECIMAL(20,8) stores', () => {
    // (1.3 - 1.1) * 3 is 0.6000000000000001 in doubles.
    expect((1.3 - 1.1) * 3).not.toBe(0.6);
    expect(closeTrade(pos({ quantity: 3, entryPrice: 1.1 }), { clientOrderId: 'c', price: 1.3, at: 1, reason: 'signal' }).pnl).toBe(0.6);
    const t = closeTrade(pos({ quantity: 0.123456789, entryPrice: 1.08423 }), { clientOrderId: 'c', price: 1.09123, at: 1, reason: 'manual' });
    expect(t.pnl).toBe(0.00086420);
    expect(round8(0.123456789 * 0.007)).toBe(0.0008642);
    expect(round8(-1.234567895)).toBe(-1.2345679);
  });
});

describe('fillOf', () => {
  const report = (over: Partial<OrderReport>): OrderReport => ({
    clientOrderId: 'acc-000001',
    brokerOrderId: 'P1',
    status: 'filled',
    symbol: 'EURUSD',
    side: 'buy',
    quantity: 2,
    filledQuantity: 2,
    fillPrice: 100.02,
    filledAt: 1_700_000_060_000,
    ...over,
  });

  it('turns a filled report into a fill of the filled quantity', () => {
    expect(fillOf(report({ quantity: 3, filledQuantity: 2 }))).toEqual({
      clientOrderId: 'acc-000001',
      symbol: 'EURUSD',
      side: 'buy',
      quantity: 2,
      price: 100.02,
      filledAt: 1_700_000_060_000,
    });
  });

  it('turns a dry-run report into a fill', () => {
    expect(fillOf(report({ status: 'dry-run', side: 'sell', filledAt: null }))).toMatchObject({ side: 'sell', filledAt: null });
  });

  it('has no fill for a rejected or pending order', () => {
    expect(fillOf(report({ status: 'rejected', filledQuantity: 0, fillPrice: 0, filledAt: null, reason: 'no' }))).toBeNull();
    expect(fillOf(report({ status: 'pending' }))).toBeNull();
  });
});
