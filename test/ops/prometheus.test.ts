/**
 * Prometheus against the real workers: the shipped deploy/prometheus/prometheus.yml, its targets moved
 * to this test's ports, run by Debian's `prometheus` (own port, temp storage) while a session worker and
 * a paper broker worker serve /metrics; asserted through Prometheus's HTTP API (`up == 1`, the order
 * counters, the breaker gauge, the rules loaded). `promtool` checks the config and the rules and runs
 * their unit tests (deploy/prometheus/rules.test.yml). Also the series ops/metrics.ts adds for the rules.
 * `scripts/test-tools.sh` installs prometheus on a fresh machine.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createMetrics, instrumentBrokerActivities, instrumentSessionActivities } from '../../ops/metrics';
import { ROOT } from '../support/env';
import { PAPER_TEST_CONFIG } from '../support/harness';
import { WorkerProcess } from '../support/worker-processes';

const DIR = path.join(ROOT, 'deploy', 'prometheus');

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: DIR, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** The value of a series in the registry's text, undefined when it is not exported. */
async function value(m: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name) as { values: { labels: Record<string, unknown>; value: number }[] } | undefined;
  return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('promtool', () => {
  test('check config: the scrape configuration and its rule file are valid', async () => {
    const r = await run('promtool', ['check', 'config', 'prometheus.yml']);
    expect(r.out).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  test('check rules: every alerting rule parses', async () => {
    const r = await run('promtool', ['check', 'rules', 'rules.yml']);
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code).toBe(0);
  });

  test('test rules: the rules fire (and stay quiet) as rules.test.yml expects', async () => {
    const r = await run('promtool', ['test', 'rules', 'rules.test.yml']);
    expect(r.out).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });
});

describe('series the rules need (ops/metrics.ts)', () => {
  test('open orders are counted and aged by account and status; a final one is forgotten', async () => {
    const m = createMetrics('test');
    m.trackOrders('acc', [{ clientOrderId: 'acc-1', status: 'pending' }, { clientOrderId: 'acc-2', status: 'unknown' }], Date.now() - 90_000);
    m.trackOrders('acc', [{ clientOrderId: 'acc-3', status: 'pending' }]);
    expect(await value(m, 'maotrade_orders_open', { account: 'acc', status: 'pending' })).toBe(2);
    expect(await value(m, 'maotrade_orders_open', { account: 'acc', status: 'unknown' })).toBe(1);
    expect(await value(m, 'maotrade_orders_open_oldest_age_seconds', { account: 'acc', status: 'pending' })).toBeGreaterThanOrEqual(90);
    // The same status again keeps its age; a final status drops the order.
    m.trackOrders('acc', [{ clientOrderId: 'acc-1', status: 'pending' }]);
    expect(await value(m, 'maotrade_orders_open_oldest_age_seconds', { account: 'acc', status: 'pending' })).toBeGreaterThanOrEqual(90);
    m.trackOrders('acc', [{ clientOrderId: 'acc-1', status: 'filled' }, { clientOrderId: 'acc-2', status: 'filled' }]);
    expect(await value(m, 'maotrade_orders_open', { account: 'acc', status: 'unknown' })).toBeUndefined();
    expect(await value(m, 'maotrade_orders_open', { account: 'acc', status: 'pending' })).toBe(1);
    expect(await value(m, 'maotrade_orders_open_oldest_age_seconds', { account: 'acc', status: 'pending' })).toBeLessThan(60);
  });

  test("recorded outcomes set the session's last frame time and follow its orders", async () => {
    const m = createMetrics('test');
    const acts = instrumentSessionActivities({ recordOutcome: async (_a: string, _o: unknown) => undefined }, m, () => 60_000);
    const ts = Date.UTC(2026, 0, 1, 12);
    await acts.recordOutcome('acc', <never>{
      orders: [{ clientOrderId: 'acc-1', status: 'unknown' }],
      fills: [],
      openedPositions: [],
      trades: [],
      systemStates: [],
      equityPoints: [{ ts: ts - 60_000 }, { ts }],
    });
    expect(await value(m, 'maotrade_session_last_frame_timestamp_seconds', { account: 'acc' })).toBe(ts / 1000);
    expect(await value(m, 'maotrade_orders_open', { account: 'acc', status: 'unknown' })).toBe(1);
  });

  test('order counters are exported at 0 from the start; a broker read refused for good is counted by activity', async () => {
    const m = createMetrics('test');
    const acts = instrumentBrokerActivities(
      {
        placeOrder: async () => ({}),
        getPositions: async () => {
          throw ApplicationFailure.nonRetryable('401 key revoked', 'BrokerAuthError');
        },
        getOrder: async () => {
          throw ApplicationFailure.retryable('503', 'BrokerUnavailableError');
        },
      },
      m,
      'ig',
    );
    expect(await value(m, 'maotrade_orders_placed_total', { broker: 'ig' })).toBe(0);
    expect(await value(m, 'maotrade_orders_rejected_total', { broker: 'ig' })).toBe(0);
    await expect(acts.getPositions()).rejects.toThrow('401');
    await expect(acts.getOrder()).rejects.toThrow('503');
    expect(await value(m, 'maotrade_broker_reads_needing_person_total', { broker: 'ig', activity: 'getPositions' })).toBe(1);
    expect(await value(m, 'maotrade_broker_reads_needing_person_total', { broker: 'ig', activity: 'getOrder' })).toBeUndefined();
  });
});

const listens = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

/** A free port from the OS whose next port is free too (a worker's SDK metrics go there). */
async function freePort(withNext = false): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    if (!withNext || (port < 65535 && (await listens(port + 1)))) return port;
  }
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

describe('Debian prometheus scraping the workers', () => {
  const PAPER_ENV = { PAPER_SPREAD_BPS: String(PAPER_TEST_CONFIG.spreadBps), PAPER_SLIPPAGE_BPS: String(PAPER_TEST_CONFIG.slippageBps) };
  let sessionWorker: WorkerProcess;
  let brokerWorker: WorkerProcess;
  let prometheus: ChildProcess | undefined;
  let promLog = '';
  let api = '';
  let tmp = '';
  let ports: { session: number; broker: number };

  beforeAll(async () => {
    ports = { session: await freePort(true), broker: await freePort(true) };
    // The two pairs must not overlap.
    while (Math.abs(ports.broker - ports.session) < 2) ports.broker = await freePort(true);
    sessionWorker = new WorkerProcess('session', { ...PAPER_ENV, METRICS_PORT: String(ports.session) });
    brokerWorker = new WorkerProcess('broker-paper', { ...PAPER_ENV, METRICS_PORT: String(ports.broker) });
    await Promise.all([sessionWorker.start(), brokerWorker.start()]);

    // The shipped configuration with this test's ports, a fast scrape and the rules by absolute path.
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'maotrade-prometheus-'));
    const moved: Record<string, number> = { 9464: ports.session, 9465: ports.session + 1, 9466: ports.broker, 9467: ports.broker + 1 };
    const config = fs
      .readFileSync(path.join(DIR, 'prometheus.yml'), 'utf8')
      .replace(/127\.0\.0\.1:(946[4-7])\b/g, (_, p: string) => `127.0.0.1:${moved[p]}`)
      .replace(/scrape_interval: 15s/, 'scrape_interval: 1s')
      .replace(/evaluation_interval: 15s/, 'evaluation_interval: 1s')
      .replace(/- rules\.yml/, `- ${path.join(DIR, 'rules.yml')}`);
    fs.writeFileSync(path.join(tmp, 'prometheus.yml'), config);
    const webPort = await freePort();
    api = `http://127.0.0.1:${webPort}`;
    prometheus = spawn(
      '/usr/bin/prometheus',
      [
        `--config.file=${path.join(tmp, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(tmp, 'data')}`,
        `--web.listen-address=127.0.0.1:${webPort}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.on('data', (b: Buffer) => (promLog += b.toString()));
    prometheus.stderr!.on('data', (b: Buffer) => (promLog += b.toString()));
    await until(async () => (await fetch(`${api}/-/ready`).catch(() => null))?.ok === true, 30_000, 'prometheus ready');
  });

  afterAll(async () => {
    // Only the prometheus this test started, by its own handle.
    if (prometheus && prometheus.exitCode === null) {
      const done = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill('SIGTERM');
      const timer = setTimeout(() => prometheus!.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    }
    await Promise.all([sessionWorker?.stop(), brokerWorker?.stop()]);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function until(ok: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await ok())) {
      if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms; prometheus log:\n${promLog.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async function query(q: string): Promise<Sample[]> {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { status: string; data: { result: Sample[] }; error?: string };
    if (body.status !== 'success') throw new Error(`${q}: ${body.error}`);
    return body.data.result;
  }

  test('up == 1 for both workers and their Temporal SDK endpoints', async () => {
    await until(async () => (await query('up == 1')).length === 4, 30_000, 'four targets up');
    const up = await query('up');
    const byTarget = Object.fromEntries(up.map((s) => [`${s.metric.job} ${s.metric.worker} ${s.metric.instance}`, s.value[1]]));
    expect(byTarget).toEqual({
      [`maotrade session 127.0.0.1:${ports.session}`]: '1',
      [`maotrade broker-paper 127.0.0.1:${ports.broker}`]: '1',
      [`maotrade-temporal-sdk session 127.0.0.1:${ports.session + 1}`]: '1',
      [`maotrade-temporal-sdk broker-paper 127.0.0.1:${ports.broker + 1}`]: '1',
    });
  });

  test("the broker worker's order counters and breaker gauge are scraped", async () => {
    const placed = `maotrade_orders_placed_total{job="maotrade", worker="broker-paper", broker="paper"}`;
    await until(async () => (await query(placed)).length === 1, 30_000, 'order counter scraped');
    const [s] = await query(placed);
    expect(s.metric.service).toBe('broker-paper');
    expect(Number(s.value[1])).toBeGreaterThanOrEqual(0);
    for (const name of ['maotrade_orders_rejected_total', 'maotrade_order_attempts_failed_total']) {
      expect(await query(`${name}{worker="broker-paper", broker="paper"}`)).toHaveLength(1);
    }
    const [breaker] = await query('maotrade_breaker_state{worker="broker-paper", broker="paper"}');
    expect(breaker.value[1]).toBe('0');
  });

  test('the alerting rules are loaded and healthy; none fires on a healthy pair of workers', async () => {
    await until(
      async () => {
        const body = (await (await fetch(`${api}/api/v1/rules`)).json()) as { data: { groups: { rules: { lastEvaluation: string }[] }[] } };
        return body.data.groups.some((g) => g.rules.every((r) => !r.lastEvaluation.startsWith('0001')));
      },
      30_000,
      'rules evaluated',
    );
    const body = (await (await fetch(`${api}/api/v1/rules`)).json()) as {
      data: { groups: { name: string; rules: { name: string; health: string; state: string; lastError?: string }[] }[] };
    };
    const rules = body.data.groups.flatMap((g) => g.rules);
    expect(new Set(rules.map((r) => r.name))).toEqual(
      new Set([
        'MaotradeWorkerDown',
        'MaotradeSessionNoFrames',
        'MaotradeCircuitOpen',
        'MaotradeCircuitHalfOpen',
        'MaotradeOrderUnknown',
        'MaotradeOrderInFlightTooLong',
        'MaotradeSessionDegraded',
        'MaotradeOrderAttemptsFailing',
      ]),
    );
    for (const r of rules) expect({ rule: r.name, health: r.health, error: r.lastError ?? '' }).toEqual({ rule: r.name, health: 'ok', error: '' });
    const firing = rules.filter((r) => r.state !== 'inactive' && ['MaotradeWorkerDown', 'MaotradeCircuitOpen'].includes(r.name));
    expect(firing).toEqual([]);
  });
});
