/**
 * Logs per account (issue 12): a viewer of A reads and downloads only A's lines (the gzip decoded and
 * checked line by line), never B's nor the lines of no account (the gateway's, which name other users);
 * asking for B is 403; a global viewer sees everything; only `maxConcurrent` downloads stream at once.
 */
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { ObjectId } from 'mongodb';
import type { Client, Connection } from '@temporalio/client';
import { createPool, type Pool } from '../../db/pool';
import { LOG_COLLECTION, type LogDoc } from '../../logging/mongo-sink';
import { TEST_ENV, uniqueAccount } from '../support/env';
import { temporalClient } from '../support/harness';
import { json, startTestGateway, type TestGateway } from './support';

let pool: Pool;
let client: Client;
let connection: Connection;
let gw: TestGateway;
const A = uniqueAccount('lga');
const B = uniqueAccount('lgb');
const T0 = Date.UTC(2026, 1, 2, 8, 0, 0);
const SERVICE = uniqueAccount('lgsvc');
const RANGE = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 3_600_000).toISOString()}`;
let viewerA: { name: string; token: string };

const doc = (i: number, account: string | undefined, msg: string): LogDoc =>
  ({ _id: new ObjectId(), time: new Date(T0 + i * 1000), level: 30, levelName: 'info', service: SERVICE, ...(account ? { account } : {}), msg }) as LogDoc;

beforeAll(async () => {
  pool = createPool(TEST_ENV.MYSQL_URL);
  ({ client, connection } = await temporalClient());
  gw = await startTestGateway({ client, pool }, { logDownload: { maxConcurrent: 1 } });
  viewerA = await gw.user('lg_va', { grants: [{ account: A, role: 'viewer' }] });
  const docs = [
    ...Array.from({ length: 30 }, (_, i) => doc(i, i % 3 === 0 ? B : A, `line ${i} of ${i % 3 === 0 ? B : A}`)),
    // Lines of no account: the gateway's own, naming other users.
    doc(40, undefined, 'api command by mallory on another account'),
    doc(41, undefined, 'user eve created'),
  ];
  await gw.mongoDb.collection<LogDoc>(LOG_COLLECTION).insertMany(docs);
});

afterAll(async () => {
  await gw?.mongoDb.collection(LOG_COLLECTION).deleteMany({ service: SERVICE });
  await gw?.close();
  await connection?.close();
  await pool?.end();
});

const lines = (body: Buffer) => gunzipSync(body).toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { account?: string; msg: string });

test("a viewer of A downloads only A's lines, with or without naming the account; B is 403", async () => {
  for (const q of [`account=${A}&${RANGE}`, RANGE]) {
    const res = await gw.call(null, 'GET', `/logs/download?${q}`, undefined, viewerA.token);
    expect([q, res.statusCode]).toEqual([q, 200]);
    const got = lines(res.body).filter((l) => l.msg.startsWith('line') || !l.account || l.account === B);
    // Line by line: every one is A's, and all 20 of A's are there in order.
    for (const l of got) expect([l.msg, l.account]).toEqual([l.msg, A]);
    expect(got.map((l) => l.msg)).toEqual(Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 3 !== 0).map((i) => `line ${i} of ${A}`));
  }
  const page = json(await gw.call(null, 'GET', `/logs?limit=1000&${RANGE}`, undefined, viewerA.token)).logs as { account?: string }[];
  expect(page.length).toBeGreaterThanOrEqual(20);
  expect(new Set(page.map((l) => l.account))).toEqual(new Set([A]));
  for (const url of [`/logs/download?account=${B}&${RANGE}`, `/logs?account=${B}`]) {
    const res = await gw.call(null, 'GET', url, undefined, viewerA.token);
    expect([url, res.statusCode]).toEqual([url, 403]);
  }
});

test('a global viewer sees every line of the range, those of no account included', async () => {
  const res = await gw.call('viewer', 'GET', `/logs/download?${RANGE}`);
  const mine = lines(res.body).filter((l) => [A, B, undefined].includes(l.account) && /^(line|api command|user eve)/.test(l.msg));
  expect(mine.filter((l) => !l.account).map((l) => l.msg)).toEqual(['api command by mallory on another account', 'user eve created']);
  expect(mine.filter((l) => l.account === B)).toHaveLength(10);
});

test('only maxConcurrent downloads stream at once: one more is 429 until the first has finished', async () => {
  const big = uniqueAccount('lgbig');
  const coll = gw.mongoDb.collection<LogDoc>(LOG_COLLECTION);
  await coll.insertMany(Array.from({ length: 20_000 }, (_, i) => ({ ...doc(0, big, `bulk ${i} ${'x'.repeat(300)}`), _id: new ObjectId(), time: new Date(T0 + i) })));
  try {
    const base = `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`;
    const headers = { authorization: `Bearer ${gw.tokens.viewer}` };
    const abort = new AbortController();
    // Headers in, body left unread: the download is still streaming (held back by the unread socket).
    const first = await fetch(`${base}/logs/download?account=${big}&${RANGE}`, { headers, signal: abort.signal });
    expect(first.status).toBe(200);
    const second = await gw.call('viewer', 'GET', `/logs/download?account=${big}&${RANGE}`);
    expect(second.statusCode).toBe(429);
    expect(json(second)).toMatchObject({ error: 'too_many_downloads', message: expect.stringContaining('at most 1') });
    abort.abort();
    let third = 0;
    for (let i = 0; i < 50 && third !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      third = (await gw.call('viewer', 'GET', `/logs/download?account=${A}&${RANGE}`)).statusCode;
    }
    expect(third).toBe(200);
  } finally {
    await coll.deleteMany({ account: big });
  }
});
