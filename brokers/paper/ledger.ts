import type { PoolConnection } from 'mysql2/promise';
import type { Pool } from '../../db/pool';
import type { AccountSnapshot, BrokerPosition, OrderReport, OrderRequest } from '../adapter';
import { round8 } from '../../trading/trade';
import type { PaperConfig } from './config';

/** A row of `maopaper.orders` as the venue reads it back. */
export interface OrderRow {
  id: number;
  client_order_id: string;
  symbol: string;
  side: 'buy' | 'sell';
  quantity: number;
  status: 'filled' | 'rejected';
  fill_price: number;
  filled_at: number | null;
  reason: string | null;
}

/** A row of `maopaper.positions` (status and closed_by only where the query reads them). */
export interface PositionRow {
  position_ref: string;
  status?: 'open' | 'closed';
  closed_by?: string | null;
  symbol: string;
  side: 'long' | 'short';
  quantity: number;
  entry_price: number;
  stop_level: number | null;
  stop_checked_through: number;
}

/** The columns of a position that placeOrder, placeStop and triggerStops read. */
const POSITION_COLUMNS = 'position_ref, symbol, side, quantity, entry_price, stop_level, stop_checked_through';

export function toReport(r: OrderRow): OrderReport {
  return {
    clientOrderId: r.client_order_id,
    brokerOrderId: `P${r.id}`,
    status: r.status,
    symbol: r.symbol,
    side: r.side,
    quantity: Number(r.quantity),
    filledQuantity: r.status === 'filled' ? Number(r.quantity) : 0,
    fillPrice: Number(r.fill_price),
    filledAt: r.filled_at === null ? null : Number(r.filled_at),
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

/** The money terms the ledger books a close with (the paper instrument's money facts, as numbers). */
export interface PaperMoney {
  /** pointValue × conversionRate: account-currency money per unit of quantity per 1.0 of price. */
  perPoint: number;
  /** Fixed fee of one fill, account currency. */
  perOrder: number;
  /** Fee of one fill as basis points of its notional (converted to account currency). */
  rateBps: number;
}

/**
 * The paper account's book in `maopaper` (accounts, orders, positions, balance): every SQL statement of the
 * paper venue. All reads and writes of an account run inside `inAccount`, one transaction holding the account's
 * row lock, so concurrent retries serialise.
 */
export class PaperLedger {
  constructor(
    private readonly pool: Pool,
    private readonly config: Pick<PaperConfig, 'currency' | 'initialBalance'>,
    private readonly money: PaperMoney = { perPoint: 1, perOrder: 0, rateBps: 0 },
  ) {}

  /** Runs `fn` in a transaction holding the account's row lock; creates the paper account on first use. */
  async inAccount<T>(account: string, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
    const conn = await this.pool.getConnection();
    try {
      await conn.beginTransaction();
      // Takes the row's exclusive lock at once (INSERT IGNORE + SELECT FOR UPDATE would take a shared lock
      // first, and two concurrent calls would deadlock upgrading it).
      await conn.query(
        `INSERT INTO maopaper.accounts (account, currency, initial_balance, balance) VALUES (?,?,?,?)
         ON DUPLICATE KEY UPDATE account = account`,
        [account, this.config.currency, this.config.initialBalance, this.config.initialBalance],
      );
      const result = await fn(conn);
      await conn.commit();
      return result;
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    } finally {
      conn.release();
    }
  }

  async account(conn: PoolConnection, account: string): Promise<AccountSnapshot> {
    const [rows] = await conn.query('SELECT currency, balance FROM maopaper.accounts WHERE account = ?', [account]);
    const a = (rows as { currency: string; balance: string | number }[])[0]!;
    return { account, currency: a.currency, balance: Number(a.balance) };
  }

  async openPositions(conn: PoolConnection, account: string): Promise<BrokerPosition[]> {
    const [rows] = await conn.query(
      `SELECT ${POSITION_COLUMNS} FROM maopaper.positions WHERE account = ? AND status = 'open' ORDER BY position_ref`,
      [account],
    );
    return (rows as PositionRow[]).map((p) => ({
      positionRef: p.position_ref,
      brokerPositionId: `PP-${p.position_ref}`,
      symbol: p.symbol,
      side: p.side,
      quantity: Number(p.quantity),
      entryPrice: Number(p.entry_price),
      ...(p.stop_level !== null ? { stopLevel: Number(p.stop_level) } : {}),
    }));
  }

  /** The position `ref` opened, open or closed (with its status and what closed it), or null. */
  async position(conn: PoolConnection, account: string, ref: string): Promise<PositionRow | null> {
    const [rows] = await conn.query(
      `SELECT position_ref, symbol, side, quantity, stop_level, status, closed_by FROM maopaper.positions
       WHERE account = ? AND position_ref = ?`,
      [account, ref],
    );
    return (rows as PositionRow[])[0] ?? null;
  }

  async openPosition(conn: PoolConnection, account: string, ref: string): Promise<PositionRow | null> {
    const [rows] = await conn.query(
      `SELECT ${POSITION_COLUMNS} FROM maopaper.positions WHERE account = ? AND position_ref = ? AND status = 'open'`,
      [account, ref],
    );
    return (rows as PositionRow[])[0] ?? null;
  }

  /** Open positions with a protective stop: the ones triggerStops checks. */
  async stoppedPositions(conn: PoolConnection, account: string): Promise<PositionRow[]> {
    const [rows] = await conn.query(
      `SELECT ${POSITION_COLUMNS} FROM maopaper.positions WHERE account = ? AND status = 'open' AND stop_level IS NOT NULL`,
      [account],
    );
    return rows as PositionRow[];
  }

  async insertPosition(
    conn: PoolConnection,
    order: OrderRequest,
    price: number,
    candleStart: number,
  ): Promise<void> {
    await conn.query(
      `INSERT INTO maopaper.positions (account, position_ref, symbol, side, quantity, entry_price, stop_level,
         opened_candle_start, stop_checked_through)
       VALUES (?,?,?,?,?,?,?,?,?)`,
      [order.account, order.clientOrderId, order.symbol, order.side === 'buy' ? 'long' : 'short', order.quantity,
        price, order.stopLevel ?? null, candleStart, candleStart],
    );
    await this.chargeFees(conn, order.account, price, order.quantity);
  }

  async setStop(conn: PoolConnection, account: string, ref: string, stopLevel: number): Promise<void> {
    await conn.query(
      `UPDATE maopaper.positions SET stop_level = ? WHERE account = ? AND position_ref = ? AND status = 'open'`,
      [stopLevel, account, ref],
    );
  }

  async setStopCheckedThrough(conn: PoolConnection, account: string, ref: string, checked: number): Promise<void> {
    await conn.query(
      `UPDATE maopaper.positions SET stop_checked_through = ? WHERE account = ? AND position_ref = ?`,
      [checked, account, ref],
    );
  }

  async findOrder(conn: PoolConnection, account: string, clientOrderId: string): Promise<OrderRow | null> {
    const [rows] = await conn.query(
      `SELECT id, client_order_id, symbol, side, quantity, status, fill_price, filled_at, reason FROM maopaper.orders
       WHERE account = ? AND client_order_id = ?`,
      [account, clientOrderId],
    );
    return (rows as OrderRow[])[0] ?? null;
  }

  /** Books a filled market order and answers its report. */
  async insertFilled(conn: PoolConnection, order: OrderRequest, price: number, filledAt: number): Promise<OrderReport> {
    await conn.query(
      `INSERT INTO maopaper.orders (account, client_order_id, symbol, side, quantity, intent, position_ref, stop_level,
         status, fill_price, filled_at) VALUES (?,?,?,?,?,?,?,?, 'filled', ?, ?)`,
      [order.account, order.clientOrderId, order.symbol, order.side, order.quantity, order.intent,
        order.positionRef ?? null, order.stopLevel ?? null, price, filledAt],
    );
    return toReport((await this.findOrder(conn, order.account, order.clientOrderId))!);
  }

  /** Books a refused order (nothing filled) and answers its report. */
  async insertRejected(conn: PoolConnection, order: OrderRequest, reason: string): Promise<OrderReport> {
    await conn.query(
      `INSERT INTO maopaper.orders (account, client_order_id, symbol, side, quantity, intent, position_ref, stop_level,
         status, reason) VALUES (?,?,?,?,?,?,?,?, 'rejected', ?)`,
      [order.account, order.clientOrderId, order.symbol, order.side, order.quantity, order.intent,
        order.positionRef ?? null, order.stopLevel ?? null, reason],
    );
    return toReport((await this.findOrder(conn, order.account, order.clientOrderId))!);
  }

  /** Books the fill of a position's protective stop `id` (`<ref>-S`). */
  async insertStopFill(conn: PoolConnection, account: string, pos: PositionRow, id: string, price: number, filledAt: number): Promise<void> {
    await conn.query(
      `INSERT INTO maopaper.orders (account, client_order_id, symbol, side, quantity, intent, position_ref, stop_level,
         status, fill_price, filled_at, reason) VALUES (?,?,?,?,?, 'close', ?,?, 'filled', ?, ?, 'stop triggered')`,
      [account, id, pos.symbol, pos.side === 'long' ? 'sell' : 'buy', pos.quantity, pos.position_ref, pos.stop_level,
        price, filledAt],
    );
  }

  /** Closes the position at `price` (by the order `byOrder`) and books its P&L (and the fill's fees) to the balance. */
  async closePosition(conn: PoolConnection, account: string, pos: PositionRow, price: number, byOrder: string): Promise<void> {
    const dir = pos.side === 'long' ? 1 : -1;
    const points = (price - Number(pos.entry_price)) * Number(pos.quantity) * dir;
    const pnl = round8(this.money.perPoint === 1 ? points : points * this.money.perPoint);
    await conn.query(
      `UPDATE maopaper.positions SET status = 'closed', exit_price = ?, closed_by = ?, pnl = ? WHERE account = ? AND position_ref = ?`,
      [price, byOrder, pnl, account, pos.position_ref],
    );
    await conn.query('UPDATE maopaper.accounts SET balance = balance + ? WHERE account = ?', [pnl, account]);
    await this.chargeFees(conn, account, price, Number(pos.quantity));
  }

  /** The commission of one fill, taken from the balance; nothing at all when the venue charges none (the default). */
  private async chargeFees(conn: PoolConnection, account: string, price: number, quantity: number): Promise<void> {
    const { perOrder, rateBps, perPoint } = this.money;
    if (perOrder === 0 && rateBps === 0) return;
    const fee = round8(perOrder + (Math.abs(price * quantity) * perPoint * rateBps) / 10_000);
    if (fee === 0) return;
    await conn.query('UPDATE maopaper.accounts SET balance = balance - ? WHERE account = ?', [fee, account]);
  }
}
