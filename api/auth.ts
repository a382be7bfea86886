import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Pool } from '../db/pool';
import { forbidden, unauthorized } from './errors';

/**
 * API tokens. A token is 32 random bytes (base64url, prefixed `mao_` so a leaked one is easy to
 * recognise), shown once when the user is created; only its SHA-256 (hex) is stored, in
 * `maohome.users.token_hash`. Callers send `Authorization: Bearer <token>`.
 */

export const ROLES = ['viewer', 'trader', 'admin'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

/** viewer < trader < admin. */
export const roleRank = (role: Role): number => ROLES.indexOf(role);

export interface ApiUser {
  readonly id: number;
  readonly name: string;
  readonly role: Role;
}

export const UserNameSchema = z.string().regex(/^[A-Za-z0-9._@-]{1,100}$/, 'name must be 1-100 letters, digits or ._@-');

export function newToken(): string {
  return `mao_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Creates a user; the token is returned here and nowhere else (only its hash is stored). */
export async function createUser(
  pool: Pool,
  user: { name: string; role: Role; email?: string },
): Promise<{ id: number; name: string; role: Role; token: string }> {
  const name = UserNameSchema.parse(user.name);
  const role = RoleSchema.parse(user.role);
  const token = newToken();
  const [res] = await pool.query('INSERT INTO maohome.users (name, email, role, token_hash) VALUES (?,?,?,?)', [
    name,
    user.email ?? null,
    role,
    hashToken(token),
  ]);
  return { id: Number((res as { insertId: number }).insertId), name, role, token };
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{16,200})$/;

/** The user an Authorization header belongs to; throws 401 when it is missing, malformed or unknown. */
export async function authenticate(pool: Pool, authorization: string | undefined): Promise<ApiUser> {
  const m = authorization ? BEARER.exec(authorization.trim()) : null;
  if (!m) throw unauthorized();
  const [rows] = await pool.query('SELECT id, name, role FROM maohome.users WHERE token_hash = ?', [hashToken(m[1])]);
  const row = (rows as { id: number; name: string; role: Role }[])[0];
  if (!row) throw unauthorized('unknown or revoked API token');
  return { id: Number(row.id), name: row.name, role: row.role };
}

/** Throws 403 unless the user's role is at least `needed`. */
export function authorize(user: ApiUser, needed: Role): void {
  if (roleRank(user.role) < roleRank(needed)) {
    throw forbidden(`this needs the ${needed} role; user "${user.name}" is a ${user.role}`);
  }
}
