import { stopOrderId, type OrderReport, type OrderRequest } from '../../../brokers/adapter';
import { BrokerError, OrderOutcomeUnknownError, RateLimitedError } from '../../../brokers/errors';
import { IgBrokerAdapter, InMemorySubmissionJournal, type IgConfigInput } from '../../../brokers/ig';
import type { Fault } from '../../fakes/fault';
import { startFakeIgServer, type FakeIgServer } from '../../fakes/ig-server';

const EPIC = 'IX.D.FTSE.DAILY.IP';
const ACCOUNT = 'igclose';
const SETTLE_MS = 120_000;

let fake: FakeIgServer;
let journal: InMemorySubmissionJournal;
let adapter: IgBrokerAdapter;
let seq = 0;

function newAdapter(): IgBrokerAdapter {
  const config: IgConfigInput = {
    apiKey: fake.options.apiKey,
    identifier: fake.options.identifier,
    password: fake.options.password,
    accountId: 'ABC123',
    baseUrl: fake.url,
    httpTimeoutMs: 300,
    confirmPollIntervalMs: 10,
    confirmWindowMs: 100,
    rateLimitBackoffMs: 2_000,
    unknownOutcomeSettleMs: SETTLE_MS,
  };
  return new IgBrokerAdapter(config, { journal, now: () => fake.now() });
}

beforeEach(async () => {
  fake = await startFakeIgServer();
  fake.addMarket({ epic: EPIC, currency: 'GBP', expiry: 'DFB', minDealSize: 1 });
  fake.setPrice(EPIC, 7500, 7501);
  journal = new InMemorySubmissionJournal();
  adapter = newAdapter();
});

afterEach(async () => {
  await adapter.close();
  await fake.close();
});

const nextId = () => `${ACCOUNT}-${String(++seq).padStart(6, '0')}`;

async function openLong(size = 2, stopLevel?: number): Promise<OrderReport> {
  const report = await adapter.placeOrder({
    account: ACCOUNT,
    clientOrderId: nextId(),
    symbol: EPIC,
    side: 'buy',
    quantity: size,
    type: 'market',
    intent: 'open',
    ...(stopLevel !== undefined ? { stopLevel } : {}),
  });
  expect(report.status).toBe('filled');
  return report;
}

function closeOf(entry: OrderReport, over: Partial<OrderRequest> = {}): OrderRequest {
  return {
    account: ACCOUNT,
    clientOrderId: nextId(),
    symbol: EPIC,
    side: 'sell',
    quantity: entry.quantity,
    type: 'market',
    intent: 'close',
    positionRef: entry.clientOrderId,
    ...over,
  };
}

async function placeLikeTemporal(order: OrderRequest, maxAttempts = 5) {
  const failures: BrokerError[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      return { report: await adapter.placeOrder(order), attempts: attempt, failures };
    } catch (err) {
      if (!(err instanceof BrokerError) || !err.retryable || attempt >= maxAttempts) throw err;
      failures.push(err);
      fake.advanceTime((err as { retryAfterMs?: number }).retryAfterMs ?? 1_000);
    }
  }
}

/** The one API-channel close IG recorded for the position. */
function closesOf(dealId: string) {
  return fake.activities().filter((a) => a.details.actions.some((x) => x.actionType === 'POSITION_CLOSED' && x.affectedDealId === dealId));
}

describe('IG close', () => {
  test('closes the position its entry opened, at the bid, through POST /positions/otc _method DELETE', async () => {
    const entry = await openLong(2);
    fake.setPrice(EPIC, 7510, 7511);
    const close = closeOf(entry);
    const report = await adapter.placeOrder(close);
    const [closing] = closesOf(entry.brokerOrderId);
    expect(report).toMatchObject({
      clientOrderId: close.clientOrderId,
      brokerOrderId: closing!.dealId,
      status: 'filled',
      side: 'sell',
      quantity: 2,
      filledQuantity: 2,
      fillPrice: 7510,
    });
    expect(fake.positions()).toEqual([]);
    expect(fake.balance('ABC123')).toBe(10_000 + (7510 - 7501) * 2);
    // IG assigned the close's deal reference; it is in the journal next to the position's deal id.
    await expect(journal.find({ broker: 'ig', account: ACCOUNT, clientOrderId: close.clientOrderId })).resolves.toMatchObject({
      brokerRef: closing!.details.dealReference,
      targetDealId: entry.brokerOrderId,
    });
    // A retry of the same close returns the same report and sends nothing.
    await expect(adapter.placeOrder(close)).resolves.toEqual(report);
    expect(fake.closePosts()).toBe(1);
  });

  test('position not open (never opened, or closed already) → rejected with a reason, nothing sent', async () => {
    const report = await adapter.placeOrder({
      account: ACCOUNT,
      clientOrderId: nextId(),
      symbol: EPIC,
      side: 'sell',
      quantity: 1,
      type: 'market',
      intent: 'close',
      positionRef: 'igclose-999999',
    });
    expect(report).toMatchObject({ status: 'rejected', filledQuantity: 0 });
    expect(report.reason).toMatch(/igclose-999999 is not open at IG/);
    const entry = await openLong(1);
    fake.closePositionExternally(entry.clientOrderId);
    const late = await adapter.placeOrder(closeOf(entry));
    expect(late.status).toBe('rejected');
    expect(fake.closePosts()).toBe(0);
  });

  test('a close of the wrong side or size is rejected before anything is sent', async () => {
    const entry = await openLong(2);
    await expect(adapter.placeOrder(closeOf(entry, { side: 'buy' }))).resolves.toMatchObject({ status: 'rejected', reason: expect.stringContaining('must be sell 2') });
    await expect(adapter.placeOrder(closeOf(entry, { quantity: 1 }))).resolves.toMatchObject({ status: 'rejected' });
    expect(fake.closePosts()).toBe(0);
    expect(fake.positions()).toHaveLength(1);
  });

  const del = (f: Omit<Fault, 'path' | 'method'>): Fault => ({ method: 'POST', path: '/positions/otc', when: (r) => r.headers['_method'] === 'DELETE', ...f });
  test.each([
    { name: 'drop after accept', fault: del({ kind: 'drop-after-accept' }), posts: 1, attempts: 1 },
    { name: 'timeout after IG dealt', fault: del({ kind: 'timeout', holdMs: 2_000, acceptFirst: true }), posts: 1, attempts: 1 },
    { name: 'timeout, IG never got it', fault: del({ kind: 'timeout', holdMs: 2_000 }), posts: 2, attempts: 2 },
    { name: '503', fault: del({ kind: '5xx', status: 503 }), posts: 2, attempts: 2 },
    { name: 'rate limit', fault: del({ kind: 'rate-limit' }), posts: 2, attempts: 2 },
    { name: 'expired token', fault: del({ kind: 'expired-token' }), posts: 2, attempts: 1 },
  ])('fault on close: $name → closed exactly once, report = IG activity', async ({ fault, posts, attempts }) => {
    const entry = await openLong(2);
    fake.inject(fault);
    const close = closeOf(entry);
    const { report, attempts: used } = await placeLikeTemporal(close);
    expect(fake.positions()).toEqual([]);
    const closes = closesOf(entry.brokerOrderId);
    expect(closes).toHaveLength(1);
    expect(report).toMatchObject({ status: 'filled', brokerOrderId: closes[0]!.dealId, fillPrice: closes[0]!.details.level, quantity: 2 });
    expect(fake.closePosts()).toBe(posts);
    expect(used).toBe(attempts);
    await expect(adapter.placeOrder(close)).resolves.toEqual(report);
  });

  test('a close sent but not yet visible is unknown, not failed; it is never sent twice within the settle window', async () => {
    const entry = await openLong(1);
    fake.inject(del({ kind: 'timeout', holdMs: 2_000 }));
    const close = closeOf(entry);
    const err = await adapter.placeOrder(close).catch((e) => e);
    expect(err).toBeInstanceOf(OrderOutcomeUnknownError);
    fake.advanceTime(30_000);
    await expect(adapter.placeOrder(close)).rejects.toBeInstanceOf(OrderOutcomeUnknownError);
    expect(fake.closePosts()).toBe(1);
    expect(fake.positions()).toHaveLength(1);
  });

  test('the stop closed the position while our close was in doubt → rejected once settled, with IG channel', async () => {
    const entry = await openLong(1, 7400);
    fake.inject(del({ kind: 'timeout', holdMs: 2_000 }));
    const close = closeOf(entry);
    await expect(adapter.placeOrder(close)).rejects.toBeInstanceOf(OrderOutcomeUnknownError);
    fake.setPrice(EPIC, 7390, 7391); // stop triggers
    await expect(adapter.placeOrder(close)).rejects.toBeInstanceOf(OrderOutcomeUnknownError);
    fake.advanceTime(SETTLE_MS);
    const report = await adapter.placeOrder(close);
    expect(report).toMatchObject({ status: 'rejected', reason: expect.stringContaining('closed by IG (SYSTEM)') });
    expect(fake.closePosts()).toBe(1);
  });

  test('a rate-limited close is a RateLimitedError with a delay and leaves the position open', async () => {
    const entry = await openLong(1);
    fake.inject(del({ kind: 'rate-limit', errorCode: 'error.public-api.exceeded-account-trading-allowance' }));
    const err = await adapter.placeOrder(closeOf(entry)).catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.retryAfterMs).toBe(2_000);
    expect(fake.positions()).toHaveLength(1);
  });
});

describe('IG getOrder and stops', () => {
  test('getOrder: confirm, then positions, then activity; null for an order IG never saw', async () => {
    const entry = await openLong(1);
    await expect(adapter.getOrder(ACCOUNT, entry.clientOrderId)).resolves.toEqual(entry);
    fake.advanceTime(61_000); // confirm gone
    await expect(newAdapter().getOrder(ACCOUNT, entry.clientOrderId)).resolves.toEqual(entry);
    fake.closePositionExternally(entry.clientOrderId);
    await expect(newAdapter().getOrder(ACCOUNT, entry.clientOrderId)).resolves.toEqual(entry);
    await expect(adapter.getOrder(ACCOUNT, 'igclose-424242')).resolves.toBeNull();
  });

  test('getOrder of a close finds it after its confirm expired', async () => {
    const entry = await openLong(1);
    const close = await adapter.placeOrder(closeOf(entry));
    fake.advanceTime(120_000);
    await expect(adapter.getOrder(ACCOUNT, close.clientOrderId)).resolves.toEqual(close);
  });

  test('stopOrderId: null while the position is open; filled at the market when IG closes it by its stop', async () => {
    const entry = await openLong(2, 7450);
    const id = stopOrderId(entry.clientOrderId);
    await expect(adapter.getOrder(ACCOUNT, id)).resolves.toBeNull();
    fake.advanceTime(5_000);
    fake.setPrice(EPIC, 7440, 7441); // gapped through the stop: a non-guaranteed stop fills at the bid
    const stop = await adapter.getOrder(ACCOUNT, id);
    const [closing] = closesOf(entry.brokerOrderId);
    expect(closing!.channel).toBe('SYSTEM');
    expect(stop).toEqual({
      clientOrderId: id,
      brokerOrderId: closing!.dealId,
      status: 'filled',
      symbol: EPIC,
      side: 'sell',
      quantity: 2,
      filledQuantity: 2,
      fillPrice: 7440,
      filledAt: Math.floor(closing!.atMs / 1000) * 1000,
      reason: expect.stringContaining('stop'),
    });
    await expect(adapter.getPositions(ACCOUNT)).resolves.toEqual([]);
    // Also from a restarted adapter that has no journal entry of the entry.
    journal = new InMemorySubmissionJournal();
    await expect(newAdapter().getOrder(ACCOUNT, id)).resolves.toEqual(stop);
  });

  test('a position closed by hand on the web platform is no stop fill', async () => {
    const entry = await openLong(1, 7450);
    fake.closePositionExternally(entry.clientOrderId, 'WEB');
    await expect(adapter.getOrder(ACCOUNT, stopOrderId(entry.clientOrderId))).resolves.toBeNull();
  });

  test('getPositions follows the venue: positions opened and closed behind the adapter back', async () => {
    const entry = await openLong(2, 7300);
    const ext = fake.openPositionExternally({ epic: EPIC, direction: 'SELL', size: 3, stopLevel: 7600, dealReference: 'manual-1' });
    await expect(adapter.getPositions(ACCOUNT)).resolves.toEqual([
      { positionRef: entry.clientOrderId, brokerPositionId: entry.brokerOrderId, symbol: EPIC, side: 'long', quantity: 2, entryPrice: 7501, stopLevel: 7300 },
      { positionRef: 'manual-1', brokerPositionId: ext.dealId, symbol: EPIC, side: 'short', quantity: 3, entryPrice: 7500, stopLevel: 7600 },
    ]);
    fake.closePositionExternally(entry.clientOrderId);
    await expect(adapter.getPositions(ACCOUNT)).resolves.toEqual([expect.objectContaining({ positionRef: 'manual-1' })]);
  });
});
