import type { Pool } from './pool';
import { accountSchema } from './pool';
import type { Fill, OrderRecord } from '../trading/order';
import type { OrderEvent } from '../trading/order-lifecycle';
import type { Position } from '../trading/position';
import { initialTrailLevel } from '../trading/exits';
import type { Trade } from '../trading/trade';
import type { SystemState } from '../systems/types';
import type { TradingStateChange } from '../risk/trading-state';
import type { WorkingOrder } from '../trading/working-order';
import type { RiskRefusal } from '../risk/refusal';

/** A working (emulated) order's lifecycle as `mt_<account>.working_orders` keeps it. */
export interface WorkingOrderRecord extends WorkingOrder {
  status: 'working' | 'triggered' | 'expired' | 'cancelled';
  /** The market order it became when triggered. */
  clientOrderId?: string;
}

export interface SystemStateSnapshot {
  systemId: string;
  systemName: string;
  params: Record<string, unknown>;
  state: SystemState;
  frameStart: number | null;
}

export interface EquityPoint {
  ts: number;
  balance: number;
  realisedPnl: number;
  unrealisedPnl: number;
  equity: number;
}

/** Everything one step of the session changed, written in one transaction. */
export interface SessionOutcome {
  orders: OrderRecord[];
  fills: Fill[];
  openedPositions: Position[];
  trades: Trade[];
  systemStates: SystemStateSnapshot[];
  equity?: EquityPoint;
  /** Intents the risk engine refused (they never reached the broker). Absent in outcomes of older runs. */
  refusals?: RiskRefusal[];
  /** Trading-state changes with who gave them and why. */
  controlEvents?: TradingStateChange[];
  workingOrders?: WorkingOrderRecord[];
  /** Equity rows of several frames (a backfilled page written at once); beside `equity`. */
  equityPoints?: EquityPoint[];
  /** Lifecycle transitions of orders (trading/order-lifecycle.ts). Absent in outcomes of older runs. */
  orderEvents?: OrderEvent[];
}

export interface AccountCheckpoint {
  /** Highest order sequence ever recorded, so a fresh session never reuses a clientOrderId. */
  maxOrderSeq: number;
  openPositions: number;
  /** The open positions themselves, for a fresh session to adopt as its own (issue 11). Absent in older answers. */
  positions?: Position[];
}

const n = <T>(x: T | undefined | null): T | null => (x === undefined ? null : x);

/**
 * The session's durable record in `mt_<account>`. Every write is an upsert keyed by a natural id
 * (clientOrderId, positionRef, systemId, timestamp), so running one twice leaves the same rows (invariant 7).
 */
export class AccountStore {
  constructor(private readonly pool: Pool) {}

  async checkpoint(account: string): Promise<AccountCheckpoint> {
    const db = accountSchema(account);
    const [seq] = await this.pool.query(`SELECT COALESCE(MAX(seq), 0) AS s FROM \`${db}\`.orders`);
    const [open] = await this.pool.query(`SELECT COUNT(*) AS c FROM \`${db}\`.positions WHERE status = 'open'`);
    const [rows] = await this.pool.query(
      `SELECT position_ref, system_id, symbol, side, quantity, entry_price, stop_level, take_profit, trailing_stop, opened_at
         FROM \`${db}\`.positions WHERE status = 'open' ORDER BY opened_at, position_ref`,
    );
    const positions = (rows as any[]).map((r): Position => {
      const p: Position = { positionRef: r.position_ref, systemId: r.system_id, symbol: r.symbol, side: r.side, quantity: Number(r.quantity), entryPrice: Number(r.entry_price), openedAt: Number(r.opened_at) };
      if (r.stop_level !== null) p.stop = Number(r.stop_level);
      if (r.take_profit !== null) p.takeProfit = Number(r.take_profit);
      // The trail's level is not stored: it starts again from the entry, the most conservative place it can be.
      if (r.trailing_stop !== null) p.trailing = { distance: Number(r.trailing_stop), level: initialTrailLevel(p.side, p.entryPrice, Number(r.trailing_stop)) };
      return p;
    });
    return { maxOrderSeq: Number((seq as any)[0].s), openPositions: Number((open as any)[0].c), positions };
  }

  async upsertOrder(account: string, o: OrderRecord, conn: Pick<Pool, 'query'> = this.pool): Promise<void> {
    const db = accountSchema(account);
    await conn.query(
      `INSERT INTO \`${db}\`.orders
        (client_order_id, seq, system_id, symbol, side, quantity, intent, position_ref, stop_level, status,
         broker_order_id, fill_price, filled_at, reason, frame_start)
       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
       ON DUPLICATE KEY UPDATE
         -- A late 'pending' write (a stale attempt of recordOrderIntent) never undoes a settled outcome.
         broker_order_id = IF(VALUES(status) = 'pending', broker_order_id, VALUES(broker_order_id)),
         fill_price = IF(VALUES(status) = 'pending', fill_price, VALUES(fill_price)),
         filled_at = IF(VALUES(status) = 'pending', filled_at, VALUES(filled_at)),
         reason = IF(VALUES(status) = 'pending', reason, VALUES(reason)),
         -- A protective stop leg moves working → filled | cancelled on a later frame: the row tells when.
         frame_start = IF(VALUES(status) = 'pending', frame_start, COALESCE(VALUES(frame_start), frame_start)),
         status = IF(VALUES(status) = 'pending', status, VALUES(status))`,
      [
        o.clientOrderId, o.seq, o.systemId, o.symbol, o.side, o.quantity, o.intent, n(o.positionRef), n(o.stopLevel),
        o.status, n(o.brokerOrderId), n(o.fillPrice), n(o.filledAt), o.reason?.slice(0, 255) ?? null, n(o.frameStart),
      ],
    );
  }

  async recordOutcome(account: string, out: SessionOutcome): Promise<void> {
    const db = accountSchema(account);
    const conn = await this.pool.getConnection();
    try {
      await conn.beginTransaction();
      for (const o of out.orders) await this.upsertOrder(account, o, conn);
      for (const f of out.fills) {
        await conn.query(
          `INSERT INTO \`${db}\`.fills (client_order_id, symbol, side, quantity, price, filled_at) VALUES (?,?,?,?,?,?)
           ON DUPLICATE KEY UPDATE quantity = VALUES(quantity), price = VALUES(price), filled_at = VALUES(filled_at)`,
          [f.clientOrderId, f.symbol, f.side, f.quantity, f.price, f.filledAt],
        );
      }
      for (const p of out.openedPositions) {
        // Never reopen a position a later step already closed (a retried older outcome must not undo a newer one).
        await conn.query(
          `INSERT INTO \`${db}\`.positions (position_ref, system_id, symbol, side, quantity, entry_price, stop_level, take_profit,
             trailing_stop, opened_at, status)
           VALUES (?,?,?,?,?,?,?,?,?,?, 'open')
           ON DUPLICATE KEY UPDATE quantity = VALUES(quantity), entry_price = VALUES(entry_price), stop_level = VALUES(stop_level),
             take_profit = VALUES(take_profit), trailing_stop = VALUES(trailing_stop)`,
          [p.positionRef, p.systemId, p.symbol, p.side, p.quantity, p.entryPrice, n(p.stop), n(p.takeProfit), n(p.trailing?.distance), p.openedAt],
        );
      }
      for (const t of out.trades) {
        await conn.query(
          `INSERT INTO \`${db}\`.trades (position_ref, exit_client_order_id, system_id, symbol, side, quantity, entry_price,
             exit_price, pnl, opened_at, closed_at, exit_reason)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
           ON DUPLICATE KEY UPDATE exit_client_order_id = VALUES(exit_client_order_id), exit_price = VALUES(exit_price),
             pnl = VALUES(pnl), closed_at = VALUES(closed_at), exit_reason = VALUES(exit_reason)`,
          [t.positionRef, t.exitClientOrderId, t.systemId, t.symbol, t.side, t.quantity, t.entryPrice, t.exitPrice, t.pnl,
            t.openedAt, t.closedAt, t.exitReason],
        );
        // A partial close leaves the rest of the position open (its new quantity is in openedPositions).
        if (t.partial) continue;
        await conn.query(
          `INSERT INTO \`${db}\`.positions (position_ref, system_id, symbol, side, quantity, entry_price, opened_at, status, closed_at, exit_price)
           VALUES (?,?,?,?,?,?,?, 'closed', ?, ?)
           ON DUPLICATE KEY UPDATE status = 'closed', closed_at = VALUES(closed_at), exit_price = VALUES(exit_price)`,
          [t.positionRef, t.systemId, t.symbol, t.side, t.quantity, t.entryPrice, t.openedAt, t.closedAt, t.exitPrice],
        );
      }
      for (const s of out.systemStates) {
        await conn.query(
          `INSERT INTO \`${db}\`.system_states (system_id, system_name, params, state, frame_start) VALUES (?,?,?,?,?)
           ON DUPLICATE KEY UPDATE system_name = VALUES(system_name), params = VALUES(params), state = VALUES(state),
             frame_start = VALUES(frame_start)`,
          [s.systemId, s.systemName, JSON.stringify(s.params), JSON.stringify(s.state), s.frameStart],
        );
      }
      const points = out.equity ? [...(out.equityPoints ?? []), out.equity] : (out.equityPoints ?? []);
      // One statement per 500 rows: a backfilled page writes a thousand at once.
      for (let i = 0; i < points.length; i += 500) {
        const chunk = points.slice(i, i + 500);
        await conn.query(
          `INSERT INTO \`${db}\`.equity (ts, balance, realised_pnl, unrealised_pnl, equity) VALUES ${chunk.map(() => '(?,?,?,?,?)').join(',')}
           ON DUPLICATE KEY UPDATE balance = VALUES(balance), realised_pnl = VALUES(realised_pnl),
             unrealised_pnl = VALUES(unrealised_pnl), equity = VALUES(equity)`,
          chunk.flatMap((e) => [e.ts, e.balance, e.realisedPnl, e.unrealisedPnl, e.equity]),
        );
      }
      for (const r of out.refusals ?? []) {
        await conn.query(
          `INSERT INTO \`${db}\`.risk_refusals (refusal_id, system_id, symbol, side, quantity, intent, rule, detail, numbers, frame_start, at)
           VALUES (?,?,?,?,?,?,?,?,?,?,?) ON DUPLICATE KEY UPDATE refusal_id = refusal_id`,
          [r.refusalId, r.systemId, r.symbol, r.side, r.quantity, r.intent, r.rule, r.detail.slice(0, 500), JSON.stringify(r.numbers),
            r.frameStart, r.at],
        );
      }
      for (const e of out.controlEvents ?? []) {
        await conn.query(
          `INSERT INTO \`${db}\`.control_events (seq, at, kind, from_state, to_state, by_who, reason, source)
           VALUES (?,?, 'trading-state', ?,?,?,?,?) ON DUPLICATE KEY UPDATE seq = seq`,
          [e.seq, e.at, e.from, e.to, e.by.slice(0, 100), e.reason.slice(0, 500), e.source],
        );
      }
      for (const w of out.workingOrders ?? []) {
        await conn.query(
          `INSERT INTO \`${db}\`.working_orders (ref, system_id, symbol, side, quantity, type, price, stop_level, take_profit,
             trailing_stop, created_at, expires_at, status, client_order_id)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
           ON DUPLICATE KEY UPDATE status = VALUES(status), client_order_id = VALUES(client_order_id)`,
          [w.ref, w.systemId, w.symbol, w.side, w.quantity, w.type, w.price, n(w.stop), n(w.takeProfit), n(w.trailingStop),
            w.createdAt, n(w.expiresAt), w.status, n(w.clientOrderId)],
        );
      }
      for (const e of out.orderEvents ?? []) {
        await conn.query(
          `INSERT INTO \`${db}\`.order_events (client_order_id, at, from_state, to_state, filled_quantity, fill_price, reason)
           VALUES (?,?,?,?,?,?,?) ON DUPLICATE KEY UPDATE filled_quantity = VALUES(filled_quantity), fill_price = VALUES(fill_price)`,
          [e.clientOrderId, e.at, e.from, e.to, e.filledQuantity, e.fillPrice, e.reason?.slice(0, 255) ?? null],
        );
      }
      await conn.commit();
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    } finally {
      conn.release();
    }
  }
}
