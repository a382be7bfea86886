/** Issue 11 item 2: a refused close never leaves a position silently without its stop at the broker. */
import { bars, flat, scriptedSystem } from '../support/scripted-bars';
import { EngineHarness } from './engine-harness';

const SYM = 'UNIT';
const FRAMES = bars(SYM, flat(4, 100));

function longWithStop(): EngineHarness {
  const h = new EngineHarness({ systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 2, stop: 99 }])] });
  h.feed(FRAMES.slice(0, 1));
  expect(h.hasStop('unit-000001')).toBe(true);
  return h;
}

test('a refused close whose venue put the stop back keeps the position as it was: no mark, no extra stop order', () => {
  // (The getOrder of the stop after any refused close: the broker may have closed it through its stop.)
  const h = longWithStop();
  h.faults.refuseClose = { reason: 'halted symbol; its protective stop is live again', stopLive: true };
  const before = h.effects.length;
  expect(h.run(h.engine.closePosition('s', 'op'))).toBeNull();
  expect(h.effects.slice(before).map((e) => e.kind)).toEqual(['recordOrderIntent', 'placeOrder', 'getOrder', 'recordOutcome']);
  expect(h.engine.positions()[0]).toMatchObject({ positionRef: 'unit-000001', stop: 99 });
  expect(h.engine.positions()[0].stopLive).toBeUndefined();
});

test('a refused close that dropped the stop places it again at once', () => {
  const h = longWithStop();
  h.faults.refuseClose = { reason: 'halted symbol; PROTECTIVE STOP NOT LIVE', stopLive: false };
  const before = h.effects.length;
  h.run(h.engine.closePosition('s', 'op'));
  const after = h.effects.slice(before);
  expect(after.map((e) => e.kind)).toEqual(['recordOrderIntent', 'placeOrder', 'getOrder', 'placeStop', 'recordOutcome']);
  expect(after[3]).toMatchObject({ request: { positionRef: 'unit-000001', quantity: 2, stopLevel: 99, positionSide: 'long' } });
  expect(h.hasStop('unit-000001')).toBe(true);
  expect(h.engine.positions()[0].stopLive).toBeUndefined();
  expect(h.logs.map((l) => l.message)).toContain('protective stop live again');
  expect(h.outcomes.at(-1)!.orders.find((o) => o.clientOrderId === 'unit-000001-S')).toMatchObject({ status: 'working', reason: 'protective stop live again' });
});

test('a stop that cannot be put back marks the position not protected, alerts, and is placed again on the next frame', () => {
  const h = longWithStop();
  h.faults.refuseClose = { reason: 'halted symbol; PROTECTIVE STOP NOT LIVE', stopLive: false };
  h.faults.refuseStop = 'symbol halted';
  h.run(h.engine.closePosition('s', 'op'));
  expect(h.hasStop('unit-000001')).toBe(false);
  // The positions query says so.
  expect(h.engine.positions()[0]).toMatchObject({ positionRef: 'unit-000001', stop: 99, stopLive: false });
  expect(h.logs).toContainEqual({ level: 'error', message: 'protective stop could not be placed; the position is not protected at the broker' });

  // Still halted on the next frame: tried again, still marked.
  const f2 = h.effects.length;
  h.feed(FRAMES.slice(1, 2));
  expect(h.effects.slice(f2).filter((e) => e.kind === 'placeStop')).toHaveLength(1);
  expect(h.engine.positions()[0].stopLive).toBe(false);

  // The venue takes it again: the stop is live and the mark goes; no further attempts.
  delete h.faults.refuseStop;
  h.feed(FRAMES.slice(2, 3));
  expect(h.hasStop('unit-000001')).toBe(true);
  expect(h.engine.positions()[0].stopLive).toBeUndefined();
  const f4 = h.effects.length;
  h.feed(FRAMES.slice(3, 4));
  expect(h.effects.slice(f4).filter((e) => e.kind === 'placeStop')).toEqual([]);
});
