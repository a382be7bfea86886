/**
 * Drives the session engine synchronously in tests, with no Temporal server: a venue that answers
 * broker effects (fills at the bar's close, stops at their level) and can be told to fail, and a log of
 * every effect the engine asked for.
 */
import { SessionConfigSchema, type SessionConfigInput } from '../../config/session-config';
import { stopReport, unfilledReport, type BrokerPosition, type Instrument, type OrderReport } from '../../brokers/adapter';
import type { AccountCheckpoint, SessionOutcome } from '../../db/account-store';
import type { EnginePorts } from '../../engine/context';
import { runSync, type Effect, type Step } from '../../engine/effects';
import { SessionEngine } from '../../engine/session-engine';
import type { Frame } from '../../market/frame';
import { timeframeMs } from '../../market/timeframe';

export interface VenueFaults {
  /** placeOrder throws this (an activity failure's shape: `cause.type`). */
  placeOrder?: { type: string; message: string };
  /** getOrder of an entry answers null (the venue cannot find it). */
  orderNotFound?: boolean;
  /** placeStop answers rejected with this reason. */
  refuseStop?: string;
  /** placeOrder leaves the order working (`pending`, nothing filled) until `release`. */
  holdOrders?: boolean;
  /** getOrder, getPositions and getAccount throw a non-retryable 401 (a key rotation). */
  unauthorized?: boolean;
  /**
   * A close is refused after the venue cancelled the position's stop (Alpaca's close: cancel `-S`, then the
   * 403), with `stopLive` saying whether the venue put the stop back.
   */
  refuseClose?: { reason: string; stopLive: boolean };
}

/** An order the venue holds: answered `pending` until released, then filled (in part or whole). */
interface HeldOrder {
  report: OrderReport;
}

export class EngineHarness {
  readonly engine: SessionEngine;
  readonly effects: Effect[] = [];
  readonly outcomes: SessionOutcome[] = [];
  readonly logs: { level: string; message: string }[] = [];
  faults: VenueFaults = {};
  clock: number;
  private frame: Frame | null = null;
  readonly held = new Map<string, HeldOrder>();
  /** What prepareAccount answers (the store's checkpoint). */
  checkpoint: AccountCheckpoint = { maxOrderSeq: 0, openPositions: 0 };
  /** Frames the store holds (loadFrames answers those in the range). */
  storedFrames: Frame[] = [];
  /** Backfill pages handed back by the engine. */
  pages = 0;
  /** Money facts getInstrument adds to its answer (point value, currencies, rate, commission). */
  instrumentFacts: Partial<Instrument> = {};
  /** What getPositions answers. */
  brokerPositions: BrokerPosition[] = [];
  private readonly stops = new Map<string, { level: number; side: 'long' | 'short'; quantity: number; symbol: string }>();

  constructor(config: Partial<SessionConfigInput> & Pick<SessionConfigInput, 'systems'>, startingBalance = 100_000) {
    this.clock = Date.UTC(2026, 0, 5, 9, 0);
    const ports: EnginePorts = {
      now: () => this.clock,
      log: (level, message) => this.logs.push({ level, message }),
      patched: () => true,
      statusChanged: () => undefined,
      tradingStateChanged: () => undefined,
      timersChanged: () => undefined,
    };
    const parsed = SessionConfigSchema.parse({ account: 'unit', broker: 'paper', tradingEnabled: true, ...config });
    this.engine = new SessionEngine({ config: parsed, features: { riskEngine: true, accountCurrency: true }, ports });
    this.engine.state.startingBalance = startingBalance;
    this.engine.armTimers();
  }

  run<T>(step: Step<T>): T {
    return runSync(step, (e) => this.answer(e));
  }

  /** Feeds frames in order, each at its end time. */
  feed(frames: Frame[]): void {
    for (const f of frames) {
      this.frame = f;
      this.clock = f.start + timeframeMs(f.timeframe);
      // A page of a long backfill hands the frame back: in again, as the workflow's queue does.
      while (this.run(this.engine.frame(f))) this.pages++;
    }
  }

  /** Whether the venue holds a working protective stop for this position. */
  hasStop(positionRef: string): boolean {
    return this.stops.has(positionRef);
  }

  /**
   * The venue settles a held order: `filled` of `quantity` (all when absent) at `price`; with `final`, a
   * partial fill whose rest is cancelled (Alpaca reports it `filled` with less than the quantity).
   */
  release(clientOrderId: string, opts: { quantity?: number; price: number; final?: boolean }): void {
    const h = this.held.get(clientOrderId)!;
    const qty = opts.quantity ?? h.report.quantity;
    const done = qty >= h.report.quantity || opts.final === true;
    h.report = { ...h.report, status: done ? 'filled' : 'pending', filledQuantity: qty, fillPrice: opts.price, filledAt: this.clock };
  }

  /** Moves the clock by `ms` and fires every deadline due by then, in order. */
  advance(ms: number): void {
    const until = this.clock + ms;
    for (let due = this.engine.nextDeadline(); due !== null && due <= until; due = this.engine.nextDeadline()) {
      this.clock = Math.max(this.clock, due);
      this.run(this.engine.fireDueTimers());
    }
    this.clock = until;
  }

  kinds(): string[] {
    return this.effects.map((e) => e.kind);
  }

  private answer(e: Effect): unknown {
    this.effects.push(e);
    switch (e.kind) {
      case 'recordOutcome':
        this.outcomes.push(structuredClone(e.outcome));
        return undefined;
      case 'recordOrderIntent':
      case 'prepareAccount':
        return e.kind === 'prepareAccount' ? this.checkpoint : undefined;
      case 'loadFrames': {
        const q = e.query;
        return this.storedFrames.filter((f) => f.symbol === q.symbol && f.timeframe === q.timeframe && f.start >= q.fromStart && f.start <= q.toStart);
      }
      case 'getInstrument':
        return { symbol: e.symbol, tradable: true, marketStatus: 'TRADEABLE', minQuantity: 0, quantityStep: 0, ...this.instrumentFacts };
      case 'getAccount':
        this.refuseWhenUnauthorized();
        return { account: 'unit', currency: 'USD', balance: 100_000 };
      case 'getPositions':
        this.refuseWhenUnauthorized();
        return this.brokerPositions;
      case 'placeOrder': {
        if (this.faults.placeOrder) throw Object.assign(new Error('activity failed'), { cause: this.faults.placeOrder });
        const o = e.request;
        if (o.intent === 'close' && o.positionRef) {
          const refused = this.faults.refuseClose;
          if (refused) {
            if (!refused.stopLive) this.stops.delete(o.positionRef);
            return { ...unfilledReport(o, 'rejected', refused.reason), stopLive: refused.stopLive };
          }
          this.stops.delete(o.positionRef);
        }
        if (this.faults.holdOrders) {
          const pending: OrderReport = { clientOrderId: o.clientOrderId, brokerOrderId: 'b', status: 'pending', symbol: o.symbol, side: o.side, quantity: o.quantity, filledQuantity: 0, fillPrice: 0, filledAt: null };
          this.held.set(o.clientOrderId, { report: pending });
          return pending;
        }
        const report: OrderReport = { clientOrderId: o.clientOrderId, brokerOrderId: 'b', status: 'filled', symbol: o.symbol, side: o.side, quantity: o.quantity, filledQuantity: o.quantity, fillPrice: this.frame!.close, filledAt: this.clock };
        return report;
      }
      case 'placeStop': {
        if (this.faults.refuseStop) return stopReport(e.request, 'rejected', this.faults.refuseStop);
        this.stops.set(e.request.positionRef, { level: e.request.stopLevel, side: e.request.positionSide, quantity: e.request.quantity, symbol: e.request.symbol });
        return stopReport(e.request, 'working');
      }
      case 'getOrder': {
        this.refuseWhenUnauthorized();
        const held = this.held.get(e.clientOrderId);
        if (held) return held.report;
        const ref = e.clientOrderId.endsWith('-S') ? e.clientOrderId.slice(0, -2) : null;
        const stop = ref ? this.stops.get(ref) : undefined;
        if (!stop || !this.frame) return null;
        const hit = stop.side === 'long' ? this.frame.low <= stop.level : this.frame.high >= stop.level;
        if (!hit) return null;
        this.stops.delete(ref!);
        const report: OrderReport = { clientOrderId: e.clientOrderId, brokerOrderId: 's', status: 'filled', symbol: stop.symbol, side: stop.side === 'long' ? 'sell' : 'buy', quantity: stop.quantity, filledQuantity: stop.quantity, fillPrice: stop.level, filledAt: this.clock };
        return report;
      }
    }
  }

  private refuseWhenUnauthorized(): void {
    if (this.faults.unauthorized) throw Object.assign(new Error('activity failed'), { cause: { type: 'BrokerAuthError', message: '401 Unauthorized', nonRetryable: true } });
  }
}
