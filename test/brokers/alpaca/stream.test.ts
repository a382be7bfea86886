/**
 * The Alpaca streams against the fake venue's WebSocket endpoints (test/fakes/alpaca/stream.ts), supervised:
 * events from the fake's ledger mapped to reports, drop → reconnect + listen/subscribe again + reconcile, silence
 * with heartbeats (stays up; the reconcile timer is what finds the lost event), full silence → watchdog, refused
 * reconnects → back-off, gap not replayed.
 */
import { AlpacaBarsTransport, AlpacaTradeUpdatesTransport, dataStreamUrl } from '../../../brokers/alpaca/stream';
import type { StreamFrameEvent, StreamOrderEvent } from '../../../brokers/stream-events';
import { StreamSupervisor, type ReconcileCause, type StreamHealth } from '../../../brokers/stream-supervisor';
import { startFakeAlpacaServer, type FakeAlpacaServer } from '../../fakes/alpaca';
import { collectingLogger, waitUntil } from '../stream-helpers';

let fake: FakeAlpacaServer;
const sups: StreamSupervisor<unknown>[] = [];

beforeEach(async () => {
  fake = await startFakeAlpacaServer();
  fake.setPrice('AAPL', 100, 100.1);
});
afterEach(async () => {
  for (const s of sups.splice(0)) await s.stop();
  await fake.close();
});

async function post(path: string, body?: unknown, method = 'POST') {
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers: { 'APCA-API-KEY-ID': fake.keyId, 'APCA-API-SECRET-KEY': fake.secretKey, 'Content-Type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as Record<string, unknown>) };
}
const buy = (cid: string, qty = 10) => post('/v2/orders', { symbol: 'AAPL', side: 'buy', type: 'market', qty: String(qty), time_in_force: 'day', client_order_id: cid });

function tradeStream(opts: { silenceMs?: number; reconcileEveryMs?: number; pingEveryMs?: number; limitWaitMs?: number } = {}) {
  const events: StreamOrderEvent[] = [];
  const reconciles: ReconcileCause[] = [];
  const transitions: StreamHealth[] = [];
  const log = collectingLogger();
  const transport = new AlpacaTradeUpdatesTransport({
    keyId: fake.keyId, secretKey: fake.secretKey, url: fake.tradingStreamUrl, pingEveryMs: opts.pingEveryMs ?? 50, connectTimeoutMs: 2_000, connectionLimitWaitMs: opts.limitWaitMs ?? 200,
  });
  const sup = new StreamSupervisor<StreamOrderEvent>({
    transport, onEvent: (e) => events.push(e), reconcile: (c) => void reconciles.push(c), silenceMs: opts.silenceMs ?? 400,
    backoff: { initialMs: 50, maxMs: 2_000 }, logger: log.logger, onTransition: (h) => transitions.push(h),
    ...(opts.reconcileEveryMs ? { reconcileEveryMs: opts.reconcileEveryMs } : {}),
  });
  sups.push(sup as StreamSupervisor<unknown>);
  sup.start();
  return { sup, events, reconciles, transitions, log, up: () => waitUntil(() => sup.isUp(), 'the trade stream up') };
}

const byOrder = (events: StreamOrderEvent[], cid: string) => events.filter((e) => e.report.clientOrderId === cid);

describe('Alpaca trade_updates stream', () => {
  it('authorizes, listens, and maps new and fill of a REST order', async () => {
    const s = tradeStream();
    await s.up();
    expect(fake.stream.stats()).toMatchObject({ auths: 1, listens: 1 });
    expect((await buy('acc1-000001')).status).toBe(200);
    await waitUntil(() => byOrder(s.events, 'acc1-000001').length === 2, 'new and fill');
    const [n, f] = byOrder(s.events, 'acc1-000001');
    expect(n).toMatchObject({ event: 'new', report: { status: 'pending', filledQuantity: 0 } });
    expect(f).toMatchObject({ event: 'fill', report: { status: 'filled', filledQuantity: 10, fillPrice: 100.1, symbol: 'AAPL', side: 'buy' }, execution: { quantity: 10, price: 100.1 } });
    expect(s.reconciles.map((r) => r.reason)).toEqual(['connected']);
  });

  it('partial_fill then canceled (residual): pending with 4 filled, then filled for the 4', async () => {
    const s = tradeStream();
    await s.up();
    fake.setScenario({ partial: { qty: 4, rest: 'cancel' } });
    await buy('acc1-000002');
    await waitUntil(() => byOrder(s.events, 'acc1-000002').some((e) => e.event === 'partial_fill'), 'partial_fill');
    fake.releaseFills();
    await waitUntil(() => byOrder(s.events, 'acc1-000002').some((e) => e.event === 'canceled'), 'canceled');
    expect(byOrder(s.events, 'acc1-000002').map((e) => [e.event, e.report.status, e.report.filledQuantity])).toEqual([
      ['new', 'pending', 0],
      ['partial_fill', 'pending', 4],
      ['canceled', 'filled', 4],
    ]);
  });

  it('canceled with nothing filled, rejected and expired orders are reported rejected', async () => {
    const s = tradeStream();
    await s.up();
    fake.setScenario({ fills: 'hold' });
    const held = await buy('acc1-000003');
    await buy('acc1-000004');
    await buy('acc1-000005');
    expect((await post(`/v2/orders/${String(held.body!['id'])}`, undefined, 'DELETE')).status).toBe(204);
    fake.rejectOrder('acc1-000004', 'insufficient buying power');
    fake.expireOrder('acc1-000005');
    await waitUntil(() => s.events.filter((e) => e.event !== 'new').length === 3, 'three terminal events');
    expect(s.events.filter((e) => e.event !== 'new').map((e) => [e.report.clientOrderId, e.event, e.report.status])).toEqual([
      ['acc1-000003', 'canceled', 'rejected'],
      ['acc1-000004', 'rejected', 'rejected'],
      ['acc1-000005', 'expired', 'rejected'],
    ]);
    expect(byOrder(s.events, 'acc1-000004')[1]!.report.reason).toBe('rejected by Alpaca: insufficient buying power');
  });

  it('a stop fill and a close on the dashboard reach the stream', async () => {
    const s = tradeStream();
    await s.up();
    await buy('acc1-000006');
    await post('/v2/orders', { symbol: 'AAPL', side: 'sell', type: 'stop', qty: '10', stop_price: '95', time_in_force: 'gtc', client_order_id: 'acc1-000006-S' });
    fake.setPrice('AAPL', 94, 94.1);
    await waitUntil(() => byOrder(s.events, 'acc1-000006-S').some((e) => e.event === 'fill'), 'the stop fill');
    expect(byOrder(s.events, 'acc1-000006-S').pop()).toMatchObject({ report: { status: 'filled', side: 'sell', fillPrice: 94, filledQuantity: 10 } });
    fake.setPrice('AAPL', 100, 100.1);
    await buy('acc1-000007', 3);
    fake.closePositionExternally('AAPL');
    await waitUntil(() => s.events.some((e) => e.event === 'fill' && e.report.side === 'sell' && !e.report.clientOrderId.startsWith('acc1')), 'the dashboard close');
  });

  it('a malformed update is reported and skipped; the stream stays up', async () => {
    const problems: unknown[] = [];
    const transport = new AlpacaTradeUpdatesTransport({ keyId: fake.keyId, secretKey: fake.secretKey, url: fake.tradingStreamUrl, onProblem: (what, d) => problems.push([what, d]) });
    const events: StreamOrderEvent[] = [];
    const sup = new StreamSupervisor<StreamOrderEvent>({ transport, onEvent: (e) => events.push(e), reconcile: () => undefined, silenceMs: 10_000, logger: collectingLogger().logger });
    sups.push(sup as StreamSupervisor<unknown>);
    sup.start();
    await waitUntil(() => sup.isUp(), 'up');
    fake.stream.pushRawTradeUpdate({ event: 'fill', order: { id: 'x' } });
    await buy('acc1-000008');
    await waitUntil(() => events.length === 2, 'the valid events');
    expect(problems).toEqual([['malformed trade_updates message', expect.arrayContaining([expect.stringMatching(/^order\.client_order_id/)])]]);
    expect(sup.isUp()).toBe(true);
  });

  it('hard drop: reconnects, authorizes and listens again, reconciles; events during the gap are not replayed', async () => {
    const s = tradeStream();
    await s.up();
    fake.stream.refuseNext(1, '429'); // keep it down long enough to trade in the gap
    fake.stream.drop();
    await waitUntil(() => !s.sup.isUp(), 'the stream down');
    await buy('acc1-000010'); // while down: lost, as at Alpaca
    await waitUntil(() => s.sup.health().connects === 2, 'reconnected');
    expect(fake.stream.stats()).toMatchObject({ auths: 2, listens: 2, refused: 1 });
    expect(byOrder(s.events, 'acc1-000010')).toEqual([]);
    expect(fake.stream.stats().eventsLost).toBe(2);
    // what the stream lost, the reconcile (REST) must find
    expect(s.reconciles.map((r) => r.reason)).toEqual(['connected', 'reconnected']);
    await buy('acc1-000011');
    await waitUntil(() => byOrder(s.events, 'acc1-000011').length === 2, 'events after the reconnect');
    expect(s.log.messages()).toEqual(expect.arrayContaining(['stream alpaca:trade_updates: up → down', 'stream alpaca:trade_updates: connecting → up']));
  });

  it('silent drop (pongs continue, events lost): stays up, and the reconcile timer is what finds the lost fill', async () => {
    const s = tradeStream({ silenceMs: 300, reconcileEveryMs: 400 });
    await s.up();
    fake.stream.silence('events');
    await buy('acc1-000020');
    await waitUntil(() => s.reconciles.some((r) => r.reason === 'timer'), 'a timer reconcile', 3_000);
    expect(s.sup.health()).toMatchObject({ state: 'up', connects: 1 });
    expect(byOrder(s.events, 'acc1-000020')).toEqual([]);
    expect(fake.stream.stats().eventsLost).toBe(2);
  });

  it('full silence (no pongs either): the watchdog reconnects', async () => {
    const s = tradeStream({ silenceMs: 300, pingEveryMs: 50 });
    await s.up();
    fake.stream.silence('all');
    await waitUntil(() => s.sup.health().state !== 'up', 'the watchdog', 3_000);
    expect(s.sup.health().lastError).toMatch(/^watchdog: nothing received for \d+ ms \(limit 300 ms\)/);
    fake.stream.silence(false);
    await waitUntil(() => s.sup.health().connects === 2, 'reconnected', 3_000);
    expect(s.reconciles.map((r) => r.reason)).toEqual(['connected', 'reconnected']);
  });

  it('refused reconnects (bad keys answered unauthorized) back off and log in again', async () => {
    const s = tradeStream();
    await s.up();
    fake.stream.refuseNext(2, 'unauthorized');
    fake.stream.drop();
    await waitUntil(() => s.sup.health().connects === 2, 'reconnected after two refusals', 5_000);
    const downs = s.transitions.filter((t) => t.state === 'down');
    expect(downs.map((d) => d.lastError)).toEqual([
      expect.stringMatching(/^socket error|^closed by the venue/),
      'open failed: Alpaca refused the keys (unauthorized)',
      'open failed: Alpaca refused the keys (unauthorized)',
    ]);
    // 50, 100, 200 ms: doubling
    expect(downs.map((d) => d.nextAttemptAt! - d.since)).toEqual([50, 100, 200]);
  });
});

describe('Alpaca bars stream', () => {
  const frame = (start: number, close: number) => ({ symbol: 'AAPL', timeframe: '1m' as const, start, open: close, high: close + 1, low: close - 1, close, volume: 100 });

  function barStream(limitWaitMs = 200) {
    const frames: StreamFrameEvent[] = [];
    const reconciles: ReconcileCause[] = [];
    const transitions: StreamHealth[] = [];
    const transport = new AlpacaBarsTransport({ keyId: fake.keyId, secretKey: fake.secretKey, url: dataStreamUrl('iex', fake.dataStreamBase), pingEveryMs: 50, connectionLimitWaitMs: limitWaitMs }, ['aapl']);
    const sup = new StreamSupervisor<StreamFrameEvent>({
      transport, onEvent: (e) => frames.push(e), reconcile: (c) => void reconciles.push(c), silenceMs: 400, backoff: { initialMs: 50 }, logger: collectingLogger().logger,
      onTransition: (h) => transitions.push(h),
    });
    sups.push(sup as StreamSupervisor<unknown>);
    sup.start();
    return { sup, transport, frames, reconciles, transitions };
  }

  it('authenticates, subscribes and maps bars to 1-minute frames; resubscribes everything after a drop', async () => {
    const s = barStream();
    await waitUntil(() => s.sup.isUp(), 'up');
    const t0 = Date.UTC(2026, 2, 2, 15, 0);
    fake.stream.pushBar(frame(t0, 100));
    await waitUntil(() => s.frames.length === 1, 'a bar');
    expect(s.frames[0]).toEqual({ kind: 'frame', venue: 'alpaca', frame: frame(t0, 100) });
    s.transport.subscribe(['MSFT']);
    await waitUntil(() => fake.stream.stats().subscribes.length === 2, 'the added subscription');
    fake.stream.drop('data');
    await waitUntil(() => s.sup.health().connects === 2, 'reconnected');
    expect(fake.stream.stats().subscribes).toEqual([['AAPL'], ['MSFT'], ['AAPL', 'MSFT']]);
    fake.stream.pushBar(frame(t0 + 60_000, 101));
    await waitUntil(() => s.frames.length === 2, 'a bar after the reconnect');
    expect(s.reconciles.map((r) => r.reason)).toEqual(['connected', 'reconnected']);
  });

  it('406 connection limit exceeded: waits at least connectionLimitWaitMs before the next attempt', async () => {
    fake.stream.refuseNext(1, '406');
    const s = barStream(300);
    await waitUntil(() => s.sup.isUp(), 'up after the refusal', 5_000);
    const down = s.transitions.find((t) => t.state === 'down')!;
    expect(down.lastError).toBe('open failed: Alpaca refused the data stream: 406 connection limit exceeded');
    expect(down.nextAttemptAt! - down.since).toBe(300);
    const upAt = s.transitions.find((t) => t.state === 'up')!.since;
    expect(upAt - down.since).toBeGreaterThanOrEqual(300);
  });

  it('one connection per key: a second client is refused 406 while the first holds it', async () => {
    const s = barStream();
    await waitUntil(() => s.sup.isUp(), 'first up');
    const second = new AlpacaBarsTransport({ keyId: fake.keyId, secretKey: fake.secretKey, url: dataStreamUrl('iex', fake.dataStreamBase) }, ['AAPL']);
    await expect(second.open({ event: () => undefined, heartbeat: () => undefined, down: () => undefined }, { attempt: 1, relogin: false })).rejects.toMatchObject({
      name: 'StreamRefusedError',
      opts: { code: 406, retryAfterMs: 30_000 },
    });
  });
});
