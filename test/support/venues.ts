/**
 * The three venues behind the one BrokerAdapter interface, each set up the same way for tests:
 * paper on the real MariaDB, IG and Alpaca against their local fake servers.
 */
import type { BrokerAdapter } from '../../brokers/adapter';
import { PaperBrokerAdapter } from '../../brokers/paper';
import { IgBrokerAdapter, InMemorySubmissionJournal } from '../../brokers/ig';
import { AlpacaBrokerAdapter } from '../../brokers/alpaca';
import { MarketDataStore } from '../../db/market-data-store';
import { createPool } from '../../db/pool';
import type { Frame } from '../../market/frame';
import { startFakeIgServer, type FakeIgServer } from '../fakes/ig-server';
import { startFakeAlpacaServer, type FakeAlpacaServer } from '../fakes/alpaca-server';
import { TEST_ENV } from './env';

export interface Venue {
  name: 'paper' | 'ig' | 'alpaca';
  adapter: BrokerAdapter;
  /** The instrument traded in the tests. */
  symbol: string;
  /** Makes `price` (mid) the venue's current price. */
  setPrice(price: number): Promise<void>;
  /** Adds closed frames to the venue's price history. */
  addHistory(frames: Frame[]): Promise<void>;
  /** How many open positions the venue itself holds for the account (its own ledger, not the adapter). */
  openAtVenue(account: string): Promise<number>;
  /** Order submissions that reached the venue. */
  submissions(account: string): Promise<number>;
  fakeIg?: FakeIgServer;
  fakeAlpaca?: FakeAlpacaServer;
  stop(): Promise<void>;
}

export async function paperVenue(symbol: string): Promise<Venue> {
  const pool = createPool(TEST_ENV.MYSQL_URL);
  const market = new MarketDataStore(pool);
  let t = Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000;
  const q = async (sql: string, args: unknown[]) => ((await pool.query(sql, args))[0] as any[])[0].n as number;
  return {
    name: 'paper',
    adapter: new PaperBrokerAdapter(pool, { spreadBps: 2, slippageBps: 0 }),
    symbol,
    async setPrice(price) {
      t += 60_000;
      await market.upsertCandles([{ symbol, timeframe: '1m', start: t, open: price, high: price, low: price, close: price, volume: 0 }]);
    },
    async addHistory(frames) {
      await market.upsertCandles(frames);
    },
    openAtVenue: async (account) => Number(await q(`SELECT COUNT(*) AS n FROM maopaper.positions WHERE account = ? AND status = 'open'`, [account])),
    submissions: async (account) => Number(await q(`SELECT COUNT(*) AS n FROM maopaper.orders WHERE account = ? AND client_order_id NOT LIKE '%-S'`, [account])),
    stop: () => pool.end(),
  };
}

export async function igVenue(symbol = 'CS.D.EURUSD.CFD.IP'): Promise<Venue> {
  const fake = await startFakeIgServer();
  fake.addMarket({ epic: symbol, currency: 'USD', expiry: '-', minDealSize: 1 });
  const adapter = new IgBrokerAdapter(
    {
      apiKey: fake.options.apiKey,
      identifier: fake.options.identifier,
      password: fake.options.password,
      accountId: 'ABC123',
      baseUrl: fake.url,
      httpTimeoutMs: 500,
      confirmPollIntervalMs: 10,
      confirmWindowMs: 200,
    },
    { journal: new InMemorySubmissionJournal(), now: () => fake.now() },
  );
  return {
    name: 'ig',
    adapter,
    symbol,
    fakeIg: fake,
    async setPrice(price) {
      fake.setPrice(symbol, price - 0.0001, price + 0.0001);
    },
    async addHistory(frames) {
      fake.addCandles(symbol, frames.map((f) => ({ start: f.start, timeframe: f.timeframe, open: f.open, high: f.high, low: f.low, close: f.close, volume: f.volume })));
    },
    openAtVenue: async () => fake.positions().length,
    submissions: async () => fake.orderPosts() + fake.closePosts(),
    stop: () => fake.close(),
  };
}

export async function alpacaVenue(symbol = 'AAPL'): Promise<Venue> {
  const fake = await startFakeAlpacaServer();
  const adapter = new AlpacaBrokerAdapter({
    keyId: fake.keyId,
    secretKey: fake.secretKey,
    tradingBaseUrl: fake.url,
    dataBaseUrl: fake.url,
    httpTimeoutMs: 500,
    rateLimitBackoffMs: 50,
    orderFillWaitMs: 400,
    orderPollIntervalMs: 10,
  });
  return {
    name: 'alpaca',
    adapter,
    symbol,
    fakeAlpaca: fake,
    async setPrice(price) {
      fake.setPrice(symbol, Math.round((price - 0.01) * 100) / 100, Math.round((price + 0.01) * 100) / 100);
    },
    async addHistory(frames) {
      fake.addBars(symbol, frames);
    },
    openAtVenue: async () => fake.positions().length,
    submissions: async () => fake.orders().filter((o) => o.type === 'market').length,
    stop: () => fake.close(),
  };
}
