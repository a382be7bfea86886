import type { Pool } from '../db/pool';
import type { Caller } from './access';
import { unauthorized } from './errors';
import type { Role } from './roles';
import { bearerToken } from './token';
import { UserStore } from './user-store';

/**
 * Authentication: `Authorization: Bearer <token>` → the caller, read from `maohome.users` and
 * `maohome.account_grants` on every request (no cache, so a revoked, rotated or expired token is
 * refused at once). Tokens are made in api/token.ts and stored as SHA-256 only.
 */

export { ROLES, RoleSchema, roleRank, type Role } from './roles';
export { UserNameSchema } from './user-name';
export { hashToken, newToken } from './token';

export type ApiUser = Caller;

/** Creates a user with a global role (tests and simple setups); the token is returned here and nowhere else. */
export async function createUser(
  pool: Pool,
  user: { name: string; role?: Role | null; email?: string; expiresAt?: Date | null; grants?: { account: string; role: Role }[] },
): Promise<{ id: number; name: string; role: Role | null; token: string }> {
  const issued = await new UserStore(pool).create({ name: user.name, globalRole: user.role ?? null, email: user.email, expiresAt: user.expiresAt, grants: user.grants }, 'api');
  return { id: issued.id, name: issued.name, role: issued.globalRole, token: issued.token };
}

/** The caller an Authorization header belongs to; 401 when it is missing, malformed, unknown, revoked or expired. */
export async function authenticate(pool: Pool, authorization: string | undefined): Promise<Caller> {
  const token = bearerToken(authorization);
  if (!token) throw unauthorized();
  const found = await new UserStore(pool).lookupToken(token);
  if (!found.ok) throw unauthorized(found.why === 'expired' ? 'the API token has expired; ask an admin to rotate it' : 'unknown or revoked API token');
  return found.owner;
}
