import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { Umzug, type UmzugStorage } from 'umzug';
import { accountSchema } from './pool';

/** The schema families; `account` is the template of every `mt_<account>` schema. */
export type SchemaKind = 'maohome' | 'maodata' | 'maopaper' | 'account';

const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

type Conn = mysql.Connection;

/** Applied migrations are recorded per schema in `schema_migrations`, so each schema versions itself. */
class MysqlMigrationStorage implements UmzugStorage<Conn> {
  constructor(private readonly conn: Conn) {}
  private async ensure(): Promise<void> {
    await this.conn.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR(190) PRIMARY KEY, applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))',
    );
  }
  async logMigration({ name }: { name: string }): Promise<void> {
    await this.ensure();
    await this.conn.query('INSERT IGNORE INTO schema_migrations (name) VALUES (?)', [name]);
  }
  async unlogMigration({ name }: { name: string }): Promise<void> {
    await this.ensure();
    await this.conn.query('DELETE FROM schema_migrations WHERE name = ?', [name]);
  }
  async executed(): Promise<string[]> {
    await this.ensure();
    const [rows] = await this.conn.query('SELECT name FROM schema_migrations ORDER BY name');
    return (rows as { name: string }[]).map((r) => r.name);
  }
}

function migrationsOf(kind: SchemaKind) {
  const dir = path.join(MIGRATIONS_DIR, kind);
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      name: file,
      up: async ({ context }: { context: Conn }) => {
        await context.query(fs.readFileSync(path.join(dir, file), 'utf8'));
      },
    }));
}

export function schemaName(kind: SchemaKind, account?: string): string {
  if (kind === 'account') {
    if (!account) throw new Error('an account schema needs an account id');
    return accountSchema(account);
  }
  return kind;
}

/**
 * Brings one schema to its latest version. Safe to run concurrently from several processes:
 * a named MySQL lock serialises migrators of the same schema.
 */
export async function migrateSchema(mysqlUrl: string, kind: SchemaKind, account?: string): Promise<string[]> {
  const schema = schemaName(kind, account);
  const url = new URL(mysqlUrl);
  const conn = await mysql.createConnection({
    host: url.hostname,
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    multipleStatements: true,
  });
  try {
    const [lock] = await conn.query('SELECT GET_LOCK(?, 60) AS got', [`maotrade_migrate_${schema}`]);
    if ((lock as { got: number }[])[0]?.got !== 1) throw new Error(`could not take the migration lock of ${schema}`);
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${schema}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    // USE, not changeUser: a change-user resets the session and would drop the named lock.
    await conn.query(`USE \`${schema}\``);
    const umzug = new Umzug<Conn>({
      migrations: migrationsOf(kind),
      context: conn,
      storage: new MysqlMigrationStorage(conn),
      logger: undefined,
    });
    const applied = await umzug.up();
    return applied.map((m) => m.name);
  } finally {
    await conn.query('SELECT RELEASE_LOCK(?)', [`maotrade_migrate_${schema}`]).catch(() => undefined);
    await conn.end();
  }
}

/** The shared schemas every process needs. */
export async function migrateShared(mysqlUrl: string): Promise<void> {
  for (const kind of ['maohome', 'maodata', 'maopaper'] as const) await migrateSchema(mysqlUrl, kind);
}
