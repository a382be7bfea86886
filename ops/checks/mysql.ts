import mysql from 'mysql2/promise';
import { redactUrl } from '../../config/env';
import { errorText, evaluate, secondsSince, thresholds, type CheckResult } from './plugin';

export interface MysqlCheckOptions {
  url: string;
  /** Thresholds on the connect + `SELECT 1` time, in seconds. */
  warning?: string;
  critical?: string;
  connectTimeoutMs?: number;
}

/** MySQL/MariaDB: connect and `SELECT 1`; CRITICAL when either fails, thresholds on the time it took. */
export async function checkMysql(opts: MysqlCheckOptions): Promise<CheckResult> {
  const t = thresholds(opts);
  const url = new URL(opts.url);
  const where = `${url.hostname}:${url.port || 3306}`;
  const started = Date.now();
  let conn: mysql.Connection | undefined;
  try {
    conn = await mysql.createConnection({
      host: url.hostname,
      port: url.port ? Number(url.port) : 3306,
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      connectTimeout: opts.connectTimeoutMs ?? 5_000,
    });
    const connectS = secondsSince(started);
    const [rows] = await conn.query('SELECT 1 AS one');
    const totalS = secondsSince(started);
    if ((rows as { one: number }[])[0]?.one !== 1) {
      return { status: 'CRITICAL', message: `SELECT 1 on ${where} returned ${JSON.stringify(rows)}`, perfdata: [] };
    }
    const status = evaluate(totalS, t);
    return {
      status,
      message: `connected to ${where} in ${connectS.toFixed(3)} s, SELECT 1 in ${(totalS - connectS).toFixed(3)} s`,
      perfdata: [
        { label: 'connect_time', value: connectS, uom: 's', min: 0 },
        { label: 'time', value: totalS, uom: 's', warning: t.warning, critical: t.critical, min: 0 },
      ],
    };
  } catch (err) {
    return {
      status: 'CRITICAL',
      message: `cannot reach MySQL at ${redactUrl(opts.url)}: ${errorText(err)}`,
      perfdata: [{ label: 'time', value: secondsSince(started), uom: 's', warning: t.warning, critical: t.critical, min: 0 }],
    };
  } finally {
    await conn?.end().catch(() => undefined);
  }
}
