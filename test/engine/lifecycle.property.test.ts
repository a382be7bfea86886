/**
 * Property tests of the order lifecycle in the engine (fast-check, no Temporal server): random frames for
 * two systems on one symbol (market, limit and stop entries, stops, take-profits, trailing stops), venue
 * behaviours (hold then release in part or whole, refuse a stop, reject, unknown then found or not),
 * operator commands (closePosition, closeAll, setTradingState) and timer firings, with the lifecycle's
 * invariants checked after every step. A failure prints its seed and path (fast-check's report); set
 * FC_SEED to replay another seed.
 */
import fc from 'fast-check';
import type { Effect } from '../../engine/effects';
import type { Frame } from '../../market/frame';
import { round8 } from '../../trading/trade';
import { BARS_BASE, scriptedSystem } from '../support/scripted-bars';
import { EngineHarness } from './engine-harness';

const SYM = 'LIFE';
const SYSTEMS = ['a', 'b'] as const;
const SEED = Number(process.env.FC_SEED ?? 20_260_105);

const decisionArb = fc.record({
  action: fc.constantFrom('buy', 'sell', 'close', 'none', 'none'),
  quantity: fc.integer({ min: 1, max: 8 }),
  stopOffset: fc.option(fc.double({ min: 0.2, max: 3, noNaN: true }), { nil: undefined }),
  tpOffset: fc.option(fc.double({ min: 0.2, max: 3, noNaN: true }), { nil: undefined }),
  trail: fc.option(fc.double({ min: 0.2, max: 2, noNaN: true }), { nil: undefined }),
  entry: fc.option(fc.record({ type: fc.constantFrom('limit' as const, 'stop' as const), offset: fc.double({ min: 0.1, max: 2, noNaN: true }), expires: fc.option(fc.constantFrom(60_000, 180_000), { nil: undefined }) }), { nil: undefined }),
});
const barArb = fc.tuple(fc.double({ min: -1.5, max: 1.5, noNaN: true }), fc.double({ min: 0, max: 1.5, noNaN: true }));
const eventArb = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('bar' as const), bar: barArb, a: decisionArb, b: decisionArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('venue' as const), behaviour: fc.constantFrom('normal', 'hold', 'refuse-stop', 'reject', 'unknown') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), part: fc.constantFrom('whole', 'part', 'part-final') }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reveal' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(1_000, 2_000, 5_000, 30_000, 60_000, 300_000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('closePosition' as const), systemId: fc.constantFrom(...SYSTEMS) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'closeAll' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('state' as const), to: fc.constantFrom('active', 'active', 'reducing', 'halted') }) },
);
type Event = typeof eventArb extends fc.Arbitrary<infer E> ? E : never;
type Step = { frame: number; action: 'buy' | 'sell' | 'close'; quantity: number; stop?: number; takeProfit?: number; trailingStop?: number; entry?: { type: 'limit' | 'stop'; price: number; expiresAfterMs?: number } };

/** The OHLC of every bar event, and each system's script from the decisions on them (frame k = k-th bar). */
function plan(events: Event[]) {
  const ohlc: [number, number, number, number][] = [];
  const scripts: Record<string, Step[]> = { a: [], b: [] };
  let price = 100;
  for (const e of events) {
    if (e.kind !== 'bar') continue;
    const open = price;
    price = Math.max(5, round8(price + e.bar[0]));
    ohlc.push([open, round8(Math.max(open, price) + e.bar[1]), round8(Math.max(1, Math.min(open, price) - e.bar[1])), price]);
    for (const id of SYSTEMS) {
      const d = e[id];
      if (d.action === 'none') continue;
      if (d.action === 'close') {
        scripts[id].push({ frame: ohlc.length, action: 'close', quantity: 1 });
        continue;
      }
      const dir = d.action === 'buy' ? 1 : -1;
      const s: Step = { frame: ohlc.length, action: d.action, quantity: d.quantity };
      // Levels on the right side of the close (an entry order's price is where the position would open).
      const ref = d.entry ? round8(price + (d.entry.type === 'limit' ? -dir : dir) * d.entry.offset) : price;
      if (d.entry && ref > 0) s.entry = { type: d.entry.type, price: ref, ...(d.entry.expires ? { expiresAfterMs: d.entry.expires } : {}) };
      if (d.stopOffset !== undefined && ref - dir * d.stopOffset > 0) s.stop = round8(ref - dir * d.stopOffset);
      if (d.tpOffset !== undefined && ref + dir * d.tpOffset > 0) s.takeProfit = round8(ref + dir * d.tpOffset);
      if (d.trail !== undefined) s.trailingStop = round8(d.trail);
      scripts[id].push(s);
    }
  }
  return { ohlc, scripts };
}

test('random frames, venue behaviours, commands and timer firings keep the lifecycle invariants after every step', () => {
  fc.assert(
    fc.property(fc.array(eventArb, { minLength: 5, maxLength: 80, size: 'max' }), (events) => {
      const { ohlc, scripts } = plan(events);
      const h = new EngineHarness({ risk: { maxOrdersPerMinute: 1_000, maxOrderQuantity: 6 }, systems: SYSTEMS.map((id) => scriptedSystem(id, SYM, scripts[id])) });
      let bar = 0;
      let lastStart = BARS_BASE - 60_000;
      const sentIds = new Set<string>();
      const systemOf = new Map<string, string>();
      for (const e of events) {
        const before = h.effects.length;
        const halted = h.engine.state.tradingState === 'halted';
        const trackedBefore = new Set(Object.keys(h.engine.state.trackedOrders));
        switch (e.kind) {
          case 'bar': {
            // Never back in time after a timer firing: the frame ends after the clock (a gap is backfilled from an empty store).
            const start = Math.max(lastStart + 60_000, Math.floor(h.clock / 60_000) * 60_000);
            const [open, high, low, close] = ohlc[bar++];
            const f: Frame = { symbol: SYM, timeframe: '1m', start, open, high, low, close, volume: 100 };
            lastStart = start;
            h.feed([f]);
            break;
          }
          case 'venue':
            h.faults =
              e.behaviour === 'hold' ? { holdOrders: true }
              : e.behaviour === 'refuse-stop' ? { refuseStop: 'too close' }
              : e.behaviour === 'reject' ? { placeOrder: { type: 'OrderRejectedError', message: 'no' } }
              : e.behaviour === 'unknown' ? { placeOrder: { type: 'BrokerUnavailableError', message: 'timeout' }, orderNotFound: true }
              : {};
            break;
          case 'release': {
            const open = [...h.held.entries()].find(([, o]) => o.report.status === 'pending');
            if (!open) break;
            const [id, o] = open;
            const price = h.engine.state.lastPrice[SYM] ?? 100;
            const part = Math.max(1, Math.floor(o.report.quantity / 2));
            if (e.part === 'whole' || part >= o.report.quantity) h.release(id, { price });
            else h.release(id, { price, quantity: part, final: e.part === 'part-final' });
            break;
          }
          case 'reveal': {
            // The venue knew an unknown order after all: it answers filled on the next ask.
            const t = Object.values(h.engine.state.trackedOrders).find((x) => x.state === 'unknown');
            if (!t || h.held.has(t.record.clientOrderId)) break;
            const r = t.record;
            h.held.set(r.clientOrderId, { report: { clientOrderId: r.clientOrderId, brokerOrderId: 'b', status: 'filled', symbol: r.symbol, side: r.side, quantity: r.quantity, filledQuantity: r.quantity, fillPrice: h.engine.state.lastPrice[SYM] ?? 100, filledAt: h.clock } });
            break;
          }
          case 'advance':
            h.advance(e.ms);
            break;
          case 'closePosition':
            if (!halted) h.run(h.engine.closePosition(e.systemId, 'prop'));
            else expect(() => h.engine.checkClosePosition(e.systemId)).toThrow(/halted/);
            break;
          case 'closeAll':
            if (!halted) h.run(h.engine.closeAll('prop'));
            else expect(() => h.engine.checkCloseAll()).toThrow(/halted/);
            break;
          case 'state':
            h.run(h.engine.setTradingState({ state: e.to, by: 'prop', reason: 'random' }));
            break;
        }
        checkStep(h, h.effects.slice(before), { halted: halted && e.kind !== 'state', trackedBefore, timers: e.kind === 'advance' || e.kind === 'release', sentIds, systemOf });
      }
    }),
    { numRuns: 200, seed: SEED },
  );
});

function checkStep(
  h: EngineHarness,
  step: Effect[],
  ctx: { halted: boolean; trackedBefore: Set<string>; timers: boolean; sentIds: Set<string>; systemOf: Map<string, string> },
): void {
  const { state } = h.engine;
  for (const x of step) if (x.kind === 'recordOrderIntent') ctx.systemOf.set(x.record.clientOrderId, x.record.systemId);
  const sends = step.flatMap((x) => (x.kind === 'placeOrder' ? [x.request] : []));
  // Halted emits no order.
  if (ctx.halted) expect(sends).toEqual([]);
  for (const r of sends) {
    // No clientOrderId is reused across placeOrder effects.
    expect(ctx.sentIds.has(r.clientOrderId)).toBe(false);
    ctx.sentIds.add(r.clientOrderId);
    // While an order of a system is not final, no second one goes out for it (a timer step may settle it first).
    const systemId = ctx.systemOf.get(r.clientOrderId)!;
    if (!ctx.timers) expect(ctx.trackedBefore.has(systemId)).toBe(false);
  }
  // Never two positions for one system; never more than one order not final per system.
  const refs = Object.entries(state.positions).map(([id, p]) => {
    expect(p.systemId).toBe(id);
    return p.positionRef;
  });
  expect(new Set(refs).size).toBe(refs.length);
  for (const [id, t] of Object.entries(state.trackedOrders)) expect(t.record.systemId).toBe(id);
  const heldOpen = new Map<string, number>();
  for (const [id, o] of h.held) if (o.report.status === 'pending' && state.trackedOrders[ctx.systemOf.get(id)!]?.record.clientOrderId === id) heldOpen.set(ctx.systemOf.get(id)!, (heldOpen.get(ctx.systemOf.get(id)!) ?? 0) + 1);
  for (const n of heldOpen.values()) expect(n).toBeLessThanOrEqual(1);
  // Every open position with a stop has its stop live at the venue, unless the engine sent its close (still in flight).
  for (const [id, p] of Object.entries(state.positions)) {
    if (p.stop === undefined || state.trackedOrders[id]?.record.intent === 'close') continue;
    expect({ positionRef: p.positionRef, live: h.hasStop(p.positionRef) }).toEqual({ positionRef: p.positionRef, live: true });
  }
  // Realised P&L equals the sum of the closed trades' pnl (every trade the store was given).
  const sum = h.outcomes.flatMap((o) => o.trades).reduce((a, t) => round8(a + t.pnl), 0);
  expect(h.engine.pnl().realised).toBeCloseTo(sum, 6);
}
