import type { Pool } from '../../db/pool';
import { accountSchema } from '../../db/pool';

/** The rows a session left in `mt_<account>` and in the paper venue's ledger, in a comparable form. */
export async function accountRows(pool: Pool, account: string) {
  const db = accountSchema(account);
  const q = async (sql: string, args: unknown[] = []) => (await pool.query(sql, args))[0] as any[];
  const orders = await q(
    `SELECT client_order_id, seq, side, intent, position_ref, status, fill_price, stop_level FROM \`${db}\`.orders
     -- executed orders only: a protective stop leg that never filled (working, cancelled, refused) is in stopLegs
     WHERE NOT (seq IS NULL AND status IN ('working', 'cancelled', 'rejected'))
     ORDER BY filled_at, seq IS NOT NULL, seq, client_order_id`,
  );
  const stopLegs = await q(
    `SELECT client_order_id, position_ref, status, stop_level, reason FROM \`${db}\`.orders WHERE seq IS NULL ORDER BY client_order_id`,
  );
  const trades = await q(
    `SELECT position_ref, exit_client_order_id, side, quantity, entry_price, exit_price, pnl, exit_reason FROM \`${db}\`.trades ORDER BY closed_at, position_ref`,
  );
  const positions = await q(`SELECT position_ref, side, quantity, entry_price, status FROM \`${db}\`.positions ORDER BY position_ref`);
  const fills = await q(`SELECT client_order_id, side, quantity, price FROM \`${db}\`.fills ORDER BY client_order_id`);
  const paperOrders = await q(
    `SELECT client_order_id, side, intent, status, fill_price FROM maopaper.orders WHERE account = ? ORDER BY id`,
    [account],
  );
  const paperOpen = await q(
    `SELECT position_ref, side, quantity, entry_price FROM maopaper.positions WHERE account = ? AND status = 'open' ORDER BY position_ref`,
    [account],
  );
  return { orders, stopLegs, trades, positions, fills, paperOrders, paperOpen };
}

/** Rows with the account id stripped out of order ids, so two accounts' runs compare equal. */
export function normalised(rows: Awaited<ReturnType<typeof accountRows>>, account: string) {
  return JSON.parse(JSON.stringify(rows).split(`${account}-`).join('ACC-'));
}
