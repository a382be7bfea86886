import type { PoolConnection } from 'mysql2/promise';
import type { Pool } from '../db/pool';
import { RoleSchema, type Role } from './roles';
import { hashToken, newToken } from './token';
import { AdminExistsError, RevokedUserError, UnknownUserError, UserExistsError } from './user-errors';
import { UserNameSchema } from './user-name';

/**
 * API users in `<schema>.users` and their grants in `<schema>.account_grants` (schema `maohome`, or a
 * scratch copy in tests). A token is returned by create, bootstrap and rotate and never stored: only its
 * SHA-256. Nothing is cached: every authentication reads the row, so a revoke or rotate acts at once.
 */

export interface Grant {
  readonly account: string;
  readonly role: Role;
}

export interface UserInfo {
  readonly id: number;
  readonly name: string;
  readonly email: string | null;
  /** The global role (every account), or null. */
  readonly globalRole: Role | null;
  readonly grants: readonly Grant[];
  readonly createdAt: Date;
  readonly tokenExpiresAt: Date | null;
  readonly revokedAt: Date | null;
}

/** A user and its one-time token. */
export interface IssuedToken {
  readonly id: number;
  readonly name: string;
  readonly globalRole: Role | null;
  readonly token: string;
  readonly expiresAt: Date | null;
}

/** What a valid token authenticates as: the user, its global role and its grants, read just now. */
export interface TokenOwner {
  readonly id: number;
  readonly name: string;
  readonly globalRole: Role | null;
  readonly grants: ReadonlyMap<string, Role>;
}

export type TokenLookup = { ok: true; owner: TokenOwner } | { ok: false; why: 'unknown' | 'expired' };

export interface NewUser {
  name: string;
  globalRole?: Role | null;
  email?: string | null;
  expiresAt?: Date | null;
  grants?: readonly Grant[];
}

const IDENT = /^[a-z][a-z0-9_]{0,63}$/;
const isDuplicate = (err: unknown) => (err as { errno?: number }).errno === 1062;

interface UserRow {
  id: number;
  name: string;
  email: string | null;
  role: Role | null;
  created_at: Date;
  token_expires_at: Date | null;
  revoked_at: Date | null;
}

export class UserStore {
  private readonly users: string;
  private readonly grantsTable: string;
  private readonly accounts: string;

  constructor(
    private readonly pool: Pool,
    schema = 'maohome',
  ) {
    if (!IDENT.test(schema)) throw new Error(`schema "${schema}" is not a plain identifier`);
    this.users = `\`${schema}\`.users`;
    this.grantsTable = `\`${schema}\`.account_grants`;
    this.accounts = `\`${schema}\`.accounts`;
  }

  /** Creates a user with a fresh token (returned once). */
  async create(user: NewUser, by: string): Promise<IssuedToken> {
    const conn = await this.pool.getConnection();
    try {
      await conn.beginTransaction();
      const issued = await this.insert(conn, user);
      for (const g of user.grants ?? []) await this.putGrant(conn, issued.id, g, by);
      await conn.commit();
      return issued;
    } catch (err) {
      await conn.rollback();
      throw err;
    } finally {
      conn.release();
    }
  }

  /**
   * The first admin: refused (AdminExistsError) when any user that is not revoked holds the global
   * admin role. Serialised by a named lock, so two at once cannot both succeed.
   */
  async bootstrapAdmin(name: string, email?: string | null, expiresAt?: Date | null): Promise<IssuedToken> {
    const conn = await this.pool.getConnection();
    const lock = `maotrade_bootstrap_${this.users}`;
    try {
      const [got] = await conn.query('SELECT GET_LOCK(?, 10) AS got', [lock]);
      if ((got as { got: number }[])[0]?.got !== 1) throw new Error('could not take the bootstrap lock');
      try {
        const [rows] = await conn.query(`SELECT COUNT(*) AS n FROM ${this.users} WHERE role = 'admin' AND revoked_at IS NULL`);
        if (Number((rows as { n: number }[])[0].n) > 0) throw new AdminExistsError();
        return await this.insert(conn, { name, globalRole: 'admin', email, expiresAt });
      } finally {
        await conn.query('SELECT RELEASE_LOCK(?)', [lock]);
      }
    } finally {
      conn.release();
    }
  }

  private async insert(conn: PoolConnection | Pool, user: NewUser): Promise<IssuedToken> {
    const name = UserNameSchema.parse(user.name);
    const globalRole = user.globalRole == null ? null : RoleSchema.parse(user.globalRole);
    const token = newToken();
    try {
      const [res] = await conn.query(`INSERT INTO ${this.users} (name, email, role, token_hash, token_expires_at) VALUES (?,?,?,?,?)`, [
        name,
        user.email ?? null,
        globalRole,
        hashToken(token),
        user.expiresAt ?? null,
      ]);
      return { id: Number((res as { insertId: number }).insertId), name, globalRole, token, expiresAt: user.expiresAt ?? null };
    } catch (err) {
      if (isDuplicate(err)) throw new UserExistsError(name);
      throw err;
    }
  }

  /** The owner of a token: unknown (no such hash: never issued, rotated away or revoked) or expired. */
  async lookupToken(token: string): Promise<TokenLookup> {
    const [rows] = await this.pool.query(
      `SELECT id, name, role, token_expires_at <= UTC_TIMESTAMP(3) AS expired FROM ${this.users} WHERE token_hash = ? AND revoked_at IS NULL`,
      [hashToken(token)],
    );
    const row = (rows as { id: number; name: string; role: Role | null; expired: number | null }[])[0];
    if (!row) return { ok: false, why: 'unknown' };
    if (row.expired) return { ok: false, why: 'expired' };
    const grants = await this.grantsOf(Number(row.id));
    return { ok: true, owner: { id: Number(row.id), name: row.name, globalRole: row.role, grants: new Map(grants.map((g) => [g.account, g.role])) } };
  }

  /** Grants of a user; owning an account (`accounts.owner_user_id`) counts as an admin grant on it. */
  async grantsOf(userId: number): Promise<Grant[]> {
    const [rows] = await this.pool.query(
      `SELECT account, role FROM ${this.grantsTable} WHERE user_id = ?
       UNION ALL SELECT account, 'admin' AS role FROM ${this.accounts} WHERE owner_user_id = ?`,
      [userId, userId],
    );
    const best = new Map<string, Role>();
    const rank = { viewer: 0, trader: 1, admin: 2 } as const;
    for (const r of rows as Grant[]) {
      const had = best.get(r.account);
      if (!had || rank[r.role] > rank[had]) best.set(r.account, r.role);
    }
    return [...best].map(([account, role]) => ({ account, role })).sort((a, b) => a.account.localeCompare(b.account));
  }

  async list(): Promise<UserInfo[]> {
    const [rows] = await this.pool.query(`SELECT id, name, email, role, created_at, token_expires_at, revoked_at FROM ${this.users} ORDER BY name`);
    const users = rows as UserRow[];
    const [grants] = await this.pool.query(`SELECT user_id, account, role FROM ${this.grantsTable} ORDER BY account`);
    const byUser = new Map<number, Grant[]>();
    for (const g of grants as (Grant & { user_id: number })[]) {
      byUser.set(Number(g.user_id), [...(byUser.get(Number(g.user_id)) ?? []), { account: g.account, role: g.role }]);
    }
    return users.map((u) => this.info(u, byUser.get(Number(u.id)) ?? []));
  }

  async get(name: string): Promise<UserInfo> {
    const row = await this.row(name);
    const [grants] = await this.pool.query(`SELECT account, role FROM ${this.grantsTable} WHERE user_id = ? ORDER BY account`, [row.id]);
    return this.info(row, grants as Grant[]);
  }

  private info(u: UserRow, grants: readonly Grant[]): UserInfo {
    return {
      id: Number(u.id),
      name: u.name,
      email: u.email,
      globalRole: u.role,
      grants,
      createdAt: u.created_at,
      tokenExpiresAt: u.token_expires_at,
      revokedAt: u.revoked_at,
    };
  }

  private async row(name: string): Promise<UserRow> {
    const [rows] = await this.pool.query(`SELECT id, name, email, role, created_at, token_expires_at, revoked_at FROM ${this.users} WHERE name = ?`, [name]);
    const row = (rows as UserRow[])[0];
    if (!row) throw new UnknownUserError(name);
    return row;
  }

  /** Gives `role` on `account` (replacing the grant there), or the global role when account is null. */
  async grant(name: string, account: string | null, role: Role, by: string): Promise<void> {
    const row = await this.row(name);
    if (row.revoked_at) throw new RevokedUserError(name);
    if (account === null) await this.pool.query(`UPDATE ${this.users} SET role = ? WHERE id = ?`, [RoleSchema.parse(role), row.id]);
    else await this.putGrant(this.pool, Number(row.id), { account, role }, by);
  }

  private async putGrant(conn: PoolConnection | Pool, userId: number, g: Grant, by: string): Promise<void> {
    await conn.query(
      `INSERT INTO ${this.grantsTable} (user_id, account, role, granted_by) VALUES (?,?,?,?)
       ON DUPLICATE KEY UPDATE role = VALUES(role), granted_by = VALUES(granted_by), granted_at = UTC_TIMESTAMP(3)`,
      [userId, g.account, RoleSchema.parse(g.role), by],
    );
  }

  /** Takes back the grant on `account`, or the global role when account is null; false if there was none. */
  async ungrant(name: string, account: string | null): Promise<boolean> {
    const row = await this.row(name);
    const [r] =
      account === null
        ? await this.pool.query(`UPDATE ${this.users} SET role = NULL WHERE id = ? AND role IS NOT NULL`, [row.id])
        : await this.pool.query(`DELETE FROM ${this.grantsTable} WHERE user_id = ? AND account = ?`, [row.id, account]);
    return (r as { affectedRows: number }).affectedRows > 0;
  }

  /** Revokes a user: its token stops working at once; the row stays for the audit trail. Idempotent. */
  async revoke(name: string): Promise<void> {
    const row = await this.row(name);
    await this.pool.query(`UPDATE ${this.users} SET token_hash = NULL, revoked_at = COALESCE(revoked_at, UTC_TIMESTAMP(3)) WHERE id = ?`, [row.id]);
  }

  /** A new token for a user (expiring at `expiresAt`, null: never); the old one stops working at once. */
  async rotate(name: string, expiresAt: Date | null = null): Promise<IssuedToken> {
    const row = await this.row(name);
    if (row.revoked_at) throw new RevokedUserError(name);
    const token = newToken();
    await this.pool.query(`UPDATE ${this.users} SET token_hash = ?, token_expires_at = ?, token_rotated_at = UTC_TIMESTAMP(3) WHERE id = ?`, [
      hashToken(token),
      expiresAt,
      row.id,
    ]);
    return { id: Number(row.id), name: row.name, globalRole: row.role, token, expiresAt };
  }
}
