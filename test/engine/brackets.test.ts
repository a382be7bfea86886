/**
 * Brackets in the engine, with no Temporal server: the take-profit and the trailing stop are emulated
 * from frames after the entry's (a hit closes at market at the frame's close), the trail follows the
 * best price and never moves back, and closing a position any other way than by its stop ends its stop
 * leg with a `cancelled` row.
 */
import { bars, flat, scriptedSystem, type Ohlc } from '../support/scripted-bars';
import { EngineHarness } from './engine-harness';

const SYM = 'UNIT';
const ENTRY = [100, 100.2, 99.8, 100] as Ohlc;

/** The effect kinds from index `from` on. */
const kindsFrom = (h: EngineHarness, from: number) => h.kinds().slice(from);
/** Every stored row of one order id, in write order: [status, reason]. */
const rowsOf = (h: EngineHarness, id: string) => h.outcomes.flatMap((o) => o.orders).filter((o) => o.clientOrderId === id).map((o) => [o.status, o.reason]);

test('a take-profit is not checked on its entry frame, and a later frame that reaches it closes at market at the close; the stop leg is cancelled', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 2, stop: 95, takeProfit: 102 }])] });
  // The entry frame's high is above the take-profit: its range happened before the entry.
  h.feed(bars(SYM, [[100, 103, 99.8, 100]]));
  expect(h.engine.positions()).toEqual([expect.objectContaining({ positionRef: 'unit-000001', takeProfit: 102, stop: 95 })]);
  h.feed(bars(SYM, [ENTRY, [100, 101.9, 99.9, 101.5]]).slice(1));
  expect(h.engine.positions()).toHaveLength(1);
  const mark = h.effects.length;
  h.feed(bars(SYM, [ENTRY, ENTRY, [101.5, 102.4, 101.2, 101.8]]).slice(2));
  expect(kindsFrom(h, mark)).toEqual(['recordOrderIntent', 'placeOrder', 'recordOutcome']);
  const close = h.effects[mark + 1];
  expect(close.kind === 'placeOrder' && close.request).toMatchObject({ clientOrderId: 'unit-000002', intent: 'close', side: 'sell', quantity: 2, positionRef: 'unit-000001', type: 'market' });
  expect(h.engine.positions()).toEqual([]);
  // At the frame's close (101.8), not at the level: a market order on the frame that reached it.
  expect(h.engine.trades()).toEqual([expect.objectContaining({ exitReason: 'take-profit', exitPrice: 101.8, pnl: 3.6, exitClientOrderId: 'unit-000002' })]);
  expect(rowsOf(h, 'unit-000001-S')).toEqual([
    ['working', 'protective stop'],
    ['cancelled', 'protective stop cancelled: position closed (take-profit)'],
  ]);
  expect(h.hasStop('unit-000001')).toBe(false);
});

test('a short take-profit is reached by the low; a gap through it is a hit like any other', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'sell', quantity: 1, stop: 105, takeProfit: 97 }])] });
  h.feed(bars(SYM, [ENTRY, [100, 100.5, 97.1, 98], [95, 95.5, 94, 95]]));
  expect(h.engine.trades()).toEqual([expect.objectContaining({ side: 'short', exitReason: 'take-profit', exitPrice: 95, pnl: 5 })]);
  expect(h.engine.trades()[0].closedAt).toBe(h.engine.state.lastFrames[`${SYM}|1m`]);
});

test('a trailing stop starts its distance from the fill, follows the highs, never moves back, and its hit closes at market', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1, trailingStop: 2 }])] });
  h.feed(bars(SYM, [ENTRY]));
  expect(h.engine.positions()[0].trailing).toEqual({ distance: 2, level: 98 });
  const frames = bars(SYM, [ENTRY, [100, 103, 100, 102.5], [102.5, 102.6, 101.5, 102], [102, 104.5, 102, 104]]);
  h.feed([frames[1]]);
  expect(h.engine.positions()[0].trailing!.level).toBe(101);
  h.feed([frames[2]]);
  // A lower high does not pull the level back.
  expect(h.engine.positions()[0].trailing!.level).toBe(101);
  h.feed([frames[3]]);
  expect(h.engine.positions()[0].trailing!.level).toBe(102.5);
  const mark = h.effects.length;
  h.feed(bars(SYM, [ENTRY, ENTRY, ENTRY, ENTRY, [104, 104.2, 102.4, 102.7]]).slice(4));
  expect(kindsFrom(h, mark)).toEqual(['recordOrderIntent', 'placeOrder', 'recordOutcome']);
  expect(h.engine.trades()).toEqual([expect.objectContaining({ exitReason: 'trailing-stop', exitPrice: 102.7, pnl: 2.7 })]);
  // No protective stop: no stop leg row at all.
  expect(h.outcomes.flatMap((o) => o.orders).filter((o) => o.seq === null)).toEqual([]);
});

test('a short trailing stop follows the lows at its distance', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'sell', quantity: 3, trailingStop: 1.5 }])] });
  h.feed(bars(SYM, [ENTRY, [100, 100.1, 97, 97.5]]));
  expect(h.engine.positions()[0].trailing).toEqual({ distance: 1.5, level: 98.5 });
  h.feed(bars(SYM, [ENTRY, ENTRY, [97.5, 98.6, 97.4, 98.4]]).slice(2));
  expect(h.engine.trades()).toEqual([expect.objectContaining({ side: 'short', exitReason: 'trailing-stop', exitPrice: 98.4, pnl: 4.8 })]);
});

test('a frame that spans both the trailing level and the take-profit is booked as the trailing stop (the worse case)', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1, takeProfit: 102, trailingStop: 1 }])] });
  h.feed(bars(SYM, [ENTRY, [100, 102.5, 98.5, 101]]));
  expect(h.engine.trades().map((t) => t.exitReason)).toEqual(['trailing-stop']);
});

test('the protective stop reached on the same frame as the take-profit wins: the venue filled it, the take-profit sends nothing', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1, stop: 99, takeProfit: 101 }])] });
  h.feed(bars(SYM, [ENTRY]));
  const mark = h.effects.length;
  h.feed(bars(SYM, [ENTRY, [100, 101.5, 98.5, 100]]).slice(1));
  expect(kindsFrom(h, mark)).toEqual(['getOrder', 'recordOutcome']);
  expect(h.engine.trades()).toEqual([expect.objectContaining({ exitReason: 'stop', exitPrice: 99, exitClientOrderId: 'unit-000001-S' })]);
  expect(rowsOf(h, 'unit-000001-S')).toEqual([
    ['working', 'protective stop'],
    ['filled', 'protective stop'],
  ]);
});

test('closed by a signal, a reversal or a person, the stop leg is cancelled with the reason; the reversal gets a stop leg of its own', () => {
  const h = new EngineHarness({
    systems: [
      scriptedSystem('s', SYM, [
        { frame: 1, action: 'buy', quantity: 1, stop: 95 },
        { frame: 2, action: 'sell', quantity: 1, stop: 105 },
        { frame: 3, action: 'close' },
        { frame: 4, action: 'buy', quantity: 1, stop: 96 },
      ]),
    ],
  });
  h.feed(bars(SYM, flat(4, 100)));
  h.run(h.engine.closePosition('s', 'op'));
  expect(h.engine.trades().map((t) => [t.positionRef, t.exitReason])).toEqual([
    ['unit-000001', 'reverse'],
    ['unit-000003', 'signal'],
    ['unit-000005', 'manual'],
  ]);
  expect(rowsOf(h, 'unit-000001-S').pop()).toEqual(['cancelled', 'protective stop cancelled: position closed (reverse)']);
  expect(rowsOf(h, 'unit-000003-S')).toEqual([
    ['working', 'protective stop'],
    ['cancelled', 'protective stop cancelled: position closed (signal)'],
  ]);
  expect(rowsOf(h, 'unit-000005-S').pop()).toEqual(['cancelled', 'protective stop cancelled: position closed (manual)']);
  const stops = h.effects.flatMap((e) => (e.kind === 'placeStop' ? [[e.request.positionRef, e.request.positionSide, e.request.stopLevel]] : []));
  expect(stops).toEqual([
    ['unit-000001', 'long', 95],
    ['unit-000003', 'short', 105],
    ['unit-000005', 'long', 96],
  ]);
  expect(['unit-000001', 'unit-000003', 'unit-000005'].some((r) => h.hasStop(r))).toBe(false);
});

test('the bracket of a position opened on a held entry comes from the entry plan when it fills later', () => {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1, stop: 95, takeProfit: 103, trailingStop: 4 }])] });
  h.faults.holdOrders = true;
  h.feed(bars(SYM, [ENTRY]));
  h.faults.holdOrders = false;
  h.release('unit-000001', { price: 100 });
  h.advance(2_000);
  expect(h.engine.positions()).toEqual([expect.objectContaining({ stop: 95, takeProfit: 103, trailing: { distance: 4, level: 96 } })]);
  expect(h.hasStop('unit-000001')).toBe(true);
  h.feed(bars(SYM, [ENTRY, [100, 103.2, 100, 103]]).slice(1));
  expect(h.engine.trades()).toEqual([expect.objectContaining({ exitReason: 'take-profit', exitPrice: 103 })]);
});
