import { IgConfigError, igConfigFromEnv, InMemorySubmissionJournal, MysqlSubmissionJournal, type SubmissionJournal } from '../../../brokers/ig';
import { createPool, type Pool } from '../../../db/pool';
import { TEST_ENV, uniqueAccount } from '../../support/env';

const GOOD_ENV = {
  IG_API_KEY: 'k3y-SECRET-value',
  IG_IDENTIFIER: 'trader1',
  IG_PASSWORD: 'pa55-SECRET-word',
  IG_ACCOUNT_ID: 'ABC123',
  IG_BASE_URL: 'https://demo-api.ig.com/gateway/deal/',
};

describe('igConfigFromEnv', () => {
  test('reads the IG_* variables, with defaults in the units of their names', () => {
    const c = igConfigFromEnv({ ...GOOD_ENV, IG_USE_OAUTH: 'true', IG_HTTP_TIMEOUT_MS: '2500' });
    expect(c).toMatchObject({
      apiKey: 'k3y-SECRET-value',
      identifier: 'trader1',
      accountId: 'ABC123',
      baseUrl: 'https://demo-api.ig.com/gateway/deal',
      useOAuth: true,
      httpTimeoutMs: 2500,
      confirmPollIntervalMs: 500,
      confirmWindowMs: 10_000,
      rateLimitBackoffMs: 60_000,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  test('names every missing or bad variable at once and never shows a secret', () => {
    let err: unknown;
    try {
      igConfigFromEnv({ IG_PASSWORD: ' ', IG_API_KEY: 'k3y-SECRET-value', IG_ACCOUNT_ID: 'bad id!', IG_BASE_URL: 'not a url', IG_HTTP_TIMEOUT_MS: '-5', IG_USE_OAUTH: 'maybe' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IgConfigError);
    const e = err as IgConfigError;
    expect(e.issues.map((i) => i.variable).sort()).toEqual(
      ['IG_ACCOUNT_ID', 'IG_BASE_URL', 'IG_HTTP_TIMEOUT_MS', 'IG_IDENTIFIER', 'IG_PASSWORD', 'IG_USE_OAUTH'].sort(),
    );
    expect(e.message).toContain('IG_PASSWORD: is required');
    expect(e.message).toContain('"maybe"');
    expect(e.message).not.toContain('k3y-SECRET-value');
    expect(e.retryable).toBe(false);
  });

  test('a present but invalid secret is named without its value', () => {
    expect(() => igConfigFromEnv({ ...GOOD_ENV, IG_BASE_URL: 'ftp://demo-api.ig.com' })).toThrow(/IG_BASE_URL: must be an https URL/);
    expect(() => igConfigFromEnv({ ...GOOD_ENV, IG_BASE_URL: 'http://demo-api.ig.com/gateway/deal' })).toThrow(/IG_BASE_URL: must be an https URL/);
    expect(igConfigFromEnv({ ...GOOD_ENV, IG_BASE_URL: 'http://127.0.0.1:8123' }).baseUrl).toBe('http://127.0.0.1:8123');
    const msg = (() => {
      try {
        igConfigFromEnv({ ...GOOD_ENV, IG_IDENTIFIER: '' });
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(msg).toContain('IG_IDENTIFIER: is required');
    expect(msg).not.toContain('pa55-SECRET-word');
  });
});

/** The journal contract, for the in-memory and the MySQL implementation alike. */
function journalContract(name: string, make: () => SubmissionJournal) {
  describe(`${name} submission journal`, () => {
    const key = () => ({ broker: 'ig', account: uniqueAccount('jr'), clientOrderId: `c-${Math.random().toString(36).slice(2, 10)}` });

    test('claim is atomic: only the first claim of a key wins', async () => {
      const j = make();
      const k = key();
      await expect(j.find(k)).resolves.toBeNull();
      const results = await Promise.all([j.claim(k, 1000), j.claim(k, 1001), j.claim(k, 1002)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const rec = await j.find(k);
      expect(rec).toMatchObject({ ...k, brokerRef: null, brokerDealId: null, targetDealId: null });
      expect([1000, 1001, 1002]).toContain(rec!.postedAtMs);
    });

    test('reclaim only re-arms the record it was given; release only forgets it', async () => {
      const j = make();
      const k = key();
      await j.claim(k, 1000, 'DEAL1');
      await j.annotate(k, { brokerRef: 'IGREF1', brokerDealId: 'D9' });
      await expect(j.find(k)).resolves.toMatchObject({ postedAtMs: 1000, brokerRef: 'IGREF1', brokerDealId: 'D9', targetDealId: 'DEAL1' });
      await expect(j.reclaim(k, 999, 2000, 'DEAL1')).resolves.toBe(false);
      await expect(j.reclaim(k, 1000, 2000, 'DEAL1')).resolves.toBe(true);
      await expect(j.reclaim(k, 1000, 3000, 'DEAL1')).resolves.toBe(false);
      await expect(j.find(k)).resolves.toMatchObject({ postedAtMs: 2000, brokerRef: null, brokerDealId: null, targetDealId: 'DEAL1' });
      await j.release(k, 1000);
      await expect(j.find(k)).resolves.not.toBeNull();
      await j.release(k, 2000);
      await expect(j.find(k)).resolves.toBeNull();
      await expect(j.claim(k, 4000)).resolves.toBe(true);
    });
  });
}

journalContract('in-memory', () => new InMemorySubmissionJournal());

let pool: Pool;
beforeAll(() => {
  pool = createPool(TEST_ENV.MYSQL_URL, { connectionLimit: 4 });
});
afterAll(async () => {
  await pool.end();
});
journalContract('MySQL', () => new MysqlSubmissionJournal(pool));

test('MySQL journal keeps epoch-ms beyond 2^31 exactly', async () => {
  const j = new MysqlSubmissionJournal(pool);
  const k = { broker: 'ig', account: uniqueAccount('jr'), clientOrderId: 'big-ts' };
  await j.claim(k, 1_795_642_080_123);
  await expect(j.find(k)).resolves.toMatchObject({ postedAtMs: 1_795_642_080_123 });
});
