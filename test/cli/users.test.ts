/**
 * `maotrade users ...` (issue 12): bootstrap-admin prints the token once and refuses when an admin
 * exists; create, grant, rotate (old token refused at once), revoke, expire; every subcommand lands in
 * the audit trail without its token; bad input names the option. The subcommands run in-process on a
 * private copy of maohome; the real CLI process runs against the shared maohome.
 */
import { createPool, type Pool } from '../../db/pool';
import { AuditStore } from '../../api/audit';
import { UserStore } from '../../api/user-store';
import {
  UsersInputError,
  bootstrapAdmin,
  createUserCommand,
  expiryOption,
  grantCommand,
  grantOptions,
  listCommand,
  revokeCommand,
  rotateCommand,
  type UsersContext,
} from '../../cli/users-actions';
import { createUser } from '../../api/auth';
import { TEST_ENV, uniqueAccount } from '../support/env';
import { createScratchHome } from '../api/scratch-home';
import { cli } from './run-cli';

let pool: Pool;
let scratch: Awaited<ReturnType<typeof createScratchHome>>;
let ctx: UsersContext;

beforeAll(async () => {
  scratch = await createScratchHome();
  pool = createPool(TEST_ENV.MYSQL_URL);
  ctx = { users: new UserStore(pool, scratch.schema), audit: new AuditStore(pool, scratch.schema), by: 'ops_alice' };
});

afterAll(async () => {
  await scratch?.drop();
  await pool?.end();
});

const tokenOf = (lines: readonly string[]) => lines.map((l) => /^token: (mao_\S+)$/.exec(l)?.[1]).find(Boolean) as string;
const works = async (token: string) => (await ctx.users.lookupToken(token)).ok;

test('bootstrap, create, grant, rotate, revoke, expire; the audit trail has each command and never a token', async () => {
  const boot = await bootstrapAdmin(ctx, { name: 'first_admin' });
  expect(boot.code).toBe(0);
  const adminToken = tokenOf(boot.stdout);
  expect(boot.stdout.filter((l) => l.includes(adminToken))).toHaveLength(1); // printed once
  expect(boot.stdout.join('\n')).toMatch(/shown once/);
  expect(await works(adminToken)).toBe(true);
  const again = await bootstrapAdmin(ctx, { name: 'second_admin' });
  expect(again).toMatchObject({ code: 1, stdout: [] });
  expect(again.stderr.join('')).toMatch(/an admin exists already/);

  const created = await createUserCommand(ctx, { name: 'tr_bob', grants: grantOptions(['acc_a=trader']), expires: expiryOption('30d') });
  expect(created.code).toBe(0);
  const bob = tokenOf(created.stdout);
  expect(created.stdout).toContain('granted trader on acc_a');
  expect((await grantCommand(ctx, 'tr_bob', 'viewer', 'acc_b')).code).toBe(0);
  const lookup = await ctx.users.lookupToken(bob);
  expect(lookup.ok && Object.fromEntries(lookup.owner.grants)).toEqual({ acc_a: 'trader', acc_b: 'viewer' });

  const rotated = await rotateCommand(ctx, 'tr_bob', null);
  const bob2 = tokenOf(rotated.stdout);
  expect([await works(bob), await works(bob2)]).toEqual([false, true]);
  expect((await revokeCommand(ctx, 'tr_bob', { account: 'acc_b' })).stdout).toEqual(['tr_bob: grant on account acc_b taken back']);
  expect((await revokeCommand(ctx, 'tr_bob', {})).code).toBe(0);
  expect(await works(bob2)).toBe(false);
  expect((await rotateCommand(ctx, 'tr_bob', null)).code).toBe(1); // revoked: create a new user instead

  await ctx.users.create({ name: 'short_lived', globalRole: 'viewer', expiresAt: new Date(Date.now() + 1000) }, 'test');
  const short = tokenOf((await rotateCommand(ctx, 'short_lived', new Date(Date.now() + 1000))).stdout);
  await new Promise((r) => setTimeout(r, 1200));
  expect(await ctx.users.lookupToken(short)).toEqual({ ok: false, why: 'expired' });

  const list = await listCommand(ctx, true);
  const listed = JSON.parse(list.stdout[0]) as { name: string }[];
  expect(listed.map((u) => u.name)).toEqual(['first_admin', 'short_lived', 'tr_bob']);

  const audit = await ctx.audit.query({ limit: 100 });
  expect(audit.map((a) => [a.via, a.command, a.userName, a.outcome]).reverse()).toEqual([
    ['cli', 'bootstrap-admin', 'ops_alice', 'ok'],
    ['cli', 'bootstrap-admin', 'ops_alice', 'refused'],
    ['cli', 'create', 'ops_alice', 'ok'],
    ['cli', 'grant', 'ops_alice', 'ok'],
    ['cli', 'rotate', 'ops_alice', 'ok'],
    ['cli', 'revoke', 'ops_alice', 'ok'],
    ['cli', 'revoke', 'ops_alice', 'ok'],
    ['cli', 'rotate', 'ops_alice', 'refused'],
    ['cli', 'rotate', 'ops_alice', 'ok'],
    ['cli', 'list', 'ops_alice', 'ok'],
  ]);
  expect(audit.find((a) => a.command === 'grant')?.account).toBe('acc_b');
  expect(JSON.stringify(audit)).not.toMatch(/mao_/);
});

test('bad input names the option and why', () => {
  expect(() => grantOptions(['acc_a'])).toThrow(new UsersInputError('--grant', 'expected account=role, got "acc_a"'));
  expect(() => grantOptions(['acc_a=boss'])).toThrow(/--grant: role must be one of viewer, trader, admin/);
  expect(() => grantOptions(['Bad Account=viewer'])).toThrow(/^--account: /);
  expect(() => expiryOption('tomorrow')).toThrow(/--expires: expected a duration/);
  expect(() => expiryOption('2020-01-01T00:00:00Z')).toThrow('--expires: must be in the future');
});

describe('the real CLI process', () => {
  const names: string[] = [];
  afterAll(async () => {
    if (names.length === 0) return;
    await pool.query('DELETE FROM maohome.account_grants WHERE user_id IN (SELECT id FROM maohome.users WHERE name IN (?))', [names]);
    await pool.query('DELETE FROM maohome.users WHERE name IN (?)', [names]);
  });

  test('bootstrap-admin refuses (exit 1) when an admin exists; create prints a token once; list never prints one', async () => {
    const admin = uniqueAccount('u_cliadm');
    names.push(admin);
    await createUser(pool, { name: admin, role: 'admin' });
    const boot = await cli(['users', 'bootstrap-admin', '--name', uniqueAccount('u_never')]);
    expect(boot.code).toBe(1);
    expect(boot.stderr).toMatch(/an admin exists already/);
    expect(boot.stdout).toBe('');

    const name = uniqueAccount('u_clinew');
    names.push(name);
    const created = await cli(['users', 'create', name, '--grant', 'acc_x=viewer', '--expires', '12h', '--by', 'ops_test']);
    expect(created.code).toBe(0);
    expect(created.stdout.match(/mao_[A-Za-z0-9_-]{43}/g)).toHaveLength(1);
    const list = await cli(['users', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).find((u: { name: string }) => u.name === name)).toMatchObject({ globalRole: null, grants: [{ account: 'acc_x', role: 'viewer' }] });
    expect(list.stdout).not.toMatch(/mao_[A-Za-z0-9_-]{43}/);

    const bad = await cli(['users', 'grant', name, 'viewer']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--account: give exactly one of --account <id> or --global/);
  });
});
