import type { Pool } from '../db/pool';

/**
 * The audit trail, `<schema>.audit_log`: one row per command (gateway or CLI) with who, when, the route
 * (its pattern, never the raw URL), the account, the status and the outcome. It never holds a token:
 * nothing from a header is written, and `detail` drops any key that looks like a secret.
 */

export type AuditOutcome = 'ok' | 'refused' | 'failed';

export interface AuditEntry {
  userId: number | null;
  userName: string | null;
  via: 'api' | 'cli';
  route: string;
  command?: string | null;
  account?: string | null;
  statusCode?: number | null;
  outcome: AuditOutcome;
  detail?: Record<string, unknown> | string | null;
}

export interface AuditRow {
  id: number;
  at: Date;
  userName: string | null;
  via: 'api' | 'cli';
  route: string;
  command: string | null;
  account: string | null;
  statusCode: number | null;
  outcome: AuditOutcome;
  detail: string | null;
}

export interface AuditQuery {
  account?: string;
  user?: string;
  from?: Date;
  to?: Date;
  limit: number;
  /** Only rows of these accounts (a caller who is admin of some accounts only). */
  accounts?: readonly string[];
}

const SECRET_KEY = /token|password|secret|authorization|api[-_]?key|cst/i;

/** `detail` as stored: secret-looking keys dropped at any depth, at most 500 characters. */
export function auditDetail(detail: AuditEntry['detail']): string | null {
  if (detail == null) return null;
  if (typeof detail === 'string') return detail.slice(0, 500);
  const text = JSON.stringify(detail, (k, v: unknown) => (k !== '' && SECRET_KEY.test(k) ? undefined : v));
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

/** 2xx/3xx ok; 401, 403 and 429 refused (the caller may not); anything else failed. */
export const outcomeOf = (statusCode: number): AuditOutcome =>
  statusCode < 400 ? 'ok' : [401, 403, 429].includes(statusCode) ? 'refused' : 'failed';

export class AuditStore {
  private readonly table: string;

  constructor(
    private readonly pool: Pool,
    schema = 'maohome',
  ) {
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(schema)) throw new Error(`schema "${schema}" is not a plain identifier`);
    this.table = `\`${schema}\`.audit_log`;
  }

  async record(e: AuditEntry): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.table} (at, user_id, user_name, via, route, command, account, status_code, outcome, detail) VALUES (UTC_TIMESTAMP(3),?,?,?,?,?,?,?,?,?)`,
      [e.userId, e.userName, e.via, e.route.slice(0, 200), e.command ?? null, e.account ?? null, e.statusCode ?? null, e.outcome, auditDetail(e.detail)],
    );
  }

  /** Newest first. */
  async query(q: AuditQuery): Promise<AuditRow[]> {
    if (q.accounts && q.accounts.length === 0) return [];
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      where.push(sql);
      args.push(v);
    };
    if (q.account) add('account = ?', q.account);
    if (q.user) add('user_name = ?', q.user);
    if (q.from) add('at >= ?', q.from);
    if (q.to) add('at < ?', q.to);
    if (q.accounts) add('account IN (?)', [...q.accounts]);
    const [rows] = await this.pool.query(
      `SELECT id, at, user_name AS userName, via, route, command, account, status_code AS statusCode, outcome, detail FROM ${this.table}
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
      [...args, q.limit],
    );
    return (rows as AuditRow[]).map((r) => ({ ...r, id: Number(r.id) }));
  }
}
