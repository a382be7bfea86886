/**
 * Logs through the gateway (invariant 9): `GET /logs` pages MongoDB `maologs.logs` by account, least
 * level and time; `GET /logs/download` streams every matching document as gzip-compressed NDJSON that
 * decompresses to exactly the stored documents. Known documents with a unique account are inserted first.
 */
import { gunzipSync } from 'node:zlib';
import { ObjectId } from 'mongodb';
import type { Client, Connection } from '@temporalio/client';
import { createPool, type Pool } from '../../db/pool';
import { LOG_COLLECTION, type LogDoc } from '../../logging/mongo-sink';
import { TEST_ENV, uniqueAccount } from '../support/env';
import { temporalClient } from '../support/harness';
import { createdTokens, json, linesWithSecrets, startTestGateway, type TestGateway } from './support';

let pool: Pool;
let client: Client;
let connection: Connection;
let gw: TestGateway;
const account = uniqueAccount('gwlogs');
const other = uniqueAccount('gwlogx');
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const LEVEL_NAMES: Record<number, string> = { 20: 'debug', 30: 'info', 40: 'warn', 50: 'error' };
let docs: LogDoc[];

beforeAll(async () => {
  pool = createPool(TEST_ENV.MYSQL_URL);
  ({ client, connection } = await temporalClient());
  gw = await startTestGateway({ client, pool });
  // 40 lines of this account, one a second, cycling through the levels; 5 of another account in between.
  const levels = [20, 30, 40, 50];
  docs = Array.from({ length: 40 }, (_, i) => ({
    _id: new ObjectId(),
    time: new Date(T0 + i * 1000),
    level: levels[i % 4],
    levelName: LEVEL_NAMES[levels[i % 4]],
    account,
    service: 'gateway-test',
    msg: `line ${i} "quoted" \\ ünïcode`,
    nested: { i, tags: ['a', 'b'] },
  }));
  const others = Array.from({ length: 5 }, (_, i) => ({
    _id: new ObjectId(),
    time: new Date(T0 + i * 1000 + 500),
    level: 50,
    levelName: 'error',
    account: other,
    service: 'gateway-test',
    msg: `other ${i}`,
  }));
  await gw.mongoDb.collection<LogDoc>(LOG_COLLECTION).insertMany([...docs, ...others]);
});

afterAll(async () => {
  await gw?.mongoDb.collection(LOG_COLLECTION).deleteMany({ account: { $in: [account, other] } });
  await gw?.close();
  await connection?.close();
  await pool?.end();
});

/** A document as the API writes it: JSON (ObjectId as hex, Date as ISO string). */
const asJson = (d: LogDoc) => JSON.parse(JSON.stringify(d));
const iso = (ms: number) => new Date(ms).toISOString();

test('GET /logs: by account, least level and time window, newest first, limited', async () => {
  const all = await gw.call('viewer', 'GET', `/logs?account=${account}&limit=1000`);
  expect(all.statusCode).toBe(200);
  expect(json(all).logs).toEqual(docs.slice().reverse().map(asJson));

  const warn = json(await gw.call('viewer', 'GET', `/logs?account=${account}&level=warn&limit=1000`)).logs;
  expect(warn).toEqual(docs.filter((d) => d.level >= 40).reverse().map(asJson));

  const window = json(await gw.call('viewer', 'GET', `/logs?account=${account}&from=${iso(T0 + 10_000)}&to=${iso(T0 + 20_000)}`)).logs;
  expect(window).toEqual(docs.slice(10, 20).reverse().map(asJson));

  const page = json(await gw.call('viewer', 'GET', `/logs?account=${account}&limit=3`)).logs;
  expect(page).toEqual(docs.slice(-3).reverse().map(asJson));

  const bad = await gw.call('viewer', 'GET', `/logs?account=${account}&limit=5000`);
  expect(bad.statusCode).toBe(400);
  expect(json(bad).fields).toEqual([expect.objectContaining({ field: 'limit', in: 'query' })]);
});

test('GET /logs/download: gzip NDJSON attachment that decompresses to exactly the stored documents of the filter', async () => {
  const filters: [string, LogDoc[]][] = [
    [`account=${account}&from=${iso(T0)}&to=${iso(T0 + 3_600_000)}`, docs],
    [`account=${account}&level=error&from=${iso(T0)}&to=${iso(T0 + 3_600_000)}`, docs.filter((d) => d.level >= 50)],
    [`account=${account}&level=info&from=${iso(T0 + 5_000)}&to=${iso(T0 + 31_000)}`, docs.slice(5, 31).filter((d) => d.level >= 30)],
    [`account=${account}&from=${iso(T0 + 3_600_000)}&to=${iso(T0 + 7_200_000)}`, []],
  ];
  for (const [query, expected] of filters) {
    const res = await gw.call('viewer', 'GET', `/logs/download?${query}`);
    expect([query, res.statusCode]).toEqual([query, 200]);
    expect(res.headers['content-type']).toBe('application/gzip');
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-disposition']).toMatch(new RegExp(`^attachment; filename="maologs-${account}-[^"]+\\.ndjson\\.gz"$`));
    expect(res.body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzip magic
    const text = gunzipSync(res.body).toString('utf8');
    const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
    expect([query, lines.map((l) => JSON.parse(l))]).toEqual([query, expected.map(asJson)]);
    expect(text === '' || text.endsWith('\n')).toBe(true);
  }
  // The other account's lines are there too, under their own filter.
  const res = await gw.call('viewer', 'GET', `/logs/download?account=${other}&from=${iso(T0)}&to=${iso(T0 + 3_600_000)}`);
  expect(gunzipSync(res.body).toString('utf8').trim().split('\n').map((l) => JSON.parse(l).msg)).toEqual([0, 1, 2, 3, 4].map((i) => `other ${i}`));
});

test('the download is streamed: a large filter comes back whole', async () => {
  const big = uniqueAccount('gwlogbig');
  const many = Array.from({ length: 3000 }, (_, i) => ({
    _id: new ObjectId(),
    time: new Date(T0 + i),
    level: 30,
    levelName: 'info',
    account: big,
    msg: `bulk ${i} ${'x'.repeat(200)}`,
  }));
  const coll = gw.mongoDb.collection<LogDoc>(LOG_COLLECTION);
  await coll.insertMany(many);
  try {
    const res = await gw.call('viewer', 'GET', `/logs/download?account=${big}&from=${iso(T0)}&to=${iso(T0 + 3_600_000)}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBeUndefined(); // chunked: streamed, not buffered
    const parsed = gunzipSync(res.body).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(parsed).toEqual(many.map(asJson));
    expect(res.body.length).toBeLessThan(Buffer.byteLength(parsed.map((p) => JSON.stringify(p)).join('\n')) / 5);
  } finally {
    await coll.deleteMany({ account: big });
  }
});

test('malformed log filters are 400 naming the field; logs need a token', async () => {
  for (const [q, field] of [
    ['level=loud', 'level'],
    ['account=Not%20One', 'account'],
    ['from=2026-13-45', 'from'],
    ['to=soon', 'to'],
    ['color=blue', ''],
    // A download needs a time range, at most 7 days long (issue 12).
    ['level=info', 'from'],
    ['from=2026-01-01T00:00:00Z', 'from'],
    ['from=2026-01-01T00:00:00Z&to=2026-01-09T00:00:00Z', 'to'],
  ] as const) {
    const res = await gw.call('viewer', 'GET', `/logs/download?${q}`);
    expect([q, res.statusCode]).toEqual([q, 400]);
    if (field) expect(json(res).fields).toEqual([expect.objectContaining({ field, in: 'query' })]);
  }
  expect((await gw.call(null, 'GET', `/logs/download?account=${account}`)).statusCode).toBe(401);
  expect((await gw.call(null, 'GET', `/logs?account=${account}`)).statusCode).toBe(401);
});

test('no log line the gateway wrote holds a token, a bearer header or a password', async () => {
  expect(createdTokens.length).toBeGreaterThanOrEqual(3);
  expect(linesWithSecrets(gw.lines, createdTokens)).toEqual([]);
});
