/** The order lifecycle in the engine (issue 11): working, partial and unknown orders, tracked until final. */
import { bars, flat, scriptedSystem } from '../support/scripted-bars';
import { EngineHarness } from './engine-harness';

const SYM = 'UNIT';
const placed = (h: EngineHarness) => h.effects.filter((e) => e.kind === 'placeOrder').length;

test('a working entry is tracked, not booked; the next signal sends no second entry; its later fill opens the position with its stop', () => {
  const h = new EngineHarness({
    systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 2, stop: 95 }, { frame: 2, action: 'close' }, { frame: 3, action: 'buy', quantity: 2, stop: 95 }])],
  });
  h.faults.holdOrders = true;
  h.feed(bars(SYM, flat(1, 100)));
  expect(h.engine.positions()).toEqual([]);
  expect(h.engine.status(0).ordersInFlight).toEqual([expect.objectContaining({ clientOrderId: 'unit-000001', state: 'accepted', intent: 'open', filledQuantity: 0 })]);
  expect(h.outcomes[0].orders[0]).toMatchObject({ clientOrderId: 'unit-000001', status: 'accepted' });
  expect(h.outcomes[0].orderEvents).toEqual([expect.objectContaining({ from: 'submitted', to: 'accepted' })]);

  // Frame 3's buy must wait: one order per system until it is final.
  h.feed(bars(SYM, flat(3, 100)).slice(1));
  expect(placed(h)).toBe(1);
  expect(h.logs.some((l) => /entry not sent: an order of this system is not final/.test(l.message))).toBe(true);

  h.release('unit-000001', { price: 100.5 });
  h.advance(120_000);
  const pos = h.engine.positions()[0];
  expect(pos).toMatchObject({ positionRef: 'unit-000001', quantity: 2, entryPrice: 100.5, stop: 95 });
  expect(h.hasStop('unit-000001')).toBe(true);
  expect(h.engine.status(0).ordersInFlight).toEqual([]);
  const events = h.outcomes.flatMap((o) => o.orderEvents ?? []).map((e) => `${e.from}→${e.to}`);
  expect(events).toEqual(['submitted→accepted', 'accepted→filled']);
});

test('the deadline backs off while the broker keeps the order working', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1 }])] });
  h.faults.holdOrders = true;
  h.feed(bars(SYM, flat(1, 100)));
  const gaps: number[] = [];
  for (let i = 0; i < 7; i++) {
    const due = h.engine.nextDeadline()!;
    gaps.push(due - h.clock);
    h.clock = due;
    h.run(h.engine.fireDueTimers());
  }
  expect(gaps).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
});

test('a close queued after hours is one order however often it is asked for; its fill books the trade', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 3 }])] });
  h.feed(bars(SYM, flat(1, 100)));
  h.faults.holdOrders = true;
  expect(h.run(h.engine.closePosition('s', 'op'))).toBeNull();
  expect(h.run(h.engine.closePosition('s', 'op'))).toBeNull();
  expect(h.run(h.engine.closeAll('op'))).toEqual([]);
  expect(placed(h)).toBe(2);
  expect(h.engine.positions()).toHaveLength(1);

  h.release('unit-000002', { price: 101 });
  h.advance(10_000);
  expect(h.engine.positions()).toEqual([]);
  expect(h.engine.trades()).toEqual([expect.objectContaining({ positionRef: 'unit-000001', exitClientOrderId: 'unit-000002', exitReason: 'manual', quantity: 3, pnl: 3 })]);
});

test('a close cancelled after a partial fill books that part; the rest stays open with a stop of its own quantity', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 10, stop: 90 }, { frame: 2, action: 'close' }])] });
  h.feed(bars(SYM, flat(1, 100)));
  h.faults.holdOrders = true;
  h.feed(bars(SYM, flat(2, 100)).slice(1));
  h.release('unit-000002', { quantity: 4, price: 102 });
  h.advance(3_000);
  expect(h.engine.status(0).ordersInFlight![0]).toMatchObject({ state: 'partially-filled', filledQuantity: 4 });
  expect(h.engine.positions()[0].quantity).toBe(10);
  h.release('unit-000002', { quantity: 4, price: 102, final: true });
  h.advance(10_000);
  expect(h.engine.trades()).toEqual([expect.objectContaining({ quantity: 4, pnl: 8, partial: true })]);
  expect(h.engine.positions()).toEqual([expect.objectContaining({ positionRef: 'unit-000001', quantity: 6, stop: 90 })]);
  const stops = h.effects.filter((e) => e.kind === 'placeStop').map((e) => (e.kind === 'placeStop' ? e.request.quantity : 0));
  expect(stops).toEqual([10, 6]);
  const events = h.outcomes.flatMap((o) => o.orderEvents ?? []).map((e) => `${e.from}→${e.to}`);
  expect(events).toEqual(['submitted→accepted', 'accepted→partially-filled', 'partially-filled→cancelled']);
});

test('an unknown order is asked about on its deadline until the broker answers; its fill opens the position', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1 }])] });
  h.faults.placeOrder = { type: 'BrokerUnavailableError', message: 'timeout' };
  h.faults.orderNotFound = true;
  h.feed(bars(SYM, flat(1, 100)));
  expect(h.engine.status(0).ordersInFlight![0]).toMatchObject({ state: 'unknown' });
  // The venue knew it after all: it answers on a later ask.
  h.held.set('unit-000001', { report: { clientOrderId: 'unit-000001', brokerOrderId: 'b', status: 'filled', symbol: SYM, side: 'buy', quantity: 1, filledQuantity: 1, fillPrice: 100.1, filledAt: h.clock } });
  h.advance(5_000);
  expect(h.engine.positions()).toEqual([expect.objectContaining({ positionRef: 'unit-000001', entryPrice: 100.1 })]);
  expect(h.engine.state.unknownOrders).toEqual([]);
});

test('an unknown order the broker keeps not finding is settled as never placed after five minutes, and the system trades again', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1 }])] });
  h.faults.placeOrder = { type: 'BrokerUnavailableError', message: 'timeout' };
  h.feed(bars(SYM, flat(1, 100)));
  h.advance(60_000);
  expect(h.engine.status(0).ordersInFlight).toHaveLength(1);
  h.advance(5 * 60_000);
  expect(h.engine.status(0).ordersInFlight).toEqual([]);
  const row = h.outcomes.flatMap((o) => o.orders).filter((o) => o.clientOrderId === 'unit-000001').pop();
  expect(row).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/never placed/) });
});

test('a 401 on a stop check degrades the session instead of failing it; entries wait; a later read that works ends it', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1, stop: 99 }, { frame: 3, action: 'close' }, { frame: 4, action: 'buy', quantity: 1 }])] });
  h.feed(bars(SYM, flat(1, 100)));
  h.faults.unauthorized = true;
  h.feed(bars(SYM, [[100, 100.2, 99.8, 100], [99.5, 99.6, 98.5, 98.8]]).slice(1));
  expect(h.engine.status(0)).toMatchObject({ status: 'degraded', degraded: expect.objectContaining({ reason: expect.stringMatching(/401/) }) });
  expect(h.engine.positions()).toHaveLength(1);
  h.faults.unauthorized = false;
  h.advance(30_000);
  expect(h.engine.status(0).status).toBe('running');
  expect(h.engine.status(0).degraded).toBeNull();
});

test('a reconciliation the broker refuses (401) degrades the session and returns a report saying so', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [])] });
  h.faults.unauthorized = true;
  const report = h.run(h.engine.reconcile('test'));
  expect(report.reason).toMatch(/failed, session degraded/);
  expect(h.engine.status(0).status).toBe('degraded');
  const due = h.engine.nextDeadline()!;
  expect(due - h.clock).toBe(30_000);
  h.clock = due;
  h.run(h.engine.fireDueTimers());
  expect(h.engine.state.degraded?.retries).toBe(1);
  h.faults.unauthorized = false;
  h.advance(60_000);
  expect(h.engine.status(0).status).toBe('running');
});

test('a fresh session adopts the open positions its systems hold in the store (stop kept); close-all then closes them', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [])] });
  const stored = { positionRef: 'unit-000007', systemId: 's', symbol: SYM, side: 'long' as const, quantity: 3, entryPrice: 100, stop: 95, openedAt: Date.UTC(2026, 0, 5, 8, 0) };
  const other = { ...stored, positionRef: 'unit-000008', systemId: 'gone' };
  h.checkpoint = { maxOrderSeq: 8, openPositions: 2, positions: [stored, other] };
  h.brokerPositions = [{ positionRef: 'unit-000007', brokerPositionId: 'p7', symbol: SYM, side: 'long', quantity: 3, entryPrice: 100, stopLevel: 95 }];
  h.run(h.engine.startFresh());
  const report = h.run(h.engine.reconcile('session start'));
  expect(report.drifts).toEqual([]);
  expect(h.engine.positions()).toEqual([stored]);
  expect(h.engine.state.foreignPositions).toEqual([]);
  h.feed(bars(SYM, flat(1, 101)));
  const trades = h.run(h.engine.closeAll('op'));
  expect(trades).toEqual([expect.objectContaining({ positionRef: 'unit-000007', exitClientOrderId: 'unit-000009', quantity: 3, pnl: 3 })]);
});

describe('paged backfill (issue 11)', () => {
  test('a gap of 2,500 frames is loaded in pages of 1,000, each written once, every frame processed in order before the new one', () => {
    const h = new EngineHarness({ systems: [{ id: 'ma', system: 'ma-crossover', symbol: SYM, timeframe: '1m', params: { fastPeriod: 2, slowPeriod: 5 } }] });
    const all = bars(SYM, Array.from({ length: 2_502 }, (_, i) => { const c = 100 + Math.sin(i / 7) * 3; return [c, c + 0.5, c - 0.5, c]; }));
    h.storedFrames = all.slice(1, 2_501);
    h.feed([all[0]]);
    const writesBefore = h.outcomes.length;
    h.feed([all[2_501]]);
    expect(h.pages).toBe(2);
    const loads = h.effects.filter((e) => e.kind === 'loadFrames').map((e) => (e.kind === 'loadFrames' ? (e.query.toStart - e.query.fromStart) / 60_000 + 1 : 0));
    expect(loads).toEqual([1_000, 1_000, 500]);
    expect(h.engine.state.counters.framesBackfilled).toBe(2_500);
    expect(h.engine.state.counters.framesProcessed).toBe(2_502);
    // Three page writes (each with its pages' equity rows) and the new frame's own.
    const pageWrites = h.outcomes.slice(writesBefore);
    expect(pageWrites.map((o) => (o.equityPoints?.length ?? 0) + (o.equity ? 1 : 0))).toEqual([1_000, 1_000, 500, 1]);
    expect(h.engine.state.backfilledTo).toEqual({});
  });

  test('frames missing in a page are counted once and not asked for again', () => {
    const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [])] });
    const all = bars(SYM, flat(1_502, 100));
    h.storedFrames = all.slice(1, 1_501).filter((_, i) => i < 900 || i >= 1_000); // 100 missing at the end of page 1
    h.feed([all[0], all[1_501]]);
    expect(h.engine.state.counters.framesMissing).toBe(100);
    expect(h.engine.state.counters.framesBackfilled).toBe(1_400);
    expect(h.effects.filter((e) => e.kind === 'loadFrames')).toHaveLength(2);
  });
});

test('a working entry the venue then refuses (cancelled with nothing filled) ends rejected, and the system may trade again', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1 }, { frame: 2, action: 'close' }, { frame: 3, action: 'buy', quantity: 1 }])] });
  h.faults.holdOrders = true;
  h.feed(bars(SYM, flat(1, 100)));
  const held = h.held.get('unit-000001')!;
  held.report = { ...held.report, status: 'rejected', reason: 'canceled at Alpaca with nothing filled' };
  h.advance(3_000);
  expect(h.engine.status(0).ordersInFlight).toEqual([]);
  expect(h.outcomes.flatMap((o) => o.orderEvents ?? []).map((e) => `${e.from}→${e.to}`)).toEqual(['submitted→accepted', 'accepted→rejected']);
  h.faults.holdOrders = false;
  h.feed(bars(SYM, flat(3, 100)).slice(1));
  expect(h.engine.positions()).toEqual([expect.objectContaining({ positionRef: 'unit-000002' })]);
});
