import mysql from 'mysql2/promise';

/** A schema name the engine builds from an account id; account ids are validated to keep this a safe identifier. */
export function accountSchema(account: string): string {
  if (!/^[a-z][a-z0-9_]{0,19}$/.test(account)) throw new Error(`account id "${account}" is not a valid account id`);
  return `mt_${account}`;
}

/**
 * One pool per process and per MySQL URL. DECIMAL columns come back as numbers (prices and
 * quantities fit in a double at the precisions we store), dates as epoch-ms BIGINTs.
 */
export function createPool(mysqlUrl: string, opts: { database?: string; connectionLimit?: number } = {}): mysql.Pool {
  const url = new URL(mysqlUrl);
  return mysql.createPool({
    host: url.hostname,
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: opts.database ?? (url.pathname.replace(/^\//, '') || undefined),
    connectionLimit: opts.connectionLimit ?? 10,
    decimalNumbers: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    multipleStatements: false,
    timezone: 'Z',
  });
}

export type Pool = mysql.Pool;
