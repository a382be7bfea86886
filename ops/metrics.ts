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
import type { BreakerState } from '../brokers/resilience';
import type { SessionOutcome } from '../db/account-store';

/** Gauge values of a circuit breaker's state. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2, isolated: 2 };

/** Something whose circuit state can be read at scrape time (a `CircuitBreakingAdapter`). */
export interface BreakerSource {
  readonly name: string;
  readonly state: BreakerState;
}

export type AppMetrics = ReturnType<typeof createMetrics>;

/** The registry and the application metrics of one process; `service` labels everything it exports. */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'maotrade_process_' });
  const breakers: BreakerSource[] = [];
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

/** Counts orders in `placeOrder` without touching the activity code: placed, rejected, failed attempts. */
export function instrumentBrokerActivities<T extends Activities>(acts: T, metrics: AppMetrics, broker: string): T {
  const placeOrder = acts.placeOrder as ((order: OrderRequest) => Promise<OrderReport>) | undefined;
  if (!placeOrder) return acts;
  return {
    ...acts,
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
      if (outcome.fills.length) metrics.fills.inc({ account }, outcome.fills.length);
      if (outcome.equity) {
        const e = outcome.equity;
        metrics.pnl.set({ account, kind: 'realised' }, e.realisedPnl);
        metrics.pnl.set({ account, kind: 'unrealised' }, e.unrealisedPnl);
        metrics.pnl.set({ account, kind: 'total' }, e.realisedPnl + e.unrealisedPnl);
        metrics.frameLag.observe({ stage: 'session' }, Math.max(0, Date.now() - e.ts) / 1000);
      }
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
