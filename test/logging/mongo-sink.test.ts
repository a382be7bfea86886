import { type Db, MongoClient } from 'mongodb';
import { dbNameFromUrl, ensureLogIndexes, MongoLogSink, toLogDoc } from '../../logging/mongo-sink';

const MONGO_URL = process.env.MONGO_TEST_URL ?? 'mongodb://127.0.0.1:27017';
const DB_NAME = `maologs_test_${process.pid}_sink`;

const line = (o: Record<string, unknown>) => `${JSON.stringify({ time: '2024-05-01T12:00:00.000Z', level: 30, ...o })}\n`;

describe('toLogDoc', () => {
  it('converts time to a Date and adds levelName', () => {
    const doc = toLogDoc(line({ level: 50, msg: 'boom', account: 'a1', service: 's' }));
    expect(doc).toMatchObject({ level: 50, levelName: 'error', msg: 'boom', account: 'a1', service: 's' });
    expect(doc.time).toEqual(new Date('2024-05-01T12:00:00.000Z'));
  });

  it('rewrites keys MongoDB refuses and keeps unparseable lines as msg', () => {
    expect(toLogDoc(line({ $where: 1, 'a.b': { $x: 2 } }))).toMatchObject({ _where: 1, a_b: { _x: 2 } });
    expect(toLogDoc('not json\n')).toMatchObject({ msg: 'not json', unparsed: true, level: 30, levelName: 'info' });
  });
});

describe('dbNameFromUrl', () => {
  it.each([
    ['mongodb://127.0.0.1:27017/maologs', 'maologs'],
    ['mongodb://u:p@a:1,b:2/logs2?replicaSet=rs', 'logs2'],
    ['mongodb://127.0.0.1:27017', undefined],
    ['mongodb://127.0.0.1:27017/', undefined],
  ])('%s → %s', (url, name) => expect(dbNameFromUrl(url)).toBe(name));
});

describe('MongoLogSink (FerretDB)', () => {
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    client = await new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 10_000 }).connect();
    db = client.db(DB_NAME);
  });

  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  it('flushes on its timer without an explicit flush', async () => {
    const sink = new MongoLogSink({ db, collection: 'timer', flushIntervalMs: 50 });
    sink.write(line({ msg: 'tick' }));
    expect(sink.pendingCount).toBe(1);
    const deadline = Date.now() + 5_000;
    while ((await db.collection('timer').countDocuments()) === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await db.collection('timer').countDocuments({ msg: 'tick' })).toBe(1);
    await sink.close();
  });

  it('writes every line of a large burst exactly once, in batches', async () => {
    const sink = new MongoLogSink({ db, collection: 'burst', batchSize: 200, flushIntervalMs: 10_000 });
    for (let i = 0; i < 1000; i++) sink.write(line({ msg: `m${i}`, i }));
    await sink.flush();
    expect(sink.pendingCount).toBe(0);
    expect(await db.collection('burst').countDocuments()).toBe(1000);
    expect(await db.collection('burst').countDocuments({ i: { $gte: 500 } })).toBe(500);
    await sink.close();
  });

  it('does not double documents when a batch is inserted again', async () => {
    const sink = new MongoLogSink({ db, collection: 'dupes' });
    const doc = toLogDoc(line({ msg: 'once' }));
    await db.collection('dupes').insertOne(doc);
    // Re-inserting the same _id (as after an ambiguous failure) is a duplicate and counts as written.
    (sink as unknown as { pending: unknown[] }).pending.push(doc, toLogDoc(line({ msg: 'twice' })));
    await sink.flush();
    expect(sink.pendingCount).toBe(0);
    expect(await db.collection('dupes').countDocuments({ msg: 'once' })).toBe(1);
    expect(await db.collection('dupes').countDocuments({ msg: 'twice' })).toBe(1);
    await sink.close();
  });

  it('ensureLogIndexes creates the time, account+time and level+time indexes (idempotently)', async () => {
    await ensureLogIndexes(db);
    await ensureLogIndexes(db);
    const keys = (await db.collection('logs').indexes()).map((i) => i.key);
    expect(keys).toEqual(expect.arrayContaining([{ time: 1 }, { account: 1, time: 1 }, { level: 1, time: 1 }]));
  });
});

describe('MongoLogSink when MongoDB is unreachable', () => {
  it('never throws, keeps at most maxPendingDocs, reports once', async () => {
    const reports: string[] = [];
    const sink = new MongoLogSink({
      url: 'mongodb://127.0.0.1:1/maologs',
      serverSelectionTimeoutMs: 300,
      maxPendingDocs: 10,
      batchSize: 5,
      flushIntervalMs: 60_000,
      report: (m) => reports.push(m),
    });
    for (let i = 0; i < 30; i++) expect(sink.write(line({ msg: `lost ${i}` }))).toBe(true);
    await expect(sink.flush()).resolves.toBeUndefined();
    await expect(sink.flush()).resolves.toBeUndefined();
    expect(sink.pendingCount).toBe(10);
    expect(sink.droppedCount).toBe(20);
    const outage = reports.filter((r) => r.includes('cannot write logs to MongoDB'));
    expect(outage).toHaveLength(1);
    expect(outage[0]).toContain('keeping up to 10');
    await sink.close();
    expect(reports.some((r) => r.includes('closing with 10 log document(s) not written'))).toBe(true);
    sink.write(line({ msg: 'after close' }));
    expect(sink.pendingCount).toBe(10);
  });
});
