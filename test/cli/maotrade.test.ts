/** The real CLI process (`node --import tsx cli/maotrade.ts ...`): exit codes and stdout. */
import { redactUrl } from '../../config/env';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { generateFrames } from '../../market/synthetic';
import { statusQuery } from '../../workflows/definitions';
import { ROOT, TEST_ENV, uniqueAccount } from '../support/env';
import { cli, type Run } from './run-cli';
import { feedPaced, startInProcessWorkers, startSession, temporalClient } from '../support/harness';

const oneLine = (r: Run) => {
  expect(r.stdout.endsWith('\n')).toBe(true);
  expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
  return r.stdout.trimEnd();
};

describe('maotrade check', () => {
  test('mysql, healthy: exit 0, one OK line with perfdata', async () => {
    const r = await cli(['check', 'mysql', '-w', '5', '-c', '10']);
    expect(r.code).toBe(0);
    expect(oneLine(r)).toMatch(/^MYSQL OK: connected to 127\.0\.0\.1:\d+ in [0-9.]+ s, SELECT 1 in [0-9.]+ s \| 'connect_time'=[0-9.]+s;;;0 'time'=[0-9.]+s;5;10;0$/);
  });

  test('mysql on a closed port: exit 2, one CRITICAL line, password masked', async () => {
    const r = await cli(['check', 'mysql', '--url', 'mysql://maotrade:maotrade@127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/^MYSQL CRITICAL: cannot reach MySQL at mysql:\/\/maotrade:\*\*\*@127\.0\.0\.1:1: .*ECONNREFUSED.* \| 'time'=[0-9.]+s;;;0$/);
  });

  test('MYSQL_URL from the environment is used when --url is absent', async () => {
    const r = await cli(['check', 'mysql'], { MYSQL_URL: 'mysql://maotrade:maotrade@127.0.0.1:1' });
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/^MYSQL CRITICAL: .*127\.0\.0\.1:1/);
  });

  test('a bad threshold range: exit 3 UNKNOWN', async () => {
    const r = await cli(['check', 'mysql', '-w', '10:5']);
    expect(r.code).toBe(3);
    expect(oneLine(r)).toBe('MYSQL UNKNOWN: invalid threshold range "10:5": start 10 is greater than end 5');
  });

  test('a bad timeout: exit 3 UNKNOWN', async () => {
    const r = await cli(['check', 'mongo', '-t', 'soon']);
    expect(r.code).toBe(3);
    expect(oneLine(r)).toMatch(/^MONGO UNKNOWN: --timeout: expected a number of seconds > 0/);
  });

  test('mongo and temporal, healthy: exit 0', async () => {
    const [mongo, temporal] = await Promise.all([cli(['check', 'mongo']), cli(['check', 'temporal'])]);
    expect(mongo.code).toBe(0);
    expect(oneLine(mongo)).toMatch(/^MONGO OK: .* \| 'time'=[0-9.]+s;;;0$/);
    expect(temporal.code).toBe(0);
    expect(oneLine(temporal)).toMatch(/^TEMPORAL OK: .* \| 'time'=[0-9.]+s;;;0$/);
  });

  test('worker on a queue nobody polled: exit 2; session of an unknown account: exit 2', async () => {
    const queue = `never-polled-${uniqueAccount('cli')}`;
    const [worker, session] = await Promise.all([
      cli(['check', 'worker', '--queue', queue, '--type', 'activity']),
      cli(['check', 'session', '--account', 'nobody_here_x']),
    ]);
    expect(worker.code).toBe(2);
    expect(oneLine(worker)).toBe(`WORKER CRITICAL: no pollers on task queue ${queue} (0 activity) | 'activity_pollers'=0;;;0 'pollers'=0;;1:;0`);
    expect(session.code).toBe(2);
    expect(oneLine(session)).toMatch(/^SESSION CRITICAL: no session for account nobody_here_x/);
  });

  test('a missing required option is a usage error (exit 1, message on stderr)', async () => {
    const r = await cli(['check', 'worker']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("required option '--queue <task-queue>' not specified");
  });
});

describe('maotrade status / session', () => {
  let workers: Awaited<ReturnType<typeof startInProcessWorkers>>;
  let client: Client;
  let connection: Connection;
  let handle: WorkflowHandle;
  let account: string;

  beforeAll(async () => {
    workers = await startInProcessWorkers();
    ({ client, connection } = await temporalClient());
    account = uniqueAccount('clis');
    const symbol = account.toUpperCase();
    handle = await startSession(
      client,
      { account, broker: 'paper', tradingEnabled: true, systems: [{ id: 'ma', system: 'ma-crossover', symbol, timeframe: '1m', params: { fastPeriod: 2, slowPeriod: 5, stopDistancePct: 0.5 } }] },
      workers.taskQueue,
    );
    await feedPaced(workers.pool, handle, generateFrames({ symbol, timeframe: '1m', count: 30, seed: 3, trendCycle: 0 }));
  });
  afterAll(async () => {
    await handle?.terminate('test done').catch(() => undefined);
    await connection?.close();
    await workers?.stop();
  });

  test('status --json lists the running session with its status query; the table shows it too', async () => {
    const expected = await handle.query(statusQuery);
    // Visibility is eventually consistent: retry briefly until the new session is listed.
    let rows: { account: string; broker: string; status: { counters: { framesProcessed: number }; status: string } | null }[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await cli(['status', '--json']);
      expect(r.code).toBe(0);
      rows = JSON.parse(r.stdout);
      if (rows.some((x) => x.account === account)) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    const mine = rows.find((x) => x.account === account);
    expect(mine).toMatchObject({ account, broker: 'paper', status: { status: 'running', counters: { framesProcessed: expected.counters.framesProcessed } } });
    const table = await cli(['status']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`│ ${account}\\s+│ paper\\s+│ running\\s+│ active\\s+│ live\\s+│ ${expected.counters.framesProcessed}\\s+│`));
  });

  test('session positions --json equals the positions query; close-all closes them', async () => {
    const positions = await cli(['session', account, 'positions', '--json']);
    expect(positions.code).toBe(0);
    const open = JSON.parse(positions.stdout);
    expect(open).toEqual(await handle.query('positions'));
    const closed = await cli(['session', account, 'close-all', '--json']);
    expect(closed.code).toBe(0);
    expect(JSON.parse(closed.stdout)).toHaveLength(open.length);
    const after = await cli(['session', account, 'positions']);
    expect(after.stdout.trim()).toBe(`no open positions on ${account}`);
  });

  test('session reconcile --json returns the report', async () => {
    const r = await cli(['session', account, 'reconcile', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toEqual(expect.objectContaining({}));
    expect((await handle.query(statusQuery)).lastReconciliation?.reason).toBe('maotrade CLI');
  });

  test('session pause: the session pauses, and the session check through the CLI says WARNING past a 0 s threshold; resume', async () => {
    const r = await cli(['session', account, 'pause']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`pause sent to session ${account}`);
    for (let i = 0; (await handle.query(statusQuery)).status !== 'paused'; i++) {
      if (i > 100) throw new Error('not paused');
      await new Promise((res) => setTimeout(res, 50));
    }
    const check = await cli(['check', 'session', '--account', account, '-w', '1000000000', '-c', '1000000000', '--paused-warning', '0']);
    expect(check.code).toBe(1);
    expect(oneLine(check)).toMatch(new RegExp(`^SESSION WARNING: session ${account} \\(paper\\) paused: paused for [0-9.]+ s \\| 'running'=1;;1:;0;1 'frame_age'=`));
    const resume = await cli(['session', account, 'resume']);
    expect(resume.code).toBe(0);
    for (let i = 0; (await handle.query(statusQuery)).status !== 'running'; i++) {
      if (i > 100) throw new Error('not resumed');
      await new Promise((res) => setTimeout(res, 50));
    }
  });

  test('an invalid account id is refused before anything is sent', async () => {
    const r = await cli(['session', 'Bad-Account', 'pause']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('account: account must be 1-20 chars');
  });
});

describe('maotrade migrate / stack', () => {
  test('migrate prints one progress line per schema, the account schema included', async () => {
    const account = uniqueAccount('mig');
    const r = await cli(['migrate', '--account', account]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`migrating 4 schema(s) on ${redactUrl(TEST_ENV.MYSQL_URL)}`);
    expect(lines.slice(1).map((l) => l.replace(/: .*$/, ''))).toEqual(['[1/4] maohome', '[2/4] maodata', '[3/4] maopaper', `[4/4] mt_${account}`]);
    expect(lines[1]).toMatch(/^\[1\/4\] maohome: up to date \(\d+ ms\)$/); // the global setup migrated it
    expect(lines[4]).toMatch(new RegExp(`^\\[4/4\\] mt_${account}: applied 001_\\w+\\.sql`));
  });

  test('stack status delegates to scripts/stack.sh status (same exit code, same services)', async () => {
    const direct = spawnSync('bash', [path.join(ROOT, 'scripts', 'stack.sh'), 'status'], { cwd: ROOT, encoding: 'utf8' });
    const r = await cli(['stack', 'status']);
    expect(r.code).toBe(direct.status);
    for (const svc of ['temporal', 'mariadb', 'ferretdb']) expect(r.stdout).toContain(svc);
  });
});
