/**
 * Alpaca placeStop under faults: the stop is its own order `<entry>-S`, looked up by client_order_id before it is
 * sent; retried the way Temporal's retry policy would, Alpaca ends with exactly one stop order. And getInstrument
 * from the asset and the market clock.
 */
import { stopOrderId, type StopReport, type StopRequest } from '../../../brokers/adapter';
import type { AlpacaBrokerAdapter } from '../../../brokers/alpaca';
import { adapterOnFake } from './fixture';
import { BrokerError, BrokerUnavailableError, OrderOutcomeUnknownError, RateLimitedError } from '../../../brokers/errors';
import { startFakeAlpacaServer, type Fault, type FakeAlpacaServer } from '../../fakes/alpaca-server';

const ACCOUNT = 'alpstop';
const HTTP_TIMEOUT_MS = 1_000;
let server: FakeAlpacaServer;
let adapter: AlpacaBrokerAdapter;
let seq = 0;

beforeEach(async () => {
  server = await startFakeAlpacaServer();
  server.setPrice('AAPL', 100, 100.1);
  adapter = adapterOnFake(server, HTTP_TIMEOUT_MS);
});
afterEach(async () => {
  await server.close();
});

async function openLong(stopLevel = 95): Promise<StopRequest> {
  const ref = `${ACCOUNT}-${String(++seq).padStart(6, '0')}`;
  const r = await adapter.placeOrder({ account: ACCOUNT, clientOrderId: ref, symbol: 'AAPL', side: 'buy', quantity: 10, type: 'market', intent: 'open' });
  expect(r.status).toBe('filled');
  return { account: ACCOUNT, positionRef: ref, symbol: 'AAPL', positionSide: 'long', quantity: 10, stopLevel };
}

async function placeLikeTemporal(req: StopRequest, attempts = 5): Promise<{ report: StopReport; failures: BrokerError[] }> {
  const failures: BrokerError[] = [];
  for (;;) {
    try {
      return { report: await adapter.placeStop(req), failures };
    } catch (err) {
      if (!(err instanceof BrokerError) || !err.retryable || failures.length + 1 >= attempts) throw err;
      failures.push(err);
    }
  }
}

const stopsOf = (req: StopRequest) => server.orders().filter((o) => o.client_order_id === stopOrderId(req.positionRef));
const onStopSubmit: Fault['when'] = ({ body }) => String((body as { client_order_id?: string } | undefined)?.client_order_id ?? '').endsWith('-S');

function expectOneWorkingStop(req: StopRequest): void {
  const stops = stopsOf(req);
  expect(stops).toHaveLength(1);
  expect(stops[0]).toMatchObject({ type: 'stop', side: 'sell', qty: '10', stop_price: '95', status: 'new', time_in_force: 'gtc' });
}

describe('Alpaca placeStop', () => {
  test('sends the stop order <entry>-S after looking it up, and reports it working', async () => {
    const req = await openLong();
    expect(await adapter.placeStop(req)).toEqual({ clientOrderId: stopOrderId(req.positionRef), status: 'working', stopLevel: 95 });
    expectOneWorkingStop(req);
    expect((await adapter.getPositions(ACCOUNT))[0]).toMatchObject({ positionRef: req.positionRef, stopLevel: 95 });
  });

  test.each<[string, Partial<Fault>]>([
    ['a 5xx on the submit', { kind: '5xx', status: 503 }],
    ['a timeout before Alpaca acted', { kind: 'timeout', holdMs: HTTP_TIMEOUT_MS * 4 }],
  ])('%s, then a retry: exactly one stop (the first attempt ends unknown, the retry looks it up first)', async (_name, f) => {
    const req = await openLong();
    server.inject({ method: 'POST', path: '/v2/orders', when: onStopSubmit, ...f } as Fault);
    const { report, failures } = await placeLikeTemporal(req);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(OrderOutcomeUnknownError);
    expect(report.status).toBe('working');
    expectOneWorkingStop(req);
  });

  test('a dropped answer after Alpaca took the stop: the same attempt finds it by client_order_id, one stop', async () => {
    const req = await openLong();
    server.inject({ kind: 'drop-after-accept', method: 'POST', path: '/v2/orders', when: onStopSubmit });
    const { report, failures } = await placeLikeTemporal(req);
    expect(failures).toEqual([]);
    expect(report.status).toBe('working');
    expectOneWorkingStop(req);
  });

  test('a 5xx on the look-up is retryable and sends nothing', async () => {
    const req = await openLong();
    server.inject({ kind: '5xx', method: 'GET', path: '/v2/orders:by_client_order_id' });
    const posts = server.orderPosts();
    await expect(adapter.placeStop(req)).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(server.orderPosts()).toBe(posts);
    expect((await adapter.placeStop(req)).status).toBe('working');
    expectOneWorkingStop(req);
  });

  test('a rate limit (429) is a RateLimitedError; the retry places the one stop', async () => {
    const req = await openLong();
    server.inject({ kind: 'rate-limit', method: 'POST', path: '/v2/orders', when: onStopSubmit });
    const { report, failures } = await placeLikeTemporal(req);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(RateLimitedError);
    expect(report.status).toBe('working');
    expectOneWorkingStop(req);
  });

  test('never sends a stop that would open a position: a short-side stop on a long is rejected', async () => {
    const req = await openLong();
    const report = await adapter.placeStop({ ...req, positionSide: 'short', stopLevel: 105 });
    expect(report.status).toBe('rejected');
    expect(stopsOf(req)).toHaveLength(0);
  });

  test('a fractional quantity cannot rest as a gtc stop: rejected before sending', async () => {
    const req = await openLong();
    const report = await adapter.placeStop({ ...req, quantity: 2.5 });
    expect(report.status).toBe('rejected');
    expect(report.reason).toMatch(/whole-share/);
    expect(stopsOf(req)).toHaveLength(0);
  });

  test('a stop canceled by a filled close is not placed again: the position is gone (rejected, nothing sent)', async () => {
    const req = await openLong();
    await adapter.placeStop(req);
    await adapter.placeOrder({ account: ACCOUNT, clientOrderId: `${ACCOUNT}-close`, symbol: 'AAPL', side: 'sell', quantity: 10, type: 'market', intent: 'close', positionRef: req.positionRef });
    const posts = server.orderPosts();
    const report = await adapter.placeStop(req);
    expect(report.status).toBe('rejected');
    expect(report.reason).toMatch(/Alpaca holds no position in AAPL/);
    expect(server.orderPosts()).toBe(posts);
  });
});

describe('Alpaca getInstrument', () => {
  test('an active, tradable, fractionable equity with the market open: tradable, any quantity', async () => {
    expect(await adapter.getInstrument('AAPL')).toMatchObject({ symbol: 'AAPL', tradable: true, marketStatus: 'open', minQuantity: 0, quantityStep: 0 });
  });

  test('the market clock closed: not tradable, status closed', async () => {
    server.setMarketOpen(false);
    expect(await adapter.getInstrument('AAPL')).toMatchObject({ tradable: false, marketStatus: 'closed' });
  });

  test('sizes: whole shares for a non-fractionable asset; min_order_size / min_trade_increment when Alpaca sends them', async () => {
    server.setAsset('AAPL', { fractionable: false });
    expect(await adapter.getInstrument('AAPL')).toMatchObject({ minQuantity: 1, quantityStep: 1 });
    server.setAsset('AAPL', { min_order_size: '0.0001', min_trade_increment: '0.000000001' });
    expect(await adapter.getInstrument('AAPL')).toMatchObject({ minQuantity: 0.0001, quantityStep: 1e-9 });
  });

  test('an inactive or non-tradable asset is not tradable even with the market open; an unknown symbol neither', async () => {
    server.setAsset('AAPL', { tradable: false });
    expect(await adapter.getInstrument('AAPL')).toMatchObject({ tradable: false, marketStatus: 'not-tradable' });
    server.setAsset('AAPL', { tradable: true, status: 'inactive' });
    expect(await adapter.getInstrument('AAPL')).toMatchObject({ tradable: false, marketStatus: 'inactive' });
    expect(await adapter.getInstrument('NOPE')).toMatchObject({ tradable: false, marketStatus: 'unknown-symbol' });
  });

  test('a rate limit on the clock is a RateLimitedError', async () => {
    server.inject({ kind: 'rate-limit', method: 'GET', path: '/v2/clock' });
    await expect(adapter.getInstrument('AAPL')).rejects.toBeInstanceOf(RateLimitedError);
  });
});
