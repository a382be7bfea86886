/**
 * Property tests of the session engine (fast-check): random scripts of decisions, random bars, random
 * trading-state commands and venue faults, with the invariants checked after every step.
 */
import fc from 'fast-check';
import { round8 } from '../../trading/trade';
import { bars, scriptedSystem, type Ohlc } from '../support/scripted-bars';
import { EngineHarness } from './engine-harness';

const SYM = 'PROP';

const stepArb = fc.record({
  action: fc.constantFrom('buy', 'sell', 'close', 'none'),
  quantity: fc.integer({ min: 1, max: 8 }),
  stopOffset: fc.option(fc.double({ min: 0.2, max: 3, noNaN: true }), { nil: undefined }),
});
const barArb = fc.tuple(fc.double({ min: -1.5, max: 1.5, noNaN: true }), fc.double({ min: 0, max: 1.5, noNaN: true }));
const eventArb = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('bar' as const), bar: barArb, step: stepArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('state' as const), to: fc.constantFrom('active', 'reducing', 'halted') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fault' as const), fault: fc.constantFrom('none', 'refuse-stop', 'reject', 'unavailable') }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'closeAll' as const }) },
);

test('random frames, decisions, commands and faults keep the engine\'s invariants after every step', () => {
  fc.assert(
    fc.property(fc.array(eventArb, { minLength: 1, maxLength: 60 }), (events) => {
      // The script is built from the bars in order: frame k of the system is the k-th bar event.
      const script: { frame: number; action: 'buy' | 'sell' | 'close'; quantity: number; stop?: number }[] = [];
      const ohlc: Ohlc[] = [];
      let price = 100;
      for (const e of events) {
        if (e.kind !== 'bar') continue;
        const open = price;
        price = Math.max(1, round8(price + e.bar[0]));
        ohlc.push([open, round8(Math.max(open, price) + e.bar[1]), round8(Math.max(0.5, Math.min(open, price) - e.bar[1])), price]);
        const s = e.step;
        if (s.action === 'none') continue;
        const stop = s.stopOffset === undefined || s.action === 'close' ? undefined : round8(s.action === 'buy' ? price - s.stopOffset : price + s.stopOffset);
        script.push({ frame: ohlc.length, action: s.action, quantity: s.quantity, ...(stop !== undefined && stop > 0 ? { stop } : {}) });
      }
      const h = new EngineHarness({ risk: { maxOrdersPerMinute: 1000, maxOrderQuantity: 6 }, systems: [scriptedSystem('s', SYM, script)] });
      const frames = bars(SYM, ohlc);
      let next = 0;
      const seenIds = new Set<string>();
      for (const e of events) {
        const before = h.effects.length;
        const refusalsBefore = h.engine.state.counters.ordersRefused;
        const seqBefore = h.engine.state.orderSeq;
        const halted = h.engine.state.tradingState === 'halted';
        if (e.kind === 'bar') h.feed([frames[next++]]);
        else if (e.kind === 'state') h.run(h.engine.setTradingState({ state: e.to, by: 'prop', reason: 'random' }));
        else if (e.kind === 'fault') {
          h.faults = e.fault === 'refuse-stop' ? { refuseStop: 'no' } : e.fault === 'reject' ? { placeOrder: { type: 'OrderRejectedError', message: 'no' } } : e.fault === 'unavailable' ? { placeOrder: { type: 'BrokerUnavailableError', message: 'down' } } : {};
        } else if (!halted) h.run(h.engine.closeAll('prop'));
        const step = h.effects.slice(before);
        // Halted emits no order.
        if (halted && e.kind !== 'state') expect(step.filter((x) => x.kind === 'placeOrder')).toEqual([]);
        // No order id is ever used twice.
        for (const x of step) {
          if (x.kind !== 'recordOrderIntent') continue;
          expect(seenIds.has(x.record.clientOrderId)).toBe(false);
          seenIds.add(x.record.clientOrderId);
        }
        // A refused intent takes no order id and reaches no broker: each order sent took exactly one id.
        const refused = h.engine.state.counters.ordersRefused - refusalsBefore;
        const sent = step.filter((x) => x.kind === 'placeOrder').length;
        expect(h.engine.state.orderSeq - seqBefore).toBe(step.filter((x) => x.kind === 'recordOrderIntent').length);
        expect(sent).toBeLessThanOrEqual(h.engine.state.orderSeq - seqBefore);
        expect(refused).toBeGreaterThanOrEqual(0);
        // At most one position per system, and a position with a stop has it working at the venue.
        const positions = h.engine.positions();
        expect(positions.length).toBeLessThanOrEqual(1);
        for (const p of positions) if (p.stop !== undefined) expect(h.hasStop(p.positionRef)).toBe(true);
        // Realised P&L equals the sum of the closed trades.
        const sum = h.engine.trades().reduce((a, t) => round8(a + t.pnl), 0);
        expect(h.engine.pnl().realised).toBeCloseTo(sum, 6);
      }
    }),
    { numRuns: 200 },
  );
});
