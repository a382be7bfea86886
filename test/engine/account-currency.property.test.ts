/**
 * Money paths in account currency (fast-check): random instruments (point value, conversion rate, fees),
 * random bars, decisions, partial fills and close-alls. After every step each booked trade equals an
 * independent decimal reckoning of its legs, realised P&L is exactly the sum of the trades, and the
 * equity mark is balance + realised + the open positions marked in account money.
 */
import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import type { Trade } from '../../trading/trade';
import { round8 } from '../../trading/trade';
import { bars, scriptedSystem, type Ohlc } from '../support/scripted-bars';
import { EngineHarness } from './engine-harness';

const SYM = 'FX';

const factsArb = fc.record({
  pointValue: fc.constantFrom('1', '10', '0.5', '25', '0.0001'),
  conversionRate: fc.constantFrom('1', '0.85', '1.1734', '151.2'),
  commission: fc.option(fc.record({ perOrder: fc.constantFrom('0', '1.5', '0.35'), rateBps: fc.constantFrom(0, 1, 10) }), { nil: undefined }),
});
const stepArb = fc.record({ action: fc.constantFrom('buy', 'sell', 'close', 'none'), quantity: fc.integer({ min: 1, max: 5 }) });
const eventArb = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('bar' as const), move: fc.double({ min: -2, max: 2, noNaN: true }), step: stepArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('partial' as const), part: fc.double({ min: 0.1, max: 0.9, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'closeAll' as const }) },
);

type Facts = { pointValue: string; conversionRate: string; commission?: { perOrder: string; rateBps: number } };

/** The fee of one fill, reckoned here on its own (not with trading/money.ts). */
function fee(f: Facts, quantity: number, price: number): Decimal {
  if (!f.commission) return new Decimal(0);
  const notional = new Decimal(String(quantity)).times(String(price)).times(f.pointValue).times(f.conversionRate).abs();
  return new Decimal(f.commission.perOrder).plus(notional.times(f.commission.rateBps).div(10_000));
}

test('random instruments, bars, decisions and partial fills: trades, realised P&L and equity in account money after every step', () => {
  fc.assert(
    fc.property(factsArb, fc.array(eventArb, { minLength: 1, maxLength: 50 }), (facts, events) => {
      const script: { frame: number; action: 'buy' | 'sell' | 'close'; quantity: number }[] = [];
      const ohlc: Ohlc[] = [];
      let price = 100;
      for (const e of events) {
        if (e.kind !== 'bar') continue;
        const open = price;
        price = Math.max(1, round8(price + e.move));
        ohlc.push([open, Math.max(open, price) + 0.1, Math.max(0.5, Math.min(open, price) - 0.1), price]);
        if (e.step.action !== 'none') script.push({ frame: ohlc.length, action: e.step.action, quantity: e.step.quantity });
      }
      const h = new EngineHarness({ risk: { maxOrdersPerMinute: 1_000 }, systems: [scriptedSystem('s', SYM, script)] });
      h.instrumentFacts = { ...facts, currency: 'EUR', accountCurrency: 'GBP' };
      const trivial = facts.pointValue === '1' && facts.conversionRate === '1' && (!facts.commission || (Number(facts.commission.perOrder) === 0 && facts.commission.rateBps === 0));
      const frames = bars(SYM, ohlc);
      // Entry fixed fees already booked, by position ref (a partial close pays it, the rest does not again).
      const entryFeePaid = new Set<string>();
      let next = 0;
      let part: number | null = null;
      for (const e of events) {
        const tradesBefore = h.engine.trades().length;
        let marked = false;
        if (e.kind === 'bar') {
          marked = part === null;
          // After a `partial` event, the orders of this bar are held and then fill in part (`filled` with less than their quantity).
          h.faults.holdOrders = part !== null;
          const f = frames[next++];
          h.feed([f]);
          h.faults.holdOrders = false;
          if (part !== null) {
            for (const [id, held] of h.held) {
              if (held.report.status !== 'pending') continue;
              h.release(id, { quantity: Math.max(1e-8, round8(held.report.quantity * part)), price: f.close, final: true });
            }
            h.advance(3_000);
            part = null;
          }
        } else if (e.kind === 'closeAll') h.run(h.engine.closeAll('prop'));
        else part = e.part;
        const booked: Trade[] = h.engine.trades().slice(tradesBefore);
        for (const t of booked) {
          const dir = t.side === 'long' ? 1 : -1;
          const gross = new Decimal(String(t.exitPrice)).minus(String(t.entryPrice)).times(dir).times(String(t.quantity)).times(facts.pointValue).times(facts.conversionRate);
          let fees = fee(facts, t.quantity, t.entryPrice).plus(fee(facts, t.quantity, t.exitPrice));
          if (entryFeePaid.has(t.positionRef) && facts.commission) fees = fees.minus(facts.commission.perOrder);
          if (t.partial) entryFeePaid.add(t.positionRef);
          const expected = trivial ? round8((t.exitPrice - t.entryPrice) * t.quantity * dir) : gross.minus(fees).toDecimalPlaces(8).toNumber();
          expect(t.pnl + 0).toBe(expected + 0); // -0 and 0 are the same money
        }
        // Realised P&L is the sum of the closed trades (the engine keeps the last ones: sum its books instead).
        const realised = Object.values(h.engine.state.systems).reduce((s, r) => s.plus(String(r.realisedPnl)), new Decimal(0));
        expect(h.engine.pnl().realised).toBeCloseTo(realised.toNumber(), 8);
        for (const p of h.engine.positions()) expect(p.money === undefined).toBe(trivial);
        // The equity mark of the frame just fed (a partial fill settled after it moves the books past it).
        if (marked) {
          const mark = frames[next - 1].close;
          const perPoint = Number(facts.pointValue) * Number(facts.conversionRate);
          const unrealised = h.engine.positions().reduce((s, p) => s + (mark - p.entryPrice) * p.quantity * (p.side === 'long' ? 1 : -1) * (trivial ? 1 : perPoint), 0);
          const equity = h.engine.state.startingBalance + h.engine.pnl().realised + unrealised;
          expect(h.engine.ctx.lastEquity).toBeCloseTo(equity, 4);
        }
      }
      const all = h.engine.trades();
      if (all.length < 50) {
        const sum = all.reduce((s, t) => s.plus(String(t.pnl)), new Decimal(0)).toDecimalPlaces(8).toNumber();
        expect(h.engine.pnl().realised).toBeCloseTo(sum, 8);
      }
    }),
    { numRuns: 200 },
  );
});
