/** notifier/log-source.ts against the real FerretDB: lines written by a worker's logger become alerts once each. */
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { createLogger } from '../../logging/logger';
import { MongoLogSink, toLogDoc } from '../../logging/mongo-sink';
import { LogAlertSource } from '../../notifier/log-source';
import { TEST_ENV, uniqueAccount } from '../support/env';

let client: MongoClient;
let db: Db;
const collections: string[] = [];
beforeAll(async () => {
  client = await new MongoClient(TEST_ENV.MONGO_URL, { serverSelectionTimeoutMS: 10_000 }).connect();
  db = client.db();
});
afterAll(async () => {
  for (const c of collections) await db.collection(c).drop().catch(() => undefined);
  await client.close();
});

/** A worker's logger writing to its own collection (as bootProcess does to `logs`). */
function workerLogger() {
  const name = uniqueAccount('notif_logs');
  collections.push(name);
  const sink = new MongoLogSink({ db, collection: name, flushIntervalMs: 20 });
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', service: 'session-worker', mongo: sink, stdout: { write: (s: string) => void lines.push(s) } });
  return { logger, sink, collection: db.collection(name) };
}

test('alert lines since the start become alerts, each once; ordinary lines and older history do not', async () => {
  const { logger, sink, collection } = workerLogger();
  await collection.insertOne(toLogDoc(JSON.stringify({ level: 50, time: new Date(Date.now() - 10_000).toISOString(), msg: 'broker ig: circuit opened', broker: 'ig' })));
  const source = new LogAlertSource(collection, { since: new Date(Date.now() - 1000) });
  logger.info({ account: 'acc1', systemId: 'ma' }, 'order filled');
  logger.error({ broker: 'paper', breaker: 'open', retryAfterMs: 30_000 }, 'broker paper: circuit opened');
  logger.warn({ account: 'acc1', from: 'active', to: 'halted', by: 'alice', reason: 'broker outage', source: 'command' }, 'trading state halted');
  logger.error({ account: 'acc1', positionRef: 'acc1-3', systemId: 'cb', stop: 1.08, reason: 'refused', webhookSecret: 'x' }, 'protective stop could not be placed; closing the position');
  await sink.flush();
  const first = await source.poll();
  expect(first.map((a) => [a.kind, a.key.replace(/:\d+$/, '')])).toEqual([
    ['circuit-opened', 'circuit:paper'],
    ['trading-state-changed', 'trading-state:acc1:halted'],
    ['stop-not-placed', 'stop:acc1:acc1-3'],
  ]);
  expect(first[1].text).toBe('Trading state set to halted from active by alice: broker outage. Nothing passes; broker-side stops stay in place.');
  expect(await source.poll()).toEqual([]);

  logger.error({ account: 'acc1', clientOrderId: 'acc1-9', error: 'timeout' }, 'order outcome unknown; left to reconciliation');
  await sink.flush();
  expect((await source.poll()).map((a) => a.key)).toEqual(['unknown:acc1:acc1-9']);
  expect(await source.poll()).toEqual([]);
  await sink.close();
});

test('a line that reaches MongoDB late (older time than the newest seen, within the overlap) is still read, once', async () => {
  const { collection } = workerLogger();
  const now = Date.now();
  const source = new LogAlertSource(collection, { since: new Date(now - 60_000), overlapMs: 30_000 });
  const doc = (t: number, msg: string, extra: Record<string, unknown>) => ({ ...toLogDoc(JSON.stringify({ level: 50, time: new Date(t).toISOString(), msg, ...extra })), _id: new ObjectId() });
  await collection.insertOne(doc(now, 'reconciliation: foreign-at-broker', { account: 'a1', positionRef: 'X-1', detail: 'foreign' }));
  expect((await source.poll()).map((a) => a.key)).toEqual(['drift:a1:foreign-at-broker:X-1']);
  // Buffered by another worker's sink, inserted now with a time 5 s earlier.
  await collection.insertOne(doc(now - 5_000, 'position could not be closed', { account: 'a2', positionRef: 'Y-1', reason: 'closed market' }));
  expect((await source.poll()).map((a) => a.key)).toEqual(['close:a2:Y-1']);
  expect(await source.poll()).toEqual([]);
});

test('a burst larger than one page is read in one poll, oldest first', async () => {
  const { collection } = workerLogger();
  const t0 = Date.now();
  const source = new LogAlertSource(collection, { since: new Date(t0 - 1), batchSize: 4 });
  await collection.insertMany(
    Array.from({ length: 10 }, (_, i) => toLogDoc(JSON.stringify({ level: 50, time: new Date(t0 + i).toISOString(), msg: 'order outcome unknown; left to reconciliation', account: 'b', clientOrderId: `b-${i}` }))),
  );
  expect((await source.poll()).map((a) => a.key)).toEqual(Array.from({ length: 10 }, (_, i) => `unknown:b:b-${i}`));
});
