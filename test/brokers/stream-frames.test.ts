/**
 * Frames from streams (issue 15 item 4), on the real Temporal server and MariaDB with the protocol fakes: the
 * stream bridge (brokers/stream-frames.ts) takes completed candles from the real Lightstreamer client (IG CHART
 * items, CONS_END = 1) or the Alpaca bars stream and signals them to the feeder workflow, which delivers each
 * frame once to a session and asks REST only for the minutes the stream lost.
 *
 * "A day of 1-minute frames from the stream uses no historical data points beyond gap fills": 240 candles of the
 * hours just past (time compressed: every one has closed, and the fake publishes them as fast as it sends them;
 * a day is the same path, longer), to a feeder already in stream mode, the stream dropped once while 37 of them
 * are published (lost: no replay, as at IG). The IG fake's prices endpoint must serve exactly those 37 points;
 * the session gets every frame once. Points spent grow with the gaps, not with the span streamed.
 */
import pino from 'pino';
import { AlpacaBrokerAdapter } from '../../brokers/alpaca';
import { dataStreamUrl } from '../../brokers/alpaca/stream';
import { IgBrokerAdapter, InMemorySubmissionJournal } from '../../brokers/ig';
import { IgHistoryMeter, meterIgHistory } from '../../brokers/ig/allowance';
import { fetchIgStreamCredentials } from '../../brokers/ig/stream';
import { alpacaFrameVenue, igFrameVenue } from '../../brokers/stream-frame-venues';
import { FrameStreamBridge, parseFeederId, temporalFeederSignaller, type FrameStreamVenue } from '../../brokers/stream-frames';
import { HomeStore } from '../../db/home-store';
import type { Frame } from '../../market/frame';
import { generateFrames } from '../../market/synthetic';
import { checkIgAllowance } from '../../ops/checks/ig-allowance';
import { createMetrics, startMetricsServer } from '../../ops/metrics';
import { sessionWorkflowId, statusQuery } from '../../workflows/definitions';
import { feederStatusQuery, feederWorkflowId, type FeederStatus, type marketDataFeeder } from '../../workflows/market-data-feeder';
import { startFakeAlpacaServer } from '../fakes/alpaca';
import { startFakeIgServer } from '../fakes/ig';
import { uniqueAccount } from '../support/env';
import { startInProcessWorkers } from '../support/harness';
import { waitUntil } from './stream-helpers';

jest.setTimeout(60_000);

const TF = 60_000;
const quiet = pino({ level: 'warn' });

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe().catch(() => undefined);
    if (last !== undefined && ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Publishes frames through `push`, letting the socket drain every `chunk`, and waits until the bridge has them all. */
async function publish(frames: Frame[], push: (f: Frame) => boolean, bridge: FrameStreamBridge, expectReceived: number) {
  for (let i = 0; i < frames.length; i++) {
    expect(push(frames[i]!)).toBe(true);
    if (i % 40 === 39) await new Promise((r) => setTimeout(r, 5));
  }
  await waitUntil(() => bridge.stats.framesReceived >= expectReceived, `${expectReceived} frames at the bridge`, 20_000);
}

/** An account whose paper session trades the symbol; the feeder of `broker` delivers to it. */
async function setUp(
  broker: string,
  symbol: string,
  account: string,
  first: number,
  opts: { brokers: Record<string, IgBrokerAdapter | AlpacaBrokerAdapter>; streaming?: boolean },
) {
  const workers = await startInProcessWorkers({ brokers: opts.brokers });
  const home = new HomeStore(workers.pool);
  await home.upsertAccount({ account, broker: 'paper', currency: 'USD' });
  await home.upsertSystemConfig(account, { id: 'ma', system: 'ma-crossover', symbol, timeframe: '1m', params: { fastPeriod: 5, slowPeriod: 20 } });
  const feeder = await workers.client.workflow.start<typeof marketDataFeeder>('marketDataFeeder', {
    taskQueue: workers.taskQueue,
    workflowId: feederWorkflowId(broker, symbol, '1m'),
    // the cursor just before the day: no start-up backfill, so every REST point is a gap's
    // `streaming`: a feeder already in stream mode (its stream state carried across continue-as-new), so it never
    // polls the tail; otherwise it starts in REST mode and polls the tail until the stream is heard from
    args: [
      {
        broker,
        symbol,
        timeframe: '1m',
        subscribers: [account],
        cursor: first - TF,
        streamStaleMs: 30 * 60_000,
        holeGraceMs: 300,
        ...(opts.streaming ? { stream: { seen: true, up: true, lastAt: Date.now() } } : {}),
      },
    ],
  });
  return { workers, feeder, session: workers.client.workflow.getHandle(sessionWorkflowId(account)) };
}

/** Stops the bridge, the workflows, the workers and the fake. */
async function tearDown(bridge: FrameStreamBridge, set: Awaited<ReturnType<typeof setUp>>, fake: { close(): Promise<void> }) {
  await bridge.stop();
  await set.feeder.terminate('test done').catch(() => undefined);
  await set.session.terminate('test done').catch(() => undefined);
  await set.workers.stop();
  await fake.close();
}

function bridgeFor(venue: FrameStreamVenue, broker: string, symbol: string, client: Parameters<typeof temporalFeederSignaller>[0]) {
  return new FrameStreamBridge({
    venue,
    signaller: temporalFeederSignaller(client, broker),
    feeders: async () => [{ symbol, timeframe: '1m' }],
    logger: quiet,
    silenceMs: 2_000,
    backoff: { initialMs: 50, maxMs: 500 },
    openTimeoutMs: 10_000,
  });
}

test('feeder ids name broker, symbol and timeframe (a symbol may hold "-")', () => {
  expect(parseFeederId('feeder-ig-CS.D.EURUSD.CFD.IP-1m', 'feeder-ig-')).toEqual({ symbol: 'CS.D.EURUSD.CFD.IP', timeframe: '1m' });
  expect(parseFeederId('feeder-alpaca-BRK-B-5m', 'feeder-alpaca-')).toEqual({ symbol: 'BRK-B', timeframe: '5m' });
  expect(parseFeederId('feeder-paper-X-1m', 'feeder-ig-')).toBeNull();
  expect(parseFeederId('feeder-ig-X-2m', 'feeder-ig-')).toBeNull();
});

test('IG: a day of 1-minute frames from the stream uses no historical data points beyond the gap fill', async () => {
  const suffix = uniqueAccount('x').slice(2);
  const epic = `CS.D.S${suffix.replace(/[^A-Za-z0-9]/g, '').toUpperCase()}.IP`.slice(0, 30);
  const broker = `igs${suffix}`.replace(/[^a-z0-9]/g, '');
  const account = uniqueAccount('igday');
  const fake = await startFakeIgServer({ lightstreamer: true, markets: [{ epic, currency: 'USD' }] });
  const rest = { baseUrl: fake.url, apiKey: fake.options.apiKey, identifier: fake.options.identifier, password: fake.options.password };
  const adapter = new IgBrokerAdapter({ ...rest, accountId: 'ABC123', httpTimeoutMs: 5_000 }, { journal: new InMemorySubmissionJournal() });
  const meter = new IgHistoryMeter();
  meterIgHistory(adapter.client, meter);
  const metrics = createMetrics('broker-test');
  metrics.watchIgHistory(meter);

  const N = 240;
  const DROP_AT = 100;
  const LOST = 37;
  const lastClosed = Math.floor(Date.now() / TF) * TF - TF;
  const first = lastClosed - (N - 1) * TF;
  const day = generateFrames({ symbol: epic, timeframe: '1m', start: first, count: N, seed: 15 });
  const { workers, feeder, session } = await setUp(broker, epic, account, first, { brokers: { [broker]: adapter }, streaming: true });
  const bridge = bridgeFor(
    igFrameVenue({ credentials: () => fetchIgStreamCredentials(rest), keepaliveMs: 200, stalledTimeoutMs: 500, heartbeatEveryMs: 100 }),
    broker,
    epic,
    workers.client,
  );
  const push = (f: Frame) => fake.lightstreamer.pushCandle(epic, f, { forming: f.start % (7 * TF) === 0 });
  try {
    await bridge.start();
    await waitUntil(() => bridge.isUp(), 'the IG chart stream up', 20_000);
    await publish(day.slice(0, DROP_AT), push, bridge, DROP_AT);

    // the stream drops hard; what is published meanwhile is lost (IG replays nothing)
    fake.lightstreamer.drop();
    await waitUntil(() => fake.lightstreamer.sessions() === 0 && !bridge.isUp(), 'the drop noticed', 20_000);
    for (const f of day.slice(DROP_AT, DROP_AT + LOST)) expect(push(f)).toBe(false);
    await waitUntil(() => bridge.isUp(), 'the stream back', 20_000);
    // a candle sent twice (as a snapshot after a resubscription may be) is a duplicate for the feeder
    expect(push(day[DROP_AT - 1]!)).toBe(true);
    await publish(day.slice(DROP_AT + LOST), push, bridge, N - LOST + 1);

    const status: FeederStatus = await until(() => feeder.query(feederStatusQuery), (s) => s.cursor === day[N - 1]!.start && (s.counters?.delivered ?? 0) >= N, 'the feeder through the day');
    const s = await until(() => session.query(statusQuery), (v) => (v.lastFrames[`${epic}|1m`] ?? 0) >= day[N - 1]!.start, 'the session through the day');

    // every frame once: the feeder delivered the day, the session processed each frame once, nothing backfilled twice
    expect(status.counters).toMatchObject({ delivered: N, streamFrames: N - LOST, streamDuplicates: 1, streamRejected: 0 });
    // one hole fill and nothing else: a streaming feeder never polls the tail
    expect(status.counters!.restRequests).toEqual({ startup: 0, hole: 1, tail: 0 });
    expect(status.counters!.restFrames).toEqual({ startup: 0, hole: LOST, tail: 0 });
    expect(s.counters.framesProcessed).toBe(N);
    expect(s.counters.framesDuplicate).toBe(0);
    expect(s.counters.framesRejected).toBe(0);
    const [[row]] = (await workers.pool.query('SELECT COUNT(*) AS n FROM maodata.candles WHERE symbol = ? AND timeframe = ?', [epic, '1m'])) as any;
    expect(Number(row.n)).toBe(N);

    // the allowance: IG served the gap's points and nothing else, and the meter saw what IG said
    expect(fake.historyPoints()).toMatchObject({ points: LOST, total: 10_000 });
    expect(fake.historyPoints().requests).toBe(1);
    expect(meter.points).toBe(LOST);
    expect(meter.last).toMatchObject({ remaining: 10_000 - LOST, total: 10_000 });
    const server = await startMetricsServer(metrics.registry, 0);
    try {
      const url = `http://127.0.0.1:${server.port}/metrics`;
      const text = await (await fetch(url)).text();
      expect(text).toMatch(new RegExp(`^maotrade_ig_allowance_remaining\\{service="broker-test"\\} ${10_000 - LOST}$`, 'm'));
      expect(text).toMatch(new RegExp(`^maotrade_ig_history_points_total\\{service="broker-test"\\} ${LOST}$`, 'm'));
      expect(await checkIgAllowance({ metricsUrl: url })).toMatchObject({ status: 'OK', message: expect.stringContaining(`${10_000 - LOST} of 10000 points left`) });
      expect((await checkIgAllowance({ metricsUrl: url, warning: '9990:' })).status).toBe('WARNING');
      expect((await checkIgAllowance({ metricsUrl: url, warning: '9999:', critical: '9980:' })).status).toBe('CRITICAL');
    } finally {
      await server.close();
    }
    process.stdout.write(`IG allowance for ${N} minutes of 1-minute streaming: ${fake.historyPoints().points} points (the ${LOST}-minute gap), ${N - LOST} frames from the stream\n`);
  } finally {
    await tearDown(bridge, { workers, feeder, session }, fake);
  }
});

test('Alpaca: bars from the stream, REST only for the bars lost while the stream was down', async () => {
  const suffix = uniqueAccount('x').slice(2).replace(/[^a-z0-9]/g, '');
  const symbol = `Q${suffix.toUpperCase()}`.slice(0, 10);
  const broker = `alps${suffix}`;
  const account = uniqueAccount('alpbars');
  const fake = await startFakeAlpacaServer();
  const adapter = new AlpacaBrokerAdapter({ keyId: fake.keyId, secretKey: fake.secretKey, tradingBaseUrl: fake.url, dataBaseUrl: fake.url, httpTimeoutMs: 5_000 });
  const N = 120;
  const DROP_AT = 50;
  const LOST = 9;
  const lastClosed = Math.floor(Date.now() / TF) * TF - TF;
  const first = lastClosed - (N - 1) * TF;
  const bars = generateFrames({ symbol, timeframe: '1m', start: first, count: N, seed: 16 });
  const { workers, feeder, session } = await setUp(broker, symbol, account, first, { brokers: { [broker]: adapter } });
  const bridge = bridgeFor(
    alpacaFrameVenue({ keyId: fake.keyId, secretKey: fake.secretKey, url: dataStreamUrl('iex', fake.dataStreamBase), pingEveryMs: 100, connectionLimitWaitMs: 200 }),
    broker,
    symbol,
    workers.client,
  );
  // the REST history has every bar (shared state); the stream sends a bar only to a subscribed client
  const push = (f: Frame) => {
    fake.addBars(symbol, [f]);
    const before = fake.stream.stats().eventsSent;
    fake.stream.pushBar(f);
    return fake.stream.stats().eventsSent > before;
  };
  try {
    // a new feeder is in REST mode until the stream is heard from: its first tail poll finds nothing (the bars
    // are published only after), so every bar REST serves later is a gap's
    await until(() => feeder.query(feederStatusQuery), (v) => (v.counters?.restRequests.tail ?? 0) >= 1, 'the first tail poll');
    await bridge.start();
    await waitUntil(() => bridge.isUp(), 'the Alpaca bars stream up', 20_000);
    await publish(bars.slice(0, DROP_AT), push, bridge, DROP_AT);
    fake.stream.drop('data');
    await waitUntil(() => fake.stream.connections('data') === 0 && !bridge.isUp(), 'the drop noticed', 20_000);
    for (const f of bars.slice(DROP_AT, DROP_AT + LOST)) expect(push(f)).toBe(false);
    await waitUntil(() => bridge.isUp(), 'the bars stream back', 20_000);
    await publish(bars.slice(DROP_AT + LOST), push, bridge, N - LOST);

    const status = await until(() => feeder.query(feederStatusQuery), (s) => s.cursor === bars[N - 1]!.start && (s.counters?.delivered ?? 0) >= N, 'the feeder through the bars');
    const s = await until(() => session.query(statusQuery), (v) => (v.lastFrames[`${symbol}|1m`] ?? 0) >= bars[N - 1]!.start, 'the session through the bars');
    expect(status.counters).toMatchObject({ delivered: N, streamFrames: N - LOST, streamDuplicates: 0 });
    expect(status.counters!.restFrames).toEqual({ startup: 0, hole: LOST, tail: 0 });
    expect(status.counters!.restRequests).toEqual({ startup: 0, hole: 1, tail: 1 });
    expect(s.counters.framesProcessed).toBe(N);
    expect(s.counters.framesDuplicate).toBe(0);
    expect(fake.barsServed()).toMatchObject({ bars: LOST });
    expect(fake.barsServed().requests).toBe(1 + status.counters!.restRequests.tail);
  } finally {
    await tearDown(bridge, { workers, feeder, session }, fake);
  }
});
