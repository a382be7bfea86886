/**
 * IG placeStop under faults: the amendment (PUT /positions/otc/{dealId} v2) is retried the way Temporal's
 * retry policy would, and IG ends with exactly one stop on the position; refusals come back `rejected`.
 */
import { stopOrderId, type StopReport, type StopRequest } from '../../../brokers/adapter';
import { BrokerError, BrokerUnavailableError, RateLimitedError } from '../../../brokers/errors';
import { IgBrokerAdapter, InMemorySubmissionJournal } from '../../../brokers/ig';
import type { Fault } from '../../fakes/fault';
import { startFakeIgServer, type FakeIgServer } from '../../fakes/ig-server';

const EPIC = 'CS.D.EURUSD.CFD.IP';
const ACCOUNT = 'igstop';
const IG_ACCOUNT = 'ABC123';
const PUT_PATH = /^\/positions\/otc\/[^/]+$/;

let fake: FakeIgServer;
let adapter: IgBrokerAdapter;
let seq = 0;

beforeEach(async () => {
  fake = await startFakeIgServer({ accounts: [{ accountId: IG_ACCOUNT, currency: 'USD', balance: 10_000, preferred: true }] });
  fake.addMarket({ epic: EPIC, currency: 'USD', minDealSize: 0.5 });
  fake.setPrice(EPIC, 1.1, 1.1002);
  adapter = new IgBrokerAdapter(
    {
      apiKey: fake.options.apiKey,
      identifier: fake.options.identifier,
      password: fake.options.password,
      accountId: IG_ACCOUNT,
      baseUrl: fake.url,
      httpTimeoutMs: 1_000,
      confirmPollIntervalMs: 10,
      confirmWindowMs: 120,
      rateLimitBackoffMs: 5_000,
    },
    { journal: new InMemorySubmissionJournal(), now: () => fake.now() },
  );
});

afterEach(async () => {
  await adapter.close();
  await fake.close();
});

/** Opens a long position of 2 without a stop; returns the stop request for it at `stopLevel`. */
async function openLong(stopLevel = 1.09): Promise<StopRequest> {
  const ref = `${ACCOUNT}-${String(++seq).padStart(6, '0')}`;
  const r = await adapter.placeOrder({ account: ACCOUNT, clientOrderId: ref, symbol: EPIC, side: 'buy', quantity: 2, type: 'market', intent: 'open' });
  expect(r.status).toBe('filled');
  return { account: ACCOUNT, positionRef: ref, symbol: EPIC, positionSide: 'long', quantity: 2, stopLevel };
}

async function placeLikeTemporal(req: StopRequest, maxAttempts = 5): Promise<{ report: StopReport; failures: BrokerError[] }> {
  const failures: BrokerError[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      return { report: await adapter.placeStop(req), failures };
    } catch (err) {
      if (!(err instanceof BrokerError) || !err.retryable || attempt >= maxAttempts) throw err;
      failures.push(err);
      fake.advanceTime((err as { retryAfterMs?: number }).retryAfterMs ?? 1_000);
    }
  }
}

/** IG's record: one amendment accepted, the position carrying the stop. */
function expectOneStop(req: StopRequest): void {
  const amended = fake.activities().filter((a) => a.type === 'EDIT_STOP_AND_LIMIT' && a.status === 'ACCEPTED');
  expect(amended).toHaveLength(1);
  expect(fake.positions()).toHaveLength(1);
  expect(fake.positions()[0]).toMatchObject({ dealReference: req.positionRef, stopLevel: req.stopLevel });
}

describe('IG placeStop', () => {
  test('amends the open position by PUT v2 (keeping its limit) and confirms it', async () => {
    const req = await openLong();
    const report = await adapter.placeStop(req);
    expect(report).toEqual({ clientOrderId: stopOrderId(req.positionRef), status: 'working', stopLevel: 1.09 });
    expect(fake.requests({ method: 'PUT', path: PUT_PATH }).map((r) => r.version)).toEqual(['2']);
    expect(fake.requests({ method: 'GET', path: /^\/confirms\/AMD/ }).length).toBeGreaterThanOrEqual(1);
    expectOneStop(req);
  });

  test.each<[string, Partial<Fault>]>([
    ['a 5xx', { kind: '5xx', status: 503 }],
    ['a timeout before IG acted', { kind: 'timeout', holdMs: 3_000 }],
    ['a dropped answer after IG acted', { kind: 'drop-after-accept' }],
    ['a timeout after IG acted', { kind: 'timeout', acceptFirst: true, holdMs: 3_000 }],
  ])('%s on the PUT, then a retry: exactly one stop, reported working', async (_name, f) => {
    const req = await openLong();
    fake.inject({ method: 'PUT', path: PUT_PATH, ...f } as Fault);
    const { report, failures } = await placeLikeTemporal(req);
    expect(report).toMatchObject({ status: 'working', stopLevel: 1.09 });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(BrokerUnavailableError);
    expectOneStop(req);
    expect(fake.pendingFaults()).toEqual([]);
  });

  test('a rate limit is a RateLimitedError with IG backoff; the retry places the one stop', async () => {
    const req = await openLong();
    fake.inject({ kind: 'rate-limit', method: 'PUT', path: PUT_PATH, errorCode: 'error.public-api.exceeded-account-trading-allowance' });
    const { report, failures } = await placeLikeTemporal(req);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(RateLimitedError);
    expect((failures[0] as RateLimitedError).retryAfterMs).toBe(5_000);
    expect(report.status).toBe('working');
    expectOneStop(req);
  });

  test('an expired session token on the PUT logs in again and places the stop in the same attempt', async () => {
    const req = await openLong();
    const logins = fake.logins();
    fake.inject({ kind: 'expired-token', method: 'PUT', path: PUT_PATH });
    expect((await adapter.placeStop(req)).status).toBe('working');
    expect(fake.logins()).toBe(logins + 1);
    expectOneStop(req);
  });

  test("IG's 4xx refusal of the level is a rejected report naming IG's error, not a throw", async () => {
    const req = await openLong();
    fake.respondRaw({ method: 'PUT', path: PUT_PATH, status: 400, body: { errorCode: 'error.service.otc.stopLevel.invalid' } });
    const report = await adapter.placeStop(req);
    expect(report.status).toBe('rejected');
    expect(report.reason).toContain('error.service.otc.stopLevel.invalid');
    expect(fake.positions()[0]!.stopLevel).toBeNull();
  });

  test('a REJECTED confirmation (ATTACHED_ORDER_LEVEL_ERROR) is a rejected report with the reason', async () => {
    const req = await openLong();
    // The price moves below the stop between the position read and the PUT: IG refuses the level.
    const stale = { ...req, stopLevel: 1.0999 };
    // A matcher that never matches, used only to move the price as the PUT arrives.
    const moveThenPut: Fault = {
      kind: '5xx',
      method: 'PUT',
      path: PUT_PATH,
      when: () => {
        fake.setPrice(EPIC, 1.0998, 1.1);
        return false;
      },
    };
    fake.inject(moveThenPut);
    const report = await adapter.placeStop(stale);
    expect(report).toMatchObject({ status: 'rejected', stopLevel: 1.0999 });
    expect(report.reason).toContain('ATTACHED_ORDER_LEVEL_ERROR');
    expect(fake.positions()[0]!.stopLevel).toBeNull();
  });

  test('a position closed by its stop reports the stop filled; one closed otherwise is rejected', async () => {
    const stopped = await openLong();
    expect((await adapter.placeStop(stopped)).status).toBe('working');
    fake.setPrice(EPIC, 1.08, 1.0802);
    expect(await adapter.placeStop(stopped)).toMatchObject({ status: 'filled', clientOrderId: stopOrderId(stopped.positionRef) });

    fake.setPrice(EPIC, 1.1, 1.1002);
    const closed = await openLong();
    fake.closePositionExternally(closed.positionRef);
    const report = await adapter.placeStop(closed);
    expect(report.status).toBe('rejected');
    expect(report.reason).toMatch(/not open/);
  });
});

describe('IG getInstrument', () => {
  test('TRADEABLE market: tradable, minDealSize as the minimum, no size step', async () => {
    expect(await adapter.getInstrument(EPIC)).toMatchObject({ symbol: EPIC, tradable: true, marketStatus: 'TRADEABLE', minQuantity: 0.5, quantityStep: 0 });
    expect(fake.requests({ method: 'GET', path: `/markets/${EPIC}` }).map((r) => r.version)).toEqual(['3']);
  });

  test('EDITS_ONLY and CLOSED markets are not tradable; an unknown epic is not tradable either', async () => {
    fake.addMarket({ epic: EPIC, currency: 'USD', minDealSize: 0.5, status: 'EDITS_ONLY' });
    expect(await adapter.getInstrument(EPIC)).toMatchObject({ tradable: false, marketStatus: 'EDITS_ONLY' });
    fake.addMarket({ epic: EPIC, currency: 'USD', minDealSize: 0.5, status: 'CLOSED' });
    expect(await adapter.getInstrument(EPIC)).toMatchObject({ tradable: false, marketStatus: 'CLOSED' });
    expect(await adapter.getInstrument('CS.D.NOPE.CFD.IP')).toMatchObject({ tradable: false, minQuantity: 0 });
  });

  test('a 5xx is a retryable BrokerUnavailableError', async () => {
    fake.inject({ kind: '5xx', method: 'GET', path: `/markets/${EPIC}` });
    await expect(adapter.getInstrument(EPIC)).rejects.toBeInstanceOf(BrokerUnavailableError);
  });
});
