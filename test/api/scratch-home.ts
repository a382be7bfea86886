import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { ROOT, TEST_ENV } from '../support/env';

/**
 * A private copy of `maohome` (every migration of db/migrations/maohome applied to a fresh schema), for
 * tests that need an empty users table (bootstrap-admin) while other tests share `maohome`.
 */
export async function createScratchHome(): Promise<{ schema: string; drop(): Promise<void> }> {
  // Under the `mt_%` pattern, so the application user's restricted grants (maohome, maodata, maopaper,
  // mt_%) cover it: the name of an account that cannot exist (account ids are at most 20 characters).
  const schema = `mt_zz_scratch_home_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  const url = new URL(TEST_ENV.MYSQL_URL);
  const conn = await mysql.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    multipleStatements: true,
  });
  try {
    await conn.query(`CREATE DATABASE \`${schema}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await conn.query(`USE \`${schema}\``);
    const dir = path.join(ROOT, 'db', 'migrations', 'maohome');
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
      await conn.query(fs.readFileSync(path.join(dir, file), 'utf8'));
    }
  } finally {
    await conn.end();
  }
  return {
    schema,
    async drop() {
      const c = await mysql.createConnection({ host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) });
      await c.query(`DROP DATABASE IF EXISTS \`${schema}\``);
      await c.end();
    },
  };
}
