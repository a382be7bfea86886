/**
 * The paper venue against the real MariaDB: its price feed is `maodata.candles`, its ledger `maopaper`.
 * Every test trades its own account and its own symbol (the account id upper-cased).
 */
import { stopOrderId, type OrderReport, type OrderRequest } from '../../../brokers/adapter';
import { InvalidOrderError } from '../../../brokers/errors';
import { PaperBrokerAdapter } from '../../../brokers/paper';
import { MarketDataStore } from '../../../db/market-data-store';
import { createPool, type Pool } from '../../../db/pool';
import type { Frame } from '../../../market/frame';
import { round8 } from '../../../trading/trade';
import { TEST_ENV, uniqueAccount } from '../../support/env';

const CFG = { spreadBps: 2, slippageBps: 1, initialBalance: 100_000 };
const T0 = Date.UTC(2024, 0, 2, 10, 0);
const MIN = 60_000;
const end = (minute: number) => T0 + (minute + 1) * MIN;

let pool: Pool;
let adapter: PaperBrokerAdapter;
let market: MarketDataStore;

beforeAll(() => {
  pool = createPool(TEST_ENV.MYSQL_URL);
  adapter = new PaperBrokerAdapter(pool, CFG);
  market = new MarketDataStore(pool);
});

afterAll(async () => {
  await pool?.end();
});

function fresh(prefix: string) {
  const account = uniqueAccount(prefix);
  return { account, symbol: account.toUpperCase() };
}

/** Stores a closed 1m frame `minute` minutes after T0. */
async function candle(symbol: string, minute: number, p: { o: number; h: number; l: number; c: number }): Promise<Frame> {
  const f: Frame = { symbol, timeframe: '1m', start: T0 + minute * MIN, open: p.o, high: p.h, low: p.l, close: p.c, volume: 0 };
  await market.upsertCandles([f]);
  return f;
}
/** A quiet frame closing at `c`. */
const flat = (symbol: string, minute: number, c: number) => candle(symbol, minute, { o: c, h: c + 0.3, l: c - 0.3, c });

function openOrder(account: string, symbol: string, clientOrderId: string, side: 'buy' | 'sell', quantity: number, stopLevel?: number): OrderRequest {
  return { account, clientOrderId, symbol, side, quantity, type: 'market', intent: 'open', ...(stopLevel !== undefined ? { stopLevel } : {}) };
}
function closeOrder(account: string, symbol: string, clientOrderId: string, positionRef: string, side: 'buy' | 'sell', quantity: number): OrderRequest {
  return { account, clientOrderId, symbol, side, quantity, type: 'market', intent: 'close', positionRef };
}

async function ledger(account: string, clientOrderId?: string) {
  const [rows] = await pool.query(
    `SELECT client_order_id, side, intent, status, fill_price, filled_at, reason FROM maopaper.orders
     WHERE account = ? ${clientOrderId ? 'AND client_order_id = ?' : ''} ORDER BY id`,
    clientOrderId ? [account, clientOrderId] : [account],
  );
  return rows as any[];
}

async function stopCheckedThrough(account: string, positionRef: string): Promise<number> {
  const [rows] = await pool.query('SELECT stop_checked_through AS s FROM maopaper.positions WHERE account = ? AND position_ref = ?', [
    account,
    positionRef,
  ]);
  return Number((rows as any[])[0].s);
}

const balance = async (account: string) => (await adapter.getAccount(account)).balance;

describe('PaperBrokerAdapter: market orders', () => {
  it('a new account starts with the configured balance and currency', async () => {
    const { account } = fresh('pnew');
    await expect(adapter.getAccount(account)).resolves.toEqual({ account, currency: 'USD', balance: 100_000 });
    await expect(adapter.getPositions(account)).resolves.toEqual([]);
    await expect(adapter.getOrder(account, `${account}-000001`)).resolves.toBeNull();
    expect(adapter.capabilities).toEqual({ supportsStopOrders: true, supportsClientOrderId: true });
  });

  it('a market buy fills at the latest close plus half spread and slippage, at the end of that candle', async () => {
    const { account, symbol } = fresh('pbuy');
    await flat(symbol, 0, 99);
    await flat(symbol, 1, 100);
    const id = `${account}-000001`;

    const report = await adapter.placeOrder(openOrder(account, symbol, id, 'buy', 2));

    expect(report).toEqual({
      clientOrderId: id,
      brokerOrderId: expect.stringMatching(/^P\d+$/),
      status: 'filled',
      symbol,
      side: 'buy',
      quantity: 2,
      filledQuantity: 2,
      fillPrice: 100.02, // 100 × (1 + (2/2 + 1) bp)
      filledAt: end(1),
    });
    await expect(adapter.getOrder(account, id)).resolves.toEqual(report);
    await expect(adapter.getPositions(account)).resolves.toEqual([
      { positionRef: id, brokerPositionId: `PP-${id}`, symbol, side: 'long', quantity: 2, entryPrice: 100.02 },
    ]);
    // Opening moves no cash: P&L is booked on close.
    expect(await balance(account)).toBe(100_000);
  });

  it('a market sell fills below the close and opens a short carrying its stop', async () => {
    const { account, symbol } = fresh('psell');
    await flat(symbol, 0, 100);
    const id = `${account}-000001`;
    const report = await adapter.placeOrder(openOrder(account, symbol, id, 'sell', 1.5, 103));
    expect(report).toMatchObject({ status: 'filled', side: 'sell', fillPrice: 99.98, filledQuantity: 1.5, filledAt: end(0) });
    await expect(adapter.getPositions(account)).resolves.toEqual([
      { positionRef: id, brokerPositionId: `PP-${id}`, symbol, side: 'short', quantity: 1.5, entryPrice: 99.98, stopLevel: 103 },
    ]);
  });
});

describe('PaperBrokerAdapter: idempotency by clientOrderId (invariant 1)', () => {
  it('placing the same order twice returns the first result and writes one ledger row, even after the price moved', async () => {
    const { account, symbol } = fresh('pidem');
    await flat(symbol, 0, 100);
    const order = openOrder(account, symbol, `${account}-000001`, 'buy', 1, 95);
    const first = await adapter.placeOrder(order);
    await flat(symbol, 1, 120); // a retry after the market moved must not re-fill at the new price
    const second = await adapter.placeOrder(order);

    expect(second).toEqual(first);
    expect(second.fillPrice).toBe(100.02);
    expect(await ledger(account)).toHaveLength(1);
    expect(await adapter.getPositions(account)).toHaveLength(1);
  });

  /**
   * Places `order` 5 times at once: the calls serialise on the account row lock, so all succeed, and
   * invariant 1 holds: one ledger row, and every call reports the same order.
   */
  async function placeConcurrently(order: OrderRequest) {
    const settled = await Promise.allSettled(Array.from({ length: 5 }, () => adapter.placeOrder(order)));
    const reports = settled.filter((s): s is PromiseFulfilledResult<OrderReport> => s.status === 'fulfilled').map((s) => s.value);
    const errors = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason);
    expect(errors).toEqual([]);
    expect(reports).toHaveLength(5);
    for (const r of reports) expect(r).toEqual(reports[0]);
    expect(await ledger(order.account, order.clientOrderId)).toHaveLength(1);
    // A retry after the storm returns the very same order.
    await expect(adapter.placeOrder(order)).resolves.toEqual(reports[0]);
    return reports[0];
  }

  it('5 concurrent placements of one order on a new account yield one ledger row and identical reports', async () => {
    const { account, symbol } = fresh('pconc');
    await flat(symbol, 0, 100);
    const report = await placeConcurrently(openOrder(account, symbol, `${account}-000001`, 'buy', 1));
    expect(report).toMatchObject({ status: 'filled', fillPrice: 100.02 });
    expect(await adapter.getPositions(account)).toHaveLength(1);
  });

  it('5 concurrent placements of one order on an existing account yield one ledger row and identical reports', async () => {
    const { account, symbol } = fresh('pconw');
    await flat(symbol, 0, 100);
    await adapter.getAccount(account); // the venue already knows the account
    const report = await placeConcurrently(openOrder(account, symbol, `${account}-000001`, 'sell', 3));
    expect(report).toMatchObject({ status: 'filled', fillPrice: 99.98 });
    expect(await adapter.getPositions(account)).toHaveLength(1);
  });

  it('concurrent calls on one account all succeed (they serialise on the account row lock)', async () => {
    for (let round = 0; round < 3; round++) {
      const { account, symbol } = fresh('pdead');
      await flat(symbol, 0, 100);
      const order = openOrder(account, symbol, `${account}-000001`, 'buy', 1);
      const reports = await Promise.all([
        ...Array.from({ length: 5 }, () => adapter.placeOrder(order)),
        adapter.getPositions(account),
        adapter.getAccount(account),
      ]);
      expect(reports).toHaveLength(7);
    }
  });
});

describe('PaperBrokerAdapter: closing', () => {
  it('a close order closes a long and books its P&L into the balance, once even when retried', async () => {
    const { account, symbol } = fresh('pclose');
    await flat(symbol, 0, 100);
    const ref = `${account}-000001`;
    await adapter.placeOrder(openOrder(account, symbol, ref, 'buy', 2));
    await flat(symbol, 1, 110);
    const close = closeOrder(account, symbol, `${account}-000002`, ref, 'sell', 2);

    const report = await adapter.placeOrder(close);
    expect(report).toMatchObject({ status: 'filled', side: 'sell', quantity: 2, fillPrice: 109.978, filledAt: end(1) });
    await expect(adapter.getPositions(account)).resolves.toEqual([]);
    const expected = round8(100_000 + (109.978 - 100.02) * 2);
    expect(expected).toBe(100_019.916);
    expect(await balance(account)).toBe(expected);

    await expect(adapter.placeOrder(close)).resolves.toEqual(report);
    expect(await balance(account)).toBe(expected);
    expect((await ledger(account)).map((o) => [o.intent, o.status])).toEqual([
      ['open', 'filled'],
      ['close', 'filled'],
    ]);
  });

  it('a close order closes a short with the sign of P&L reversed', async () => {
    const { account, symbol } = fresh('pcls');
    await flat(symbol, 0, 100);
    const ref = `${account}-000001`;
    await adapter.placeOrder(openOrder(account, symbol, ref, 'sell', 1));
    await flat(symbol, 1, 90);
    const report = await adapter.placeOrder(closeOrder(account, symbol, `${account}-000002`, ref, 'buy', 1));
    expect(report).toMatchObject({ status: 'filled', fillPrice: 90.018 });
    expect(await balance(account)).toBe(round8(100_000 + (99.98 - 90.018)));
  });

  it('a close of a position that is not open is rejected with a reason, and a retry returns the same rejection', async () => {
    const { account, symbol } = fresh('pcnone');
    await flat(symbol, 0, 100);
    const close = closeOrder(account, symbol, `${account}-000001`, `${account}-000000`, 'sell', 1);

    const report = await adapter.placeOrder(close);
    expect(report).toEqual({
      clientOrderId: close.clientOrderId,
      brokerOrderId: expect.stringMatching(/^P\d+$/),
      status: 'rejected',
      symbol,
      side: 'sell',
      quantity: 1,
      filledQuantity: 0,
      fillPrice: 0,
      filledAt: null,
      reason: `position ${account}-000000 is not open`,
    });
    await expect(adapter.placeOrder(close)).resolves.toEqual(report);
    await expect(adapter.getOrder(account, close.clientOrderId)).resolves.toEqual(report);
    expect(await ledger(account)).toHaveLength(1);
    expect(await balance(account)).toBe(100_000);
  });

  it('a second close of an already closed position is rejected and books nothing', async () => {
    const { account, symbol } = fresh('pctwice');
    await flat(symbol, 0, 100);
    const ref = `${account}-000001`;
    await adapter.placeOrder(openOrder(account, symbol, ref, 'buy', 1));
    await adapter.placeOrder(closeOrder(account, symbol, `${account}-000002`, ref, 'sell', 1));
    const after = await balance(account);
    const again = await adapter.placeOrder(closeOrder(account, symbol, `${account}-000003`, ref, 'sell', 1));
    expect(again).toMatchObject({ status: 'rejected', reason: `position ${ref} is not open` });
    expect(await balance(account)).toBe(after);
    expect(after).toBe(round8(100_000 + 99.98 - 100.02));
  });

  it('a close on the wrong side or with the wrong quantity is rejected and leaves the position open', async () => {
    const { account, symbol } = fresh('pcwrong');
    await flat(symbol, 0, 100);
    const ref = `${account}-000001`;
    await adapter.placeOrder(openOrder(account, symbol, ref, 'buy', 2));
    const wrongSide = await adapter.placeOrder(closeOrder(account, symbol, `${account}-000002`, ref, 'buy', 2));
    const wrongQty = await adapter.placeOrder(closeOrder(account, symbol, `${account}-000003`, ref, 'sell', 1));
    expect(wrongSide).toMatchObject({ status: 'rejected', reason: `close of ${ref} must be sell 2` });
    expect(wrongQty).toMatchObject({ status: 'rejected', reason: `close of ${ref} must be sell 2` });
    expect(await adapter.getPositions(account)).toHaveLength(1);
    expect(await balance(account)).toBe(100_000);
  });
});

describe('PaperBrokerAdapter: quantities', () => {
  it('keeps quantities to 8 decimals: the report carries the stored quantity, and a close with it fills', async () => {
    const { account, symbol } = fresh('pqty');
    await flat(symbol, 0, 100);
    const ref = `${account}-000001`;
    const open = await adapter.placeOrder(openOrder(account, symbol, ref, 'buy', 1 / 3));
    expect(open).toMatchObject({ status: 'filled', quantity: 0.33333333, filledQuantity: 0.33333333 });
    const close = await adapter.placeOrder(closeOrder(account, symbol, `${account}-000002`, ref, 'sell', open.filledQuantity));
    expect(close).toMatchObject({ status: 'filled', quantity: 0.33333333 });
    expect(await balance(account)).toBe(round8(100_000 + (99.98 - 100.02) * 0.33333333));
  });
});

describe('PaperBrokerAdapter: rejections and invalid requests', () => {
  it('an open with the stop on the wrong side of the fill price is rejected and opens nothing', async () => {
    const { account, symbol } = fresh('pstopw');
    await flat(symbol, 0, 100);
    const buyAbove = await adapter.placeOrder(openOrder(account, symbol, `${account}-000001`, 'buy', 1, 100.5));
    const buyAtFill = await adapter.placeOrder(openOrder(account, symbol, `${account}-000002`, 'buy', 1, 100.02));
    const sellBelow = await adapter.placeOrder(openOrder(account, symbol, `${account}-000003`, 'sell', 1, 99));
    expect(buyAbove).toMatchObject({ status: 'rejected', filledQuantity: 0, reason: 'stop 100.5 is on the wrong side of the fill price 100.02' });
    expect(buyAtFill).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/wrong side/) });
    expect(sellBelow).toMatchObject({ status: 'rejected', reason: 'stop 99 is on the wrong side of the fill price 99.98' });
    await expect(adapter.getPositions(account)).resolves.toEqual([]);
    await expect(adapter.placeOrder(openOrder(account, symbol, `${account}-000001`, 'buy', 1, 100.5))).resolves.toEqual(buyAbove);
  });

  it('an order on a symbol without any price is rejected, and stays rejected when a price arrives later', async () => {
    const { account, symbol } = fresh('pnopx');
    const order = openOrder(account, symbol, `${account}-000001`, 'buy', 1);
    const report = await adapter.placeOrder(order);
    expect(report).toMatchObject({ status: 'rejected', fillPrice: 0, filledAt: null, reason: `no price for ${symbol}` });
    await flat(symbol, 0, 100);
    await expect(adapter.placeOrder(order)).resolves.toEqual(report);
    await expect(adapter.getPositions(account)).resolves.toEqual([]);
  });

  it.each([
    ['a negative quantity', { quantity: -1 }, 'quantity'],
    ['a zero quantity', { quantity: 0 }, 'quantity'],
    ['an unknown side', { side: 'hold' }, 'side'],
    ['an empty clientOrderId', { clientOrderId: '' }, 'clientOrderId'],
    ['a non-market type', { type: 'limit' }, 'type'],
    ['an unknown field', { limitPrice: 1 }, 'limitPrice'],
    ['a close without positionRef', { intent: 'close' }, 'positionRef'],
  ])('%s throws an InvalidOrderError naming the field, and writes nothing', async (_label, patch, field) => {
    const { account, symbol } = fresh('pinv');
    await flat(symbol, 0, 100);
    const order = { ...openOrder(account, symbol, `${account}-000001`, 'buy', 1), ...patch } as OrderRequest;
    const err = await adapter.placeOrder(order).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOrderError);
    expect((err as InvalidOrderError).message).toContain(field);
    expect((err as InvalidOrderError).broker).toBe('paper');
    expect((err as InvalidOrderError).retryable).toBe(false);
    expect(await ledger(account)).toEqual([]);
  });
});

describe('PaperBrokerAdapter: protective stops', () => {
  /** Opens `quantity` at the close of the entry frame (minute 0) with a stop; returns the position ref. */
  async function openWithStop(account: string, symbol: string, side: 'buy' | 'sell', stop: number, entry = { o: 100, h: 100.3, l: 99.7, c: 100 }) {
    await candle(symbol, 0, entry);
    const ref = `${account}-000001`;
    const r = await adapter.placeOrder(openOrder(account, symbol, ref, side, 1, stop));
    expect(r.status).toBe('filled');
    return ref;
  }

  it('a long stop reached by a later low fills at the stop less slippage, closes the position and books the loss', async () => {
    const { account, symbol } = fresh('pslong');
    const ref = await openWithStop(account, symbol, 'buy', 98);
    await candle(symbol, 1, { o: 99.5, h: 100, l: 97.5, c: 98.2 }); // reaches 98
    await candle(symbol, 2, { o: 98, h: 98.5, l: 96, c: 96.5 }); // lower still: must not be used

    const stop = await adapter.getOrder(account, stopOrderId(ref));
    expect(stop).toEqual({
      clientOrderId: `${ref}-S`,
      brokerOrderId: expect.stringMatching(/^P\d+$/),
      status: 'filled',
      symbol,
      side: 'sell',
      quantity: 1,
      filledQuantity: 1,
      fillPrice: 97.9902, // min(98, 99.5) × (1 - 1 bp)
      filledAt: end(1),
      reason: 'stop triggered',
    });
    await expect(adapter.getPositions(account)).resolves.toEqual([]);
    const expected = round8(100_000 + (97.9902 - 100.02));
    expect(await balance(account)).toBe(expected);
    // Asking again changes nothing: the stop filled once.
    await expect(adapter.getOrder(account, stopOrderId(ref))).resolves.toEqual(stop);
    expect(await balance(account)).toBe(expected);
    expect(await ledger(account, stopOrderId(ref))).toHaveLength(1);
    // The session's own exit, arriving after the stop, is rejected.
    const late = await adapter.placeOrder(closeOrder(account, symbol, `${account}-000002`, ref, 'sell', 1));
    expect(late).toMatchObject({ status: 'rejected', reason: `position ${ref} is not open` });
    expect(await balance(account)).toBe(expected);
  });

  it('a long stop gapped through fills at the open of the gap-down frame', async () => {
    const { account, symbol } = fresh('psgap');
    const ref = await openWithStop(account, symbol, 'buy', 98);
    await candle(symbol, 1, { o: 97, h: 97.5, l: 96.5, c: 97.2 });
    const positions = await adapter.getPositions(account);
    expect(positions).toEqual([]);
    await expect(adapter.getOrder(account, stopOrderId(ref))).resolves.toMatchObject({ status: 'filled', fillPrice: 96.9903, filledAt: end(1) });
    expect(await balance(account)).toBe(round8(100_000 + (96.9903 - 100.02)));
  });

  it("a short's stop triggers on the high and fills at the stop plus slippage", async () => {
    const { account, symbol } = fresh('psshort');
    const ref = await openWithStop(account, symbol, 'sell', 102);
    await candle(symbol, 1, { o: 100, h: 101.9, l: 99.5, c: 100.5 }); // not reached
    await candle(symbol, 2, { o: 100.5, h: 102.5, l: 100, c: 101 }); // reached

    await expect(adapter.getOrder(account, stopOrderId(ref))).resolves.toMatchObject({
      status: 'filled',
      side: 'buy',
      fillPrice: 102.0102,
      filledAt: end(2),
    });
    await expect(adapter.getPositions(account)).resolves.toEqual([]);
    expect(await balance(account)).toBe(round8(100_000 - (102.0102 - 99.98)));
  });

  it('a short stop gapped through fills at the open', async () => {
    const { account, symbol } = fresh('psgapup');
    const ref = await openWithStop(account, symbol, 'sell', 102);
    await candle(symbol, 1, { o: 104, h: 105, l: 103.5, c: 104.5 });
    expect(await balance(account)).toBe(round8(100_000 - (104.0104 - 99.98)));
    await expect(adapter.getOrder(account, stopOrderId(ref))).resolves.toMatchObject({ fillPrice: 104.0104 });
  });

  it('the entry frame itself never triggers the stop (the fill was at its close)', async () => {
    const { account, symbol } = fresh('psentry');
    // The entry frame's low went below the stop before the close the order filled at.
    const ref = await openWithStop(account, symbol, 'buy', 98, { o: 99, h: 100.5, l: 97, c: 100 });
    await expect(adapter.getPositions(account)).resolves.toEqual([expect.objectContaining({ positionRef: ref, stopLevel: 98 })]);
    await expect(adapter.getOrder(account, stopOrderId(ref))).resolves.toBeNull();
  });

  it('a stop not reached stays open across several calls, and each frame is checked once', async () => {
    const { account, symbol } = fresh('psonce');
    const ref = await openWithStop(account, symbol, 'buy', 98);
    const f1 = await candle(symbol, 1, { o: 100, h: 100.2, l: 98.5, c: 99 });
    for (let i = 0; i < 3; i++) {
      await expect(adapter.getPositions(account)).resolves.toEqual([expect.objectContaining({ positionRef: ref, stopLevel: 98 })]);
      await expect(adapter.getOrder(account, stopOrderId(ref))).resolves.toBeNull();
      expect(await balance(account)).toBe(100_000);
    }
    expect(await stopCheckedThrough(account, ref)).toBe(f1.start);

    const f2 = await candle(symbol, 2, { o: 99, h: 99.5, l: 98.01, c: 99.2 });
    await expect(adapter.getPositions(account)).resolves.toHaveLength(1);
    expect(await stopCheckedThrough(account, ref)).toBe(f2.start);

    // A frame already checked is not checked again, even if its stored values change afterwards.
    await candle(symbol, 1, { o: 100, h: 100.2, l: 97, c: 99 });
    await expect(adapter.getPositions(account)).resolves.toHaveLength(1);
    await expect(adapter.getOrder(account, stopOrderId(ref))).resolves.toBeNull();

    // The next frame that reaches the stop fills it.
    await candle(symbol, 3, { o: 98.6, h: 98.8, l: 97.9, c: 98 });
    await expect(adapter.getPositions(account)).resolves.toEqual([]);
    await expect(adapter.getOrder(account, stopOrderId(ref))).resolves.toMatchObject({ fillPrice: 97.9902, filledAt: end(3) });
  });

  it('a placeOrder call also triggers due stops first', async () => {
    const { account, symbol } = fresh('psplace');
    const ref = await openWithStop(account, symbol, 'buy', 98);
    await candle(symbol, 1, { o: 99, h: 99, l: 97, c: 97.5 });
    const other = await adapter.placeOrder(openOrder(account, symbol, `${account}-000002`, 'sell', 1));
    expect(other).toMatchObject({ status: 'filled', fillPrice: round8(97.5 * 0.9998) });
    expect((await ledger(account)).map((o) => o.client_order_id)).toEqual([ref, stopOrderId(ref), `${account}-000002`]);
  });

  it('a stored candle that fails validation does not block the account', async () => {
    const { account, symbol } = fresh('psbad');
    await openWithStop(account, symbol, 'buy', 98);
    await pool.query(
      'INSERT INTO maodata.candles (symbol, timeframe, start, open, high, low, close, volume) VALUES (?,?,?,?,?,?,?,0)',
      [symbol, '1m', T0 + MIN, 100, 99, 101, 100], // high < low
    );
    try {
      await expect(adapter.getAccount(account)).resolves.toMatchObject({ balance: 100_000 });
      await expect(adapter.getPositions(account)).resolves.toHaveLength(1);
    } finally {
      await pool.query('DELETE FROM maodata.candles WHERE symbol = ? AND start = ?', [symbol, T0 + MIN]);
    }
  });
});
