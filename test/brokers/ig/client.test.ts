import {
  BrokerAuthError,
  BrokerUnavailableError,
  InvalidOrderError,
  RateLimitedError,
} from '../../../brokers/errors';
import { IgBrokerAdapter, IgHttpClient, InMemorySubmissionJournal, parseIgConfig, type IgConfigInput, type IgLogger } from '../../../brokers/ig';
import { startFakeIgServer, type FakeIgServer } from '../../fakes/ig-server';

const EPIC = 'CS.D.GBPUSD.CFD.IP';
const ACCOUNT = 'igclient';

let fake: FakeIgServer;

function configFor(f: FakeIgServer, over: Partial<IgConfigInput> = {}): IgConfigInput {
  return {
    apiKey: f.options.apiKey,
    identifier: f.options.identifier,
    password: f.options.password,
    accountId: 'ABC123',
    baseUrl: f.url,
    httpTimeoutMs: 300,
    confirmPollIntervalMs: 10,
    confirmWindowMs: 100,
    rateLimitBackoffMs: 7_000,
    ...over,
  };
}

/** A logger that keeps every line, to prove no secret is ever logged. */
function captureLogger() {
  const lines: string[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push(`${level} ${msg} ${JSON.stringify(obj)}`);
  const logger: IgLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

beforeEach(async () => {
  fake = await startFakeIgServer({
    password: 'S3cret-pass!',
    apiKey: 'KEY-0123456789',
    accounts: [
      { accountId: 'PREF01', currency: 'GBP', balance: 500, preferred: true },
      { accountId: 'ABC123', currency: 'USD', balance: 12_345.5 },
    ],
  });
  fake.setPrice(EPIC, 1.25, 1.2502);
});

afterEach(async () => {
  await fake.close();
});

const adapterWith = (over: Partial<IgConfigInput> = {}, logger?: IgLogger) =>
  new IgBrokerAdapter(configFor(fake, over), { journal: new InMemorySubmissionJournal(), now: () => fake.now(), ...(logger ? { logger } : {}) });

describe('IG session', () => {
  test('v2 login: CST + X-SECURITY-TOKEN, switched to the configured account (PUT /session)', async () => {
    const adapter = adapterWith();
    await expect(adapter.getAccount(ACCOUNT)).resolves.toEqual({ account: ACCOUNT, currency: 'USD', balance: 12_345.5 });
    const positionsOfAbc = fake.openPositionExternally({ epic: EPIC, direction: 'BUY', size: 1, accountId: 'ABC123', dealReference: 'ext-abc' });
    fake.openPositionExternally({ epic: EPIC, direction: 'BUY', size: 1, accountId: 'PREF01', dealReference: 'ext-pref' });
    // Only the configured account's positions: the security token was switched to ABC123.
    await expect(adapter.getPositions(ACCOUNT)).resolves.toEqual([
      expect.objectContaining({ positionRef: 'ext-abc', brokerPositionId: positionsOfAbc.dealId }),
    ]);
    expect(fake.requests({ method: 'POST', path: '/session' }).map((r) => r.version)).toEqual(['2']);
    expect(fake.requests({ method: 'PUT', path: '/session' }).map((r) => r.version)).toEqual(['1']);
    expect(fake.logins()).toBe(1);
    await adapter.close();
  });

  test('v3 login: OAuth bearer token + IG-ACCOUNT-ID, refreshed with POST /session/refresh-token before it expires', async () => {
    const adapter = adapterWith({ useOAuth: true });
    await adapter.getAccount(ACCOUNT);
    expect(fake.requests({ method: 'POST', path: '/session' }).map((r) => r.version)).toEqual(['3']);
    fake.advanceTime(58_000); // IG's access token lives 60 s; the client refreshes 5 s ahead
    await adapter.getPositions(ACCOUNT);
    expect(fake.requests({ method: 'POST', path: '/session/refresh-token' }).map((r) => r.version)).toEqual(['1']);
    expect(adapter.client.stats).toEqual({ logins: 1, refreshes: 1 });
    expect(fake.logins()).toBe(1);
    // Past the refresh token's life too: a new login, not an error.
    fake.advanceTime(11 * 60_000);
    await adapter.getPositions(ACCOUNT);
    expect(fake.logins()).toBe(2);
    await adapter.close();
  });

  test.each([
    ['v2', false, 'error.security.client-token-invalid'],
    ['v3', true, 'error.security.oauth-token-invalid'],
  ])('%s: an expired token (401) means a new session and the call retried once, transparently', async (_v, useOAuth, code) => {
    const adapter = adapterWith({ useOAuth });
    await adapter.getPositions(ACCOUNT);
    fake.inject({ method: 'GET', path: '/positions', kind: 'expired-token' });
    await expect(adapter.getPositions(ACCOUNT)).resolves.toEqual([]);
    const answers = fake.requests({ method: 'GET', path: '/positions' }).map((r) => `${r.status}${r.errorCode ? ` ${r.errorCode}` : ''}`);
    expect(answers).toEqual(['200', `401 ${code}`, '200']);
    expect(fake.pendingFaults()).toEqual([]);
    // v2 logs in again; v3 first tries its refresh token.
    if (useOAuth) expect(adapter.client.stats).toEqual({ logins: 1, refreshes: 1 });
    else expect(adapter.client.stats).toEqual({ logins: 2, refreshes: 0 });
    await adapter.close();
  });

  test('an IG session timeout (every token invalid) is a new login, not a failure', async () => {
    const adapter = adapterWith();
    await adapter.getPositions(ACCOUNT);
    fake.expireSessions();
    await expect(adapter.getAccount(ACCOUNT)).resolves.toMatchObject({ balance: 12_345.5 });
    expect(fake.logins()).toBe(2);
    await adapter.close();
  });

  test('concurrent calls on an expired session share one login', async () => {
    const adapter = adapterWith();
    await adapter.getPositions(ACCOUNT);
    fake.expireSessions();
    await Promise.all([adapter.getPositions(ACCOUNT), adapter.getAccount(ACCOUNT), adapter.getPositions(ACCOUNT)]);
    expect(fake.logins()).toBe(2);
    await adapter.close();
  });
});

describe('IG error mapping', () => {
  test('wrong password: BrokerAuthError naming IG code, never the password', async () => {
    const { logger, lines } = captureLogger();
    const adapter = adapterWith({ password: 'wrong-Passw0rd' }, logger);
    const err = await adapter.getAccount(ACCOUNT).catch((e) => e);
    expect(err).toBeInstanceOf(BrokerAuthError);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('error.security.invalid-details');
    expect(err.message).not.toContain('wrong-Passw0rd');
    expect(lines.join('\n')).not.toContain('wrong-Passw0rd');
  });

  test('wrong API key: BrokerAuthError', async () => {
    const adapter = adapterWith({ apiKey: 'not-the-key' });
    await expect(adapter.getPositions(ACCOUNT)).rejects.toThrow(BrokerAuthError);
    await expect(adapter.getPositions(ACCOUNT)).rejects.toThrow(/error\.security\.api-key-invalid/);
  });

  test('rate limits (403 exceeded-*-allowance): RateLimitedError with retryAfterMs', async () => {
    const adapter = adapterWith();
    for (const code of [
      'error.public-api.exceeded-account-allowance',
      'error.public-api.exceeded-api-key-allowance',
      'error.public-api.exceeded-account-trading-allowance',
    ]) {
      fake.inject({ method: 'GET', path: '/positions', kind: 'rate-limit', errorCode: code });
      const err = await adapter.getPositions(ACCOUNT).catch((e) => e);
      expect(err).toBeInstanceOf(RateLimitedError);
      expect(err).toMatchObject({ retryable: true, retryAfterMs: 7_000 });
      expect(err.message).toContain(code);
    }
  });

  test.each([500, 503])('%d: BrokerUnavailableError (retryable)', async (status) => {
    const adapter = adapterWith();
    fake.inject({ method: 'GET', path: '/accounts', kind: '5xx', status });
    const err = await adapter.getAccount(ACCOUNT).catch((e) => e);
    expect(err).toBeInstanceOf(BrokerUnavailableError);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(String(status));
  });

  test('timeout and dropped connection: BrokerUnavailableError', async () => {
    const adapter = adapterWith();
    fake.inject({ method: 'GET', path: '/accounts', kind: 'timeout', holdMs: 2_000 });
    await expect(adapter.getAccount(ACCOUNT)).rejects.toThrow(/did not answer GET \/accounts within 300 ms/);
    fake.inject({ method: 'GET', path: '/accounts', kind: 'drop-after-accept' });
    const err = await adapter.getAccount(ACCOUNT).catch((e) => e);
    expect(err).toBeInstanceOf(BrokerUnavailableError);
    expect(err.message).toMatch(/unreachable on GET \/accounts/);
  });

  test('IG unreachable (nothing listening): BrokerUnavailableError', async () => {
    const url = fake.url;
    await fake.close();
    const adapter = new IgBrokerAdapter(configFor(fake, { baseUrl: url }), { journal: new InMemorySubmissionJournal() });
    await expect(adapter.getPositions(ACCOUNT)).rejects.toThrow(BrokerUnavailableError);
    fake = await startFakeIgServer(); // afterEach closes something
  });

  test('4xx validation: InvalidOrderError; the fake insists on each endpoint Version', async () => {
    const client = new IgHttpClient(parseIgConfig(configFor(fake)), { now: () => fake.now() });
    await expect(client.request({ method: 'GET', path: '/positions', version: 1 })).rejects.toThrow(InvalidOrderError);
    await expect(client.request({ method: 'GET', path: '/positions', version: 1 })).rejects.toThrow(/version-not-supported/);
    await expect(client.request({ method: 'POST', path: '/positions/otc', version: 2, body: { epic: EPIC } })).rejects.toThrow(
      /validation\.null-not-allowed\.request\.currencyCode/,
    );
  });

  test('every endpoint is called with its documented Version', async () => {
    const adapter = adapterWith();
    const account = 'vers';
    fake.addCandles(EPIC, [{ start: 0, timeframe: '1m', open: 1, high: 1, low: 1, close: 1 }]);
    const open = await adapter.placeOrder({ account, clientOrderId: 'vers-000001', symbol: EPIC, side: 'buy', quantity: 1, type: 'market', intent: 'open' });
    await adapter.placeOrder({ account, clientOrderId: 'vers-000002', symbol: EPIC, side: 'sell', quantity: 1, type: 'market', intent: 'close', positionRef: open.clientOrderId });
    await adapter.getAccount(account);
    await adapter.getCandles({ symbol: EPIC, timeframe: '1m', fromStart: 0, toStart: 60_000 });
    await adapter.getLatestPrice(EPIC);
    const versions = new Map<string, Set<string | undefined>>();
    for (const r of fake.requests()) {
      const k = `${r.method}${r.override ? `(${r.override})` : ''} ${r.path.replace(/^\/(confirms|markets|prices)\/.*/, '/$1/{x}')}`;
      versions.set(k, (versions.get(k) ?? new Set()).add(r.version));
    }
    expect(Object.fromEntries([...versions].map(([k, v]) => [k, [...v]]))).toEqual({
      'POST /session': ['2'],
      'PUT /session': ['1'],
      'GET /confirms/{x}': ['1'],
      'GET /positions': ['2'],
      'GET /history/activity': ['3'],
      'GET /markets/{x}': ['3'],
      'POST /positions/otc': ['2'],
      'POST(DELETE) /positions/otc': ['1'],
      'GET /accounts': ['1'],
      'GET /prices/{x}': ['3'],
    });
    // Nothing was refused, bar the look-ups of a reference before it was sent (404 error.confirms.deal-not-found).
    const refused = fake.requests().filter((r) => r.status === undefined || r.status >= 400);
    expect(refused.map((r) => `${r.status} ${r.path}`)).toEqual(['404 /confirms/vers-000001']);
  });
});
