import { MongoClient } from 'mongodb';
import { redactUrl } from '../../config/env';
import { errorText, evaluate, secondsSince, thresholds, type CheckResult } from './plugin';

export interface MongoCheckOptions {
  url: string;
  /** Thresholds on the connect + ping time, in seconds. */
  warning?: string;
  critical?: string;
  serverSelectionTimeoutMs?: number;
}

/** MongoDB (FerretDB locally): `ping`; CRITICAL when it fails, thresholds on the time it took. */
export async function checkMongo(opts: MongoCheckOptions): Promise<CheckResult> {
  const t = thresholds(opts);
  const started = Date.now();
  const timeout = opts.serverSelectionTimeoutMs ?? 5_000;
  const client = new MongoClient(opts.url, {
    serverSelectionTimeoutMS: timeout,
    connectTimeoutMS: timeout,
    appName: 'maotrade-check',
  });
  try {
    await client.connect();
    const reply = await client.db('admin').command({ ping: 1 });
    const totalS = secondsSince(started);
    if (Number(reply.ok) !== 1) return { status: 'CRITICAL', message: `ping answered ${JSON.stringify(reply)}`, perfdata: [] };
    return {
      status: evaluate(totalS, t),
      message: `ping ok on ${redactUrl(opts.url)} in ${totalS.toFixed(3)} s`,
      perfdata: [{ label: 'time', value: totalS, uom: 's', warning: t.warning, critical: t.critical, min: 0 }],
    };
  } catch (err) {
    return {
      status: 'CRITICAL',
      message: `cannot reach MongoDB at ${redactUrl(opts.url)}: ${errorText(err)}`,
      perfdata: [{ label: 'time', value: secondsSince(started), uom: 's', warning: t.warning, critical: t.critical, min: 0 }],
    };
  } finally {
    await client.close().catch(() => undefined);
  }
}
