import { RiskLimitsSchema, type RiskLimits } from '../../risk/limits';
import type { ProtectionLock } from '../../risk/locks';
import { checkIntent, type IntentToCheck, type RiskView } from '../../risk/pre-trade';

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

const open = (over: Partial<IntentToCheck> = {}): IntentToCheck => ({
  systemId: 'ma',
  symbol: 'EURUSD',
  side: 'buy',
  quantity: 10,
  intent: 'open',
  price: 100,
  ...over,
});
const close = (over: Partial<IntentToCheck> = {}): IntentToCheck => open({ intent: 'close', side: 'sell', ...over });

const view = (over: Partial<RiskView> = {}): RiskView => ({
  tradingState: 'active',
  now: NOW,
  positions: [],
  recentOrderTimes: [],
  locks: [],
  instrument: null,
  ...over,
});
const limits = (over: Partial<RiskLimits> = {}): RiskLimits => RiskLimitsSchema.parse(over);

const position = (symbol: string, side: 'long' | 'short', quantity: number, markPrice = 100) => ({ symbol, side, quantity, markPrice });
const instrument = (over: Partial<NonNullable<RiskView['instrument']>> = {}) => ({
  symbol: 'EURUSD',
  tradable: true,
  marketStatus: 'TRADEABLE',
  minQuantity: 1,
  quantityStep: 1,
  ...over,
});
const lock = (over: Partial<ProtectionLock>): ProtectionLock => ({
  id: 'loss-cooldown:EURUSD:1',
  kind: 'loss-cooldown',
  symbol: 'EURUSD',
  since: NOW - 1_000,
  until: NOW + 1_000,
  reason: 'losing exit on EURUSD',
  ...over,
});

const refusal = (i: IntentToCheck, v: RiskView, l: RiskLimits) => {
  const verdict = checkIntent(i, v, l);
  if (verdict.ok) throw new Error('expected a refusal');
  return verdict;
};

describe('checkIntent: trading state', () => {
  it('active lets an open and a close pass with default limits', () => {
    expect(checkIntent(open(), view(), limits())).toEqual({ ok: true });
    expect(checkIntent(close(), view(), limits())).toEqual({ ok: true });
  });

  it('reducing lets closes pass and refuses opens with rule trading-state', () => {
    expect(checkIntent(close(), view({ tradingState: 'reducing' }), limits())).toEqual({ ok: true });
    const r = refusal(open(), view({ tradingState: 'reducing' }), limits());
    expect(r.rule).toBe('trading-state');
    expect(r.numbers).toEqual({ tradingState: 'reducing', intent: 'open' });
    expect(r.detail).toBe('trading state is reducing: only orders that close a position pass, this order opens one');
  });

  it('halted refuses opens and closes with rule trading-state', () => {
    for (const i of [open(), close()]) {
      const r = refusal(i, view({ tradingState: 'halted' }), limits());
      expect(r.rule).toBe('trading-state');
      expect(r.numbers).toEqual({ tradingState: 'halted', intent: i.intent });
      expect(r.detail).toContain('halted');
    }
  });

  it('closes pass every other rule: limits, locks, instrument', () => {
    const tight = limits({ maxOrderQuantity: 1, maxOrderNotional: 1, maxOpenPositions: 1, maxOrdersPerMinute: 1 });
    const busy = view({
      tradingState: 'reducing',
      positions: [position('EURUSD', 'long', 10), position('GBPUSD', 'long', 10)],
      recentOrderTimes: [NOW - 1, NOW],
      locks: [lock({ kind: 'stop-loss-guard', symbol: undefined })],
      instrument: instrument({ tradable: false, minQuantity: 100 }),
    });
    expect(checkIntent(close(), busy, tight)).toEqual({ ok: true });
  });
});

describe('checkIntent: locks', () => {
  it.each(['stop-loss-guard', 'loss-cooldown', 'session-closed'] as const)('a %s lock on the symbol refuses with its kind as the rule', (kind) => {
    const l = lock({ kind, id: `${kind}:EURUSD:${NOW - 1_000}` });
    const r = refusal(open(), view({ locks: [l] }), limits());
    expect(r.rule).toBe(kind);
    expect(r.numbers).toEqual({ lockId: l.id, since: l.since, until: l.until, now: NOW });
    expect(r.detail).toBe(`entries on EURUSD are locked by ${kind} until 2026-11-25T12:00:01.000Z (losing exit on EURUSD)`);
  });

  it('a lock without symbol blocks every symbol', () => {
    const l = lock({ kind: 'stop-loss-guard', symbol: undefined, reason: '3 stops' });
    const r = refusal(open({ symbol: 'USDJPY' }), view({ locks: [l] }), limits());
    expect(r.rule).toBe('stop-loss-guard');
    expect(r.detail).toContain('entries on every symbol are locked');
  });

  it('a lock on another symbol does not block', () => {
    expect(checkIntent(open({ symbol: 'GBPUSD' }), view({ locks: [lock({})] }), limits())).toEqual({ ok: true });
  });

  it('a lock expires at until and is not in force before since', () => {
    const l = lock({ since: NOW, until: NOW + 60_000 });
    expect(refusal(open(), view({ locks: [l], now: NOW + 59_999 }), limits()).rule).toBe('loss-cooldown');
    expect(checkIntent(open(), view({ locks: [l], now: NOW + 60_000 }), limits())).toEqual({ ok: true });
    expect(checkIntent(open(), view({ locks: [l], now: NOW - 1 }), limits())).toEqual({ ok: true });
  });
});

describe('checkIntent: order limits', () => {
  it('max-order-quantity refuses over the limit and lets the limit itself pass', () => {
    const l = limits({ maxOrderQuantity: 10 });
    const r = refusal(open({ quantity: 10.5 }), view(), l);
    expect(r).toEqual({
      ok: false,
      rule: 'max-order-quantity',
      detail: 'order quantity 10.5 exceeds maxOrderQuantity 10',
      numbers: { quantity: 10.5, limit: 10 },
    });
    expect(checkIntent(open({ quantity: 10 }), view(), l)).toEqual({ ok: true });
    expect(checkIntent(open({ quantity: 9.5 }), view(), l)).toEqual({ ok: true });
  });

  it('max-order-notional refuses over the limit and lets the limit itself pass', () => {
    const l = limits({ maxOrderNotional: 10_000 });
    const r = refusal(open({ quantity: 120 }), view(), l);
    expect(r).toEqual({
      ok: false,
      rule: 'max-order-notional',
      detail: 'order notional 12,000 (quantity 120 × price 100) exceeds maxOrderNotional 10,000',
      numbers: { quantity: 120, price: 100, notional: 12_000, limit: 10_000 },
    });
    expect(refusal(open({ quantity: 100.01 }), view(), l).rule).toBe('max-order-notional');
    expect(checkIntent(open({ quantity: 100 }), view(), l)).toEqual({ ok: true });
    expect(checkIntent(open({ quantity: 99.99 }), view(), l)).toEqual({ ok: true });
  });

  it('max-order-notional tolerates float error in quantity × price', () => {
    expect(checkIntent(open({ quantity: 3, price: 0.1 }), view(), limits({ maxOrderNotional: 0.3 }))).toEqual({ ok: true });
  });
});

describe('checkIntent: max-position-per-symbol', () => {
  const l = limits({ maxPositionPerSymbol: 10 });

  it('refuses when the absolute net quantity after the order exceeds the limit', () => {
    const v = view({ positions: [position('EURUSD', 'long', 6), position('EURUSD', 'long', 2), position('GBPUSD', 'long', 50)] });
    const r = refusal(open({ quantity: 3 }), v, l);
    expect(r.rule).toBe('max-position-per-symbol');
    expect(r.numbers).toEqual({ currentNet: 8, order: 3, after: 11, limit: 10 });
    expect(r.detail).toBe('net position in EURUSD after the order 11 (now 8, order +3) exceeds maxPositionPerSymbol 10');
    expect(checkIntent(open({ quantity: 2 }), v, l)).toEqual({ ok: true });
  });

  it('nets long and short positions of all systems, and a sell shrinks a long', () => {
    const v = view({ positions: [position('EURUSD', 'long', 9), position('EURUSD', 'short', 4)] });
    expect(checkIntent(open({ quantity: 5 }), v, l)).toEqual({ ok: true });
    expect(refusal(open({ quantity: 6 }), v, l).numbers).toEqual({ currentNet: 5, order: 6, after: 11, limit: 10 });
    expect(checkIntent(open({ side: 'sell', quantity: 15 }), v, l)).toEqual({ ok: true });
    const short = refusal(open({ side: 'sell', quantity: 16 }), v, l);
    expect(short.numbers).toEqual({ currentNet: 5, order: -16, after: 11, limit: 10 });
    expect(short.detail).toContain('order -16');
  });
});

describe('checkIntent: max-total-exposure', () => {
  const l = limits({ maxTotalExposure: 50_000 });
  const v = view({ positions: [position('EURUSD', 'long', 200, 100), position('GBPUSD', 'short', 100, 200)] });

  it('refuses when open exposure plus the order notional exceeds the limit', () => {
    const r = refusal(open({ quantity: 101 }), v, l);
    expect(r.rule).toBe('max-total-exposure');
    expect(r.numbers).toEqual({ openExposure: 40_000, notional: 10_100, exposure: 50_100, limit: 50_000 });
    expect(r.detail).toBe('total exposure after the order 50,100 (open 40,000 + order 10,100) exceeds maxTotalExposure 50,000');
  });

  it('lets the limit itself and less pass', () => {
    expect(checkIntent(open({ quantity: 100 }), v, l)).toEqual({ ok: true });
    expect(checkIntent(open({ quantity: 99 }), v, l)).toEqual({ ok: true });
  });
});

describe('checkIntent: max-open-positions', () => {
  const l = limits({ maxOpenPositions: 3 });

  it('refuses an open that would make more positions than the limit', () => {
    const v = view({ positions: [position('A', 'long', 1), position('B', 'long', 1), position('C', 'short', 1)] });
    const r = refusal(open(), v, l);
    expect(r.rule).toBe('max-open-positions');
    expect(r.numbers).toEqual({ openPositions: 3, after: 4, limit: 3 });
    expect(r.detail).toBe('open positions after the order 4 would exceed maxOpenPositions 3');
  });

  it('lets the open that reaches the limit pass', () => {
    const v = view({ positions: [position('A', 'long', 1), position('B', 'long', 1)] });
    expect(checkIntent(open(), v, l)).toEqual({ ok: true });
  });

  it('defaults to 20', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => position(`S${i}`, 'long', 1));
    expect(refusal(open(), view({ positions: twenty }), limits()).numbers).toEqual({ openPositions: 20, after: 21, limit: 20 });
    expect(checkIntent(open(), view({ positions: twenty.slice(1) }), limits())).toEqual({ ok: true });
  });
});

describe('checkIntent: max-orders-per-minute', () => {
  const l = limits({ maxOrdersPerMinute: 3 });

  it('refuses when the orders of the last 60 s reach the limit', () => {
    const r = refusal(open(), view({ recentOrderTimes: [NOW - 59_999, NOW - 30_000, NOW] }), l);
    expect(r.rule).toBe('max-orders-per-minute');
    expect(r.numbers).toEqual({ ordersLastMinute: 3, limit: 3 });
    expect(r.detail).toBe('3 orders sent in the last 60 s already reach maxOrdersPerMinute 3');
  });

  it('lets one under the limit pass, and does not count orders 60 s old or older', () => {
    expect(checkIntent(open(), view({ recentOrderTimes: [NOW - 30_000, NOW] }), l)).toEqual({ ok: true });
    expect(checkIntent(open(), view({ recentOrderTimes: [NOW - 120_000, NOW - 60_000, NOW - 30_000, NOW] }), l)).toEqual({ ok: true });
  });

  it('does not count times after now', () => {
    expect(checkIntent(open(), view({ recentOrderTimes: [NOW - 30_000, NOW, NOW + 1] }), l)).toEqual({ ok: true });
  });
});

describe('checkIntent: instrument', () => {
  it('instrument-closed refuses when the instrument is not tradable, naming the market status', () => {
    const r = refusal(open(), view({ instrument: instrument({ tradable: false, marketStatus: 'CLOSED' }) }), limits());
    expect(r).toEqual({
      ok: false,
      rule: 'instrument-closed',
      detail: 'EURUSD is not tradable now (market status CLOSED)',
      numbers: { tradable: false, marketStatus: 'CLOSED' },
    });
    expect(checkIntent(open(), view({ instrument: instrument() }), limits())).toEqual({ ok: true });
  });

  it('min-quantity refuses below the minimum and lets the minimum pass', () => {
    const ins = instrument({ minQuantity: 0.5, quantityStep: 0.1 });
    const r = refusal(open({ quantity: 0.4 }), view({ instrument: ins }), limits());
    expect(r).toEqual({
      ok: false,
      rule: 'min-quantity',
      detail: 'order quantity 0.4 is below the minimum quantity 0.5 of EURUSD',
      numbers: { quantity: 0.4, minQuantity: 0.5 },
    });
    expect(checkIntent(open({ quantity: 0.5 }), view({ instrument: ins }), limits())).toEqual({ ok: true });
  });

  it('quantity-step refuses a quantity off the step and tolerates float error', () => {
    const ins = instrument({ minQuantity: 0.1, quantityStep: 0.1 });
    const r = refusal(open({ quantity: 1.25 }), view({ instrument: ins }), limits());
    expect(r).toEqual({
      ok: false,
      rule: 'quantity-step',
      detail: 'order quantity 1.25 is not a multiple of the quantity step 0.1 of EURUSD',
      numbers: { quantity: 1.25, quantityStep: 0.1 },
    });
    expect(checkIntent(open({ quantity: 0.1 + 0.2 }), view({ instrument: ins }), limits())).toEqual({ ok: true });
    expect(checkIntent(open({ quantity: 1.3 }), view({ instrument: ins }), limits())).toEqual({ ok: true });
  });

  it('a quantity step of 0 allows any quantity', () => {
    const ins = instrument({ minQuantity: 0, quantityStep: 0 });
    expect(checkIntent(open({ quantity: 1.2345 }), view({ instrument: ins }), limits())).toEqual({ ok: true });
  });

  it('is skipped when checkInstrument is false or the instrument was not looked up', () => {
    const closed = instrument({ tradable: false, marketStatus: 'CLOSED' });
    expect(checkIntent(open(), view({ instrument: closed }), limits({ checkInstrument: false }))).toEqual({ ok: true });
    expect(checkIntent(open(), view({ instrument: null }), limits())).toEqual({ ok: true });
  });
});

describe('checkIntent: rule order', () => {
  it('reports the first broken rule in the order of RiskRule', () => {
    const everything = {
      tradingState: 'reducing' as const,
      locks: [lock({ kind: 'session-closed', symbol: undefined })],
      positions: [position('EURUSD', 'long', 100), position('GBPUSD', 'long', 100)],
      recentOrderTimes: [NOW],
      instrument: instrument({ tradable: false, minQuantity: 1_000, quantityStep: 7 }),
    };
    const all = {
      maxOrderQuantity: 1,
      maxOrderNotional: 1,
      maxPositionPerSymbol: 1,
      maxTotalExposure: 1,
      maxOpenPositions: 1,
      maxOrdersPerMinute: 1,
    };
    const expected: [string, Partial<RiskView>, Partial<RiskLimits>][] = [
      ['trading-state', everything, all],
      ['session-closed', { ...everything, tradingState: 'active' }, all],
      ['max-order-quantity', { ...everything, tradingState: 'active', locks: [] }, all],
      ['max-order-notional', { ...everything, tradingState: 'active', locks: [] }, { ...all, maxOrderQuantity: undefined }],
      ['max-position-per-symbol', { ...everything, tradingState: 'active', locks: [] }, { ...all, maxOrderQuantity: undefined, maxOrderNotional: undefined }],
    ];
    for (const [rule, v, l] of expected) expect(refusal(open(), view(v), limits(l)).rule).toBe(rule);

    let lim: Partial<RiskLimits> = { ...all, maxOrderQuantity: undefined, maxOrderNotional: undefined, maxPositionPerSymbol: undefined };
    const v = view({ ...everything, tradingState: 'active', locks: [] });
    expect(refusal(open(), v, limits(lim)).rule).toBe('max-total-exposure');
    lim = { ...lim, maxTotalExposure: undefined };
    expect(refusal(open(), v, limits(lim)).rule).toBe('max-open-positions');
    lim = { ...lim, maxOpenPositions: 20 };
    expect(refusal(open(), v, limits(lim)).rule).toBe('max-orders-per-minute');
    lim = { ...lim, maxOrdersPerMinute: 30 };
    expect(refusal(open(), v, limits(lim)).rule).toBe('instrument-closed');
    const open2 = (ins: Partial<NonNullable<RiskView['instrument']>>) => view({ ...v, instrument: instrument({ ...everything.instrument, ...ins }) });
    expect(refusal(open(), open2({ tradable: true }), limits(lim)).rule).toBe('min-quantity');
    expect(refusal(open(), open2({ tradable: true, minQuantity: 1 }), limits(lim)).rule).toBe('quantity-step');
    expect(checkIntent(open(), open2({ tradable: true, minQuantity: 1, quantityStep: 5 }), limits(lim))).toEqual({ ok: true });
  });
});
