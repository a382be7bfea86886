import { readFileSync } from 'fs';
import { join } from 'path';
import fc from 'fast-check';
import { Decimal as GlobalDecimal } from 'decimal.js';
import type { Instrument } from '../../brokers/adapter';
import {
  compareMoney,
  feesOf,
  minorUnitOf,
  notionalOf,
  roundMoney,
  sameMoney,
  sumMoney,
  toMoneyNumber,
  tradePnl,
  unrealisedPnlAt,
  type MoneyFacts,
  type TradeLegs,
} from '../../trading/money';

/** An IG instrument in EUR, valueOfOnePoint 10, on a GBP account at 0.85 GBP per EUR. */
const IG_EUR: Instrument = {
  symbol: 'IX.D.DAX.IFMM.IP',
  tradable: true,
  marketStatus: 'TRADEABLE',
  minQuantity: 0.5,
  quantityStep: 0.5,
  pointValue: '10',
  currency: 'EUR',
  accountCurrency: 'GBP',
  conversionRate: '0.85',
};

/** The tests' own exact arithmetic: the global Decimal has 20 significant digits, too few to be exact here. */
const Decimal = GlobalDecimal.clone({ precision: 100 });

const WITH_FEES: MoneyFacts = { ...IG_EUR, commission: { perOrder: '1.5', rateBps: 2 } };

describe('examples', () => {
  it('IG in EUR on a GBP account: 1 contract moving 20 points = 200 EUR = 170 GBP', () => {
    expect(tradePnl({ side: 'long', quantity: 1, entryPrice: 18_000, exitPrice: 18_020 }, IG_EUR)).toBe('170');
    expect(tradePnl({ side: 'short', quantity: 1, entryPrice: 18_000, exitPrice: 18_020 }, IG_EUR)).toBe('-170');
    expect(unrealisedPnlAt({ side: 'long', quantity: 1, entryPrice: 18_000 }, 18_020, IG_EUR)).toBe('170');
    // In EUR (no conversion): 200.
    expect(tradePnl({ side: 'long', quantity: 1, entryPrice: 18_000, exitPrice: 18_020 }, { pointValue: '10' })).toBe('200');
    expect(toMoneyNumber(tradePnl({ side: 'long', quantity: 1, entryPrice: 18_000, exitPrice: 18_020 }, IG_EUR), 'GBP')).toBe(170);
  });

  it('notional and fees in account currency', () => {
    // 2 × 18,000 × 10 EUR × 0.85 = 306,000 GBP.
    expect(notionalOf(2, 18_000, IG_EUR)).toBe('306000');
    expect(notionalOf(-2, 18_000, IG_EUR)).toBe('306000');
    // 1.5 + 306,000 × 2 bps = 1.5 + 61.2 = 62.7.
    expect(feesOf(2, 18_000, WITH_FEES)).toBe('62.7');
    // Round trip 18,000 → 18,020 on 1: gross 170; fees 1.5 + 30.6 and 1.5 + 30.634 → 170 − 64.234.
    expect(tradePnl({ side: 'long', quantity: 1, entryPrice: 18_000, exitPrice: 18_020 }, WITH_FEES)).toBe('105.766');
    expect(roundMoney('105.766', 'GBP')).toBe('105.77');
  });

  it('without money facts the numbers are today\'s: point value 1, rate 1, no fees', () => {
    expect(tradePnl({ side: 'long', quantity: 3, entryPrice: 100, exitPrice: 101.5 })).toBe('4.5');
    expect(tradePnl({ side: 'short', quantity: 3, entryPrice: 100, exitPrice: 101.5 })).toBe('-4.5');
    expect(unrealisedPnlAt({ side: 'short', quantity: 2, entryPrice: 50 }, 45)).toBe('10');
    expect(notionalOf(3, 100.25)).toBe('300.75');
    expect(feesOf(3, 100.25)).toBe('0');
    const bare: Instrument = { symbol: 'AAPL', tradable: true, marketStatus: 'open', minQuantity: 0, quantityStep: 0 };
    expect(tradePnl({ side: 'long', quantity: 10, entryPrice: 190.1, exitPrice: 190.3 }, bare)).toBe('2');
  });

  it('decimal inputs are read exactly: 0.1 + 0.2 is 0.3', () => {
    expect(sumMoney([0.1, 0.2])).toBe('0.3');
    expect(sumMoney([])).toBe('0');
    expect(tradePnl({ side: 'long', quantity: 3, entryPrice: 0.1, exitPrice: 0.2 })).toBe('0.3');
    expect(notionalOf(3, 0.1)).toBe('0.3');
    expect(compareMoney(sumMoney([0.1, 0.2]), 0.3)).toBe(0);
    expect(compareMoney('0.31', 0.3)).toBe(1);
  });

  it('rounds to the minor unit of the account currency, half away from zero, never -0', () => {
    expect(roundMoney('170.005', 'GBP')).toBe('170.01');
    expect(roundMoney('-170.005', 'GBP')).toBe('-170.01');
    expect(roundMoney('1234.5', 'JPY')).toBe('1235');
    expect(roundMoney('-0.001', 'USD')).toBe('0.00');
    expect(roundMoney(2, 'eur')).toBe('2.00');
    expect(roundMoney('9.999', 'USD', 'down')).toBe('9.99');
    expect(roundMoney('-9.999', 'USD', 'down')).toBe('-9.99');
    expect(roundMoney('1.005')).toBe('1.01');
    expect(toMoneyNumber('0.1000001', 'GBP')).toBe(0.1);
    expect(sameMoney('170.004', 170, 'GBP')).toBe(true);
    expect(sameMoney('170.006', 170, 'GBP')).toBe(false);
    expect([minorUnitOf('JPY'), minorUnitOf('GBP'), minorUnitOf('XYZ'), minorUnitOf(undefined)]).toEqual([0, 2, 2, 2]);
  });

  it('refuses what is not a finite number, naming it', () => {
    expect(() => notionalOf(NaN, 1)).toThrow(/quantity must be finite/);
    expect(() => tradePnl({ side: 'long', quantity: 1, entryPrice: 1, exitPrice: Infinity })).toThrow(/exitPrice must be finite/);
    expect(() => tradePnl({ side: 'long', quantity: 1, entryPrice: 1, exitPrice: 2 }, { pointValue: 'ten' })).toThrow(/pointValue is not a decimal number/);
  });

  it('imports only decimal.js (workflow code imports it)', () => {
    const src = readFileSync(join(__dirname, '../../trading/money.ts'), 'utf8');
    const imports = [...src.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    expect(imports).toEqual(['decimal.js']);
  });
});

// Prices and quantities with few decimals, as venues quote them.
const priceArb = fc.integer({ min: 1, max: 10_000_000 }).map((n) => n / 100);
const quantityArb = fc.integer({ min: 1, max: 100_000 }).map((n) => n / 10);
const sideArb = fc.constantFrom<'long' | 'short'>('long', 'short');
const legsArb: fc.Arbitrary<TradeLegs> = fc.record({ side: sideArb, quantity: quantityArb, entryPrice: priceArb, exitPrice: priceArb });
const factsArb: fc.Arbitrary<MoneyFacts> = fc.record(
  {
    pointValue: fc.integer({ min: 1, max: 10_000 }).map((n) => String(n / 100)),
    conversionRate: fc.integer({ min: 1, max: 300_000 }).map((n) => String(n / 100_000)),
    commission: fc.record({ perOrder: fc.integer({ min: 0, max: 1_000 }).map((n) => String(n / 100)), rateBps: fc.integer({ min: 0, max: 50 }) }),
  },
  { requiredKeys: [] },
);
const noFixedFee = (f: MoneyFacts): MoneyFacts => (f.commission ? { ...f, commission: { ...f.commission, perOrder: '0' } } : f);

describe('properties', () => {
  it('sum of per-trade P&L equals the P&L computed on the summed legs (cash flows), exactly', () => {
    fc.assert(
      fc.property(fc.array(legsArb, { minLength: 1, maxLength: 20 }), factsArb, (trades, facts) => {
        const perTrade = sumMoney(trades.map((t) => tradePnl(t, facts)));
        // Summed legs: Σ sign × quantity × (exit − entry) over all trades, valued once, minus all fills' fees.
        const points = trades.reduce((s, t) => s.plus(new Decimal(t.exitPrice).minus(t.entryPrice).times(t.quantity).times(t.side === 'long' ? 1 : -1)), new Decimal(0));
        const gross = points.times(facts.pointValue ?? 1).times(facts.conversionRate ?? 1);
        const allFees = sumMoney(trades.flatMap((t) => [feesOf(t.quantity, t.entryPrice, facts), feesOf(t.quantity, t.exitPrice, facts)]));
        expect(compareMoney(perTrade, new Decimal(gross).minus(allFees))).toBe(0);
      }),
    );
  });

  it('splitting a trade into parts adds up exactly (rate-only fees)', () => {
    fc.assert(
      fc.property(legsArb, fc.array(quantityArb, { minLength: 1, maxLength: 10 }), factsArb, (t, parts, facts) => {
        const f = noFixedFee(facts);
        const whole = tradePnl({ ...t, quantity: Number(sumMoney(parts)) }, f);
        const split = sumMoney(parts.map((q) => tradePnl({ ...t, quantity: q }, f)));
        expect(compareMoney(whole, split)).toBe(0);
      }),
    );
  });

  it('no binary-float drift: sums of cents are exact', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { maxLength: 50 }), (cents) => {
        const total = cents.reduce((a, b) => a + b, 0);
        expect(sumMoney(cents.map((c) => c / 100))).toBe(new Decimal(total).div(100).toFixed());
        expect(roundMoney(sumMoney(cents.map((c) => c / 100)), 'USD')).toBe(new Decimal(total).div(100).toFixed(2));
      }),
    );
  });

  it('sign symmetry: long and short gross P&L are opposite; with fees they sum to minus twice the fees', () => {
    fc.assert(
      fc.property(legsArb, factsArb, (t, facts) => {
        const long = tradePnl({ ...t, side: 'long' }, facts);
        const short = tradePnl({ ...t, side: 'short' }, facts);
        const paid = sumMoney([feesOf(t.quantity, t.entryPrice, facts), feesOf(t.quantity, t.exitPrice, facts)]);
        expect(compareMoney(sumMoney([long, short]), new Decimal(paid).times(-2))).toBe(0);
        const gl = unrealisedPnlAt({ side: 'long', quantity: t.quantity, entryPrice: t.entryPrice }, t.exitPrice, facts);
        const gs = unrealisedPnlAt({ side: 'short', quantity: t.quantity, entryPrice: t.entryPrice }, t.exitPrice, facts);
        expect(compareMoney(sumMoney([gl, gs]), 0)).toBe(0);
        expect(roundMoney(gl, 'GBP')).toBe(roundMoney(new Decimal(gs).neg(), 'GBP'));
      }),
    );
  });

  it('fees always reduce P&L, and trade P&L = unrealised at the exit − both fills\' fees', () => {
    fc.assert(
      fc.property(legsArb, factsArb, (t, facts) => {
        const net = tradePnl(t, facts);
        const gross = tradePnl(t, { ...facts, commission: undefined });
        expect(compareMoney(net, gross)).toBeLessThanOrEqual(0);
        expect(compareMoney(feesOf(t.quantity, t.entryPrice, facts), 0)).toBeGreaterThanOrEqual(0);
        const marked = unrealisedPnlAt(t, t.exitPrice, facts);
        expect(compareMoney(gross, marked)).toBe(0);
        const paid = sumMoney([feesOf(t.quantity, t.entryPrice, facts), feesOf(t.quantity, t.exitPrice, facts)]);
        expect(compareMoney(net, new Decimal(marked).minus(paid))).toBe(0);
      }),
    );
  });

  it('without money facts P&L is closeTrade\'s formula; toMoneyNumber round-trips its text', () => {
    fc.assert(
      fc.property(legsArb, fc.constantFrom('GBP', 'USD', 'JPY'), (t, ccy) => {
        const exact = new Decimal(t.exitPrice).minus(t.entryPrice).times(t.quantity).times(t.side === 'long' ? 1 : -1);
        expect(compareMoney(tradePnl(t), exact)).toBe(0);
        const n = toMoneyNumber(tradePnl(t), ccy);
        expect(new Decimal(n).toFixed(minorUnitOf(ccy))).toBe(roundMoney(tradePnl(t), ccy));
      }),
    );
  });
});
