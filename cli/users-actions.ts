import Table from 'cli-table3';
import { AccountIdSchema } from '../config/session-config';
import type { AuditStore } from '../api/audit';
import { RoleSchema, type Role } from '../api/roles';
import { parseExpiry } from '../api/token-expiry';
import { UserStoreError } from '../api/user-errors';
import { UserNameSchema } from '../api/user-name';
import type { Grant, IssuedToken, UserInfo, UserStore } from '../api/user-store';
import { plainStyle } from './settings';

/**
 * `maotrade users ...`: what each subcommand does, over the user store and the audit trail, as text
 * lines and an exit code. A token is printed once (create, bootstrap-admin, rotate) and goes nowhere
 * else: not to the audit trail, not to a log. Bad input names the option and why (exit 2); a refusal
 * of the store (unknown user, admin exists, ...) is exit 1.
 */

export interface UsersContext {
  readonly users: UserStore;
  readonly audit: AuditStore;
  /** Who runs the command (the OS user, or --by), recorded in the audit trail. */
  readonly by: string;
}

export interface Outcome {
  readonly code: number;
  readonly stdout: string[];
  readonly stderr: string[];
}

/** Bad command-line input: the option and why. */
export class UsersInputError extends Error {
  constructor(
    readonly option: string,
    reason: string,
  ) {
    super(`${option}: ${reason}`);
    this.name = 'UsersInputError';
  }
}

const parse = <T>(option: string, r: { success: true; data: T } | { success: false; error: { issues: { message: string }[] } }): T => {
  if (!r.success) throw new UsersInputError(option, r.error.issues[0].message);
  return r.data;
};
export const userName = (v: string) => parse('name', UserNameSchema.safeParse(v));
export const roleOption = (v: string, option = '--role') => parse(option, RoleSchema.safeParse(v));
export const accountOption = (v: string) => parse('--account', AccountIdSchema.safeParse(v));

export function expiryOption(v: string | undefined): Date | null {
  if (v === undefined) return null;
  const r = parseExpiry(v);
  if (typeof r === 'string') throw new UsersInputError('--expires', r);
  return r;
}

/** `--grant account=role`, repeatable. */
export function grantOptions(values: readonly string[] = []): Grant[] {
  return values.map((v) => {
    const m = /^([^=]+)=(.+)$/.exec(v);
    if (!m) throw new UsersInputError('--grant', `expected account=role, got "${v}"`);
    return { account: accountOption(m[1]), role: roleOption(m[2], '--grant') };
  });
}

const tokenLines = (t: IssuedToken): string[] => [
  `user ${t.name}${t.globalRole ? ` (global ${t.globalRole})` : ''}${t.expiresAt ? `, token expires ${t.expiresAt.toISOString()}` : ''}`,
  `token: ${t.token}`,
  'This token is shown once and stored only as its SHA-256: keep it now (Authorization: Bearer <token>).',
];

/** Runs one subcommand: its outcome, recorded in the audit trail with the account it concerns. */
async function run(ctx: UsersContext, command: string, account: string | null, fn: () => Promise<string[]>): Promise<Outcome> {
  const record = (outcome: 'ok' | 'refused' | 'failed', detail: string | null) =>
    ctx.audit.record({ userId: null, userName: ctx.by.slice(0, 100), via: 'cli', route: `maotrade users ${command}`, command, account, outcome, detail });
  try {
    const stdout = await fn();
    await record('ok', null);
    return { code: 0, stdout, stderr: [] };
  } catch (err) {
    if (err instanceof UserStoreError) {
      await record('refused', err.message);
      return { code: 1, stdout: [], stderr: [`maotrade users ${command}: ${err.message}`] };
    }
    throw err;
  }
}

export const bootstrapAdmin = (ctx: UsersContext, o: { name: string; email?: string; expires?: Date | null }) =>
  run(ctx, 'bootstrap-admin', null, async () => tokenLines(await ctx.users.bootstrapAdmin(o.name, o.email, o.expires ?? null)));

export const createUserCommand = (ctx: UsersContext, o: { name: string; role?: Role; email?: string; expires?: Date | null; grants?: Grant[] }) =>
  run(ctx, 'create', null, async () => {
    const t = await ctx.users.create({ name: o.name, globalRole: o.role ?? null, email: o.email, expiresAt: o.expires ?? null, grants: o.grants }, ctx.by);
    return [...tokenLines(t), ...(o.grants ?? []).map((g) => `granted ${g.role} on ${g.account}`)];
  });

export const grantCommand = (ctx: UsersContext, name: string, role: Role, account: string | null) =>
  run(ctx, 'grant', account, async () => {
    await ctx.users.grant(name, account, role, ctx.by);
    return [`${name}: ${account ? `${role} on account ${account}` : `global ${role}`}`];
  });

/** Without an account or --global: revokes the user (its token is refused at once); else takes back that grant. */
export const revokeCommand = (ctx: UsersContext, name: string, what: { account?: string; global?: boolean }) =>
  run(ctx, 'revoke', what.account ?? null, async () => {
    if (!what.account && !what.global) {
      await ctx.users.revoke(name);
      return [`${name}: revoked; its token is refused from now on`];
    }
    const removed = await ctx.users.ungrant(name, what.account ?? null);
    const which = what.account ? `grant on account ${what.account}` : 'global role';
    return [`${name}: ${removed ? `${which} taken back` : `had no ${which}`}`];
  });

export const rotateCommand = (ctx: UsersContext, name: string, expires: Date | null) =>
  run(ctx, 'rotate', null, async () => [...tokenLines(await ctx.users.rotate(name, expires)), 'The previous token is refused from now on.']);

export function usersTable(users: readonly UserInfo[]): string {
  const table = new Table({ style: plainStyle(), head: ['name', 'global role', 'grants', 'token expires', 'revoked'] });
  for (const u of users) {
    table.push([
      u.name,
      u.globalRole ?? '-',
      u.grants.map((g) => `${g.account}:${g.role}`).join(' ') || '-',
      u.tokenExpiresAt ? new Date(u.tokenExpiresAt).toISOString() : 'never',
      u.revokedAt ? new Date(u.revokedAt).toISOString() : '-',
    ]);
  }
  return table.toString();
}

export const listCommand = (ctx: UsersContext, json: boolean) =>
  run(ctx, 'list', null, async () => {
    const users = await ctx.users.list();
    return [json ? JSON.stringify(users, null, 2) : usersTable(users)];
  });
