/**
 * The paper venue's money facts (issue 11): getInstrument reports the point value, the currencies, the
 * conversion rate and the commission from PaperConfigSchema, and the ledger books P&L and fees with them.
 * With the defaults the books are what they always were: price difference × quantity, no fees.
 */
import { PaperBrokerAdapter, PaperConfigSchema } from '../../../brokers/paper';
import { MarketDataStore } from '../../../db/market-data-store';
import { createPool, type Pool } from '../../../db/pool';
import { TEST_ENV, uniqueAccount } from '../../support/env';

const T0 = Date.UTC(2024, 0, 4, 10, 0);
const MIN = 60_000;
let pool: Pool;
let market: MarketDataStore;

beforeAll(() => {
  pool = createPool(TEST_ENV.MYSQL_URL);
  market = new MarketDataStore(pool);
});
afterAll(async () => pool.end());

const price = (symbol: string, minute: number, close: number) =>
  market.upsertCandles([{ symbol, timeframe: '1m', start: T0 + minute * MIN, open: close, high: close, low: close, close, volume: 0 }]);

async function roundTrip(adapter: PaperBrokerAdapter, account: string, symbol: string, entry: number, exit: number, quantity: number) {
  await price(symbol, 0, entry);
  const ref = `${account}-000001`;
  expect(await adapter.placeOrder({ account, clientOrderId: ref, symbol, side: 'buy', quantity, type: 'market', intent: 'open' })).toMatchObject({ status: 'filled', fillPrice: entry });
  await price(symbol, 1, exit);
  expect(
    await adapter.placeOrder({ account, clientOrderId: `${account}-000002`, symbol, side: 'sell', quantity, type: 'market', intent: 'close', positionRef: ref }),
  ).toMatchObject({ status: 'filled', fillPrice: exit });
  return (await adapter.getAccount(account)).balance;
}

describe('paper money facts', () => {
  test('defaults: point value 1, one currency (the account currency), rate 1, no commission', async () => {
    const account = uniqueAccount('pmoney');
    const symbol = account.toUpperCase();
    const adapter = new PaperBrokerAdapter(pool, { spreadBps: 0, slippageBps: 0 });
    await price(symbol, 0, 100);
    expect(await adapter.getInstrument(symbol)).toEqual({
      symbol,
      tradable: true,
      marketStatus: 'TRADEABLE',
      minQuantity: 0,
      quantityStep: 0,
      pointValue: '1',
      currency: 'USD',
      accountCurrency: 'USD',
      conversionRate: '1',
      commission: { perOrder: '0', rateBps: 0 },
    });
    // The old config fields alone still parse, and give the same defaults.
    expect(PaperConfigSchema.parse({ spreadBps: 2, slippageBps: 1, initialBalance: 50_000, currency: 'EUR' })).toMatchObject({
      currency: 'EUR',
      pointValue: '1',
      conversionRate: '1',
      commission: { perOrder: '0', rateBps: 0 },
    });
    expect(await roundTrip(adapter, account, symbol, 100, 103, 2)).toBe(100_000 + 6);
  });

  test('configured: a EUR instrument worth 10 a point on a GBP account, with commission; the ledger books with them', async () => {
    const account = uniqueAccount('pmoney');
    const symbol = account.toUpperCase();
    const adapter = new PaperBrokerAdapter(pool, {
      spreadBps: 0,
      slippageBps: 0,
      currency: 'GBP',
      instrumentCurrency: 'EUR',
      pointValue: '10',
      conversionRate: '0.85',
      commission: { perOrder: '1.5', rateBps: 2 },
    });
    await price(symbol, 0, 100);
    expect(await adapter.getInstrument(symbol)).toMatchObject({
      pointValue: '10',
      currency: 'EUR',
      accountCurrency: 'GBP',
      conversionRate: '0.85',
      commission: { perOrder: '1.5', rateBps: 2 },
    });
    expect((await adapter.getAccount(account)).currency).toBe('GBP');
    // P&L: (103 - 100) × 2 × 10 EUR × 0.85 = 51 GBP. Fees per fill: 1.5 + notional × 10 × 0.85 × 2 bps.
    const fee = (p: number) => 1.5 + (p * 2 * 10 * 0.85 * 2) / 10_000;
    const balance = await roundTrip(adapter, account, symbol, 100, 103, 2);
    expect(balance).toBeCloseTo(100_000 + 51 - fee(100) - fee(103), 6);
  });

  test('a config with a bad money fact is refused at construction', () => {
    expect(() => new PaperBrokerAdapter(pool, { pointValue: '-1' })).toThrow(/pointValue/);
    expect(() => new PaperBrokerAdapter(pool, { conversionRate: 'abc' })).toThrow(/conversionRate/);
  });
});
