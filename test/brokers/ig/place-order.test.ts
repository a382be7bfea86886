import type { OrderReport, OrderRequest } from '../../../brokers/adapter';
import { BrokerError, InvalidOrderError, OrderOutcomeUnknownError, RateLimitedError } from '../../../brokers/errors';
import { IgBrokerAdapter, InMemorySubmissionJournal, type IgConfigInput } from '../../../brokers/ig';
import type { Fault } from '../../fakes/fault';
import { startFakeIgServer, type FakeIgServer } from '../../fakes/ig-server';

const EPIC = 'CS.D.EURUSD.CFD.IP';
const ACCOUNT = 'igacct';
const IG_ACCOUNT = 'ABC123';
const SETTLE_MS = 120_000;

let fake: FakeIgServer;
let journal: InMemorySubmissionJournal;
let adapter: IgBrokerAdapter;

function configFor(f: FakeIgServer, over: Partial<IgConfigInput> = {}): IgConfigInput {
  return {
    apiKey: f.options.apiKey,
    identifier: f.options.identifier,
    password: f.options.password,
    accountId: IG_ACCOUNT,
    baseUrl: f.url,
    httpTimeoutMs: 400,
    confirmPollIntervalMs: 10,
    confirmWindowMs: 120,
    rateLimitBackoffMs: 5_000,
    unknownOutcomeSettleMs: SETTLE_MS,
    ...over,
  };
}

function newAdapter(over: Partial<IgConfigInput> = {}): IgBrokerAdapter {
  return new IgBrokerAdapter(configFor(fake, over), { journal, now: () => fake.now() });
}

beforeEach(async () => {
  fake = await startFakeIgServer({ accounts: [{ accountId: IG_ACCOUNT, currency: 'USD', balance: 10_000, preferred: true }] });
  fake.addMarket({ epic: EPIC, currency: 'USD', minDealSize: 0.5 });
  fake.setPrice(EPIC, 1.1, 1.1002);
  journal = new InMemorySubmissionJournal();
  adapter = newAdapter();
});

afterEach(async () => {
  await adapter.close();
  await fake.close();
});

let seq = 0;
function buy(over: Partial<OrderRequest> = {}): OrderRequest {
  seq++;
  return {
    account: ACCOUNT,
    clientOrderId: `${ACCOUNT}-${String(seq).padStart(6, '0')}`,
    symbol: EPIC,
    side: 'buy',
    quantity: 2,
    type: 'market',
    intent: 'open',
    ...over,
  };
}

/**
 * Calls placeOrder the way Temporal's retry policy would: again after a retryable failure, waiting the
 * failure's retryAfterMs (ApplicationFailure nextRetryDelay) on the shared fake clock, up to 5 attempts.
 */
async function placeLikeTemporal(a: IgBrokerAdapter, order: OrderRequest, maxAttempts = 5) {
  const failures: BrokerError[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      return { report: await a.placeOrder(order), attempts: attempt, failures };
    } catch (err) {
      if (!(err instanceof BrokerError) || !err.retryable || attempt >= maxAttempts) throw err;
      failures.push(err);
      fake.advanceTime((err as { retryAfterMs?: number }).retryAfterMs ?? 1_000);
    }
  }
}

/** The adapter's report agrees with IG's own record of the one position. */
function expectReportMatchesBroker(report: OrderReport, order: OrderRequest) {
  const positions = fake.positions();
  expect(positions).toHaveLength(1);
  const p = positions[0]!;
  expect(p.dealReference).toBe(order.clientOrderId);
  expect(report).toMatchObject({
    clientOrderId: order.clientOrderId,
    brokerOrderId: p.dealId,
    status: 'filled',
    symbol: p.epic,
    side: 'buy',
    quantity: p.size,
    filledQuantity: p.size,
    fillPrice: p.level,
  });
  expect(report.filledAt).toBe(Math.floor(p.createdAtMs / 1000) * 1000);
}

describe('IG placeOrder', () => {
  test('happy path: one POST with the clientOrderId as dealReference, filled at the ask, confirmed', async () => {
    const order = buy({ stopLevel: 1.09 });
    const report = await adapter.placeOrder(order);
    expectReportMatchesBroker(report, order);
    expect(report.fillPrice).toBe(1.1002);
    expect(fake.positions()[0]!.stopLevel).toBe(1.09);
    expect(fake.orderPosts()).toBe(1);
    // The look-up came first: confirms, positions and activity were asked before the POST.
    const seen = fake.requests().map((r) => `${r.method} ${r.path.replace(/\/confirms\/.*/, '/confirms/{ref}')}`);
    const post = seen.indexOf('POST /positions/otc');
    expect(seen.slice(0, post)).toEqual(expect.arrayContaining(['GET /confirms/{ref}', 'GET /positions', 'GET /history/activity']));
    expect(seen.lastIndexOf('GET /confirms/{ref}')).toBeGreaterThan(post);
    // The journal recorded the reference and, once filled, the deal id.
    await expect(journal.find({ broker: 'ig', account: ACCOUNT, clientOrderId: order.clientOrderId })).resolves.toMatchObject({
      brokerDealId: report.brokerOrderId,
    });
  });

  test('a retried call returns the existing order and never posts again', async () => {
    const order = buy();
    const first = await adapter.placeOrder(order);
    const again = await adapter.placeOrder(order);
    expect(again).toEqual(first);
    expect(fake.orderPosts()).toBe(1);
    expect(fake.positions()).toHaveLength(1);
  });

  test('a broker rejection is a rejected report with IG reason, and stays one on retry', async () => {
    const order = buy({ quantity: 0.1 });
    const report = await adapter.placeOrder(order);
    expect(report).toMatchObject({ status: 'rejected', filledQuantity: 0, fillPrice: 0 });
    expect(report.reason).toContain('MINIMUM_ORDER_SIZE_ERROR');
    await expect(adapter.placeOrder(order)).resolves.toEqual(report);
    expect(fake.orderPosts()).toBe(1);
    expect(fake.positions()).toHaveLength(0);
  });

  test('a clientOrderId IG cannot take as a dealReference is an InvalidOrderError, nothing sent', async () => {
    await expect(adapter.placeOrder(buy({ clientOrderId: 'x'.repeat(31) }))).rejects.toBeInstanceOf(InvalidOrderError);
    await expect(adapter.placeOrder(buy({ clientOrderId: 'has space' }))).rejects.toThrow(/not a valid IG deal reference/);
    await expect(adapter.placeOrder(buy({ symbol: 'bad epic!' }))).rejects.toThrow(/not an IG epic/);
    expect(fake.orderPosts()).toBe(0);
  });

  // ---- the fault matrix on the submit path ------------------------------------------------------
  const post = (f: Omit<Fault, 'path' | 'method'>): Fault => ({ method: 'POST', path: '/positions/otc', when: (r) => !r.headers['_method'], ...f });
  const matrix: { name: string; fault: Fault; posts: number; attempts: number; failure?: new (...a: any[]) => BrokerError }[] = [
    { name: 'timeout, IG never got it', fault: post({ kind: 'timeout', holdMs: 2_000 }), posts: 2, attempts: 2, failure: OrderOutcomeUnknownError },
    { name: 'timeout after IG dealt', fault: post({ kind: 'timeout', holdMs: 2_000, acceptFirst: true }), posts: 1, attempts: 1 },
    { name: '500', fault: post({ kind: '5xx', status: 500 }), posts: 2, attempts: 2, failure: OrderOutcomeUnknownError },
    { name: '503', fault: post({ kind: '5xx', status: 503 }), posts: 2, attempts: 2, failure: OrderOutcomeUnknownError },
    { name: 'rate limit (403 exceeded-account-allowance)', fault: post({ kind: 'rate-limit' }), posts: 2, attempts: 2, failure: RateLimitedError },
    {
      name: 'rate limit (403 exceeded-account-trading-allowance)',
      fault: post({ kind: 'rate-limit', errorCode: 'error.public-api.exceeded-account-trading-allowance' }),
      posts: 2,
      attempts: 2,
      failure: RateLimitedError,
    },
    { name: 'expired token (401 client-token-invalid)', fault: post({ kind: 'expired-token' }), posts: 2, attempts: 1 },
    { name: 'drop after accept', fault: post({ kind: 'drop-after-accept' }), posts: 1, attempts: 1 },
    { name: 'two faults in a row (503 then timeout)', fault: post({ kind: '5xx', status: 503 }), posts: 3, attempts: 3, failure: OrderOutcomeUnknownError },
  ];

  test.each(matrix)('fault on submit: $name → exactly one position, report = broker', async ({ name, fault, posts, attempts, failure }) => {
    fake.inject(fault);
    if (name.startsWith('two faults')) fake.inject(post({ kind: 'timeout', holdMs: 2_000 }));
    const order = buy();
    const { report, attempts: used, failures } = await placeLikeTemporal(adapter, order);
    expectReportMatchesBroker(report, order);
    expect(fake.orderPosts()).toBe(posts);
    expect(used).toBe(attempts);
    if (failure) expect(failures[0]).toBeInstanceOf(failure);
    expect(fake.pendingFaults()).toEqual([]);
    // A later call (a replay) still finds the very same order.
    await expect(adapter.placeOrder(order)).resolves.toEqual(report);
    expect(fake.orderPosts()).toBe(posts);
  });

  test('faults on the look-up path (confirm poll 5xx, positions timeout) never double the order', async () => {
    fake.inject({ method: 'GET', path: /^\/confirms\//, kind: '5xx', status: 503, times: 3 });
    fake.inject({ method: 'GET', path: '/positions', kind: 'timeout', holdMs: 2_000 });
    const order = buy();
    const { report, failures } = await placeLikeTemporal(adapter, order);
    expectReportMatchesBroker(report, order);
    expect(fake.orderPosts()).toBe(1);
    expect(failures.length).toBeGreaterThanOrEqual(1);
  });

  test('drop after accept: found by the look-up, no second POST', async () => {
    fake.inject({ method: 'POST', path: '/positions/otc', kind: 'drop-after-accept' });
    const order = buy();
    const report = await adapter.placeOrder(order);
    expectReportMatchesBroker(report, order);
    expect(fake.orderPosts()).toBe(1);
  });

  test('rate limit: RateLimitedError with the configured delay; the journal forgets the refused send', async () => {
    fake.inject({ method: 'POST', path: '/positions/otc', kind: 'rate-limit' });
    const order = buy();
    const err = await adapter.placeOrder(order).catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBe(5_000);
    expect(err.message).toContain('error.public-api.exceeded-account-allowance');
    await expect(journal.find({ broker: 'ig', account: ACCOUNT, clientOrderId: order.clientOrderId })).resolves.toBeNull();
    expect(fake.positions()).toHaveLength(0);
  });

  test('confirm expired (> 60 s): a restarted adapter finds the order through positions, then through activity', async () => {
    const order = buy();
    const first = await adapter.placeOrder(order);
    fake.advanceTime(61_000);

    const restarted = newAdapter();
    await expect(restarted.placeOrder(order)).resolves.toEqual(first);
    const confirms = fake.requests({ method: 'GET', path: /^\/confirms\// });
    expect(confirms[confirms.length - 1]!.status).toBe(404);

    // The position is gone too (closed on the web platform): the activity history still knows the order.
    fake.closePositionExternally(order.clientOrderId);
    fake.advanceTime(61_000);
    const again = newAdapter();
    await expect(again.placeOrder(order)).resolves.toEqual(first);
    expect(fake.orderPosts()).toBe(1);
    await restarted.close();
    await again.close();
  });

  test('unknown outcome: the journal says sent, IG shows nothing → OrderOutcomeUnknownError, no re-post', async () => {
    const order = buy();
    journal.seed({ broker: 'ig', account: ACCOUNT, clientOrderId: order.clientOrderId, postedAtMs: fake.now() });
    const err = await adapter.placeOrder(order).catch((e) => e);
    expect(err).toBeInstanceOf(OrderOutcomeUnknownError);
    expect(err.retryable).toBe(true);
    expect(err.clientOrderId).toBe(order.clientOrderId);
    expect(err.retryAfterMs).toBeGreaterThan(100_000);
    fake.advanceTime(60_000);
    await expect(adapter.placeOrder(order)).rejects.toBeInstanceOf(OrderOutcomeUnknownError);
    expect(fake.orderPosts()).toBe(0);
    expect(fake.positions()).toHaveLength(0);
  });

  test('unknown outcome settles: after the settle window with a silent activity history it is sent once', async () => {
    const order = buy();
    journal.seed({ broker: 'ig', account: ACCOUNT, clientOrderId: order.clientOrderId, postedAtMs: fake.now() });
    fake.advanceTime(SETTLE_MS);
    const report = await adapter.placeOrder(order);
    expectReportMatchesBroker(report, order);
    expect(fake.orderPosts()).toBe(1);
  });

  test('IG lists the deal with status UNKNOWN: unknown outcome, never re-sent', async () => {
    const order = buy();
    journal.seed({ broker: 'ig', account: ACCOUNT, clientOrderId: order.clientOrderId, postedAtMs: fake.now() - SETTLE_MS });
    fake.respondRaw({
      method: 'GET',
      path: '/history/activity',
      status: 200,
      body: { activities: [{ date: '2024-01-01T00:00:00', dealId: 'DIX', epic: EPIC, status: 'UNKNOWN', type: 'POSITION', channel: 'PUBLIC_WEB_API', details: { dealReference: order.clientOrderId, actions: [] } }], metadata: { paging: { size: 1, next: null } } },
    });
    await expect(adapter.placeOrder(order)).rejects.toBeInstanceOf(OrderOutcomeUnknownError);
    expect(fake.orderPosts()).toBe(0);
  });

  test('two concurrent attempts of one order send it once', async () => {
    const order = buy();
    const other = newAdapter();
    const results = await Promise.allSettled([adapter.placeOrder(order), other.placeOrder(order)]);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(OrderOutcomeUnknownError);
    }
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
    const { report } = await placeLikeTemporal(other, order);
    expectReportMatchesBroker(report, order);
    expect(fake.orderPosts()).toBe(1);
    await other.close();
  });
});
