import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import {
  stopReport,
  unfilledReport,
  type AccountSnapshot,
  type BrokerAdapter,
  type BrokerPosition,
  type CandleRequest,
  type Instrument,
  type OrderReport,
  type OrderRequest,
  type Quote,
  type StopReport,
  type StopRequest,
} from '../brokers/adapter';
import { IgConfigSchema, igCallBudgets } from '../brokers/ig';
import { AlpacaConfigSchema, alpacaCallBudgets } from '../brokers/alpaca';
import { paperCallBudgets } from '../brokers/paper/timeouts';
import { withProgress } from '../brokers/progress';
import { activityTimeouts, reportsCallBudgets, type BrokerCallTimeouts, type CallBudgets } from '../brokers/timeouts';
import type { Frame } from '../market/frame';
import { BrokerError } from '../brokers/errors';
import { withFailureMapping } from './failures';

export interface BrokerActivityDeps {
  adapter: BrokerAdapter;
  /** TRADING_ENABLE of this broker worker: when false nothing reaches the broker, whatever the session asks. */
  tradingEnabled: boolean;
  /** Fault-injection point for crash tests: runs after the broker accepted an order, before the activity returns. */
  afterSubmit?: (report: OrderReport) => void;
}

const DRY_RUN = 'TRADING_ENABLE=false on the broker worker';

function dryRunReport(order: OrderRequest): OrderReport {
  return unfilledReport(order, 'dry-run', DRY_RUN);
}

/** Some fields' defaults of a venue's config schema (what an adapter built with no overrides uses). */
function schemaDefaults<S extends z.ZodRawShape, K extends keyof S & string>(shape: S, keys: readonly K[]): { [P in K]: z.output<S[P]> } {
  return Object.fromEntries(keys.map((k) => [k, shape[k]!.parse(undefined)])) as { [P in K]: z.output<S[P]> };
}

/**
 * The call budgets of this worker's adapter: its own (IG, Alpaca, and a CircuitBreakingAdapter over one,
 * from the config they run with), else those of its venue's default config by name (the paper venue, whose
 * calls do not depend on its config, and wrappers in tests), else null.
 */
export function callBudgetsOf(adapter: BrokerAdapter): CallBudgets | null {
  if (reportsCallBudgets(adapter)) return adapter.callBudgets();
  switch (adapter.name) {
    case 'paper':
      return paperCallBudgets();
    case 'ig':
      return igCallBudgets(schemaDefaults(IgConfigSchema.shape, ['httpTimeoutMs', 'confirmWindowMs', 'confirmPollIntervalMs', 'activityMaxPages']));
    case 'alpaca':
      return alpacaCallBudgets(schemaDefaults(AlpacaConfigSchema.shape, ['httpTimeoutMs', 'orderFillWaitMs', 'orderPollIntervalMs', 'positionHistoryPages']));
    default:
      return null;
  }
}

/**
 * Runs one adapter call as a heartbeating activity: a beat when it starts, and every progress beat the
 * adapter makes (brokers/progress.ts: each HTTP exchange, each confirm or fill poll) becomes a heartbeat of
 * this activity, so the heartbeat timeout the session sets (brokers/timeouts.ts) notices a dead worker.
 */
function heartbeating<T>(fn: () => Promise<T>): Promise<T> {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return fn(); // called directly, outside an activity (a bench, a script): nothing to heartbeat to
  }
  const heartbeat = () => ctx.heartbeat();
  heartbeat();
  return withProgress(heartbeat, fn);
}

/** The failure type of a refusal that may not be the whole story (see ambiguousOnRetry). */
export const ORDER_OUTCOME_AMBIGUOUS = 'OrderOutcomeAmbiguousError';

/**
 * A refusal on a retry is not proof the order was never placed (issue 11): attempt 1 may have timed out
 * after the venue took the POST, and attempt 2's 4xx (duplicate, insufficient quantity, 401 mid-rotation)
 * then speaks of a second submission. It becomes a non-retryable failure of its own type, which the
 * session does not book as rejected (it is not a broker refusal type): it asks the broker, and tracks the
 * order as unknown until the broker tells.
 */
function ambiguousOnRetry(err: unknown, order: OrderRequest): unknown {
  let attempt = 1;
  try {
    attempt = Context.current().info.attempt;
  } catch {
    return err; // outside an activity: no earlier attempt
  }
  if (attempt <= 1 || !(err instanceof BrokerError) || err.retryable) return err;
  log.warn('order refused on a retry: outcome ambiguous, left to the session to settle', { clientOrderId: order.clientOrderId, account: order.account, attempt, error: err.message });
  return ApplicationFailure.create({
    type: ORDER_OUTCOME_AMBIGUOUS,
    message: `attempt ${attempt} was refused (${err.name}: ${err.message}), but an earlier attempt may have reached the broker`,
    nonRetryable: true,
  });
}

/**
 * Broker activities are thin: they call the adapter, which owns idempotency (invariant 1) and error
 * mapping. They run on the `broker-<name>` task queue, served by that broker's worker.
 */
export function createBrokerActivities({ adapter, tradingEnabled, afterSubmit }: BrokerActivityDeps) {
  const budgets = callBudgetsOf(adapter);
  const timeouts = budgets ? activityTimeouts(budgets) : null;
  return withFailureMapping({
    /**
     * The activity options of every session call on this broker (brokers/timeouts.ts), from the worst cases
     * of the adapter as this worker configured it. The session asks once per run (workflows/effects.ts);
     * null when the adapter has no budgets (the session keeps its fallback options).
     */
    async brokerCallTimeouts(): Promise<BrokerCallTimeouts | null> {
      return timeouts;
    },
    async placeOrder(order: OrderRequest): Promise<OrderReport> {
      if (!tradingEnabled) {
        log.warn('order not sent: trading disabled on this broker worker', { clientOrderId: order.clientOrderId, account: order.account });
        return dryRunReport(order);
      }
      let report: OrderReport;
      try {
        report = await heartbeating(() => adapter.placeOrder(order));
      } catch (err) {
        throw ambiguousOnRetry(err, order);
      }
      log.info('order placed', {
        account: order.account,
        clientOrderId: order.clientOrderId,
        status: report.status,
        fillPrice: report.fillPrice,
        broker: adapter.name,
      });
      afterSubmit?.(report);
      return report;
    },
    async getOrder(account: string, clientOrderId: string): Promise<OrderReport | null> {
      return heartbeating(() => adapter.getOrder(account, clientOrderId));
    },
    async getPositions(account: string): Promise<BrokerPosition[]> {
      return heartbeating(() => adapter.getPositions(account));
    },
    async getAccount(account: string): Promise<AccountSnapshot> {
      return heartbeating(() => adapter.getAccount(account));
    },
    /** Closed frames of one stream from the broker's price history (the feeder's source). */
    async getCandles(request: CandleRequest): Promise<Frame[]> {
      return heartbeating(() => adapter.getCandles(request));
    },
    async getLatestPrice(symbol: string): Promise<Quote> {
      return heartbeating(() => adapter.getLatestPrice(symbol));
    },
    /** Read-only, so it reaches the broker even in dry run (the risk checks need it either way). */
    async getInstrument(symbol: string): Promise<Instrument> {
      return heartbeating(() => adapter.getInstrument(symbol));
    },
    /**
     * The protective stop of a filled entry. In dry run nothing is sent: the answer is `rejected` with a
     * TRADING_ENABLE=false reason (StopReport has no dry-run status; a dry-run entry never fills, so the
     * session does not ask for its stop in practice).
     */
    async placeStop(req: StopRequest): Promise<StopReport> {
      if (!tradingEnabled) {
        log.warn('stop not sent: trading disabled on this broker worker', { positionRef: req.positionRef, account: req.account });
        return stopReport(req, 'rejected', `${DRY_RUN}: stop not sent`);
      }
      const report = await heartbeating(() => adapter.placeStop(req));
      log.info('protective stop', {
        account: req.account,
        positionRef: req.positionRef,
        status: report.status,
        stopLevel: report.stopLevel,
        broker: adapter.name,
        ...(report.reason ? { reason: report.reason } : {}),
      });
      return report;
    },
  });
}

export type BrokerActivities = ReturnType<typeof createBrokerActivities>;
