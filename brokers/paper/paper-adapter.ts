import type { PoolConnection } from 'mysql2/promise';
import type { Pool } from '../../db/pool';
import { MarketDataStore } from '../../db/market-data-store';
import {
  OrderRequestSchema,
  parseStopRequest,
  stopOnWrongSide,
  stopOrderId,
  stopReport,
  type Instrument,
  type StopReport,
  type StopRequest,
  type AccountSnapshot,
  type BrokerAdapter,
  type BrokerPosition,
  type CandleRequest,
  type OrderReport,
  type Quote,
  type OrderRequest,
} from '../adapter';
import { InvalidOrderError } from '../errors';
import { PaperConfigSchema, type PaperConfig } from './config';
import { marketFillPrice, stopFillPrice } from './fill-model';
import { paperInstrument } from './instruments';
import { round8 } from '../../trading/trade';
import { timeframeMs } from '../../market/timeframe';
import type { Frame } from '../../market/frame';

const BROKER = 'paper';

interface OrderRow {
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

interface PositionRow {
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

function toReport(r: OrderRow): OrderReport {
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

/**
 * A simulated venue with its own persistent ledger (`maopaper`). Its price feed is `maodata.candles`:
 * a market order fills at the latest frame's close (the next price the venue sees after the decision),
 * adjusted by spread and slippage; protective stops trigger on later frames. Every operation on an
 * account runs in one transaction holding the account row lock, so concurrent retries serialise and
 * `placeOrder` is idempotent by clientOrderId.
 */
export class PaperBrokerAdapter implements BrokerAdapter {
  readonly name = BROKER;
  readonly capabilities = { supportsStopOrders: true, supportsClientOrderId: true };
  private readonly config: PaperConfig;
  private readonly market: MarketDataStore;

  constructor(
    private readonly pool: Pool,
    config: Partial<PaperConfig> = {},
  ) {
    this.config = Object.freeze(PaperConfigSchema.parse(config));
    this.market = new MarketDataStore(pool);
  }

  async getAccount(account: string): Promise<AccountSnapshot> {
    return this.inAccount(account, async (conn) => {
      await this.triggerStops(conn, account);
      const [rows] = await conn.query('SELECT currency, balance FROM maopaper.accounts WHERE account = ?', [account]);
      const a = (rows as any[])[0];
      return { account, currency: a.currency, balance: Number(a.balance) };
    });
  }

  async getPositions(account: string): Promise<BrokerPosition[]> {
    return this.inAccount(account, async (conn) => {
      await this.triggerStops(conn, account);
      const [rows] = await conn.query(
        `SELECT position_ref, symbol, side, quantity, entry_price, stop_level, stop_checked_through
         FROM maopaper.positions WHERE account = ? AND status = 'open' ORDER BY position_ref`,
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
    });
  }

  async getOrder(account: string, clientOrderId: string): Promise<OrderReport | null> {
    return this.inAccount(account, async (conn) => {
      await this.triggerStops(conn, account);
      const row = await this.findOrder(conn, account, clientOrderId);
      return row ? toReport(row) : null;
    });
  }

  async getCandles(request: CandleRequest): Promise<Frame[]> {
    // The venue's feed is maodata; only frames already closed at the latest quote are returned.
    const { frames } = await this.market.loadCandles(request);
    return frames;
  }

  async getLatestPrice(symbol: string): Promise<Quote> {
    const quote = await this.quote(symbol);
    if (!quote) throw new InvalidOrderError(`no price for ${symbol}`, BROKER);
    return quote;
  }

  async getInstrument(symbol: string): Promise<Instrument> {
    return paperInstrument(this.pool, symbol, (await this.market.latestCandle(symbol)) !== null);
  }

  /**
   * Sets `stop_level` on the open position under the account lock. Idempotent: the same level again is
   * `working`; a different stop already there is kept and reported (`working`, its level, a reason).
   * `stop_checked_through` is left as it is, so frames after the entry frame are checked, as for a stop
   * sent with the entry.
   */
  async placeStop(input: StopRequest): Promise<StopReport> {
    const req = parseStopRequest(input, BROKER);
    return this.inAccount(req.account, async (conn) => {
      await this.triggerStops(conn, req.account);
      const [rows] = await conn.query(
        `SELECT position_ref, symbol, side, quantity, stop_level, status, closed_by FROM maopaper.positions
         WHERE account = ? AND position_ref = ?`,
        [req.account, req.positionRef],
      );
      const pos = (rows as PositionRow[])[0];
      const stopId = stopOrderId(req.positionRef);
      if (!pos) return stopReport(req, 'rejected', `position ${req.positionRef} is not open`);
      if (pos.status === 'closed') {
        if (pos.closed_by === stopId) return { ...stopReport(req, 'filled'), stopLevel: Number(pos.stop_level) };
        return stopReport(req, 'rejected', `position ${req.positionRef} was closed by ${pos.closed_by} before its stop was placed`);
      }
      if (pos.symbol !== req.symbol || pos.side !== req.positionSide) {
        return stopReport(req, 'rejected', `position ${req.positionRef} is ${pos.side} ${pos.symbol}, not ${req.positionSide} ${req.symbol}`);
      }
      if (pos.stop_level !== null) {
        const level = Number(pos.stop_level);
        if (sameLevel(level, req.stopLevel)) return stopReport(req, 'working');
        return { ...stopReport(req, 'working', `a stop at ${level} was already working; kept it`), stopLevel: level };
      }
      const quote = await this.quote(req.symbol);
      if (!quote) return stopReport(req, 'rejected', `no price for ${req.symbol}`);
      if (stopOnWrongSide(req.positionSide, req.stopLevel, quote)) {
        const price = req.positionSide === 'long' ? `bid ${quote.bid}` : `ask ${quote.ask}`;
        return stopReport(req, 'rejected', `stop ${req.stopLevel} is on the wrong side of the ${price} for a ${req.positionSide} position`);
      }
      await conn.query(
        `UPDATE maopaper.positions SET stop_level = ? WHERE account = ? AND position_ref = ? AND status = 'open'`,
        [req.stopLevel, req.account, req.positionRef],
      );
      return stopReport(req, 'working');
    });
  }

  /** The venue's quote: the latest frame's close ± half the spread, timed at the frame's end. */
  private async quote(symbol: string): Promise<Quote | null> {
    const candle = await this.market.latestCandle(symbol);
    if (!candle) return null;
    const half = this.config.spreadBps / 2 / 10_000;
    return {
      symbol,
      bid: round8(candle.close * (1 - half)),
      ask: round8(candle.close * (1 + half)),
      time: candle.start + timeframeMs(candle.timeframe),
    };
  }

  async placeOrder(input: OrderRequest): Promise<OrderReport> {
    const parsed = OrderRequestSchema.safeParse(input);
    if (!parsed.success) {
      throw new InvalidOrderError(
        `invalid order: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        BROKER,
      );
    }
    const order = parsed.data;
    return this.inAccount(order.account, async (conn) => {
      await this.triggerStops(conn, order.account);
      // Invariant 1: the ledger is looked up first; a retried or replayed order returns what exists.
      const existing = await this.findOrder(conn, order.account, order.clientOrderId);
      if (existing) return toReport(existing);

      const quote = await this.market.latestCandle(order.symbol);
      if (!quote) return this.reject(conn, order, `no price for ${order.symbol}`);
      const quoteTime = quote.start + timeframeMs(quote.timeframe);
      const price = marketFillPrice(quote.close, order.side, this.config);

      if (order.intent === 'open') {
        if (order.stopLevel !== undefined) {
          const badStop = order.side === 'buy' ? order.stopLevel >= price : order.stopLevel <= price;
          if (badStop) return this.reject(conn, order, `stop ${order.stopLevel} is on the wrong side of the fill price ${price}`);
        }
        await conn.query(
          `INSERT INTO maopaper.positions (account, position_ref, symbol, side, quantity, entry_price, stop_level,
             opened_candle_start, stop_checked_through)
           VALUES (?,?,?,?,?,?,?,?,?)`,
          [order.account, order.clientOrderId, order.symbol, order.side === 'buy' ? 'long' : 'short', order.quantity,
            price, order.stopLevel ?? null, quote.start, quote.start],
        );
      } else {
        const [rows] = await conn.query(
          `SELECT position_ref, symbol, side, quantity, entry_price, stop_level, stop_checked_through FROM maopaper.positions
           WHERE account = ? AND position_ref = ? AND status = 'open'`,
          [order.account, order.positionRef],
        );
        const pos = (rows as PositionRow[])[0];
        if (!pos) return this.reject(conn, order, `position ${order.positionRef} is not open`);
        const expectedSide = pos.side === 'long' ? 'sell' : 'buy';
        if (order.side !== expectedSide || Number(pos.quantity) !== order.quantity)
          return this.reject(conn, order, `close of ${order.positionRef} must be ${expectedSide} ${pos.quantity}`);
        await this.closePosition(conn, order.account, pos, price, order.clientOrderId);
      }
      await conn.query(
        `INSERT INTO maopaper.orders (account, client_order_id, symbol, side, quantity, intent, position_ref, stop_level,
           status, fill_price, filled_at) VALUES (?,?,?,?,?,?,?,?, 'filled', ?, ?)`,
        [order.account, order.clientOrderId, order.symbol, order.side, order.quantity, order.intent,
          order.positionRef ?? null, order.stopLevel ?? null, price, quoteTime],
      );
      return toReport((await this.findOrder(conn, order.account, order.clientOrderId))!);
    });
  }

  /** Runs `fn` in a transaction holding the account's row lock; creates the paper account on first use. */
  private async inAccount<T>(account: string, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
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

  private async findOrder(conn: PoolConnection, account: string, clientOrderId: string): Promise<OrderRow | null> {
    const [rows] = await conn.query(
      `SELECT id, client_order_id, symbol, side, quantity, status, fill_price, filled_at, reason FROM maopaper.orders
       WHERE account = ? AND client_order_id = ?`,
      [account, clientOrderId],
    );
    return (rows as OrderRow[])[0] ?? null;
  }

  private async reject(conn: PoolConnection, order: OrderRequest, reason: string): Promise<OrderReport> {
    await conn.query(
      `INSERT INTO maopaper.orders (account, client_order_id, symbol, side, quantity, intent, position_ref, stop_level,
         status, reason) VALUES (?,?,?,?,?,?,?,?, 'rejected', ?)`,
      [order.account, order.clientOrderId, order.symbol, order.side, order.quantity, order.intent,
        order.positionRef ?? null, order.stopLevel ?? null, reason],
    );
    return toReport((await this.findOrder(conn, order.account, order.clientOrderId))!);
  }

  private async closePosition(conn: PoolConnection, account: string, pos: PositionRow, price: number, byOrder: string) {
    const dir = pos.side === 'long' ? 1 : -1;
    const pnl = round8((price - Number(pos.entry_price)) * Number(pos.quantity) * dir);
    await conn.query(
      `UPDATE maopaper.positions SET status = 'closed', exit_price = ?, closed_by = ?, pnl = ? WHERE account = ? AND position_ref = ?`,
      [price, byOrder, pnl, account, pos.position_ref],
    );
    await conn.query('UPDATE maopaper.accounts SET balance = balance + ? WHERE account = ?', [pnl, account]);
  }

  /** Fills every protective stop that a frame newer than the position's last check has reached. */
  private async triggerStops(conn: PoolConnection, account: string): Promise<void> {
    const [rows] = await conn.query(
      `SELECT position_ref, symbol, side, quantity, entry_price, stop_level, stop_checked_through FROM maopaper.positions
       WHERE account = ? AND status = 'open' AND stop_level IS NOT NULL`,
      [account],
    );
    for (const pos of rows as PositionRow[]) {
      const frames = await this.market.candlesAfter(pos.symbol, Number(pos.stop_checked_through));
      let checked = Number(pos.stop_checked_through);
      for (const f of frames) {
        const fill = stopFillPrice({ side: pos.side, stopLevel: Number(pos.stop_level) }, f, this.config);
        checked = f.start;
        if (fill === null) continue;
        const id = stopOrderId(pos.position_ref);
        await this.closePosition(conn, account, pos, fill, id);
        await conn.query(
          `INSERT INTO maopaper.orders (account, client_order_id, symbol, side, quantity, intent, position_ref, stop_level,
             status, fill_price, filled_at, reason) VALUES (?,?,?,?,?, 'close', ?,?, 'filled', ?, ?, 'stop triggered')`,
          [account, id, pos.symbol, pos.side === 'long' ? 'sell' : 'buy', pos.quantity, pos.position_ref, pos.stop_level,
            fill, f.start + timeframeMs(f.timeframe)],
        );
        break;
      }
      await conn.query(
        `UPDATE maopaper.positions SET stop_checked_through = ? WHERE account = ? AND position_ref = ?`,
        [checked, account, pos.position_ref],
      );
    }
  }
}

/** Stop levels equal up to float noise of DECIMAL(20,8) round trips. */
function sameLevel(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-8 * Math.max(1, Math.abs(b));
}
