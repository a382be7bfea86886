/**
 * Paper venue placeStop and getInstrument against the real MariaDB: the stop is `stop_level` on the open
 * position row, set under the account lock; instruments come from `maopaper.instruments`.
 */
import { stopOrderId, type StopRequest } from '../../../brokers/adapter';
import { PaperBrokerAdapter } from '../../../brokers/paper';
import { MarketDataStore } from '../../../db/market-data-store';
import { createPool, type Pool } from '../../../db/pool';
import { TEST_ENV, uniqueAccount } from '../../support/env';

const T0 = Date.UTC(2024, 0, 3, 10, 0);
const MIN = 60_000;
let pool: Pool;
let adapter: PaperBrokerAdapter;
let market: MarketDataStore;
let account: string;
let symbol: string;

beforeAll(() => {
  pool = createPool(TEST_ENV.MYSQL_URL);
  adapter = new PaperBrokerAdapter(pool, { spreadBps: 2, slippageBps: 0 });
  market = new MarketDataStore(pool);
});
afterAll(async () => pool.end());
beforeEach(() => {
  account = uniqueAccount('pstop');
  symbol = account.toUpperCase();
});

const frame = (minute: number, low: number, close: number) =>
  market.upsertCandles([{ symbol, timeframe: '1m', start: T0 + minute * MIN, open: close, high: Math.max(close, low) + 0.2, low, close, volume: 0 }]);

async function openAt(side: 'buy' | 'sell', ref = `${account}-000001`): Promise<StopRequest> {
  const r = await adapter.placeOrder({ account, clientOrderId: ref, symbol, side, quantity: 3, type: 'market', intent: 'open' });
  expect(r.status).toBe('filled');
  return { account, positionRef: ref, symbol, positionSide: side === 'buy' ? 'long' : 'short', quantity: 3, stopLevel: side === 'buy' ? 95 : 105 };
}

const row = async (ref: string) =>
  ((await pool.query('SELECT stop_level, stop_checked_through, opened_candle_start, status, closed_by FROM maopaper.positions WHERE account = ? AND position_ref = ?', [account, ref]))[0] as any[])[0];

describe('paper placeStop', () => {
  test('sets stop_level on the open position and leaves stop_checked_through at the entry frame', async () => {
    await frame(0, 99.8, 100);
    const req = await openAt('buy');
    expect(await adapter.placeStop(req)).toEqual({ clientOrderId: stopOrderId(req.positionRef), status: 'working', stopLevel: 95 });
    const r = await row(req.positionRef);
    expect(Number(r.stop_level)).toBe(95);
    expect(Number(r.stop_checked_through)).toBe(Number(r.opened_candle_start));
  });

  test('a frame after the entry frame that reaches the stop fills it at its level; a quiet one does not', async () => {
    await frame(0, 99.8, 100);
    const req = await openAt('buy');
    await adapter.placeStop(req);
    await frame(1, 96, 97);
    expect(await adapter.getPositions(account)).toHaveLength(1);
    await frame(2, 94, 96); // opens above the stop, trades through it: fills at the level
    expect(await adapter.getPositions(account)).toEqual([]);
    expect(await adapter.getOrder(account, stopOrderId(req.positionRef))).toMatchObject({ status: 'filled', side: 'sell', fillPrice: 95 });
    expect(await adapter.placeStop(req)).toMatchObject({ status: 'filled', stopLevel: 95 });
  });

  test('a different stop already on the position is kept and reported with its level', async () => {
    await frame(0, 99.8, 100);
    const req = await openAt('sell');
    await adapter.placeStop(req);
    const other = await adapter.placeStop({ ...req, stopLevel: 110 });
    expect(other).toMatchObject({ status: 'working', stopLevel: 105 });
    expect(other.reason).toMatch(/already working/);
    expect(Number((await row(req.positionRef)).stop_level)).toBe(105);
  });

  test('concurrent placements of one stop serialise on the account lock: one level, both working', async () => {
    await frame(0, 99.8, 100);
    const req = await openAt('buy');
    const [a, b] = await Promise.all([adapter.placeStop(req), adapter.placeStop(req)]);
    expect([a.status, b.status]).toEqual(['working', 'working']);
    expect(Number((await row(req.positionRef)).stop_level)).toBe(95);
  });

  test('refuses a stop for the wrong side or symbol of the position, and for a position closed by a close order', async () => {
    await frame(0, 99.8, 100);
    const req = await openAt('buy');
    expect((await adapter.placeStop({ ...req, positionSide: 'short', stopLevel: 105 })).status).toBe('rejected');
    await adapter.placeOrder({ account, clientOrderId: `${account}-000002`, symbol, side: 'sell', quantity: 3, type: 'market', intent: 'close', positionRef: req.positionRef });
    const report = await adapter.placeStop(req);
    expect(report.status).toBe('rejected');
    expect(report.reason).toContain(`closed by ${account}-000002`);
  });

  test('an entry that still carries stopLevel (replayed histories) opens with its stop, as before', async () => {
    await frame(0, 99.8, 100);
    const ref = `${account}-000009`;
    await adapter.placeOrder({ account, clientOrderId: ref, symbol, side: 'buy', quantity: 3, type: 'market', intent: 'open', stopLevel: 96 });
    expect((await adapter.getPositions(account))[0]).toMatchObject({ positionRef: ref, stopLevel: 96 });
    expect(await adapter.placeStop({ account, positionRef: ref, symbol, positionSide: 'long', quantity: 3, stopLevel: 96 })).toMatchObject({ status: 'working' });
  });
});

describe('paper getInstrument', () => {
  test('a row in maopaper.instruments gives the minimum, the step, tradable and the status', async () => {
    await frame(0, 99.8, 100);
    await pool.query('INSERT INTO maopaper.instruments (symbol, min_quantity, quantity_step, tradable, market_status) VALUES (?, 10, 5, 1, ?)', [symbol, 'TRADEABLE']);
    expect(await adapter.getInstrument(symbol)).toEqual({ symbol, tradable: true, marketStatus: 'TRADEABLE', minQuantity: 10, quantityStep: 5, pointValue: '1', currency: 'USD', accountCurrency: 'USD', conversionRate: '1', commission: { perOrder: '0', rateBps: 0 } });
    await pool.query("UPDATE maopaper.instruments SET tradable = 0, market_status = 'SUSPENDED' WHERE symbol = ?", [symbol]);
    expect(await adapter.getInstrument(symbol)).toMatchObject({ tradable: false, marketStatus: 'SUSPENDED' });
  });

  test('no row: tradable, no minimum, no step; no price: CLOSED', async () => {
    expect(await adapter.getInstrument(symbol)).toEqual({ symbol, tradable: false, marketStatus: 'CLOSED', minQuantity: 0, quantityStep: 0, pointValue: '1', currency: 'USD', accountCurrency: 'USD', conversionRate: '1', commission: { perOrder: '0', rateBps: 0 } });
    await frame(0, 99.8, 100);
    expect(await adapter.getInstrument(symbol)).toEqual({ symbol, tradable: true, marketStatus: 'TRADEABLE', minQuantity: 0, quantityStep: 0, pointValue: '1', currency: 'USD', accountCurrency: 'USD', conversionRate: '1', commission: { perOrder: '0', rateBps: 0 } });
  });
});
