import type { Pool } from '../../db/pool';

/** One submission, keyed by (broker, account, clientOrderId). */
export interface SubmissionKey {
  broker: string;
  account: string;
  clientOrderId: string;
}

export interface SubmissionRecord extends SubmissionKey {
  /** When the request was (about to be) sent, epoch ms of the adapter's clock. */
  postedAtMs: number;
  /** The deal reference the broker assigned, when it assigns its own (IG: a position close). */
  brokerRef: string | null;
  /** The broker's id of the resulting deal, once known (IG: the dealId of an opened position). */
  brokerDealId: string | null;
  /** For a close: the broker id of the position it closes (IG: the position's dealId). */
  targetDealId: string | null;
}

/**
 * Remembers which client order ids have been sent to a broker, written *before* the request leaves.
 * It is what tells "never sent" (safe to send) from "sent, outcome not yet visible" (unknown: look up again,
 * never re-send blindly) when a broker keeps no lasting index of client references.
 * `claim` and `reclaim` are atomic, so two concurrent attempts of one order can never both send it.
 */
export interface SubmissionJournal {
  find(key: SubmissionKey): Promise<SubmissionRecord | null>;
  /** Records the submission as sent at `postedAtMs`; false if a record already exists (someone else sent it). */
  claim(key: SubmissionKey, postedAtMs: number, targetDealId?: string | null): Promise<boolean>;
  /**
   * Re-arms a submission proven never to have reached the broker: sets a new `postedAtMs` only if the record
   * still has `expectedPostedAtMs`. False if another attempt got there first.
   */
  reclaim(key: SubmissionKey, expectedPostedAtMs: number, postedAtMs: number, targetDealId?: string | null): Promise<boolean>;
  /** The broker refused the request before acting on it (rate limit, validation): forget that it was sent. */
  release(key: SubmissionKey, expectedPostedAtMs: number): Promise<void>;
  /** Stores what the broker told us about the submission (its own reference, the resulting deal). */
  annotate(key: SubmissionKey, fields: { brokerRef?: string; brokerDealId?: string }): Promise<void>;
}

const keyOf = (k: SubmissionKey) => `${k.broker}\u0000${k.account}\u0000${k.clientOrderId}`;

/** In-process journal, for tests and tools. A restart forgets everything: production uses MysqlSubmissionJournal. */
export class InMemorySubmissionJournal implements SubmissionJournal {
  private readonly rows = new Map<string, SubmissionRecord>();

  async find(key: SubmissionKey): Promise<SubmissionRecord | null> {
    const r = this.rows.get(keyOf(key));
    return r ? { ...r } : null;
  }

  async claim(key: SubmissionKey, postedAtMs: number, targetDealId: string | null = null): Promise<boolean> {
    if (this.rows.has(keyOf(key))) return false;
    this.rows.set(keyOf(key), { ...key, postedAtMs, brokerRef: null, brokerDealId: null, targetDealId });
    return true;
  }

  async reclaim(key: SubmissionKey, expectedPostedAtMs: number, postedAtMs: number, targetDealId: string | null = null): Promise<boolean> {
    const r = this.rows.get(keyOf(key));
    if (!r || r.postedAtMs !== expectedPostedAtMs) return false;
    this.rows.set(keyOf(key), { ...key, postedAtMs, brokerRef: null, brokerDealId: null, targetDealId });
    return true;
  }

  async release(key: SubmissionKey, expectedPostedAtMs: number): Promise<void> {
    const r = this.rows.get(keyOf(key));
    if (r && r.postedAtMs === expectedPostedAtMs) this.rows.delete(keyOf(key));
  }

  async annotate(key: SubmissionKey, fields: { brokerRef?: string; brokerDealId?: string }): Promise<void> {
    const r = this.rows.get(keyOf(key));
    if (r) this.rows.set(keyOf(key), { ...r, ...fields });
  }

  /** Test hook: pretend a submission was sent at `postedAtMs` (e.g. by a worker that crashed right after). */
  seed(record: Omit<SubmissionRecord, 'brokerRef' | 'brokerDealId' | 'targetDealId'> & Partial<SubmissionRecord>): void {
    this.rows.set(keyOf(record), { brokerRef: null, brokerDealId: null, targetDealId: null, ...record });
  }
}

interface Row {
  broker: string;
  account: string;
  client_order_id: string;
  posted_at_ms: number | string;
  broker_ref: string | null;
  broker_deal_id: string | null;
  target_deal_id: string | null;
}

const ER_DUP_ENTRY = 1062;

/** The journal in `maohome.broker_submissions` (migration maohome/002_broker_submissions.sql). */
export class MysqlSubmissionJournal implements SubmissionJournal {
  constructor(private readonly pool: Pool) {}

  async find(key: SubmissionKey): Promise<SubmissionRecord | null> {
    const [rows] = await this.pool.query(
      `SELECT broker, account, client_order_id, posted_at_ms, broker_ref, broker_deal_id, target_deal_id
       FROM maohome.broker_submissions WHERE broker = ? AND account = ? AND client_order_id = ?`,
      [key.broker, key.account, key.clientOrderId],
    );
    const r = (rows as Row[])[0];
    if (!r) return null;
    return {
      broker: r.broker,
      account: r.account,
      clientOrderId: r.client_order_id,
      postedAtMs: Number(r.posted_at_ms),
      brokerRef: r.broker_ref,
      brokerDealId: r.broker_deal_id,
      targetDealId: r.target_deal_id,
    };
  }

  async claim(key: SubmissionKey, postedAtMs: number, targetDealId: string | null = null): Promise<boolean> {
    try {
      await this.pool.query(
        `INSERT INTO maohome.broker_submissions (broker, account, client_order_id, posted_at_ms, target_deal_id)
         VALUES (?, ?, ?, ?, ?)`,
        [key.broker, key.account, key.clientOrderId, postedAtMs, targetDealId],
      );
      return true;
    } catch (err) {
      if ((err as { errno?: number }).errno === ER_DUP_ENTRY) return false;
      throw err;
    }
  }

  async reclaim(key: SubmissionKey, expectedPostedAtMs: number, postedAtMs: number, targetDealId: string | null = null): Promise<boolean> {
    const [res] = await this.pool.query(
      `UPDATE maohome.broker_submissions SET posted_at_ms = ?, broker_ref = NULL, broker_deal_id = NULL, target_deal_id = ?
       WHERE broker = ? AND account = ? AND client_order_id = ? AND posted_at_ms = ?`,
      [postedAtMs, targetDealId, key.broker, key.account, key.clientOrderId, expectedPostedAtMs],
    );
    return (res as { affectedRows: number }).affectedRows === 1;
  }

  async release(key: SubmissionKey, expectedPostedAtMs: number): Promise<void> {
    await this.pool.query(
      `DELETE FROM maohome.broker_submissions WHERE broker = ? AND account = ? AND client_order_id = ? AND posted_at_ms = ?`,
      [key.broker, key.account, key.clientOrderId, expectedPostedAtMs],
    );
  }

  async annotate(key: SubmissionKey, fields: { brokerRef?: string; brokerDealId?: string }): Promise<void> {
    const sets: string[] = [];
    const args: unknown[] = [];
    if (fields.brokerRef !== undefined) (sets.push('broker_ref = ?'), args.push(fields.brokerRef));
    if (fields.brokerDealId !== undefined) (sets.push('broker_deal_id = ?'), args.push(fields.brokerDealId));
    if (sets.length === 0) return;
    await this.pool.query(
      `UPDATE maohome.broker_submissions SET ${sets.join(', ')} WHERE broker = ? AND account = ? AND client_order_id = ?`,
      [...args, key.broker, key.account, key.clientOrderId],
    );
  }
}
