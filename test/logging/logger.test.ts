import { type Db, MongoClient } from 'mongodb';
import { createLogger, REDACTED } from '../../logging/logger';
import { MongoLogSink } from '../../logging/mongo-sink';

const MONGO_URL = process.env.MONGO_TEST_URL ?? 'mongodb://127.0.0.1:27017';
const DB_NAME = `maologs_test_${process.pid}_logger`;

/** A stdout stand-in collecting the JSON lines pino writes. */
function collector() {
  const lines: string[] = [];
  return {
    lines,
    stream: { write: (s: string) => void lines.push(...s.split('\n').filter((l) => l !== '')) },
    parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger (stdout only)', () => {
  it('writes JSON lines with ISO time, numeric level, service and msg', () => {
    const out = collector();
    const logger = createLogger({ level: 'info', service: 'session-worker', stdout: out.stream });
    logger.debug('hidden');
    logger.info({ account: 'acc1' }, 'hello');
    const [line, ...rest] = out.parsed();
    expect(rest).toHaveLength(0);
    expect(line).toMatchObject({ level: 30, service: 'session-worker', account: 'acc1', msg: 'hello' });
    expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(line).not.toHaveProperty('pid');
    expect(line).not.toHaveProperty('hostname');
  });

  it('redacts credentials wherever the listed paths put them', () => {
    const out = collector();
    const logger = createLogger({ level: 'trace', service: 't', stdout: out.stream });
    logger.info(
      {
        password: 's3cret',
        token: 'tok',
        headers: { authorization: 'Bearer x', 'x-security-token': 'xst-1' },
        broker: { apiKey: 'key-1', cst: 'cst-1', xSecurityToken: 'xst-2', password: 'pw-2' },
        mysqlUrl: 'mysql://u:dbpass@h',
        mongoUrl: 'mongodb://u:mpass@h',
        req: { headers: { authorization: 'Basic abc' } },
        price: 101.5,
      },
      'login',
    );
    const text = out.lines.join('\n');
    // 'tok' is checked as a JSON value: the key "token" itself contains the letters.
    expect(text).not.toContain('"tok"');
    for (const secret of ['s3cret', 'Bearer x', 'xst-1', 'key-1', 'cst-1', 'xst-2', 'pw-2', 'dbpass', 'mpass', 'Basic abc']) {
      expect(text).not.toContain(secret);
    }
    const [line] = out.parsed();
    expect(line).toMatchObject({
      password: REDACTED,
      token: REDACTED,
      headers: { authorization: REDACTED },
      broker: { apiKey: REDACTED, cst: REDACTED },
      price: 101.5,
      msg: 'login',
    });
  });

  it('child loggers keep the account and the redaction', () => {
    const out = collector();
    const logger = createLogger({ level: 'info', service: 't', stdout: out.stream }).child({ account: 'acc9' });
    logger.warn({ token: 'abc123' }, 'refresh');
    expect(out.parsed()[0]).toMatchObject({ level: 40, account: 'acc9', token: REDACTED, msg: 'refresh' });
    expect(out.lines[0]).not.toContain('abc123');
  });
});

describe('createLogger: credentials at any depth, any spelling, in errors too (issue 12, item 6)', () => {
  const SECRET = 's3cr3t';
  const logged = (write: (l: ReturnType<typeof createLogger>) => void) => {
    const out = collector();
    write(createLogger({ level: 'trace', service: 't', stdout: out.stream }));
    return { text: out.lines.join('\n'), lines: out.parsed() };
  };

  it('the header and field names the adapters use, nested deep, in any case', () => {
    const { text, lines } = logged((l) =>
      l.error(
        {
          err: { request: { headers: { 'x-ig-api-key': SECRET } } },
          alpaca: { secretKey: SECRET },
          deep: {
            a: { b: { c: { d: { headers: { 'X-IG-API-KEY': SECRET, CST: SECRET, 'X-SECURITY-TOKEN': SECRET, 'APCA-API-KEY-ID': SECRET, 'APCA-API-SECRET-KEY': SECRET, Authorization: SECRET } } } } },
            list: [{ config: { keyId: SECRET, Password: SECRET, accessToken: SECRET, refresh_token: SECRET } }],
            rawHeaders: ['Content-Type', 'application/json', 'CST', SECRET, 'x-security-token', SECRET],
          },
          env: { IG_PASSWORD: SECRET, ALPACA_SECRET_KEY: SECRET, IG_API_KEY: SECRET },
          price: 1.2345,
          orderId: 'o-1',
        },
        'broker call failed',
      ),
    );
    expect(text).not.toContain(SECRET);
    expect(lines[0]).toMatchObject({
      err: { request: { headers: { 'x-ig-api-key': REDACTED } } },
      alpaca: { secretKey: REDACTED },
      deep: { rawHeaders: ['Content-Type', 'application/json', 'CST', REDACTED, 'x-security-token', REDACTED] },
      price: 1.2345,
      orderId: 'o-1',
      msg: 'broker call failed',
    });
  });

  it('an Error whose properties (and cause) carry a CST header: type, message and stack kept, no secret', () => {
    const cause = Object.assign(new Error('login failed'), { response: { headers: { 'x-security-token': SECRET } } });
    const err = Object.assign(new TypeError('IG answered 401', { cause }), { status: 401, request: { headers: { CST: SECRET, 'X-IG-API-KEY': SECRET } } });
    const direct = logged((l) => l.error(err));
    const wrapped = logged((l) => l.warn({ err, account: 'acc1' }, 'retrying'));
    const nested = logged((l) => l.warn({ failure: { last: err } }, 'gave up'));
    for (const { text } of [direct, wrapped, nested]) expect(text).not.toContain(SECRET);
    expect(direct.lines[0]).toMatchObject({ msg: 'IG answered 401', err: { type: 'TypeError', status: 401, request: { headers: { CST: REDACTED } } } });
    expect(String(direct.lines[0].err && (direct.lines[0].err as { stack: string }).stack)).toContain('IG answered 401');
    expect(String((direct.lines[0].err as { message: string }).message)).toContain('login failed'); // the cause is still told
    expect(wrapped.lines[0]).toMatchObject({ account: 'acc1', err: { type: 'TypeError', request: { headers: { 'X-IG-API-KEY': REDACTED } } } });
    // The logged objects themselves are left as they were.
    expect((err as unknown as { request: { headers: { CST: string } } }).request.headers.CST).toBe(SECRET);
  });

  it('child bindings, cycles and absurd depth: nothing unchecked is written', () => {
    const loop: Record<string, unknown> = { name: 'loop', auth: { token: SECRET } };
    loop.self = loop;
    let deep: Record<string, unknown> = { apiKey: SECRET };
    for (let i = 0; i < 40; i++) deep = { next: deep };
    const { text, lines } = logged((l) => l.child({ ig: { session: { cst: SECRET } } }).info({ loop, deep }, 'odd shapes'));
    expect(text).not.toContain(SECRET);
    expect(lines[0]).toMatchObject({ ig: { session: { cst: REDACTED } }, loop: { name: 'loop', self: '[Circular]' }, msg: 'odd shapes' });
  });

  it('an ordinary line is written unchanged and not copied', () => {
    const obj = { account: 'acc1', order: { side: 'buy', quantity: 10, tokensUsed: undefined }, at: new Date(0), ids: ['a', 'b'] };
    const { lines } = logged((l) => l.info(obj, 'order placed'));
    expect(lines[0]).toMatchObject({ account: 'acc1', order: { side: 'buy', quantity: 10 }, at: '1970-01-01T00:00:00.000Z', ids: ['a', 'b'] });
  });
});

describe('createLogger with MongoLogSink (FerretDB)', () => {
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

  it('a line with an account lands in maologs with level, levelName, account, msg and a Date time', async () => {
    const out = collector();
    const sink = new MongoLogSink({ url: `${MONGO_URL}/${DB_NAME}` });
    const logger = createLogger({ level: 'info', service: 'session-worker', mongo: sink, stdout: out.stream });
    logger.child({ account: 'acc-42' }).warn({ orderId: 'o-1', qty: 3 }, 'order rejected');
    logger.info('no account here');
    await sink.close();

    expect(out.lines).toHaveLength(2); // stdout got both too
    const doc = await db.collection('logs').findOne({ msg: 'order rejected' });
    expect(doc).toMatchObject({
      level: 40,
      levelName: 'warn',
      account: 'acc-42',
      msg: 'order rejected',
      service: 'session-worker',
      orderId: 'o-1',
      qty: 3,
    });
    expect(doc!.time).toBeInstanceOf(Date);
    expect(Math.abs(doc!.time.getTime() - Date.now())).toBeLessThan(60_000);
    const other = await db.collection('logs').findOne({ msg: 'no account here' });
    expect(other).toMatchObject({ level: 30, levelName: 'info' });
    expect(other).not.toHaveProperty('account');
  });

  it('never puts credentials in stdout or in the Mongo document', async () => {
    const out = collector();
    const sink = new MongoLogSink({ url: `${MONGO_URL}/${DB_NAME}` });
    const logger = createLogger({ level: 'info', service: 't', mongo: sink, stdout: out.stream });
    logger.info({ account: 'acc-r', password: 's3cret', token: 'tok', headers: { authorization: 'Bearer x' } }, 'redaction check');
    await sink.close();

    const stdout = out.lines.join('\n');
    const doc = await db.collection('logs').findOne({ msg: 'redaction check' });
    expect(doc).not.toBeNull();
    const stored = JSON.stringify(doc);
    // Checked as JSON values: the key "token" itself contains the letters "tok".
    for (const secret of ['"s3cret"', '"tok"', '"Bearer x"', 's3cret', 'Bearer x']) {
      expect(stdout).not.toContain(secret);
      expect(stored).not.toContain(secret);
    }
    expect(doc).toMatchObject({ password: REDACTED, token: REDACTED, headers: { authorization: REDACTED } });
  });
});
