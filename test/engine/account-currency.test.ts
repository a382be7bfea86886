/**
 * Money in account currency (issue 11 item 7), through the engine with no Temporal server: an IG-like
 * instrument priced in EUR with a point value of 10 on a GBP account. Trades, equity marks, the notional
 * and exposure limits and the daily-loss protection all count GBP; fees are taken once per fill.
 */
import { Decimal } from 'decimal.js';
import { bars, scriptedSystem, type Ohlc } from '../support/scripted-bars';
import { EngineHarness } from './engine-harness';

const EPIC = 'CS.D.EURGBP.CFD.IP';
const at = (close: number): Ohlc => [close, close + 0.05, close - 0.05, close];
/** 0.85 GBP per EUR: IG's baseExchangeRate 1/0.85 read by the adapter as this conversion rate. */
const EUR_ON_GBP = { pointValue: '10', currency: 'EUR', accountCurrency: 'GBP', conversionRate: '0.85' };
const refusals = (h: EngineHarness) => h.outcomes.flatMap((o) => o.refusals ?? []);

describe('daily loss in GBP on a EUR instrument with a point value of 10', () => {
  const harness = () => {
    const h = new EngineHarness({
      protections: { dailyLoss: { limit: 100 } },
      systems: [scriptedSystem('s', EPIC, [{ frame: 1, action: 'buy', quantity: 2 }])],
    });
    h.instrumentFacts = EUR_ON_GBP;
    return h;
  };

  test('a move of 5 points on 2 contracts is a loss of 85 GBP (not 10): nothing yet; 6 points is 102 GBP and sets reducing', () => {
    const h = harness();
    h.feed(bars(EPIC, [at(100)]));
    expect(h.engine.positions()[0]).toEqual(expect.objectContaining({ quantity: 2, entryPrice: 100, money: { facts: EUR_ON_GBP, perPoint: 8.5 } }));
    h.feed(bars(EPIC, [at(100), at(95)]).slice(1));
    expect(h.engine.state.tradingState).toBe('active');
    expect(h.engine.pnl().unrealised).toBeCloseTo(-85, 8);
    h.feed(bars(EPIC, [at(100), at(95), at(94)]).slice(2));
    expect(h.engine.state.tradingState).toBe('reducing');
    expect(h.engine.state.tradingStateHistory[0].reason).toBe('daily loss 102 (day start equity 100,000, equity 99,898) reaches dailyLoss.limit 100');
  });

  test('in price units the same loss (12) would never have reached the limit: without money facts nothing fires', () => {
    const h = harness();
    h.instrumentFacts = {};
    h.feed(bars(EPIC, [at(100), at(95), at(94), at(90)]));
    expect(h.engine.state.tradingState).toBe('active');
    expect(h.engine.positions()[0].money).toBeUndefined();
  });
});

describe('trades in account currency, fees once per fill', () => {
  const commission = { perOrder: '1.5', rateBps: 10 };

  test('a round trip books (exit − entry) × quantity × point value × rate − both fills’ fees, exactly', () => {
    const h = new EngineHarness({ systems: [scriptedSystem('s', EPIC, [{ frame: 1, action: 'buy', quantity: 3 }, { frame: 3, action: 'close' }])] });
    h.instrumentFacts = { ...EUR_ON_GBP, commission };
    h.feed(bars(EPIC, [at(100.1), at(100.2), at(100.4)]));
    const [trade] = h.engine.trades();
    // gross 0.3 × 3 × 8.5 = 7.65; fees 1.5 + 0.001 × 3 × 100.1 × 8.5 = 4.05255 and 1.5 + 0.001 × 3 × 100.4 × 8.5 = 4.0602.
    const expected = new Decimal('7.65').minus('4.05255').minus('4.0602').toNumber();
    expect(trade.pnl).toBe(expected);
    expect(trade.pnl).toBe(-0.46275);
    expect(h.engine.pnl().realised).toBe(-0.46275);
  });

  test('a short loses when the price rises, in account money', () => {
    const h = new EngineHarness({ systems: [scriptedSystem('s', EPIC, [{ frame: 1, action: 'sell', quantity: 1 }, { frame: 2, action: 'close' }])] });
    h.instrumentFacts = EUR_ON_GBP;
    h.feed(bars(EPIC, [at(100), at(101)]));
    expect(h.engine.trades()[0].pnl).toBe(-8.5);
  });

  test('a partial close pays the entry’s fixed fee once: the parts add up to the whole trade plus the second exit order’s fixed fee', () => {
    const h = new EngineHarness({ systems: [scriptedSystem('s', EPIC, [{ frame: 1, action: 'buy', quantity: 4 }, { frame: 2, action: 'close' }, { frame: 3, action: 'close' }])] });
    h.instrumentFacts = { ...EUR_ON_GBP, commission };
    const frames = bars(EPIC, [at(100), at(102), at(102)]);
    h.feed(frames.slice(0, 1));
    h.faults.holdOrders = true;
    h.feed(frames.slice(1, 2));
    // The close fills 1 of 4 and the rest is cancelled (Alpaca: `filled` with less than the quantity).
    const [closeId] = [...h.held.keys()];
    h.release(closeId, { quantity: 1, price: 102, final: true });
    h.advance(2_000);
    h.faults.holdOrders = false;
    h.feed(frames.slice(2));
    const trades = h.engine.trades();
    expect(trades.map((t) => [t.quantity, t.partial ?? false])).toEqual([[1, true], [3, false]]);
    // One round trip of 4 at 100 → 102: gross 2 × 4 × 8.5 = 68; fees 1.5 + 0.001 × 400 × 8.5 and 1.5 + 0.001 × 408 × 8.5.
    const whole = new Decimal(68).minus(new Decimal('1.5').plus('3.4')).minus(new Decimal('1.5').plus('3.468')).toNumber();
    // Two exit orders, two fixed exit fees; the entry's was paid once.
    expect(new Decimal(trades[0].pnl).plus(trades[1].pnl).toNumber()).toBe(new Decimal(whole).minus('1.5').toNumber());
  });
});

describe('notional and exposure limits in account currency', () => {
  test('maxOrderNotional 1,000 GBP: 1 contract at 100 (850 GBP) passes, 2 (1,700 GBP) are refused with the value per point named', () => {
    const h = new EngineHarness({
      // checkInstrument off: the money facts are read anyway (once per symbol), the market checks are not.
      risk: { maxOrderNotional: 1_000, checkInstrument: false },
      systems: [scriptedSystem('a', EPIC, [{ frame: 1, action: 'buy', quantity: 2 }, { frame: 2, action: 'buy', quantity: 1 }])],
    });
    h.instrumentFacts = EUR_ON_GBP;
    h.feed(bars(EPIC, [at(100), at(100)]));
    expect(refusals(h).map((r) => [r.rule, r.detail])).toEqual([
      ['max-order-notional', 'order notional 1,700 (quantity 2 × price 100 × value per point 8.5) exceeds maxOrderNotional 1,000'],
    ]);
    expect(h.engine.positions().map((p) => p.quantity)).toEqual([1]);
    // The instrument was read once (after the other rules passed), not per entry.
    expect(h.kinds().filter((k) => k === 'getInstrument')).toHaveLength(1);
  });

  test('maxTotalExposure counts the open position in account money too', () => {
    const h = new EngineHarness({
      risk: { maxTotalExposure: 2_000 },
      systems: [
        scriptedSystem('a', EPIC, [{ frame: 1, action: 'buy', quantity: 2 }]),
        scriptedSystem('b', EPIC, [{ frame: 2, action: 'buy', quantity: 1 }]),
      ],
    });
    h.instrumentFacts = EUR_ON_GBP;
    h.feed(bars(EPIC, [at(100), at(100)]));
    // Open 2 × 100 × 8.5 = 1,700 + 850 = 2,550 > 2,000 (in price units: 200 + 100, far below).
    expect(refusals(h).map((r) => [r.systemId, r.rule, r.numbers.exposure])).toEqual([['b', 'max-total-exposure', 2_550]]);
  });

  test('a refused intent asks the broker nothing, not even the instrument', () => {
    const h = new EngineHarness({ risk: { maxOrderQuantity: 1 }, systems: [scriptedSystem('a', EPIC, [{ frame: 1, action: 'buy', quantity: 2 }])] });
    h.instrumentFacts = EUR_ON_GBP;
    h.feed(bars(EPIC, [at(100)]));
    expect(refusals(h).map((r) => r.rule)).toEqual(['max-order-quantity']);
    expect(h.kinds().filter((k) => k === 'getInstrument' || k === 'placeOrder')).toEqual([]);
  });
});
