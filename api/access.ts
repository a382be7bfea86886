import { atLeast, maxRole, roleRank, type Role } from './roles';
import { forbidden } from './errors';

/**
 * Who is calling and what they may do: a global role (every account) and a role per account. The role
 * on an account is the higher of the two. Read fresh from the database on every request (api/auth.ts).
 */
export interface Caller {
  readonly id: number;
  readonly name: string;
  readonly globalRole: Role | null;
  readonly grants: ReadonlyMap<string, Role>;
}

export function roleOn(caller: Caller, account: string): Role | null {
  return maxRole(caller.globalRole, caller.grants.get(account));
}

/** The highest role the caller holds anywhere. */
export function highestRole(caller: Caller): Role | null {
  let best = caller.globalRole;
  for (const r of caller.grants.values()) if (roleRank(r) > roleRank(best)) best = r;
  return best;
}

/** 403 unless the caller holds `needed` on `account`. */
export function requireOn(caller: Caller, account: string, needed: Role): void {
  const has = roleOn(caller, account);
  if (!atLeast(has, needed)) {
    throw forbidden(`this needs the ${needed} role on account "${account}"; user "${caller.name}" ${has ? `is a ${has} there` : 'has no grant on it'}`);
  }
}

/** 403 unless the caller holds `needed` globally. */
export function requireGlobal(caller: Caller, needed: Role): void {
  if (!atLeast(caller.globalRole, needed)) {
    throw forbidden(`this needs the global ${needed} role; user "${caller.name}" ${caller.globalRole ? `is a global ${caller.globalRole}` : 'has no global role'}`);
  }
}

/** 403 unless the caller holds `needed` on at least one account (the route then narrows to those). */
export function requireSomewhere(caller: Caller, needed: Role): void {
  if (!atLeast(highestRole(caller), needed)) {
    throw forbidden(`this needs the ${needed} role on at least one account; user "${caller.name}" has none`);
  }
}

/** The accounts the caller holds `needed` on: 'all' with that global role, else the granted ones. */
export function accountsWith(caller: Caller, needed: Role): 'all' | string[] {
  if (atLeast(caller.globalRole, needed)) return 'all';
  return [...caller.grants].filter(([, r]) => atLeast(r, needed)).map(([a]) => a).sort();
}

/** Whether the caller holds an explicit (per-account, not global) admin grant on the account. */
export const hasAccountAdminGrant = (caller: Caller, account: string): boolean => caller.grants.get(account) === 'admin';
