/**
 * What the session engine asks of the world, and the two ways to answer it.
 *
 * The engine's steps are generators: each `yield` hands one effect (a broker call or a store write) to
 * its driver and gets the answer back (or the failure thrown in). The workflow drives a step with an
 * activity per effect (workflows/effects.ts); the backtester and the engine's tests answer synchronously
 * (`runSync`), so a bar costs no promise. Effects that need no answer (logs, search attributes, timers
 * changed) go through the synchronous `EnginePorts` instead (engine/context.ts).
 */
import type { AccountSnapshot, BrokerPosition, Instrument, OrderReport, OrderRequest, StopReport, StopRequest } from '../brokers/adapter';
import type { AccountCheckpoint, SessionOutcome } from '../db/account-store';
import type { OrderRecord } from '../trading/order';
import type { Frame } from '../market/frame';
import type { Timeframe } from '../market/timeframe';

export interface FramesQuery {
  symbol: string;
  timeframe: Timeframe;
  fromStart: number;
  toStart: number;
}

export type Effect =
  /** The account's schema migrated, and its checkpoint (highest order sequence, open positions). Answer: AccountCheckpoint. */
  | { kind: 'prepareAccount' }
  /** The broker's account balance. Answer: AccountSnapshot. */
  | { kind: 'getAccount' }
  /** The intent row, before the broker sees the order (invariant 1). Answer: nothing. */
  | { kind: 'recordOrderIntent'; record: OrderRecord }
  /** Every change of one step, in one transaction. Answer: nothing. */
  | { kind: 'recordOutcome'; outcome: SessionOutcome }
  /** Stored frames of a gap (backfill). Answer: Frame[]. */
  | { kind: 'loadFrames'; query: FramesQuery }
  /** A market order, idempotent by clientOrderId; retried up to the order retry policy. Answer: OrderReport. */
  | { kind: 'placeOrder'; request: OrderRequest }
  /** The broker's record of an order. Answer: OrderReport | null (not found). */
  | { kind: 'getOrder'; clientOrderId: string }
  /** The broker's open positions of the account. Answer: BrokerPosition[]. */
  | { kind: 'getPositions' }
  /** An instrument's details, bounded retries (an entry is refused without them). Answer: Instrument. */
  | { kind: 'getInstrument'; symbol: string }
  /** A position's protective stop, bounded retries (the position is closed when it cannot be protected). Answer: StopReport. */
  | { kind: 'placeStop'; request: StopRequest };

/** The answer each effect expects. */
export interface EffectAnswers {
  prepareAccount: AccountCheckpoint;
  getAccount: AccountSnapshot;
  recordOrderIntent: void;
  recordOutcome: void;
  loadFrames: Frame[];
  placeOrder: OrderReport;
  getOrder: OrderReport | null;
  getPositions: BrokerPosition[];
  getInstrument: Instrument;
  placeStop: StopReport;
}

/** A step of the engine: yields effects, returns T. */
export type Step<T> = Generator<Effect, T, unknown>;

/** Answers effects synchronously; throws to fail one (the step sees the throw at its `yield`). */
export type SyncVenue = (effect: Effect) => unknown;

/** Drives a step to its end with synchronous answers: no promise, no microtask. */
export function runSync<T>(step: Step<T>, venue: SyncVenue): T {
  let next = step.next();
  while (!next.done) {
    let answer: unknown;
    try {
      answer = venue(next.value);
    } catch (err) {
      next = step.throw(err);
      continue;
    }
    next = step.next(answer);
  }
  return next.value;
}
