/**
 * Each pre-trade risk rule as the engine applies it, with no Temporal server: a refused entry sends
 * nothing to the broker, takes no order id and is recorded with its rule and numbers; closes are only
 * subject to the trading state (reducing lets them through, halted refuses them); paused skips entries.
 */
import { BARS_BASE, bars, flat, scriptedSystem } from '../support/scripted-bars';
import type { SessionConfigInput } from '../../config/session-config';
import { EngineHarness } from './engine-harness';

const SYM = 'UNIT';
const placed = (h: EngineHarness) => h.effects.flatMap((e) => (e.kind === 'placeOrder' ? [[e.request.clientOrderId, e.request.intent, e.request.side, e.request.quantity]] : []));
const refusals = (h: EngineHarness) => h.outcomes.flatMap((o) => o.refusals ?? []);

test('max-order-quantity: over the limit refused with its numbers, at the limit passes', () => {
  const h = new EngineHarness({ risk: { maxOrderQuantity: 5 }, systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 6 }, { frame: 2, action: 'buy', quantity: 5 }])] });
  h.feed(bars(SYM, flat(1, 100)));
  expect(h.kinds()).toEqual(['recordOutcome']);
  expect(refusals(h)).toEqual([
    expect.objectContaining({ refusalId: 'unit-R000001', rule: 'max-order-quantity', systemId: 's', intent: 'open', side: 'buy', quantity: 6, frameStart: BARS_BASE, numbers: { quantity: 6, limit: 5 }, detail: 'order quantity 6 exceeds maxOrderQuantity 5' }),
  ]);
  h.feed(bars(SYM, flat(2, 100)).slice(1));
  expect(placed(h)).toEqual([['unit-000001', 'open', 'buy', 5]]);
  expect(h.engine.state.counters.ordersRefused).toBe(1);
  expect(h.engine.risk().lastRefusals).toHaveLength(1);
});

test('max-order-notional: quantity × the last close over the limit is refused', () => {
  const h = new EngineHarness({ risk: { maxOrderNotional: 900 }, systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'sell', quantity: 10 }, { frame: 2, action: 'sell', quantity: 10 }])] });
  h.feed(bars(SYM, flat(1, 100)));
  expect(refusals(h)).toEqual([expect.objectContaining({ rule: 'max-order-notional', numbers: { quantity: 10, price: 100, notional: 1000, limit: 900 } })]);
  expect(placed(h)).toEqual([]);
  // At 90 the same order is 900: at the limit, it passes.
  h.feed(bars(SYM, flat(2, 90)).slice(1));
  expect(placed(h)).toEqual([['unit-000001', 'open', 'sell', 10]]);
});

test('max-position-per-symbol: the net quantity over all systems after the order; an order that reduces the net passes', () => {
  const h = new EngineHarness({
    risk: { maxPositionPerSymbol: 3 },
    systems: [
      scriptedSystem('a', SYM, [{ frame: 1, action: 'buy', quantity: 2 }]),
      scriptedSystem('b', SYM, [{ frame: 1, action: 'buy', quantity: 2 }, { frame: 2, action: 'sell', quantity: 3 }]),
    ],
  });
  h.feed(bars(SYM, flat(1, 100)));
  expect(refusals(h)).toEqual([expect.objectContaining({ systemId: 'b', rule: 'max-position-per-symbol', numbers: { currentNet: 2, order: 2, after: 4, limit: 3 } })]);
  h.feed(bars(SYM, flat(2, 100)).slice(1));
  expect(placed(h)).toEqual([
    ['unit-000001', 'open', 'buy', 2],
    ['unit-000002', 'open', 'sell', 3],
  ]);
});

test('max-total-exposure: open positions (a foreign one too, marked at its entry when no price was seen) plus the order; equal to the limit passes', () => {
  const h = new EngineHarness({
    risk: { maxTotalExposure: 1_000 },
    systems: [scriptedSystem('a', SYM, [{ frame: 1, action: 'buy', quantity: 5 }]), scriptedSystem('b', SYM, [{ frame: 1, action: 'buy', quantity: 4 }, { frame: 2, action: 'buy', quantity: 3 }])],
  });
  h.brokerPositions = [{ positionRef: 'MANUAL-1', brokerPositionId: 'm', symbol: 'OTHER', side: 'short', quantity: 4, entryPrice: 50 }];
  expect(h.run(h.engine.reconcile('test')).drifts.map((d) => d.kind)).toEqual(['foreign-at-broker']);
  expect(h.engine.state.foreignPositions).toHaveLength(1);
  h.feed(bars(SYM, flat(1, 100)));
  expect(refusals(h)).toEqual([expect.objectContaining({ systemId: 'b', rule: 'max-total-exposure', numbers: { openExposure: 700, notional: 400, exposure: 1_100, limit: 1_000 } })]);
  h.feed(bars(SYM, flat(2, 100)).slice(1));
  expect(placed(h)).toEqual([
    ['unit-000001', 'open', 'buy', 5],
    ['unit-000002', 'open', 'buy', 3],
  ]);
});

test('max-open-positions: the entry that would make one too many is refused', () => {
  const h = new EngineHarness({
    risk: { maxOpenPositions: 1 },
    systems: [scriptedSystem('a', SYM, [{ frame: 1, action: 'buy', quantity: 1 }, { frame: 2, action: 'close' }]), scriptedSystem('b', SYM, [{ frame: 1, action: 'sell', quantity: 1 }, { frame: 3, action: 'sell', quantity: 1 }])],
  });
  h.feed(bars(SYM, flat(3, 100)));
  expect(refusals(h)).toEqual([expect.objectContaining({ systemId: 'b', rule: 'max-open-positions', frameStart: BARS_BASE, numbers: { openPositions: 1, after: 2, limit: 1 } })]);
  // a's close is not a new position; once a is flat, b may enter.
  expect(placed(h)).toEqual([
    ['unit-000001', 'open', 'buy', 1],
    ['unit-000002', 'close', 'sell', 1],
    ['unit-000003', 'open', 'sell', 1],
  ]);
});

test('max-orders-per-minute: a close counts and is never refused; the entry after it within 60 s is', () => {
  const h = new EngineHarness({ risk: { maxOrdersPerMinute: 1 }, systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1 }, { frame: 2, action: 'sell', quantity: 1 }, { frame: 3, action: 'sell', quantity: 1 }])] });
  h.feed(bars(SYM, flat(3, 100)));
  // Frame 2: the reversal's close goes out (one order in the last minute), its entry is refused.
  expect(refusals(h)).toEqual([expect.objectContaining({ rule: 'max-orders-per-minute', side: 'sell', frameStart: BARS_BASE + 60_000, numbers: { ordersLastMinute: 1, limit: 1 } })]);
  expect(h.engine.trades().map((t) => t.exitReason)).toEqual(['reverse']);
  // Frame 3, a minute later: the window has passed, the entry goes out.
  expect(placed(h)).toEqual([
    ['unit-000001', 'open', 'buy', 1],
    ['unit-000002', 'close', 'sell', 1],
    ['unit-000003', 'open', 'sell', 1],
  ]);
});

test('a close is never refused by a limit: a position over a tightened limit still closes', () => {
  const base: Partial<SessionConfigInput> = { risk: { maxOrderQuantity: 1, maxOrderNotional: 1, maxTotalExposure: 1, maxPositionPerSymbol: 1 } };
  const h = new EngineHarness({ ...base, systems: [scriptedSystem('s', SYM, [{ frame: 2, action: 'close' }])] });
  // A position far over every limit (adopted from the store, as after a restart).
  h.engine.state.positions.s = { positionRef: 'unit-000009', systemId: 's', symbol: SYM, side: 'long', quantity: 50, entryPrice: 90, openedAt: BARS_BASE - 60_000 };
  h.feed(bars(SYM, flat(2, 100)));
  expect(refusals(h)).toEqual([]);
  expect(placed(h)).toEqual([['unit-000001', 'close', 'sell', 50]]);
  expect(h.engine.trades()).toEqual([expect.objectContaining({ positionRef: 'unit-000009', pnl: 500, exitReason: 'signal' })]);
});

test('reducing: closes pass, entries (and the entry half of a reversal) are refused by trading-state', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 2, stop: 95 }, { frame: 2, action: 'sell', quantity: 2 }, { frame: 3, action: 'buy', quantity: 1 }])] });
  h.feed(bars(SYM, flat(1, 100)));
  h.run(h.engine.setTradingState({ state: 'reducing', by: 'ops', reason: 'drill' }));
  h.feed(bars(SYM, flat(3, 100)).slice(1));
  expect(placed(h)).toEqual([
    ['unit-000001', 'open', 'buy', 2],
    ['unit-000002', 'close', 'sell', 2],
  ]);
  expect(refusals(h).map((r) => [r.rule, r.intent, r.side, r.numbers])).toEqual([
    ['trading-state', 'open', 'sell', { tradingState: 'reducing', intent: 'open' }],
    ['trading-state', 'open', 'buy', { tradingState: 'reducing', intent: 'open' }],
  ]);
  expect(h.engine.positions()).toEqual([]);
  // The state change itself is a control event in the store, with who and why.
  expect(h.outcomes.flatMap((o) => o.controlEvents ?? [])).toEqual([expect.objectContaining({ from: 'active', to: 'reducing', by: 'ops', reason: 'drill', source: 'command' })]);
});

test('halted: a system close is refused too, the position and its stop stay; only the broker stop can end it', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1, stop: 99 }, { frame: 2, action: 'close' }, { frame: 3, action: 'sell', quantity: 1 }])] });
  h.feed(bars(SYM, flat(1, 100)));
  h.run(h.engine.setTradingState({ state: 'halted', by: 'ops', reason: 'incident' }));
  const mark = h.effects.length;
  h.feed(bars(SYM, flat(3, 100)).slice(1));
  expect(h.kinds().slice(mark)).toEqual(['recordOutcome', 'recordOutcome']);
  expect(refusals(h).map((r) => [r.rule, r.intent])).toEqual([
    ['trading-state', 'close'],
    ['trading-state', 'close'],
  ]);
  expect(h.engine.positions()).toEqual([expect.objectContaining({ positionRef: 'unit-000001' })]);
  expect(h.hasStop('unit-000001')).toBe(true);
  expect(() => h.engine.checkClosePosition('s')).toThrow(/halted/);
  // The stop at the broker still works.
  h.feed(bars(SYM, [[100, 100, 100, 100], [100, 100, 100, 100], [100, 100, 100, 100], [99.5, 99.6, 98.5, 98.8]]).slice(3));
  expect(h.engine.trades()).toEqual([expect.objectContaining({ exitReason: 'stop', exitPrice: 99 })]);
});

test('paused: entries are skipped without a refusal or a broker call; a signal close still goes out', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1 }, { frame: 2, action: 'sell', quantity: 1 }, { frame: 3, action: 'buy', quantity: 1 }])] });
  h.feed(bars(SYM, flat(1, 100)));
  h.engine.pause({ by: 'ops' });
  h.feed(bars(SYM, flat(3, 100)).slice(1));
  expect(placed(h)).toEqual([
    ['unit-000001', 'open', 'buy', 1],
    ['unit-000002', 'close', 'sell', 1],
  ]);
  expect(refusals(h)).toEqual([]);
  expect(h.engine.state.counters.entriesSkippedWhilePaused).toBe(2);
  h.engine.resume({ by: 'ops' });
  h.feed(bars(SYM, flat(4, 100)).slice(3));
  expect(h.engine.positions()).toEqual([]);
});

test('the first refusing rule wins, in the order of the rules: trading state before quantity', () => {
  const h = new EngineHarness({ risk: { maxOrderQuantity: 1 }, systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 2 }])] });
  h.run(h.engine.setTradingState({ state: 'reducing', by: 'ops', reason: 'drill' }));
  h.feed(bars(SYM, flat(1, 100)));
  expect(refusals(h).map((r) => r.rule)).toEqual(['trading-state']);
});
