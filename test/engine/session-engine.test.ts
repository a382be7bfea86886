/** The session engine without Temporal: each path of the per-frame order, driven synchronously. */
import { EngineRefusal } from '../../engine/errors';
import { bars, flat, scriptedSystem } from '../support/scripted-bars';
import { EngineHarness } from './engine-harness';

const SYM = 'UNIT';

test('an entry with a stop: risk gate (instrument), intent recorded, order, then its stop leg, then one store write', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 2, stop: 99 }])] });
  h.feed(bars(SYM, flat(1, 100)));
  expect(h.kinds()).toEqual(['getInstrument', 'recordOrderIntent', 'placeOrder', 'placeStop', 'recordOutcome']);
  const pos = h.engine.positions()[0];
  expect(pos).toMatchObject({ positionRef: 'unit-000001', side: 'long', quantity: 2, entryPrice: 100, stop: 99 });
  expect(h.outcomes[0].orders.map((o) => [o.clientOrderId, o.status])).toEqual([
    ['unit-000001', 'filled'],
    ['unit-000001-S', 'working'],
  ]);
});

test('a refused intent (max order quantity) sends nothing to the broker and takes no order id', () => {
  const h = new EngineHarness({ risk: { maxOrderQuantity: 5 }, systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 9 }])] });
  h.feed(bars(SYM, flat(1, 100)));
  expect(h.kinds()).toEqual(['recordOutcome']);
  expect(h.engine.state.orderSeq).toBe(0);
  expect(h.outcomes[0].refusals?.[0]).toMatchObject({ rule: 'max-order-quantity', refusalId: 'unit-R000001', quantity: 9 });
});

test('halted: an entry is refused before any broker call, and close commands are refused naming the state', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1 }])] });
  h.run(h.engine.setTradingState({ state: 'halted', by: 'test', reason: 'drill' }));
  h.feed(bars(SYM, flat(1, 100)));
  expect(h.kinds().filter((k) => k === 'placeOrder')).toEqual([]);
  expect(() => h.engine.checkCloseAll()).toThrow(EngineRefusal);
  expect(() => h.engine.checkCloseAll()).toThrow(/halted/);
});

test('a stop the venue refuses leaves the position unprotected, so it is closed at once (stop-failed)', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1, stop: 99 }])] });
  h.faults.refuseStop = 'stop too close';
  h.feed(bars(SYM, flat(1, 100)));
  expect(h.engine.positions()).toEqual([]);
  expect(h.engine.trades()[0]).toMatchObject({ exitReason: 'stop-failed', exitClientOrderId: 'unit-000002' });
  const stopRow = h.outcomes[0].orders.find((o) => o.clientOrderId === 'unit-000001-S');
  expect(stopRow).toMatchObject({ status: 'rejected', reason: 'protective stop not placed: stop too close' });
});

test('a frame that reaches the stop settles it from the broker and books the trade at the stop', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1, stop: 99 }])] });
  h.feed(bars(SYM, [[100, 100.2, 99.8, 100], [99.5, 99.6, 98.5, 98.8]]));
  expect(h.engine.positions()).toEqual([]);
  expect(h.engine.trades()[0]).toMatchObject({ exitReason: 'stop', exitPrice: 99, pnl: -1, exitClientOrderId: 'unit-000001-S' });
  expect(h.engine.pnl().realised).toBe(-1);
});

test('a broker refusal books the order rejected; an unsettled outcome the broker cannot find is unknown, never rejected', () => {
  const refused = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1 }])] });
  refused.faults.placeOrder = { type: 'OrderRejectedError', message: 'no funds' };
  refused.feed(bars(SYM, flat(1, 100)));
  expect(refused.outcomes[0].orders[0]).toMatchObject({ status: 'rejected', reason: 'OrderRejectedError: no funds' });
  expect(refused.engine.state.unknownOrders).toEqual([]);

  const lost = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1 }])] });
  lost.faults.placeOrder = { type: 'BrokerUnavailableError', message: 'timeout' };
  lost.feed(bars(SYM, flat(1, 100)));
  expect(lost.kinds()).toContain('getOrder');
  expect(lost.outcomes[0].orders[0]).toMatchObject({ clientOrderId: 'unit-000001', status: 'unknown' });
  expect(lost.engine.state.unknownOrders.map((u) => u.clientOrderId)).toEqual(['unit-000001']);
  expect(lost.engine.positions()).toEqual([]);
});

test('paused: entries are skipped, exits still run', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1 }, { frame: 2, action: 'close' }, { frame: 3, action: 'buy', quantity: 1 }])] });
  h.feed(bars(SYM, flat(1, 100)));
  h.engine.pause({ by: 'test' });
  h.feed(bars(SYM, flat(3, 100)).slice(1));
  expect(h.engine.trades().map((t) => t.exitReason)).toEqual(['signal']);
  expect(h.engine.positions()).toEqual([]);
  expect(h.engine.state.counters.entriesSkippedWhilePaused).toBe(1);
});

test('setParams merges with the current params and refuses a merge its schema refuses, naming the field', () => {
  const h = new EngineHarness({ systems: [{ id: 'ma', system: 'ma-crossover', symbol: SYM, timeframe: '1m', params: { fastPeriod: 2, slowPeriod: 5 } }] });
  expect(h.run(h.engine.setParams('ma', { slowPeriod: 8 }))).toMatchObject({ fastPeriod: 2, slowPeriod: 8 });
  expect(() => h.run(h.engine.setParams('ma', { fastPeriod: 9 }))).toThrow(/params\.slowPeriod/);
  expect(() => h.engine.checkSetParams('nope', {})).toThrow(/systemId: unknown system "nope"/);
  expect(h.engine.state.systems.ma.params).toMatchObject({ fastPeriod: 2, slowPeriod: 8 });
});

test('a loss cooldown locks entries on the symbol, and the timer step lifts it at its deadline', () => {
  const h = new EngineHarness({
    protections: { lossCooldown: { minutes: 2 } },
    systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1 }, { frame: 2, action: 'close' }, { frame: 3, action: 'buy', quantity: 1 }])],
  });
  h.feed(bars(SYM, [[100, 100.2, 99.8, 100], [99, 99.2, 98.8, 99], [99, 99.2, 98.8, 99]]));
  expect(h.engine.positions()).toEqual([]);
  expect(h.engine.risk().lastRefusals[0]).toMatchObject({ rule: expect.stringMatching(/lock|cooldown/) });
  const due = h.engine.nextDeadline()!;
  expect(due).toBeGreaterThan(h.clock);
  h.clock = due;
  h.run(h.engine.fireDueTimers());
  expect(h.engine.risk().locks).toEqual([]);
});
