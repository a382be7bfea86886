/**
 * Users, tokens and grants (issue 12) on real MariaDB, in a private copy of maohome: bootstrap-admin
 * only while no admin exists, tokens stored as SHA-256 only, rotate and revoke refuse the old token at
 * once (no cache), expiry, grants per account and owning an account as an admin grant.
 */
import { createHash } from 'node:crypto';
import { createPool, type Pool } from '../../db/pool';
import { UserStore } from '../../api/user-store';
import { AdminExistsError, RevokedUserError, UnknownUserError, UserExistsError } from '../../api/user-errors';
import { TEST_ENV } from '../support/env';
import { createScratchHome } from '../api/scratch-home';

let pool: Pool;
let scratch: Awaited<ReturnType<typeof createScratchHome>>;
let store: UserStore;

beforeAll(async () => {
  scratch = await createScratchHome();
  pool = createPool(TEST_ENV.MYSQL_URL);
  store = new UserStore(pool, scratch.schema);
});

afterAll(async () => {
  await scratch?.drop();
  await pool?.end();
});

const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const ownerOf = async (token: string) => {
  const r = await store.lookupToken(token);
  return r.ok ? { name: r.owner.name, globalRole: r.owner.globalRole, grants: Object.fromEntries(r.owner.grants) } : r.why;
};

test('bootstrap-admin creates the first global admin once; a second is refused; a revoked admin does not count', async () => {
  const first = await store.bootstrapAdmin('root_admin');
  expect(first).toMatchObject({ name: 'root_admin', globalRole: 'admin', expiresAt: null });
  expect(first.token).toMatch(/^mao_[A-Za-z0-9_-]{43}$/);
  expect(await ownerOf(first.token)).toEqual({ name: 'root_admin', globalRole: 'admin', grants: {} });
  await expect(store.bootstrapAdmin('second_admin')).rejects.toBeInstanceOf(AdminExistsError);
  // Two at once: exactly one wins (the named lock).
  await store.revoke('root_admin');
  const both = await Promise.allSettled([store.bootstrapAdmin('race_a'), store.bootstrapAdmin('race_b')]);
  expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  const [rows] = await pool.query(`SELECT name, token_hash FROM \`${scratch.schema}\`.users WHERE name = 'root_admin'`);
  expect(rows).toEqual([{ name: 'root_admin', token_hash: null }]);
});

test('create stores only the SHA-256; grants per account; the role on an account is read fresh on every lookup', async () => {
  const u = await store.create({ name: 'ann', grants: [{ account: 'acc_a', role: 'trader' }, { account: 'acc_b', role: 'viewer' }] }, 'test');
  const [rows] = await pool.query(`SELECT token_hash, role FROM \`${scratch.schema}\`.users WHERE name = 'ann'`);
  expect(rows).toEqual([{ token_hash: sha(u.token), role: null }]);
  expect(await ownerOf(u.token)).toEqual({ name: 'ann', globalRole: null, grants: { acc_a: 'trader', acc_b: 'viewer' } });
  await store.grant('ann', 'acc_b', 'admin', 'test');
  await store.grant('ann', null, 'viewer', 'test');
  expect(await store.ungrant('ann', 'acc_a')).toBe(true);
  expect(await store.ungrant('ann', 'acc_a')).toBe(false);
  expect(await ownerOf(u.token)).toEqual({ name: 'ann', globalRole: 'viewer', grants: { acc_b: 'admin' } });
  // Owning an account counts as an admin grant on it.
  await pool.query(`INSERT INTO \`${scratch.schema}\`.accounts (account, broker, owner_user_id) VALUES ('acc_own', 'paper', ?)`, [u.id]);
  expect(await ownerOf(u.token)).toMatchObject({ grants: { acc_b: 'admin', acc_own: 'admin' } });
  await expect(store.create({ name: 'ann' }, 'test')).rejects.toBeInstanceOf(UserExistsError);
  await expect(store.grant('nobody', 'acc_a', 'viewer', 'test')).rejects.toBeInstanceOf(UnknownUserError);
});

test('rotate: the old token is refused at once, the new one works; revoke refuses it at once; list holds no token', async () => {
  const u = await store.create({ name: 'bob', globalRole: 'trader' }, 'test');
  const r = await store.rotate('bob');
  expect(await ownerOf(u.token)).toBe('unknown');
  expect(await ownerOf(r.token)).toMatchObject({ name: 'bob', globalRole: 'trader' });
  await store.revoke('bob');
  expect(await ownerOf(r.token)).toBe('unknown');
  await expect(store.rotate('bob')).rejects.toBeInstanceOf(RevokedUserError);
  const listed = await store.list();
  expect(listed.find((x) => x.name === 'bob')).toMatchObject({ globalRole: 'trader', revokedAt: expect.any(Date) });
  expect(JSON.stringify(listed)).not.toMatch(/mao_|token_hash|[0-9a-f]{64}/);
});

test('an expired token is refused as expired; rotating with a new expiry makes it work again', async () => {
  const u = await store.create({ name: 'cid', globalRole: 'viewer', expiresAt: new Date(Date.now() + 1500) }, 'test');
  expect(await ownerOf(u.token)).toMatchObject({ name: 'cid' });
  await new Promise((res) => setTimeout(res, 1700));
  expect(await ownerOf(u.token)).toBe('expired');
  const r = await store.rotate('cid', new Date(Date.now() + 3_600_000));
  expect(await ownerOf(r.token)).toMatchObject({ name: 'cid' });
  expect((await store.get('cid')).tokenExpiresAt?.getTime()).toBe(r.expiresAt?.getTime());
});
