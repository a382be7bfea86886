import {
  workingOrderExpired,
  workingOrderExpiresAt,
  workingOrderFor,
  workingOrderRef,
  workingOrderTriggered,
  type WorkingOrder,
} from '../../trading/working-order';

const T0 = 1_700_000_040_000;
const wo = (over: Partial<WorkingOrder> = {}): WorkingOrder => ({
  ref: 'acc-W000001',
  systemId: 'cb',
  symbol: 'EURUSD',
  side: 'buy',
  quantity: 1,
  type: 'stop',
  price: 100,
  createdAt: T0,
  ...over,
});
const next = (high: number, low: number, start = T0 + 60_000) => ({ start, high, low });

describe('workingOrderTriggered', () => {
  it('stop buy: a high at or above the price', () => {
    expect(workingOrderTriggered(wo(), next(99.99, 98))).toBe(false);
    expect(workingOrderTriggered(wo(), next(100, 98))).toBe(true);
    expect(workingOrderTriggered(wo(), next(104, 103))).toBe(true); // gapped up through it
  });

  it('stop sell: a low at or below the price', () => {
    const o = wo({ side: 'sell' });
    expect(workingOrderTriggered(o, next(102, 100.01))).toBe(false);
    expect(workingOrderTriggered(o, next(102, 100))).toBe(true);
    expect(workingOrderTriggered(o, next(97, 95))).toBe(true); // gapped down through it
  });

  it('limit buy: a low at or below the price', () => {
    const o = wo({ type: 'limit' });
    expect(workingOrderTriggered(o, next(102, 100.01))).toBe(false);
    expect(workingOrderTriggered(o, next(102, 100))).toBe(true);
    expect(workingOrderTriggered(o, next(97, 95))).toBe(true);
  });

  it('limit sell: a high at or above the price', () => {
    const o = wo({ type: 'limit', side: 'sell' });
    expect(workingOrderTriggered(o, next(99.99, 98))).toBe(false);
    expect(workingOrderTriggered(o, next(100, 98))).toBe(true);
    expect(workingOrderTriggered(o, next(104, 103))).toBe(true);
  });

  it('never on the frame that placed it (or an earlier one): its range came before the decision', () => {
    expect(workingOrderTriggered(wo(), next(120, 80, T0))).toBe(false);
    expect(workingOrderTriggered(wo(), next(120, 80, T0 - 60_000))).toBe(false);
    expect(workingOrderTriggered(wo({ type: 'limit', side: 'sell' }), next(120, 80, T0))).toBe(false);
  });
});

describe('workingOrderExpired', () => {
  it('never without an expiry', () => {
    expect(workingOrderExpired(wo(), Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('from expiresAt on, not before', () => {
    const o = wo({ expiresAt: T0 + 180_000 });
    expect(workingOrderExpired(o, T0 + 179_999)).toBe(false);
    expect(workingOrderExpired(o, T0 + 180_000)).toBe(true);
    expect(workingOrderExpired(o, T0 + 240_000)).toBe(true);
  });
});

describe('workingOrderExpiresAt', () => {
  it('counts from the decision, taken at the end of the frame that placed it', () => {
    expect(workingOrderExpiresAt(T0, 60_000, 120_000)).toBe(T0 + 180_000);
  });
});

describe('workingOrderRef', () => {
  it('is the account, W and the zero-padded counter, so refs sort in order', () => {
    expect(workingOrderRef('acc', 1)).toBe('acc-W000001');
    expect(workingOrderRef('acc', 123_456)).toBe('acc-W123456');
    const refs = [1, 2, 10, 99, 100].map((n) => workingOrderRef('acc', n));
    expect([...refs].sort()).toEqual(refs);
  });
});

describe('workingOrderFor', () => {
  const frame = { symbol: 'EURUSD', start: T0, timeframe: '1m' as const };

  it('takes side, quantity and legs from the decision, the price and expiry from the entry', () => {
    const d = { action: 'sell' as const, quantity: 3, stop: 103, takeProfit: 95, trailingStop: 1.5, reason: 'why' };
    expect(workingOrderFor('acc-W000007', 'cb', d, { type: 'stop', price: 99, expiresAfterMs: 120_000 }, frame)).toEqual({
      ref: 'acc-W000007', systemId: 'cb', symbol: 'EURUSD', side: 'sell', quantity: 3, type: 'stop', price: 99,
      stop: 103, takeProfit: 95, trailingStop: 1.5, createdAt: T0, expiresAt: T0 + 180_000,
    });
  });

  it('leaves out the legs and the expiry the decision does not have (JSON-clean state)', () => {
    const o = workingOrderFor('acc-W000001', 'cb', { action: 'buy', quantity: 1 }, { type: 'limit', price: 98 }, frame);
    expect(Object.keys(o).sort()).toEqual(['createdAt', 'price', 'quantity', 'ref', 'side', 'symbol', 'systemId', 'type']);
    expect(o).toMatchObject({ side: 'buy', type: 'limit', price: 98 });
  });
});
