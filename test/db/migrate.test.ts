import { migrateSchema, schemaName } from '../../db/migrate';
import { createPool, type Pool } from '../../db/pool';
import { ROOT, TEST_ENV, uniqueAccount } from '../support/env';
import fs from 'node:fs';
import path from 'node:path';

const ACCOUNT_TABLES = ['control_events', 'equity', 'fills', 'orders', 'order_events', 'positions', 'risk_refusals', 'schema_migrations', 'system_states', 'trades', 'working_orders'];
const ACCOUNT_MIGRATIONS = ['001_init.sql', '002_risk.sql', '003_order_lifecycle.sql'];

let pool: Pool;
const created: string[] = [];

beforeAll(() => {
  pool = createPool(TEST_ENV.MYSQL_URL);
});

afterAll(async () => {
  for (const schema of created) await pool.query(`DROP DATABASE IF EXISTS \`${schema}\``);
  await pool?.end();
});

function fresh(prefix: string): string {
  const account = uniqueAccount(prefix);
  created.push(`mt_${account}`);
  return account;
}

async function tablesOf(schema: string): Promise<string[]> {
  const [rows] = await pool.query(
    'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name',
    [schema],
  );
  return (rows as { t: string }[]).map((r) => r.t);
}

async function applied(schema: string): Promise<string[]> {
  const [rows] = await pool.query(`SELECT name FROM \`${schema}\`.schema_migrations ORDER BY name`);
  return (rows as { name: string }[]).map((r) => r.name);
}

describe('migrateSchema (account)', () => {
  it('creates mt_<account> with every account table and records the migration', async () => {
    const account = fresh('mig');
    expect(schemaName('account', account)).toBe(`mt_${account}`);
    expect(await tablesOf(`mt_${account}`)).toEqual([]);

    await expect(migrateSchema(TEST_ENV.MYSQL_URL, 'account', account)).resolves.toEqual(ACCOUNT_MIGRATIONS);

    expect(await tablesOf(`mt_${account}`)).toEqual(ACCOUNT_TABLES);
    expect(await applied(`mt_${account}`)).toEqual(ACCOUNT_MIGRATIONS);
  });

  it('a second run applies nothing and keeps existing rows', async () => {
    const account = fresh('mig');
    const db = `mt_${account}`;
    await migrateSchema(TEST_ENV.MYSQL_URL, 'account', account);
    await pool.query(
      `INSERT INTO \`${db}\`.orders (client_order_id, seq, system_id, symbol, side, quantity, intent, status)
       VALUES ('${account}-000001', 1, 'ma', 'EURUSD', 'buy', 1, 'open', 'pending')`,
    );
    await pool.query(`INSERT INTO \`${db}\`.equity (ts, balance, realised_pnl, unrealised_pnl, equity) VALUES (1, 100, 0, 0, 100)`);
    const [before] = await pool.query(`SELECT * FROM \`${db}\`.orders`);

    await expect(migrateSchema(TEST_ENV.MYSQL_URL, 'account', account)).resolves.toEqual([]);
    await expect(migrateSchema(TEST_ENV.MYSQL_URL, 'account', account)).resolves.toEqual([]);

    const [after] = await pool.query(`SELECT * FROM \`${db}\`.orders`);
    expect(after).toEqual(before);
    expect(after).toHaveLength(1);
    const [equity] = await pool.query(`SELECT ts, balance FROM \`${db}\`.equity`);
    expect(equity).toEqual([{ ts: 1, balance: 100 }]);
    expect(await applied(db)).toEqual(ACCOUNT_MIGRATIONS);
  });

  it('an account schema of an earlier version (001 only) is brought to the latest, keeping its rows', async () => {
    const account = fresh('migu');
    const db = `mt_${account}`;
    await migrateSchema(TEST_ENV.MYSQL_URL, 'account', account);
    // Back to what a session of the previous release left: 001 applied, nothing of 002.
    await pool.query(`DROP TABLE \`${db}\`.risk_refusals, \`${db}\`.control_events, \`${db}\`.working_orders`);
    await pool.query(`ALTER TABLE \`${db}\`.positions DROP COLUMN take_profit, DROP COLUMN trailing_stop`);
    await pool.query(`DELETE FROM \`${db}\`.schema_migrations WHERE name = '002_risk.sql'`);
    await pool.query(
      `INSERT INTO \`${db}\`.positions (position_ref, system_id, symbol, side, quantity, entry_price, stop_level, opened_at) VALUES ('p1', 'ma', 'EURUSD', 'long', 1, 1.1, 1.09, 5)`,
    );

    await expect(migrateSchema(TEST_ENV.MYSQL_URL, 'account', account)).resolves.toEqual(['002_risk.sql']);
    expect(await tablesOf(db)).toEqual(ACCOUNT_TABLES);
    const [rows] = await pool.query(`SELECT position_ref, stop_level, take_profit, trailing_stop, status FROM \`${db}\`.positions`);
    expect(JSON.parse(JSON.stringify(rows))).toEqual([{ position_ref: 'p1', stop_level: 1.09, take_profit: null, trailing_stop: null, status: 'open' }]);
  });

  it('two concurrent migrations of the same new account both succeed and leave one complete schema', async () => {
    const account = fresh('migc');
    const results = await Promise.all([
      migrateSchema(TEST_ENV.MYSQL_URL, 'account', account),
      migrateSchema(TEST_ENV.MYSQL_URL, 'account', account),
    ]);
    expect(results).toHaveLength(2);
    for (const r of results) expect(r.every((name) => ACCOUNT_MIGRATIONS.includes(name))).toBe(true);
    expect(await tablesOf(`mt_${account}`)).toEqual(ACCOUNT_TABLES);
    expect(await applied(`mt_${account}`)).toEqual(ACCOUNT_MIGRATIONS);
    await expect(migrateSchema(TEST_ENV.MYSQL_URL, 'account', account)).resolves.toEqual([]);
  });

  it('concurrent migrations of the same new account are serialised by the lock: exactly one applies each migration', async () => {
    const account = fresh('migl');
    const results = await Promise.all(Array.from({ length: 5 }, () => migrateSchema(TEST_ENV.MYSQL_URL, 'account', account)));
    expect(results.flat()).toEqual(ACCOUNT_MIGRATIONS);
  });

  it.each(['Bad-Id', '1abc', 'a'.repeat(21), 'x;drop', ''])('rejects the account id %j, naming it, and creates nothing', async (bad) => {
    await expect(migrateSchema(TEST_ENV.MYSQL_URL, 'account', bad)).rejects.toThrow(
      bad ? `account id "${bad}" is not a valid account id` : 'an account schema needs an account id',
    );
    const [rows] = await pool.query('SELECT schema_name FROM information_schema.schemata WHERE schema_name = ?', [`mt_${bad}`]);
    expect(rows).toEqual([]);
  });

  it('rejects an account schema without an account id', async () => {
    await expect(migrateSchema(TEST_ENV.MYSQL_URL, 'account')).rejects.toThrow(/needs an account id/);
  });
});

describe('migrateSchema (shared schemas)', () => {
  it('maodata, maopaper and maohome are already at their latest version: re-running applies nothing', async () => {
    for (const kind of ['maohome', 'maodata', 'maopaper'] as const) {
      await expect(migrateSchema(TEST_ENV.MYSQL_URL, kind)).resolves.toEqual([]);
      // Every migration file of the schema, and nothing else, is recorded as applied.
      expect(await applied(kind)).toEqual(fs.readdirSync(path.join(ROOT, 'db', 'migrations', kind)).filter((f) => f.endsWith('.sql')).sort());
    }
    expect(await tablesOf('maodata')).toEqual(expect.arrayContaining(['candles', 'news', 'studies', 'schema_migrations']));
    expect(await tablesOf('maopaper')).toEqual(expect.arrayContaining(['accounts', 'orders', 'positions']));
  });
});
