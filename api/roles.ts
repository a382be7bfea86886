import { z } from 'zod';

/** Roles, per account or global: viewer (reads) < trader (commands) < admin (sessions, users, grants). */
export const ROLES = ['viewer', 'trader', 'admin'] as const;
export const RoleSchema = z.enum(ROLES, { errorMap: () => ({ message: 'role must be one of viewer, trader, admin' }) });
export type Role = z.infer<typeof RoleSchema>;

/** viewer < trader < admin; no role is -1. */
export const roleRank = (role: Role | null | undefined): number => (role ? ROLES.indexOf(role) : -1);

/** The higher of two roles (null when both are). */
export const maxRole = (a: Role | null | undefined, b: Role | null | undefined): Role | null =>
  roleRank(a) >= roleRank(b) ? (a ?? null) : (b ?? null);

export const atLeast = (role: Role | null | undefined, needed: Role): boolean => roleRank(role) >= roleRank(needed);
