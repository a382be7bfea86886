/**
 * Limit and stop entries in the engine, with no Temporal server: they wait in state (no broker call)
 * until a later frame reaches their price and then enter at market, expire on frames, expire on the
 * timer backstop when no frame comes, and are cancelled by a close decision, a newer entry or a pause.
 */
import { BARS_BASE, bars, flat, scriptedSystem, type Ohlc } from '../support/scripted-bars';
import { EngineHarness } from './engine-harness';

const SYM = 'UNIT';
const MIN = 60_000;
const Q: Ohlc = [100, 100.2, 99.8, 100];

/** Every stored working-order row, in write order: [ref, status, clientOrderId]. */
const woRows = (h: EngineHarness) => h.outcomes.flatMap((o) => o.workingOrders ?? []).map((w) => [w.ref, w.status, w.clientOrderId]);
const kindsFrom = (h: EngineHarness, from: number) => h.kinds().slice(from);

test('a limit buy waits in state with no broker call; a later frame whose low reaches it enters at market with its stop leg', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 2, stop: 97, takeProfit: 104, entry: { type: 'limit', price: 99 } }])] });
  // The placing frame's own range reaches the price: it happened before the decision, so it does not count.
  h.feed(bars(SYM, [[100, 100.2, 98.5, 100]]));
  expect(h.kinds()).toEqual(['recordOutcome']);
  expect(h.engine.state.workingOrders.s).toMatchObject({ ref: 'unit-W000001', side: 'buy', type: 'limit', price: 99, quantity: 2, stop: 97, takeProfit: 104, createdAt: BARS_BASE });
  expect(h.engine.state.workingOrders.s.expiresAt).toBeUndefined();
  h.feed(bars(SYM, [Q, [100, 100.5, 99.1, 100.3]]).slice(1));
  expect(h.engine.positions()).toEqual([]);
  const mark = h.effects.length;
  h.feed(bars(SYM, [Q, Q, [100.3, 100.4, 98.9, 99.2]]).slice(2));
  expect(kindsFrom(h, mark)).toEqual(['getInstrument', 'recordOrderIntent', 'placeOrder', 'placeStop', 'recordOutcome']);
  expect(h.engine.positions()).toEqual([expect.objectContaining({ positionRef: 'unit-000001', side: 'long', quantity: 2, entryPrice: 99.2, stop: 97, takeProfit: 104, openedAt: BARS_BASE + 2 * MIN })]);
  expect(h.engine.state.workingOrders).toEqual({});
  expect(woRows(h)).toEqual([
    ['unit-W000001', 'working', undefined],
    ['unit-W000001', 'triggered', 'unit-000001'],
  ]);
  expect(h.hasStop('unit-000001')).toBe(true);
});

test('a stop sell triggers on a low at or beyond its price; a limit sell on a high at or above it', () => {
  const stop = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'sell', quantity: 1, entry: { type: 'stop', price: 98 } }])] });
  stop.feed(bars(SYM, [Q, [100, 101.5, 98.1, 99], [99, 99.1, 98, 98.2]]));
  expect(stop.engine.positions()).toEqual([expect.objectContaining({ side: 'short', entryPrice: 98.2, openedAt: BARS_BASE + 2 * MIN })]);

  const limit = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'sell', quantity: 1, entry: { type: 'limit', price: 101 } }])] });
  limit.feed(bars(SYM, [Q, [100, 100.9, 97, 97.5], [97.5, 101, 97.4, 100.8]]));
  expect(limit.engine.positions()).toEqual([expect.objectContaining({ side: 'short', entryPrice: 100.8, openedAt: BARS_BASE + 2 * MIN })]);
});

test('a stop buy triggers on a high at or above its price, never on a low', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1, entry: { type: 'stop', price: 101 } }])] });
  h.feed(bars(SYM, [Q, [100, 100.9, 95, 96]]));
  expect(h.engine.positions()).toEqual([]);
  h.feed(bars(SYM, [Q, Q, [96, 101, 95.9, 100.7]]).slice(2));
  expect(h.engine.positions()).toEqual([expect.objectContaining({ side: 'long', entryPrice: 100.7 })]);
});

test('an entry with expiresAfterMs expires on the first frame that ends at or after its expiry, even if that frame reaches the price', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1, entry: { type: 'limit', price: 99, expiresAfterMs: 2 * MIN } }])] });
  h.feed(bars(SYM, [Q]));
  // Decided at the frame's end (start + 1m), so it expires 2m after that.
  expect(h.engine.state.workingOrders.s.expiresAt).toBe(BARS_BASE + 3 * MIN);
  h.feed(bars(SYM, [Q, Q]).slice(1));
  expect(h.engine.state.workingOrders.s).toBeDefined();
  const mark = h.effects.length;
  h.feed(bars(SYM, [Q, Q, [100, 100.1, 98, 98.5]]).slice(2));
  expect(kindsFrom(h, mark)).toEqual(['recordOutcome']);
  expect(h.engine.positions()).toEqual([]);
  expect(h.engine.state.workingOrders).toEqual({});
  expect(h.engine.state.workingDeadlines).toEqual({});
  expect(woRows(h)).toEqual([
    ['unit-W000001', 'working', undefined],
    ['unit-W000001', 'expired', undefined],
  ]);
});

test('with no frame coming, the timer backstop expires the entry at workflow time + expiry + two frames', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1, entry: { type: 'stop', price: 101, expiresAfterMs: 2 * MIN } }])] });
  h.feed(bars(SYM, [Q]));
  const placedAt = h.clock;
  const due = placedAt + 2 * MIN + 2 * MIN;
  expect(h.engine.state.workingDeadlines).toEqual({ 'unit-W000001': due });
  expect(h.engine.nextDeadline()).toBe(due);
  h.advance(due - placedAt - 1);
  expect(h.engine.state.workingOrders.s).toBeDefined();
  const mark = h.effects.length;
  h.advance(1);
  expect(kindsFrom(h, mark)).toEqual(['recordOutcome']);
  expect(h.engine.state.workingOrders).toEqual({});
  expect(h.engine.state.workingDeadlines).toEqual({});
  expect(h.engine.nextDeadline()).toBeNull();
  expect(woRows(h).pop()).toEqual(['unit-W000001', 'expired', undefined]);
  expect(h.logs.some((l) => l.message === 'working order expired')).toBe(true);
  // A frame that reaches the old price afterwards enters nothing.
  h.feed(bars(SYM, [Q, [100, 102, 99.9, 101.5]]).slice(1));
  expect(h.kinds().filter((k) => k === 'placeOrder')).toEqual([]);
});

test('a close decision cancels the working entry before any order; a newer limit/stop entry replaces it', () => {
  const h = new EngineHarness({
    systems: [
      scriptedSystem('s', SYM, [
        { frame: 1, action: 'buy', quantity: 1, entry: { type: 'limit', price: 95, expiresAfterMs: 10 * MIN } },
        { frame: 2, action: 'buy', quantity: 3, entry: { type: 'stop', price: 105 } },
        { frame: 3, action: 'close' },
      ]),
    ],
  });
  h.feed(bars(SYM, flat(2, 100)));
  expect(h.engine.state.workingOrders.s).toMatchObject({ ref: 'unit-W000002', type: 'stop', price: 105, quantity: 3 });
  // The replaced one's backstop went with it.
  expect(Object.keys(h.engine.state.workingDeadlines)).toEqual([]);
  h.feed(bars(SYM, flat(3, 100)).slice(2));
  expect(h.engine.state.workingOrders).toEqual({});
  expect(woRows(h)).toEqual([
    ['unit-W000001', 'working', undefined],
    ['unit-W000001', 'cancelled', undefined],
    ['unit-W000002', 'working', undefined],
    ['unit-W000002', 'cancelled', undefined],
  ]);
  expect(h.kinds().filter((k) => k !== 'recordOutcome')).toEqual([]);
  expect(h.engine.state.orderSeq).toBe(0);
});

test('a triggered entry while paused is cancelled and counted as skipped, not sent', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1, entry: { type: 'limit', price: 99 } }])] });
  h.feed(bars(SYM, [Q]));
  h.engine.pause({ by: 'test' });
  h.feed(bars(SYM, [Q, [100, 100, 98, 98.5]]).slice(1));
  expect(h.kinds().filter((k) => k === 'placeOrder')).toEqual([]);
  expect(h.engine.state.counters.entriesSkippedWhilePaused).toBe(1);
  expect(woRows(h).pop()).toEqual(['unit-W000001', 'cancelled', undefined]);
  expect(h.engine.state.workingOrders).toEqual({});
});

test('a triggered entry still passes the risk gate: refused in reducing, nothing reaches the broker', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1, entry: { type: 'limit', price: 99 } }])] });
  h.feed(bars(SYM, [Q]));
  h.run(h.engine.setTradingState({ state: 'reducing', by: 'test', reason: 'drill' }));
  const mark = h.effects.length;
  h.feed(bars(SYM, [Q, [100, 100, 98, 98.5]]).slice(1));
  expect(kindsFrom(h, mark)).toEqual(['recordOutcome']);
  expect(h.engine.positions()).toEqual([]);
  expect(h.engine.state.lastRefusals).toEqual([expect.objectContaining({ rule: 'trading-state', intent: 'open', quantity: 1, frameStart: BARS_BASE + MIN })]);
  expect(h.engine.state.workingOrders).toEqual({});
  // Its row says the price was reached (triggered) but names no market order: none was sent.
  expect(woRows(h).pop()).toEqual(['unit-W000001', 'triggered', undefined]);
});
