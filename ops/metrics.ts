/**
 * Prometheus metrics of one worker process: a prom-client registry built per process (no module-level
 * state), the application metrics operators alert on, and the `/metrics` HTTP endpoint. The Temporal
 * SDK's own runtime metrics are exported by its Runtime on the next port (see `temporalMetricsAddress`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { OrderReport, OrderRequest } from '../brokers/adapter';
import type { IgHistoryMeter } from '../brokers/ig/allowance';
import type { BreakerState } from '../brokers/resilience';
import type { SessionOutcome } from '../db/account-store';
import type { OrderRecord } from '../trading/order';

/** Gauge values of a circuit breaker's state. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2, isolated: 2 };

/** Something whose circuit state can be read at scrape time (a `CircuitBreakingAdapter`). */
export interface BreakerSource {
  readonly name: string;
  readonly state: BreakerState;
}

export type AppMetrics = ReturnType<typeof createMetrics>;

/** Order statuses that are not final at the venue (trading/order.ts): counted and aged by `maotrade_orders_open*`. */
export const OPEN_ORDER_STATUSES: readonly string[] = ['pending', 'accepted', 'partially-filled', 'working', 'unknown'];

/**
 * Broker reads whose non-retryable failure degrades a session (engine/degraded.ts: an order or stop
 * check, reconciliation's positions, the account balance): a person must look.
 */
export const DEGRADING_READS: readonly string[] = ['getOrder', 'getPositions', 'getAccount'];

interface OpenOrder {
  account: string;
  status: string;
  /** When it was first recorded in this status (by this process). */
  since: number;
}

/** The registry and the application metrics of one process; `service` labels everything it exports. */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'maotrade_process_' });
  const breakers: BreakerSource[] = [];
  const openOrders = new Map<string, OpenOrder>();
  /** Per (account, status) of the open orders: how many, and since when the oldest. */
  const openOrderGroups = () => {
    const groups = new Map<string, { labels: { account: string; status: string }; count: number; oldest: number }>();
    for (const o of openOrders.values()) {
      const key = `${o.account}\u0000${o.status}`;
      const g = groups.get(key);
      if (g) {
        g.count += 1;
        g.oldest = Math.min(g.oldest, o.since);
      } else groups.set(key, { labels: { account: o.account, status: o.status }, count: 1, oldest: o.since });
    }
    return [...groups.values()];
  };
  const metrics = {
    registry,
    ordersPlaced: new Counter({
      name: 'maotrade_orders_placed_total',
      help: 'Orders the broker accepted (filled or pending), by broker',
      labelNames: ['broker'] as const,
      registers: [registry],
    }),
    ordersRejected: new Counter({
      name: 'maotrade_orders_rejected_total',
      help: 'Orders the broker rejected (a rejected report or a non-retryable failure), by broker',
      labelNames: ['broker'] as const,
      registers: [registry],
    }),
    ordersFailed: new Counter({
      name: 'maotrade_order_attempts_failed_total',
      help: 'placeOrder attempts that failed retryably (broker unwell, circuit open, outcome unknown), by broker',
      labelNames: ['broker'] as const,
      registers: [registry],
    }),
    fills: new Counter({
      name: 'maotrade_fills_total',
      help: 'Fills recorded by sessions, by account',
      labelNames: ['account'] as const,
      registers: [registry],
    }),
    frameLag: new Histogram({
      name: 'maotrade_frame_lag_seconds',
      help: 'Delay between the end of a frame and its processing (session outcome) or storing (feeder)',
      labelNames: ['stage'] as const,
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600],
      registers: [registry],
    }),
    pnl: new Gauge({
      name: 'maotrade_pnl',
      help: 'Profit and loss of an account at its last recorded equity point, by kind (realised, unrealised, total)',
      labelNames: ['account', 'kind'] as const,
      registers: [registry],
    }),
    breakerState: new Gauge({
      name: 'maotrade_breaker_state',
      help: 'Circuit breaker state by broker: 0 closed, 1 half-open, 2 open',
      labelNames: ['broker'] as const,
      registers: [registry],
      collect() {
        for (const b of breakers) this.set({ broker: b.name }, BREAKER_STATE_VALUE[b.state]);
      },
    }),
    sessionLastFrame: new Gauge({
      name: 'maotrade_session_last_frame_timestamp_seconds',
      help: 'Time (epoch s) of the last frame a session recorded an outcome for, by account',
      labelNames: ['account'] as const,
      registers: [registry],
    }),
    ordersOpen: new Gauge({
      name: 'maotrade_orders_open',
      help: 'Orders not final at the venue as their sessions last recorded them (since this process started), by account and status',
      labelNames: ['account', 'status'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const g of openOrderGroups()) this.set(g.labels, g.count);
      },
    }),
    ordersOpenOldest: new Gauge({
      name: 'maotrade_orders_open_oldest_age_seconds',
      help: 'How long the oldest order not final has been in its status, by account and status (pending, accepted, partially-filled, working, unknown)',
      labelNames: ['account', 'status'] as const,
      registers: [registry],
      collect() {
        this.reset();
        const now = Date.now();
        for (const g of openOrderGroups()) this.set(g.labels, Math.max(0, now - g.oldest) / 1000);
      },
    }),
    brokerReadsNeedingPerson: new Counter({
      name: 'maotrade_broker_reads_needing_person_total',
      help: 'Broker reads that failed non-retryably (order check, positions, account): each degrades the session that asked, by broker and activity',
      labelNames: ['broker', 'activity'] as const,
      registers: [registry],
    }),
    /** Follows the orders a session records: open ones are counted and aged, a final one is forgotten. */
    trackOrders(account: string, orders: readonly Pick<OrderRecord, 'clientOrderId' | 'status'>[], now = Date.now()): void {
      for (const o of orders) {
        const key = `${account}\u0000${o.clientOrderId}`;
        if (!OPEN_ORDER_STATUSES.includes(o.status)) openOrders.delete(key);
        else if (openOrders.get(key)?.status !== o.status) openOrders.set(key, { account, status: o.status, since: now });
      }
    },
    igAllowanceRemaining: new Gauge({
      name: 'maotrade_ig_allowance_remaining',
      help: "IG historical-data points left in the allowance, as IG's last prices answer said",
      registers: [registry],
    }),
    igAllowanceTotal: new Gauge({
      name: 'maotrade_ig_allowance_total',
      help: "IG historical-data allowance of the period, as IG's last prices answer said",
      registers: [registry],
    }),
    igHistoryPoints: new Counter({
      name: 'maotrade_ig_history_points_total',
      help: 'IG historical-data points returned by the prices requests of this process',
      registers: [registry],
    }),
    /** Exports an IG history meter: points as they are spent, the allowance as IG reports it. */
    watchIgHistory(meter: IgHistoryMeter): void {
      metrics.igHistoryPoints.inc(0);
      meter.onObserve((points, reading) => {
        metrics.igHistoryPoints.inc(points);
        if (reading) {
          metrics.igAllowanceRemaining.set(reading.remaining);
          metrics.igAllowanceTotal.set(reading.total);
        }
      });
    },
    /** Reads the breaker's state on every scrape. */
    watchBreaker(source: BreakerSource): void {
      breakers.push(source);
      metrics.breakerState.set({ broker: source.name }, BREAKER_STATE_VALUE[source.state]);
    },
  };
  return metrics;
}

type Activities = Record<string, (...args: any[]) => Promise<any>>;

const isNonRetryable = (err: unknown) => err instanceof ApplicationFailure && err.nonRetryable;

/**
 * Counts orders in `placeOrder` without touching the activity code (placed, rejected, failed attempts),
 * and the broker reads that failed for good (what degrades a session).
 */
export function instrumentBrokerActivities<T extends Activities>(acts: T, metrics: AppMetrics, broker: string): T {
  const reads: Activities = {};
  for (const activity of DEGRADING_READS) {
    const read = acts[activity];
    if (!read) continue;
    reads[activity] = async (...args: unknown[]) => {
      try {
        return await read(...args);
      } catch (err) {
        if (isNonRetryable(err)) metrics.brokerReadsNeedingPerson.inc({ broker, activity });
        throw err;
      }
    };
  }
  const placeOrder = acts.placeOrder as ((order: OrderRequest) => Promise<OrderReport>) | undefined;
  if (!placeOrder) return { ...acts, ...reads };
  // Exported at 0 from the start, so rate() and increase() have a series before the first order.
  for (const counter of [metrics.ordersPlaced, metrics.ordersRejected, metrics.ordersFailed]) counter.inc({ broker }, 0);
  return {
    ...acts,
    ...reads,
    async placeOrder(order: OrderRequest): Promise<OrderReport> {
      try {
        const report = await placeOrder(order);
        if (report.status === 'rejected') metrics.ordersRejected.inc({ broker });
        else if (report.status === 'filled' || report.status === 'pending') metrics.ordersPlaced.inc({ broker });
        return report;
      } catch (err) {
        if (isNonRetryable(err)) metrics.ordersRejected.inc({ broker });
        else metrics.ordersFailed.inc({ broker });
        throw err;
      }
    },
  };
}

interface FrameLike {
  start: number;
  timeframe: string;
}

/**
 * Session-side metrics from the store activities' inputs, without touching the activity code:
 * fills and P&L from each recorded outcome, frame lag from its equity point's time and from the
 * frames the feeder stores.
 */
export function instrumentSessionActivities<T extends Activities>(acts: T, metrics: AppMetrics, frameMs: (timeframe: string) => number): T {
  const wrapped: Activities = { ...acts };
  const recordOutcome = acts.recordOutcome as ((account: string, outcome: SessionOutcome) => Promise<void>) | undefined;
  if (recordOutcome) {
    wrapped.recordOutcome = async (account: string, outcome: SessionOutcome) => {
      await recordOutcome(account, outcome);
      metrics.trackOrders(account, outcome.orders);
      if (outcome.fills.length) metrics.fills.inc({ account }, outcome.fills.length);
      if (outcome.equity) {
        const e = outcome.equity;
        metrics.pnl.set({ account, kind: 'realised' }, e.realisedPnl);
        metrics.pnl.set({ account, kind: 'unrealised' }, e.unrealisedPnl);
        metrics.pnl.set({ account, kind: 'total' }, e.realisedPnl + e.unrealisedPnl);
        metrics.frameLag.observe({ stage: 'session' }, Math.max(0, Date.now() - e.ts) / 1000);
      }
      // Frames come in order, so the outcome's newest equity point is the session's last frame.
      const lastTs = (outcome.equityPoints ?? []).reduce((t, p) => Math.max(t, p.ts), outcome.equity?.ts ?? 0);
      if (lastTs > 0) metrics.sessionLastFrame.set({ account }, lastTs / 1000);
    };
  }
  const storeFrames = acts.storeFrames as ((frames: FrameLike[]) => Promise<void>) | undefined;
  if (storeFrames) {
    wrapped.storeFrames = async (frames: FrameLike[]) => {
      await storeFrames(frames);
      const now = Date.now();
      for (const f of frames) metrics.frameLag.observe({ stage: 'feeder' }, Math.max(0, now - (f.start + frameMs(f.timeframe))) / 1000);
    };
  }
  return wrapped as T;
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (Prometheus text format) on `host:port`; port 0 picks a free one. */
export async function startMetricsServer(registry: Registry, port: number, host = '127.0.0.1'): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Where the Temporal SDK's Prometheus exporter listens: the port after METRICS_PORT. */
export function temporalMetricsAddress(metricsPort: number, host = '127.0.0.1'): string {
  return `${host}:${metricsPort + 1}`;
}
