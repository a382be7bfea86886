import { AccountStore, type SessionOutcome } from '../../db/account-store';
import { migrateSchema } from '../../db/migrate';
import { accountSchema, createPool, type Pool } from '../../db/pool';
import type { OrderRecord } from '../../trading/order';
import type { Position } from '../../trading/position';
import { closeTrade } from '../../trading/trade';
import { TEST_ENV, uniqueAccount } from '../support/env';

const T0 = Date.UTC(2024, 0, 2, 10, 0);
const MIN = 60_000;
const TABLES: Record<string, string> = {
  orders: 'client_order_id',
  fills: 'client_order_id',
  positions: 'position_ref',
  trades: 'position_ref',
  system_states: 'system_id',
  equity: 'ts',
};

let pool: Pool;
let store: AccountStore;
const created: string[] = [];

beforeAll(() => {
  pool = createPool(TEST_ENV.MYSQL_URL);
  store = new AccountStore(pool);
});

afterAll(async () => {
  for (const schema of created) await pool.query(`DROP DATABASE IF EXISTS \`${schema}\``);
  await pool?.end();
});

/** A migrated `mt_<account>` of its own, and a symbol of its own. */
async function freshAccount(prefix: string) {
  const account = uniqueAccount(prefix);
  created.push(accountSchema(account));
  await migrateSchema(TEST_ENV.MYSQL_URL, 'account', account);
  return { account, symbol: account.toUpperCase() };
}

/** Every row of every table of the account, every column included. */
async function dump(account: string) {
  const db = accountSchema(account);
  const out: Record<string, unknown[]> = {};
  for (const [table, key] of Object.entries(TABLES)) {
    const [rows] = await pool.query(`SELECT * FROM \`${db}\`.\`${table}\` ORDER BY \`${key}\``);
    out[table] = rows as unknown[];
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function order(account: string, symbol: string, seq: number | null, over: Partial<OrderRecord> = {}): OrderRecord {
  return {
    clientOrderId: seq === null ? `${account}-000001-S` : `${account}-${String(seq).padStart(6, '0')}`,
    seq,
    systemId: 'ma',
    symbol,
    side: 'buy',
    quantity: 2,
    intent: 'open',
    status: 'filled',
    brokerOrderId: `P${seq ?? 0}`,
    fillPrice: 100.02,
    filledAt: T0 + MIN,
    frameStart: T0,
    ...over,
  };
}

function position(account: string, symbol: string, seq: number, over: Partial<Position> = {}): Position {
  return {
    positionRef: `${account}-${String(seq).padStart(6, '0')}`,
    systemId: 'ma',
    symbol,
    side: 'long',
    quantity: 2,
    entryPrice: 100.02,
    stop: 98,
    openedAt: T0,
    ...over,
  };
}

/** One step that opened a position, closed another one by its stop, and snapshotted state and equity. */
function richOutcome(account: string, symbol: string): SessionOutcome {
  const p1 = position(account, symbol, 1);
  const p2 = position(account, symbol, 2, { systemId: 'mb', side: 'short', quantity: 1.5, entryPrice: 99.98, stop: 103 });
  const trade = closeTrade(p1, { clientOrderId: `${p1.positionRef}-S`, price: 97.9902, at: T0 + 2 * MIN, reason: 'stop' });
  return {
    orders: [
      order(account, symbol, 1, { stopLevel: 98 }),
      order(account, symbol, 2, { systemId: 'mb', side: 'sell', quantity: 1.5, fillPrice: 99.98, stopLevel: 103 }),
      order(account, symbol, null, { side: 'sell', intent: 'close', positionRef: p1.positionRef, fillPrice: 97.9902, filledAt: T0 + 2 * MIN, reason: 'stop triggered' }),
    ],
    fills: [
      { clientOrderId: `${account}-000001`, symbol, side: 'buy', quantity: 2, price: 100.02, filledAt: T0 + MIN },
      { clientOrderId: `${account}-000002`, symbol, side: 'sell', quantity: 1.5, price: 99.98, filledAt: T0 + MIN },
      { clientOrderId: `${account}-000001-S`, symbol, side: 'sell', quantity: 2, price: 97.9902, filledAt: T0 + 2 * MIN },
    ],
    openedPositions: [p1, p2],
    trades: [trade],
    systemStates: [
      { systemId: 'ma', systemName: 'ma-crossover', params: { fastPeriod: 5, slowPeriod: 20 }, state: { closes: [1.1, 1.2], relation: 'above' }, frameStart: T0 },
      { systemId: 'mb', systemName: 'ma-crossover', params: { fastPeriod: 3 }, state: { closes: [] }, frameStart: null },
    ],
    equity: { ts: T0 + 2 * MIN, balance: 99_995.9404, realisedPnl: -4.0596, unrealisedPnl: 0.015, equity: 99_995.9554 },
  };
}

describe('AccountStore.recordOutcome', () => {
  it('run twice with the same input leaves identical rows in every table (invariant 7)', async () => {
    const { account, symbol } = await freshAccount('ast');
    const outcome = richOutcome(account, symbol);
    await store.recordOutcome(account, outcome);
    const first = await dump(account);
    await sleep(20); // a rewrite would move updated_at
    await store.recordOutcome(account, outcome);
    expect(await dump(account)).toEqual(first);

    expect(first.orders).toHaveLength(3);
    expect(first.fills).toHaveLength(3);
    expect(first.trades).toHaveLength(1);
    expect(first.system_states).toHaveLength(2);
    expect(first.equity).toEqual([{ ts: T0 + 2 * MIN, balance: 99_995.9404, realised_pnl: -4.0596, unrealised_pnl: 0.015, equity: 99_995.9554 }]);
    expect(first.positions).toEqual([
      expect.objectContaining({ position_ref: `${account}-000001`, status: 'closed', exit_price: 97.9902, closed_at: T0 + 2 * MIN, stop_level: 98 }),
      expect.objectContaining({ position_ref: `${account}-000002`, status: 'open', side: 'short', quantity: 1.5, stop_level: 103 }),
    ]);
    expect(first.trades[0]).toMatchObject({ pnl: -4.0596, exit_client_order_id: `${account}-000001-S`, exit_reason: 'stop' });
    const states = first.system_states as any[];
    const ma = states.find((s) => s.system_id === 'ma');
    expect(typeof ma.state === 'string' ? JSON.parse(ma.state) : ma.state).toEqual({ closes: [1.1, 1.2], relation: 'above' });
  });

  it('concurrent duplicate runs (a zombie attempt and its retry) leave the same rows as one run', async () => {
    const { account, symbol } = await freshAccount('asz');
    const other = await freshAccount('asz');
    await store.recordOutcome(other.account, richOutcome(other.account, symbol));
    const once = await dump(other.account);
    await Promise.all(Array.from({ length: 4 }, () => store.recordOutcome(account, richOutcome(account, symbol))));
    const strip = (d: Record<string, unknown[]>, acc: string) =>
      JSON.parse(JSON.stringify(d, (k, v) => (k === 'created_at' || k === 'updated_at' ? undefined : v)).split(acc).join('ACC'));
    expect(strip(await dump(account), account)).toEqual(strip(once, other.account));
  });

  it('an empty outcome writes nothing', async () => {
    const { account } = await freshAccount('ase');
    await store.recordOutcome(account, { orders: [], fills: [], openedPositions: [], trades: [], systemStates: [] });
    for (const rows of Object.values(await dump(account))) expect(rows).toEqual([]);
  });

  it('a trade closes its position row, and an older outcome retried afterwards does not reopen it', async () => {
    const { account, symbol } = await freshAccount('astr');
    const p = position(account, symbol, 1);
    const opened: SessionOutcome = { orders: [order(account, symbol, 1)], fills: [], openedPositions: [p], trades: [], systemStates: [] };
    await store.recordOutcome(account, opened);
    const trade = closeTrade(p, { clientOrderId: `${account}-000002`, price: 103.5, at: T0 + 5 * MIN, reason: 'signal' });
    const closed: SessionOutcome = {
      orders: [order(account, symbol, 2, { side: 'sell', intent: 'close', positionRef: p.positionRef, fillPrice: 103.5 })],
      fills: [],
      openedPositions: [],
      trades: [trade],
      systemStates: [],
    };
    await store.recordOutcome(account, closed);

    const [rows] = await pool.query(`SELECT * FROM \`${accountSchema(account)}\`.positions`);
    expect(rows).toEqual([
      expect.objectContaining({
        position_ref: p.positionRef,
        status: 'closed',
        closed_at: T0 + 5 * MIN,
        exit_price: 103.5,
        entry_price: 100.02,
        quantity: 2,
        opened_at: T0,
        stop_level: 98,
      }),
    ]);
    expect((await dump(account)).trades).toEqual([expect.objectContaining({ position_ref: p.positionRef, pnl: 6.96, exit_reason: 'signal' })]);

    const before = await dump(account);
    await store.recordOutcome(account, opened); // a retried older outcome
    expect(await dump(account)).toEqual(before);
    await expect(store.checkpoint(account)).resolves.toMatchObject({ maxOrderSeq: 2, openPositions: 0 });
  });

  it('a trade whose opening was never recorded still leaves a closed position row', async () => {
    const { account, symbol } = await freshAccount('astc');
    const p = position(account, symbol, 4, { side: 'short', entryPrice: 50, quantity: 3 });
    await store.recordOutcome(account, {
      orders: [],
      fills: [],
      openedPositions: [],
      trades: [closeTrade(p, { clientOrderId: `${account}-000005`, price: 52, at: T0 + MIN, reason: 'manual' })],
      systemStates: [],
    });
    const { positions, trades } = await dump(account);
    expect(positions).toEqual([expect.objectContaining({ position_ref: p.positionRef, status: 'closed', side: 'short', exit_price: 52 })]);
    expect(trades).toEqual([expect.objectContaining({ pnl: -6 })]);
  });

  it('is one transaction: a step that fails part-way writes nothing', async () => {
    const { account, symbol } = await freshAccount('astx');
    const good = order(account, symbol, 1);
    const bad = { ...order(account, symbol, 2), side: 'hold' } as unknown as OrderRecord; // not in ENUM('buy','sell')
    await expect(
      store.recordOutcome(account, { orders: [good, bad], fills: [], openedPositions: [position(account, symbol, 1)], trades: [], systemStates: [] }),
    ).rejects.toThrow();
    for (const rows of Object.values(await dump(account))) expect(rows).toEqual([]);
  });
});

describe('AccountStore.upsertOrder', () => {
  it('pending then filled updates the one row in place', async () => {
    const { account, symbol } = await freshAccount('asu');
    const pending = order(account, symbol, 1, { status: 'pending', brokerOrderId: undefined, fillPrice: undefined, filledAt: undefined, stopLevel: 98 });
    await store.upsertOrder(account, pending);
    const [[p]] = (await pool.query(`SELECT * FROM \`${accountSchema(account)}\`.orders`)) as any;
    expect(p).toMatchObject({
      client_order_id: `${account}-000001`,
      seq: 1,
      system_id: 'ma',
      symbol,
      side: 'buy',
      quantity: 2,
      intent: 'open',
      position_ref: null,
      stop_level: 98,
      status: 'pending',
      broker_order_id: null,
      fill_price: null,
      filled_at: null,
      reason: null,
      frame_start: T0,
    });

    await sleep(20);
    await store.upsertOrder(account, { ...pending, status: 'filled', brokerOrderId: 'P77', fillPrice: 100.02, filledAt: T0 + MIN });
    const [rows] = (await pool.query(`SELECT * FROM \`${accountSchema(account)}\`.orders`)) as any;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toEqual({
      ...p,
      status: 'filled',
      broker_order_id: 'P77',
      fill_price: 100.02,
      filled_at: T0 + MIN,
      updated_at: expect.any(Date),
    });
    expect(rows[0].created_at).toEqual(p.created_at);
    expect(rows[0].updated_at.getTime()).toBeGreaterThan(p.updated_at.getTime());
  });

  it('a rejection keeps its reason, truncated to the column', async () => {
    const { account, symbol } = await freshAccount('asr');
    await store.upsertOrder(account, order(account, symbol, 1, { status: 'rejected', fillPrice: 0, filledAt: null, reason: 'x'.repeat(400) }));
    const [[row]] = (await pool.query(`SELECT status, reason FROM \`${accountSchema(account)}\`.orders`)) as any;
    expect(row).toEqual({ status: 'rejected', reason: 'x'.repeat(255) });
  });
});

describe('AccountStore.checkpoint', () => {
  it('is zero for a fresh account', async () => {
    const { account } = await freshAccount('asc');
    await expect(store.checkpoint(account)).resolves.toMatchObject({ maxOrderSeq: 0, openPositions: 0 });
  });

  it('returns the highest order sequence (ignoring broker-generated orders) and the open positions count', async () => {
    const { account, symbol } = await freshAccount('asc');
    await store.recordOutcome(account, richOutcome(account, symbol));
    await expect(store.checkpoint(account)).resolves.toMatchObject({ maxOrderSeq: 2, openPositions: 1 });

    await store.upsertOrder(account, order(account, symbol, 9, { status: 'pending' }));
    await store.upsertOrder(account, order(account, symbol, 5));
    await store.recordOutcome(account, {
      orders: [],
      fills: [],
      openedPositions: [position(account, symbol, 5), position(account, symbol, 9)],
      trades: [],
      systemStates: [],
    });
    const cp = await store.checkpoint(account);
    expect(cp).toMatchObject({ maxOrderSeq: 9, openPositions: 3 });
    // The positions themselves, as a fresh session adopts them (numbers, stop and opening time kept).
    expect(cp.positions).toHaveLength(3);
    expect(cp.positions).toContainEqual(position(account, symbol, 5));
  });

  it('refuses an invalid account id, naming it', async () => {
    await expect(store.checkpoint('Bad-Id')).rejects.toThrow('account id "Bad-Id" is not a valid account id');
  });
});

describe('order lifecycle rows (issue 11)', () => {
  test('order events are written once per transition, and a partial close keeps the rest of the position open', async () => {
    const { account, symbol } = await freshAccount('life');
    const db = accountSchema(account);
    const pos: Position = { positionRef: `${account}-000001`, systemId: 'ma', symbol, side: 'long', quantity: 10, entryPrice: 100, openedAt: T0 };
    const events = [
      { clientOrderId: `${account}-000002`, at: T0 + MIN, from: 'submitted' as const, to: 'accepted' as const, filledQuantity: 0, fillPrice: 0 },
      { clientOrderId: `${account}-000002`, at: T0 + 2 * MIN, from: 'accepted' as const, to: 'cancelled' as const, filledQuantity: 4, fillPrice: 102, reason: 'rest cancelled' },
    ];
    const partial = { ...closeTrade({ ...pos, quantity: 4 }, { clientOrderId: `${account}-000002`, price: 102, at: T0 + 2 * MIN, reason: 'signal' }), partial: true as const };
    const out: SessionOutcome = { orders: [], fills: [], openedPositions: [pos], trades: [], systemStates: [] };
    await store.recordOutcome(account, out);
    const step: SessionOutcome = { orders: [], fills: [], openedPositions: [{ ...pos, quantity: 6 }], trades: [partial], systemStates: [], orderEvents: events };
    await store.recordOutcome(account, step);
    await store.recordOutcome(account, step); // a retried activity writes the same rows
    const [ev] = await pool.query(`SELECT from_state, to_state, filled_quantity FROM \`${db}\`.order_events ORDER BY at`);
    expect(ev).toEqual([
      { from_state: 'submitted', to_state: 'accepted', filled_quantity: 0 },
      { from_state: 'accepted', to_state: 'cancelled', filled_quantity: 4 },
    ]);
    const [rows] = await pool.query(`SELECT status, quantity FROM \`${db}\`.positions`);
    expect(rows).toEqual([{ status: 'open', quantity: 6 }]);
    const [trades] = await pool.query(`SELECT quantity, pnl FROM \`${db}\`.trades`);
    expect(trades).toEqual([{ quantity: 4, pnl: 8 }]);
  });
});
