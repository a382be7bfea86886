import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { type Db, MongoClient } from 'mongodb';
import { createLogger, REDACTED } from '../../logging/logger';
import { MongoLogSink } from '../../logging/mongo-sink';
import { accountFromWorkflowId, createTemporalLogger, temporalMetaToFields } from '../../logging/temporal-logger';
import * as activities from './fixtures/logging-activities';
import { loggingWorkflow } from './fixtures/logging-workflow';
import { TEST_ENV } from '../support/env';

const MONGO_URL = process.env.MONGO_TEST_URL ?? 'mongodb://127.0.0.1:27017';
const { TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE } = TEST_ENV;
const DB_NAME = `maologs_test_${process.pid}_temporal`;

function collector() {
  const lines: string[] = [];
  return {
    lines,
    stream: { write: (s: string) => void lines.push(...s.split('\n').filter((l) => l !== '')) },
    parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('accountFromWorkflowId', () => {
  it.each([
    ['session-acc1', 'acc1'],
    ['session-ig-demo-2', 'ig-demo-2'],
    ['session-', undefined],
    ['backtest-acc1', undefined],
    [undefined, undefined],
  ])('%s → %s', (id, account) => expect(accountFromWorkflowId(id)).toBe(account));
});

describe('temporalMetaToFields', () => {
  it('keeps Temporal fields, derives account, serialises errors and skips symbol keys', () => {
    const fields = temporalMetaToFields({
      workflowId: 'session-acc3',
      runId: 'r1',
      taskQueue: 'maotrade-sessions',
      error: new Error('kaput'),
      [Symbol.for('log_timestamp')]: 123n,
    });
    expect(fields).toMatchObject({ workflowId: 'session-acc3', runId: 'r1', taskQueue: 'maotrade-sessions', account: 'acc3' });
    expect(fields.err).toMatchObject({ type: 'Error', message: 'kaput', stack: expect.stringContaining('kaput') });
    expect(fields).not.toHaveProperty('error');
    expect(Object.getOwnPropertySymbols(fields)).toHaveLength(0);
  });

  it('does not override an explicit account', () => {
    expect(temporalMetaToFields({ workflowId: 'session-a', account: 'b' }).account).toBe('b');
    expect(temporalMetaToFields(undefined)).toEqual({});
  });
});

describe('PinoTemporalLogger', () => {
  it('maps Temporal levels to pino levels and meta to fields', () => {
    const out = collector();
    const logger = createTemporalLogger(createLogger({ level: 'trace', service: 'w', stdout: out.stream }));
    logger.trace('t');
    logger.debug('d');
    logger.info('i', { workflowId: 'session-acc5', activityType: 'placeOrder' });
    logger.warn('w');
    logger.error('e');
    logger.log('WARN', 'via log', { taskQueue: 'q' });
    expect(out.parsed().map((l) => [l.level, l.msg])).toEqual([
      [10, 't'],
      [20, 'd'],
      [30, 'i'],
      [40, 'w'],
      [50, 'e'],
      [40, 'via log'],
    ]);
    expect(out.parsed()[2]).toMatchObject({ account: 'acc5', workflowId: 'session-acc5', activityType: 'placeOrder', service: 'w' });
  });

  it('respects the pino level', () => {
    const out = collector();
    const logger = createTemporalLogger(createLogger({ level: 'warn', service: 'w', stdout: out.stream }));
    logger.info('dropped');
    logger.error('kept');
    expect(out.parsed().map((l) => l.msg)).toEqual(['kept']);
  });
});

describe('Runtime.install({ logger }) end to end (Temporal dev server + FerretDB)', () => {
  let mongo: MongoClient;
  let db: Db;

  beforeAll(async () => {
    mongo = await new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 10_000 }).connect();
    db = mongo.db(DB_NAME);
  });

  afterAll(async () => {
    await db.dropDatabase();
    await mongo.close();
  });

  it('workflow and activity logs reach stdout and maologs with workflow fields and the session account', async () => {
    const out = collector();
    const sink = new MongoLogSink({ url: `${MONGO_URL}/${DB_NAME}` });
    const logger = createLogger({ level: 'info', service: 'session-worker', mongo: sink, stdout: out.stream });
    Runtime.install({ logger: createTemporalLogger(logger) });

    const tag = `t-${process.pid}-${Date.now()}`;
    const account = `acc-e2e-${process.pid}`;
    const taskQueue = `logging-test-${tag}`;
    const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
    const workerConnection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
    try {
      const worker = await Worker.create({
        workflowsPath: require.resolve('./fixtures/logging-workflow'),
        activities,
        taskQueue,
        connection: workerConnection,
        namespace: TEMPORAL_NAMESPACE,
      });
      const client = new Client({ connection, namespace: TEMPORAL_NAMESPACE });
      const result = await worker.runUntil(
        client.workflow.execute(loggingWorkflow, { args: [tag], workflowId: `session-${account}`, taskQueue }),
      );
      expect(result).toBe(tag);
    } finally {
      await connection.close();
      await workerConnection.close();
    }
    await sink.flush();

    const logs = db.collection('logs');
    const wf = await logs.findOne({ msg: 'workflow says hello', tag });
    expect(wf).toMatchObject({
      level: 30,
      levelName: 'info',
      account,
      workflowId: `session-${account}`,
      workflowType: 'loggingWorkflow',
      taskQueue,
      service: 'session-worker',
      sdkComponent: 'workflow',
    });
    expect(typeof wf!.runId).toBe('string');
    expect(wf!.time).toBeInstanceOf(Date);

    const act = await logs.findOne({ msg: 'activity says hello', tag });
    expect(act).toMatchObject({ level: 40, levelName: 'warn', account, activityType: 'noisyActivity', token: REDACTED });
    expect(JSON.stringify(act)).not.toContain('tok-from-activity');

    const stdout = out.lines.join('\n');
    expect(stdout).toContain('workflow says hello');
    expect(stdout).not.toContain('tok-from-activity');
    await sink.close();
  });
});
