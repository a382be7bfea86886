import { log } from '@temporalio/activity';
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
import type { Frame } from '../market/frame';
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

/**
 * Broker activities are thin: they call the adapter, which owns idempotency (invariant 1) and error
 * mapping. They run on the `broker-<name>` task queue, served by that broker's worker.
 */
export function createBrokerActivities({ adapter, tradingEnabled, afterSubmit }: BrokerActivityDeps) {
  return withFailureMapping({
    async placeOrder(order: OrderRequest): Promise<OrderReport> {
      if (!tradingEnabled) {
        log.warn('order not sent: trading disabled on this broker worker', { clientOrderId: order.clientOrderId, account: order.account });
        return dryRunReport(order);
      }
      const report = await adapter.placeOrder(order);
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
      return adapter.getOrder(account, clientOrderId);
    },
    async getPositions(account: string): Promise<BrokerPosition[]> {
      return adapter.getPositions(account);
    },
    async getAccount(account: string): Promise<AccountSnapshot> {
      return adapter.getAccount(account);
    },
    /** Closed frames of one stream from the broker's price history (the feeder's source). */
    async getCandles(request: CandleRequest): Promise<Frame[]> {
      return adapter.getCandles(request);
    },
    async getLatestPrice(symbol: string): Promise<Quote> {
      return adapter.getLatestPrice(symbol);
    },
    /** Read-only, so it reaches the broker even in dry run (the risk checks need it either way). */
    async getInstrument(symbol: string): Promise<Instrument> {
      return adapter.getInstrument(symbol);
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
      const report = await adapter.placeStop(req);
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
