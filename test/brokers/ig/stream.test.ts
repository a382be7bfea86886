/**
 * IG streaming with the real lightstreamer-client-node against the fake Lightstreamer server (TLCP over WebSocket,
 * test/fakes/ig/lightstreamer.ts) that shares the REST fake's ledger: login with the REST session's endpoint and
 * `CST-…|XST-…`, CHART/TRADE/ACCOUNT subscriptions, deals made through REST arriving as CONFIRMS and OPU, a stop
 * closing a position (OPU deleted by SYSTEM), drop → new session + resubscribe + reconcile, silence → STALLED →
 * reconnect, refused logins → back-off and a fresh REST login, gaps not replayed.
 */
import { fetchIgStreamCredentials, IgStreamTransport, type IgStreamCredentials } from '../../../brokers/ig/stream';
import type { StreamEvent, StreamOrderEvent, StreamPositionEvent } from '../../../brokers/stream-events';
import { StreamSupervisor, type ReconcileCause, type StreamHealth } from '../../../brokers/stream-supervisor';
import { startFakeIgServer, type FakeIgServer } from '../../fakes/ig';
import { collectingLogger, waitUntil } from '../stream-helpers';

const EPIC = 'CS.D.EURUSD.CFD.IP';
let fake: FakeIgServer;
const sups: StreamSupervisor<StreamEvent>[] = [];

beforeEach(async () => {
  fake = await startFakeIgServer({ lightstreamer: true, markets: [{ epic: EPIC, currency: 'USD' }] });
  fake.setPrice(EPIC, 1.08, 1.0802);
});
afterEach(async () => {
  for (const s of sups.splice(0)) await s.stop();
  await fake.close();
});

const restConfig = () => ({ baseUrl: fake.url, apiKey: fake.options.apiKey, identifier: fake.options.identifier, password: fake.options.password });

async function deal(creds: IgStreamCredentials, body: Record<string, unknown>) {
  const res = await fetch(`${fake.url}/positions/otc`, {
    method: 'POST',
    headers: { 'X-IG-API-KEY': fake.options.apiKey, CST: creds.cst, 'X-SECURITY-TOKEN': creds.xst, Version: '2', 'Content-Type': 'application/json' },
    body: JSON.stringify({ epic: EPIC, expiry: '-', currencyCode: 'USD', orderType: 'MARKET', guaranteedStop: false, forceOpen: true, ...body }),
  });
  expect(res.status).toBe(200);
}

function igStream(opts: { silenceMs?: number; reconcileEveryMs?: number } = {}) {
  const events: StreamEvent[] = [];
  const reconciles: ReconcileCause[] = [];
  const transitions: StreamHealth[] = [];
  const logins: boolean[] = [];
  let last: IgStreamCredentials | null = null;
  const transport = new IgStreamTransport({
    credentials: async (relogin) => {
      logins.push(relogin);
      if (!last || relogin) last = await fetchIgStreamCredentials(restConfig());
      return last;
    },
    charts: [{ epic: EPIC, timeframe: '1m' }],
    keepaliveMs: 100,
    stalledTimeoutMs: 200,
    heartbeatEveryMs: 50,
  });
  const sup = new StreamSupervisor<StreamEvent>({
    transport, onEvent: (e) => events.push(e), reconcile: (c) => void reconciles.push(c), silenceMs: opts.silenceMs ?? 1_000,
    openTimeoutMs: 5_000, backoff: { initialMs: 50, maxMs: 1_000 }, logger: collectingLogger().logger, onTransition: (h) => transitions.push(h),
    ...(opts.reconcileEveryMs ? { reconcileEveryMs: opts.reconcileEveryMs } : {}),
  });
  sups.push(sup);
  sup.start();
  return { sup, events, reconciles, transitions, logins, creds: () => last!, up: () => waitUntil(() => sup.isUp(), 'the IG stream up', 10_000) };
}

const orders = (es: StreamEvent[]) => es.filter((e): e is StreamOrderEvent => e.kind === 'order');
const positions = (es: StreamEvent[]) => es.filter((e): e is StreamPositionEvent => e.kind === 'position');

describe('IG Lightstreamer stream (real client, fake TLCP server)', () => {
  it('logs in as IG documents and subscribes CHART, TRADE and ACCOUNT; the ACCOUNT snapshot arrives', async () => {
    const s = igStream();
    await s.up();
    const st = fake.lightstreamer.stats();
    expect(st.lastUser).toBe('ABC123');
    expect(st.subscribes.sort()).toEqual([`ACCOUNT:ABC123`, `CHART:${EPIC}:1MINUTE`, 'TRADE:ABC123']);
    await waitUntil(() => s.events.some((e) => e.kind === 'account'), 'the account snapshot');
    expect(s.events.find((e) => e.kind === 'account')).toMatchObject({ account: 'ABC123', funds: 10_000, equity: 10_000 });
    expect(s.reconciles.map((r) => r.reason)).toEqual(['connected']);
  });

  it('a completed candle is a frame; a forming one is not', async () => {
    const s = igStream();
    await s.up();
    const t0 = Date.UTC(2026, 2, 2, 9, 30);
    const c = { BID_OPEN: '1.08', BID_HIGH: '1.081', BID_LOW: '1.079', BID_CLOSE: '1.0805', OFR_OPEN: '1.0802', OFR_HIGH: '1.0812', OFR_LOW: '1.0792', OFR_CLOSE: '1.0807', UTM: String(t0), CONS_TICK_COUNT: '12' };
    fake.lightstreamer.pushChart(EPIC, '1MINUTE', { ...c, CONS_END: '0' });
    fake.lightstreamer.pushChart(EPIC, '1MINUTE', { ...c, CONS_END: '1' });
    await waitUntil(() => s.events.some((e) => e.kind === 'frame'), 'a frame');
    expect(s.events.filter((e) => e.kind === 'frame')).toEqual([
      { kind: 'frame', venue: 'ig', frame: { symbol: EPIC, timeframe: '1m', start: t0, open: 1.0801, high: 1.0811, low: 1.0791, close: 1.0806, volume: 12 } },
    ]);
  });

  it('a REST deal arrives as CONFIRMS (filled) and OPU (open); a refused one as rejected; a stop close as OPU deleted by SYSTEM', async () => {
    const s = igStream();
    await s.up();
    await deal(s.creds(), { direction: 'BUY', size: 1, dealReference: 'acc1-000001', stopLevel: 1.07 });
    await waitUntil(() => orders(s.events).length === 1 && positions(s.events).length === 1, 'CONFIRMS and OPU');
    expect(orders(s.events)[0]).toMatchObject({ event: 'CONFIRMS', report: { clientOrderId: 'acc1-000001', status: 'filled', fillPrice: 1.0802, side: 'buy', quantity: 1 } });
    expect(positions(s.events)[0]).toMatchObject({ status: 'open', dealReference: 'acc1-000001', stopLevel: 1.07, channel: 'PUBLIC_WEB_API' });
    await deal(s.creds(), { direction: 'BUY', size: 0.001, dealReference: 'acc1-000002' });
    await waitUntil(() => orders(s.events).length === 2, 'the rejected confirm');
    expect(orders(s.events)[1]).toMatchObject({ report: { clientOrderId: 'acc1-000002', status: 'rejected', reason: 'IG REJECTED: MINIMUM_ORDER_SIZE_ERROR' } });
    fake.setPrice(EPIC, 1.069, 1.0692);
    await waitUntil(() => positions(s.events).some((p) => p.status === 'deleted'), 'the stop close');
    expect(positions(s.events).find((p) => p.status === 'deleted')).toMatchObject({ dealReference: 'acc1-000001', channel: 'SYSTEM' });
  });

  it('a WOU pushed by the venue maps to the working order report', async () => {
    const s = igStream();
    await s.up();
    fake.lightstreamer.pushTrade('ABC123', 'WOU', { dealReference: 'acc1-W000001', dealId: 'DIW1', direction: 'SELL', epic: EPIC, status: 'OPEN', dealStatus: 'REJECTED', level: 1.1, size: 1 });
    await waitUntil(() => orders(s.events).length === 1, 'the WOU');
    expect(orders(s.events)[0]).toMatchObject({ event: 'WOU', report: { clientOrderId: 'acc1-W000001', status: 'rejected' } });
  });

  it('hard drop: a new session, everything subscribed again, reconcile; deals during the gap are not replayed', async () => {
    const s = igStream();
    await s.up();
    fake.lightstreamer.refuseNext(1, 'limit'); // keeps it down for one back-off
    fake.lightstreamer.drop();
    await waitUntil(() => !s.sup.isUp(), 'down');
    fake.openPositionExternally({ epic: EPIC, direction: 'SELL', size: 1, dealReference: 'WEB-OPEN' });
    await waitUntil(() => s.sup.health().connects === 2, 'reconnected', 10_000);
    expect(fake.lightstreamer.stats().subscribes).toHaveLength(6);
    expect(positions(s.events).filter((p) => p.dealReference === 'WEB-OPEN')).toEqual([]);
    expect(s.reconciles.map((r) => r.reason)).toEqual(['connected', 'reconnected']);
    expect(s.transitions.filter((t) => t.state === 'down').map((t) => t.lastError)).toEqual([
      expect.stringMatching(/^Lightstreamer status (DISCONNECTED|STALLED)/),
      'open failed: Lightstreamer server error 8: Configured maximum number of actively started sessions reached',
    ]);
    await deal(s.creds(), { direction: 'BUY', size: 1, dealReference: 'acc1-000003' });
    await waitUntil(() => orders(s.events).some((o) => o.report.clientOrderId === 'acc1-000003'), 'a deal after the reconnect');
  });

  it('silence (no PROBE, no update): the library notices (STALLED, then DISCONNECTED), the supervisor reconnects', async () => {
    const s = igStream();
    await s.up();
    fake.lightstreamer.silence('all');
    await waitUntil(() => !s.sup.isUp(), 'down on silence', 5_000);
    fake.lightstreamer.silence(false);
    await waitUntil(() => s.sup.health().connects === 2, 'reconnected', 10_000);
    expect(s.transitions.find((t) => t.state === 'down')!.lastError).toMatch(/^Lightstreamer status (STALLED|DISCONNECTED)|^watchdog/);
  });

  it('silent loss (PROBEs continue, updates lost): stays up; the reconcile timer runs', async () => {
    const s = igStream({ reconcileEveryMs: 500 });
    await s.up();
    fake.lightstreamer.silence('events');
    fake.openPositionExternally({ epic: EPIC, direction: 'BUY', size: 1, dealReference: 'WEB-LOST' });
    await waitUntil(() => s.reconciles.some((r) => r.reason === 'timer'), 'a timer reconcile', 5_000);
    expect(s.sup.health()).toMatchObject({ state: 'up', connects: 1 });
    expect(positions(s.events)).toEqual([]);
    expect(fake.lightstreamer.stats().updatesLost).toBeGreaterThanOrEqual(1);
  });

  it('expired tokens: the login is refused (CONERR 1), the next open logs in to REST again and succeeds', async () => {
    const s = igStream();
    await s.up();
    const loginsBefore = fake.logins();
    fake.expireSessions();
    fake.lightstreamer.drop();
    await waitUntil(() => s.sup.health().connects === 2, 'reconnected with fresh tokens', 10_000);
    expect(s.transitions.some((t) => t.lastError === 'open failed: Lightstreamer server error 1: User/password check failed')).toBe(true);
    expect(s.logins).toEqual([false, false, true]);
    expect(fake.logins()).toBe(loginsBefore + 1);
  });

  it('an item IG does not serve refuses the subscription and fails the open; too many items are refused up front', async () => {
    const creds = await fetchIgStreamCredentials(restConfig());
    const t = new IgStreamTransport({ credentials: async () => creds, charts: [{ epic: 'CS.D.NOPE.CFD.IP', timeframe: '1m' }], trade: false, account: false });
    await expect(t.open({ event: () => undefined, heartbeat: () => undefined, down: () => undefined }, { attempt: 1, relogin: false })).rejects.toThrow(
      'IG refused the subscription CHART:CS.D.NOPE.CFD.IP:1MINUTE: 21 Invalid item CHART:CS.D.NOPE.CFD.IP:1MINUTE for mode MERGE',
    );
    expect(() => new IgStreamTransport({ credentials: async () => creds, charts: Array.from({ length: 40 }, () => ({ epic: EPIC, timeframe: '1m' as const })) })).toThrow('42 subscriptions exceed the limit of 40');
  });
});
