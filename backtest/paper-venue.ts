/**
 * The paper venue for a backtest: the session engine's broker effects answered synchronously with the
 * paper fill model (brokers/paper/fill-model.ts) at the bar being processed, exactly as the live paper
 * venue answers them from the frame it last stored. Store effects are collected by the caller.
 */
import { stopOnWrongSide, stopReport, type Instrument, type OrderReport, type StopReport, type StopRequest } from '../brokers/adapter';
import type { PaperConfig } from '../brokers/paper/config';
import { marketFillPrice, stopFillPrice } from '../brokers/paper/fill-model';
import { paperMoneyFacts, type PaperMoneyFacts } from '../brokers/paper/instruments';
import type { Effect } from '../engine/effects';
import type { Frame } from '../market/frame';
import { round8 } from '../trading/trade';

export class BacktestPaperVenue {
  /** The bar being processed, and its end (what the venue stamps on fills). */
  frame!: Frame;
  frameEnd = 0;
  /** Working protective stops by position ref. */
  private readonly stops = new Map<string, { side: 'long' | 'short'; level: number; symbol: string; quantity: number }>();
  private readonly halfSpread: number;

  private readonly money: PaperMoneyFacts;

  constructor(private readonly cfg: PaperConfig) {
    this.halfSpread = cfg.spreadBps / 2 / 10_000;
    this.money = paperMoneyFacts(cfg);
  }

  /** Answers one broker effect; store effects are the caller's (undefined here). */
  answer(e: Effect): unknown {
    switch (e.kind) {
      case 'placeOrder': {
        const { request: o } = e;
        // A closing order ends its position, and with it the position's stop at the venue.
        if (o.intent === 'close' && o.positionRef) this.stops.delete(o.positionRef);
        const report: OrderReport = {
          clientOrderId: o.clientOrderId,
          brokerOrderId: '',
          status: 'filled',
          symbol: o.symbol,
          side: o.side,
          quantity: o.quantity,
          filledQuantity: o.quantity,
          fillPrice: marketFillPrice(this.frame.close, o.side, this.cfg),
          filledAt: this.frameEnd,
        };
        return report;
      }
      case 'placeStop':
        return this.placeStop(e.request);
      case 'getOrder':
        return this.stopFill(e.clientOrderId);
      case 'getInstrument': {
        // The money facts the live paper venue answers with (point value, currencies, commission).
        const instrument: Instrument = { symbol: e.symbol, tradable: true, marketStatus: 'TRADEABLE', minQuantity: 0, quantityStep: 0, ...this.money };
        return instrument;
      }
      case 'getAccount':
        return { account: '', balance: this.cfg.initialBalance, currency: this.cfg.currency };
      case 'getPositions':
        return [];
      default:
        return undefined;
    }
  }

  private placeStop(req: StopRequest): StopReport {
    const bid = round8(this.frame.close * (1 - this.halfSpread));
    const ask = round8(this.frame.close * (1 + this.halfSpread));
    if (stopOnWrongSide(req.positionSide, req.stopLevel, { bid, ask })) {
      const price = req.positionSide === 'long' ? `bid ${bid}` : `ask ${ask}`;
      return stopReport(req, 'rejected', `stop ${req.stopLevel} is on the wrong side of the ${price} for a ${req.positionSide} position`);
    }
    this.stops.set(req.positionRef, { side: req.positionSide, level: req.stopLevel, symbol: req.symbol, quantity: req.quantity });
    return stopReport(req, 'working');
  }

  /** A protective stop the bar reached fills at its level (or the open through a gap), less slippage. */
  private stopFill(clientOrderId: string): OrderReport | null {
    if (!clientOrderId.endsWith('-S')) return null;
    const ref = clientOrderId.slice(0, -2);
    const stop = this.stops.get(ref);
    if (!stop) return null;
    const price = stopFillPrice({ side: stop.side, stopLevel: stop.level }, this.frame, this.cfg);
    if (price === null) return null;
    this.stops.delete(ref);
    return {
      clientOrderId,
      brokerOrderId: '',
      status: 'filled',
      symbol: stop.symbol,
      side: stop.side === 'long' ? 'sell' : 'buy',
      quantity: stop.quantity,
      filledQuantity: stop.quantity,
      fillPrice: price,
      filledAt: this.frameEnd,
    };
  }
}
