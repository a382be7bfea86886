/**
 * The broker activities getInstrument and placeStop: thin over the adapter (here the paper venue on the real
 * MariaDB), dry-run aware, errors mapped to Temporal failures. Run in Temporal's mock activity context.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createBrokerActivities } from '../../activities/broker-activities';
import { stopOrderId, type StopReport, type StopRequest } from '../../brokers/adapter';
import { PaperBrokerAdapter } from '../../brokers/paper';
import { MarketDataStore } from '../../db/market-data-store';
import { createPool, type Pool } from '../../db/pool';
import { TEST_ENV, uniqueAccount } from '../support/env';

let pool: Pool;
let adapter: PaperBrokerAdapter;
let account: string;
let symbol: string;
const env = new MockActivityEnvironment();

beforeAll(() => {
  pool = createPool(TEST_ENV.MYSQL_URL);
  adapter = new PaperBrokerAdapter(pool, { spreadBps: 2, slippageBps: 0 });
});
afterAll(async () => pool.end());

beforeEach(async () => {
  account = uniqueAccount('bact');
  symbol = account.toUpperCase();
  const start = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
  await new MarketDataStore(pool).upsertCandles([{ symbol, timeframe: '1m', start, open: 100, high: 100, low: 100, close: 100, volume: 0 }]);
});

async function openLong(): Promise<StopRequest> {
  const ref = `${account}-000001`;
  const r = await adapter.placeOrder({ account, clientOrderId: ref, symbol, side: 'buy', quantity: 2, type: 'market', intent: 'open' });
  expect(r.status).toBe('filled');
  return { account, positionRef: ref, symbol, positionSide: 'long', quantity: 2, stopLevel: 95 };
}

const stopAtVenue = async (ref: string) => ((await pool.query('SELECT stop_level FROM maopaper.positions WHERE account = ? AND position_ref = ?', [account, ref]))[0] as any[])[0].stop_level;

test('placeStop places the stop through the adapter and returns its report', async () => {
  const acts = createBrokerActivities({ adapter, tradingEnabled: true });
  const req = await openLong();
  expect(await env.run(acts.placeStop, req)).toEqual({ clientOrderId: stopOrderId(req.positionRef), status: 'working', stopLevel: 95 });
  expect(Number(await stopAtVenue(req.positionRef))).toBe(95);
});

test('with TRADING_ENABLE=false placeStop sends nothing and answers rejected, saying why', async () => {
  const acts = createBrokerActivities({ adapter, tradingEnabled: false });
  const req = await openLong();
  const report = (await env.run(acts.placeStop, req)) as StopReport;
  expect(report).toMatchObject({ clientOrderId: stopOrderId(req.positionRef), status: 'rejected', stopLevel: 95 });
  expect(report.reason).toMatch(/^TRADING_ENABLE=false/);
  expect(await stopAtVenue(req.positionRef)).toBeNull();
});

test('a malformed stop request is a non-retryable InvalidOrderError failure naming the field', async () => {
  const acts = createBrokerActivities({ adapter, tradingEnabled: true });
  const req = await openLong();
  const err = (await env.run(acts.placeStop, { ...req, stopLevel: -1 }).then(() => null, (e: unknown) => e)) as ApplicationFailure;
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err).toMatchObject({ type: 'InvalidOrderError', nonRetryable: true });
  expect(err.message).toMatch(/stopLevel/);
});

test('getInstrument answers in dry run too (read-only): tradable with a price, CLOSED without', async () => {
  const acts = createBrokerActivities({ adapter, tradingEnabled: false });
  // The paper venue's default money facts ride along (brokers/paper/config.ts): 1 per point, one currency, no fees.
  expect(await env.run(acts.getInstrument, symbol)).toMatchObject({ symbol, tradable: true, marketStatus: 'TRADEABLE', minQuantity: 0, quantityStep: 0, pointValue: '1', conversionRate: '1' });
  expect(await env.run(acts.getInstrument, `${symbol}_NOPRICE`)).toMatchObject({ tradable: false, marketStatus: 'CLOSED' });
});
