import { log } from '@temporalio/activity';
import { unfilledReport, type AccountSnapshot, type BrokerAdapter, type BrokerPosition, type CandleRequest, type OrderReport, type OrderRequest, type Quote } from '../brokers/adapter';
import type { Frame } from '../market/frame';
import { withFailureMapping } from './failures';

export interface BrokerActivityDeps {
  adapter: BrokerAdapter;
  /** TRADING_ENABLE of this broker worker: when false nothing reaches the broker, whatever the session asks. */
  tradingEnabled: boolean;
  /** Fault-injection point for crash tests: runs after the broker accepted an order, before the activity returns. */
  afterSubmit?: (report: OrderReport) => void;
}

function dryRunReport(order: OrderRequest): OrderReport {
  return unfilledReport(order, 'dry-run', 'TRADING_ENABLE=false on the broker worker');
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
  });
}

export type BrokerActivities = ReturnType<typeof createBrokerActivities>;
