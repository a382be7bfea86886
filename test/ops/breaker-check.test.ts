import { checkBreaker } from '../../ops/checks/breaker';
import { createMetrics, startMetricsServer, type MetricsServer } from '../../ops/metrics';
import type { BreakerState } from '../../brokers/resilience';

/** A breaker whose state the test sets; the metrics registry reads it on each scrape, as in the broker worker. */
const source = { name: 'ig', state: 'closed' as BreakerState };
let server: MetricsServer;
let url: string;

beforeAll(async () => {
  const metrics = createMetrics('test-broker-ig');
  metrics.watchBreaker(source);
  server = await startMetricsServer(metrics.registry, 0, '127.0.0.1');
  url = `http://127.0.0.1:${server.port}/metrics`;
});
afterAll(async () => server?.close());

test.each([
  ['closed', 'OK', 0],
  ['half-open', 'WARNING', 1],
  ['open', 'CRITICAL', 2],
] as const)('a %s circuit is %s', async (state, status, value) => {
  source.state = state;
  const r = await checkBreaker({ metricsUrl: url, broker: 'ig' });
  expect(r.status).toBe(status);
  expect(r.message).toBe(`broker ig circuit ${state}`);
  expect(r.perfdata).toEqual([expect.objectContaining({ label: 'breaker_state', value })]);
});

test('a broker the worker does not serve is UNKNOWN; an unreachable worker is CRITICAL', async () => {
  expect((await checkBreaker({ metricsUrl: url, broker: 'alpaca' })).status).toBe('UNKNOWN');
  const down = await checkBreaker({ metricsUrl: 'http://127.0.0.1:1/metrics', broker: 'ig', timeoutMs: 1_000 });
  expect(down.status).toBe('CRITICAL');
  expect(down.message).toMatch(/cannot read/);
});
