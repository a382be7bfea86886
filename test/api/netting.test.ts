/**
 * POST /sessions on a netting venue (issue 11): the broker's credentials are per worker (one ALPACA_KEY_ID for
 * every alpaca account), so two accounts trading one symbol there would share one position. The second is
 * refused with 422 netting_conflict naming the field and the other account; nothing is started or subscribed.
 * Real MariaDB and Temporal; no worker polls the private task queue, so an accepted start only queues a run.
 */
import type { Client, Connection } from '@temporalio/client';
import { HomeStore } from '../../db/home-store';
import { createPool, type Pool } from '../../db/pool';
import { sessionWorkflowId } from '../../workflows/definitions';
import { TEST_ENV, uniqueAccount } from '../support/env';
import { temporalClient } from '../support/harness';
import { json, startTestGateway, type TestGateway } from './support';

let pool: Pool;
let client: Client;
let connection: Connection;
let gw: TestGateway;
let home: HomeStore;
const started: string[] = [];
const taskQueue = `netting-test-${process.pid}`;

beforeAll(async () => {
  pool = createPool(TEST_ENV.MYSQL_URL);
  ({ client, connection } = await temporalClient());
  gw = await startTestGateway({ client, pool }, { sessionTaskQueue: taskQueue });
  home = new HomeStore(pool);
});

afterAll(async () => {
  await Promise.all(started.map((a) => client.workflow.getHandle(sessionWorkflowId(a)).terminate('test file done').catch(() => undefined)));
  await gw?.close();
  await connection?.close();
  await pool?.end();
});

async function account(prefix: string, broker: string, systems: { id: string; symbol: string; enabled?: boolean }[]): Promise<string> {
  const a = uniqueAccount(prefix);
  await home.upsertAccount({ account: a, broker, currency: 'USD' });
  for (const s of systems) {
    await home.upsertSystemConfig(a, { id: s.id, system: 'ma-crossover', symbol: s.symbol, timeframe: '1m', params: {} }, s.enabled ?? true);
  }
  return a;
}

/** A symbol no other test run's account trades (maohome is shared and keeps every run's accounts). */
const symbolFor = (a: string) => `N${a.slice(-8).toUpperCase().replace(/[^A-Z0-9]/g, '')}`;

async function start(a: string) {
  const res = await gw.call('admin', 'POST', '/sessions', { account: a });
  if (res.statusCode === 201) started.push(a);
  return res;
}

test('a second alpaca account on a symbol another alpaca account trades is refused naming config.systems[i].symbol; nothing starts', async () => {
  const first = await account('netfirst', 'alpaca', []);
  const sym = symbolFor(first);
  await home.upsertSystemConfig(first, { id: 'ma', system: 'ma-crossover', symbol: `${sym}Y`, timeframe: '1m', params: {} });
  await home.upsertSystemConfig(first, { id: 'mb', system: 'ma-crossover', symbol: sym, timeframe: '1m', params: {} });
  const second = await account('netsecond', 'alpaca', [
    { id: 'own', symbol: `${sym}X` },
    { id: 'clash', symbol: sym },
  ]);

  const res = await start(second);
  expect(res.statusCode).toBe(422);
  const body = json(res);
  expect(body.error).toBe('netting_conflict');
  expect(body.fields).toEqual([{ field: 'config.systems.0.symbol', message: expect.any(String) }]);
  const message = body.fields[0].message as string;
  // systems are loaded ordered by id: clash (0) before own (1).
  expect(message).toContain(`system "clash" of account "${second}" trades ${sym} on alpaca`);
  expect(message).toContain(`account "${first}" (system "mb")`);
  expect(message).toContain('netting');
  expect(message).toContain('ALPACA_KEY_ID');
  expect(body.message).toContain('config.systems.0.symbol');
  await expect(client.workflow.getHandle(sessionWorkflowId(second)).describe()).rejects.toThrow();

  // The first account is refused too while the conflicting configuration stands: the config is the problem.
  const back = await start(first);
  expect(back.statusCode).toBe(422);
  expect(json(back).fields).toEqual([expect.objectContaining({ field: 'config.systems.1.symbol' })]);
  expect(json(back).fields[0].message).toContain(`account "${second}" (system "clash")`);

  // Disabling the other account's system on the symbol resolves it.
  await home.upsertSystemConfig(first, { id: 'mb', system: 'ma-crossover', symbol: sym, timeframe: '1m', params: {} }, false);
  const ok = await start(second);
  expect(ok.statusCode).toBe(201);
  expect(json(ok)).toMatchObject({ account: second, broker: 'alpaca', systems: ['clash', 'own'], taskQueue });
});

test('hedging venues and other brokers are not refused: two paper accounts on one symbol, or alpaca and paper on one symbol', async () => {
  const p1 = await account('nethedge1', 'paper', []);
  const sym = symbolFor(p1);
  await home.upsertSystemConfig(p1, { id: 'ma', system: 'ma-crossover', symbol: sym, timeframe: '1m', params: {} });
  const p2 = await account('nethedge2', 'paper', [{ id: 'ma', symbol: sym }]);
  const alp = await account('netalp', 'alpaca', [{ id: 'ma', symbol: sym }]);
  expect((await start(p2)).statusCode).toBe(201);
  expect((await start(alp)).statusCode).toBe(201);
});

test('two systems of one alpaca account on one symbol are refused by the session schema (422 invalid_config)', async () => {
  const a = await account('netsame', 'alpaca', []);
  const sym = symbolFor(a);
  await home.upsertSystemConfig(a, { id: 'ma', system: 'ma-crossover', symbol: sym, timeframe: '1m', params: {} });
  await home.upsertSystemConfig(a, { id: 'mb', system: 'ma-crossover', symbol: sym, timeframe: '1m', params: {} });
  const res = await start(a);
  expect(res.statusCode).toBe(422);
  expect(json(res).error).toBe('invalid_config');
  expect(json(res).fields).toEqual([{ field: 'config.systems.1.symbol', message: expect.stringContaining(`"ma" and "mb" both trade ${sym} on alpaca, a netting venue`) }]);
  await expect(client.workflow.getHandle(sessionWorkflowId(a)).describe()).rejects.toThrow();
});
