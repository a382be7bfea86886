/**
 * Trading states of an AccountSession (issue 6) on the real Temporal dev server, MariaDB and the paper
 * venue: a drawdown breach switches the account to reducing; reducing lets only exposure-shrinking
 * orders through; halted lets nothing through (a person's closeAll included); the state and its history
 * survive a SIGKILL of the session worker and a continue-as-new. Decisions come from `scripted` systems
 * on hand-made frames, so which order is wanted on which frame is known in advance.
 */
import type { WorkflowHandle } from '@temporalio/client';
import {
  SESSION_TASK_QUEUE,
  SA_TRADING_STATE,
  closeAllUpdate,
  closePositionUpdate,
  frameSignal,
  riskQuery,
  setTradingStateUpdate,
  statusQuery,
} from '../../workflows/definitions';
import type { SessionConfigInput, SystemConfig } from '../../workflows/session-config';
import { MarketDataStore } from '../../db/market-data-store';
import type { Pool } from '../../db/pool';
import { uniqueAccount } from '../support/env';
import { feedPaced, startInProcessWorkers, startSession, waitForFrame } from '../support/harness';
import { accountRows } from '../support/account-rows';
import { useProcessWorkers } from '../support/worker-processes';
import { bars, flat, rejectionOf, scriptedSystem, until } from '../support/scripted-bars';

jest.setTimeout(240_000);

const stack = useProcessWorkers();
let workers: Awaited<ReturnType<typeof startInProcessWorkers>>;
const handles: WorkflowHandle[] = [];

beforeAll(async () => {
  workers = await startInProcessWorkers();
});

afterAll(async () => {
  await Promise.all(handles.map((h) => h.terminate('test file done').catch(() => undefined)));
  await workers?.stop();
});

function sessionConfig(account: string, systems: SystemConfig[], over: Partial<SessionConfigInput> = {}): SessionConfigInput {
  return { account, broker: 'paper', tradingEnabled: true, systems, ...over };
}

async function start(config: SessionConfigInput, taskQueue = workers.taskQueue): Promise<WorkflowHandle> {
  const handle = await startSession(workers.client, config, taskQueue);
  handles.push(handle);
  return handle;
}

async function q(pool: Pool, sql: string, args: unknown[] = []): Promise<any[]> {
  return (await pool.query(sql, args))[0] as any[];
}

const refusals = (pool: Pool, account: string) =>
  q(pool, `SELECT system_id, side, intent, rule, frame_start FROM \`mt_${account}\`.risk_refusals ORDER BY refusal_id`);
const controlEvents = (pool: Pool, account: string) =>
  q(pool, `SELECT seq, kind, from_state, to_state, by_who, reason, source FROM \`mt_${account}\`.control_events ORDER BY seq`);

async function tradingStateAttribute(handle: WorkflowHandle): Promise<unknown> {
  return (await handle.describe()).typedSearchAttributes.get(SA_TRADING_STATE);
}

test('a drawdown breach switches the account to reducing; then only exposure-shrinking orders pass', async () => {
  const account = uniqueAccount('ddown');
  const symbol = account.toUpperCase();
  // A long of 100 at ~100.02; the fall to 94 costs ~602 of 100,000 (0.60 % > 0.5 %), the dip to 99 only ~0.10 %.
  const frames = bars(symbol, [...flat(2, 100), [100, 100.2, 98.8, 99], [99, 99, 93.5, 94], ...flat(2, 94)]);
  const handle = await start(
    sessionConfig(
      account,
      [
        scriptedSystem('a', symbol, [{ frame: 2, action: 'buy', quantity: 100 }, { frame: 6, action: 'close' }]),
        scriptedSystem('b', symbol, [{ frame: 5, action: 'buy', quantity: 1 }]),
      ],
      { protections: { maxDrawdown: { pct: 0.5, action: 'reducing' } } },
    ),
  );

  await feedPaced(workers.pool, handle, frames.slice(0, 3));
  expect((await handle.query(statusQuery)).tradingState).toBe('active'); // 0.1 % is within the limit

  await feedPaced(workers.pool, handle, frames.slice(3, 4));
  expect((await handle.query(statusQuery)).tradingState).toBe('reducing');
  const risk = await handle.query(riskQuery);
  expect(risk.tradingState).toBe('reducing');
  expect(risk.tradingStateHistory).toHaveLength(1);
  expect(risk.tradingStateHistory[0]).toMatchObject({ from: 'active', to: 'reducing', by: 'protection:max-drawdown', source: 'protection' });
  expect(risk.tradingStateHistory[0].reason).toMatch(/drawdown .* reaches maxDrawdown\.pct/);
  expect(await controlEvents(workers.pool, account)).toEqual([
    expect.objectContaining({ kind: 'trading-state', from_state: 'active', to_state: 'reducing', by_who: 'protection:max-drawdown', source: 'protection' }),
  ]);
  expect(await tradingStateAttribute(handle)).toBe('reducing');

  // Frame 5: system b wants an entry (refused); frame 6: system a closes its long (passes).
  await feedPaced(workers.pool, handle, frames.slice(4));
  expect(await refusals(workers.pool, account)).toEqual([
    { system_id: 'b', side: 'buy', intent: 'open', rule: 'trading-state', frame_start: frames[4].start },
  ]);
  const rows = await accountRows(workers.pool, account);
  expect(rows.trades.map((t) => [t.side, t.quantity, t.exit_reason])).toEqual([['long', 100, 'signal']]);
  expect(rows.positions.map((p) => p.status)).toEqual(['closed']);
  // The refused entry never reached the venue: its ledger has the entry and the close, nothing else.
  expect(rows.paperOrders.map((o) => [o.side, o.intent, o.status])).toEqual([
    ['buy', 'open', 'filled'],
    ['sell', 'close', 'filled'],
  ]);
  expect(rows.paperOpen).toEqual([]);
  const status = await handle.query(statusQuery);
  expect(status.counters.ordersRefused).toBe(1);
  // A drawdown breach is lifted only by a command: a recovering equity does not reactivate the account.
  expect(status.tradingState).toBe('reducing');
  await handle.terminate('test done');
});

test('halted passes nothing (entries, a system close, closeAll); active lets entries through again', async () => {
  const account = uniqueAccount('halt');
  const symbol = account.toUpperCase();
  const frames = bars(symbol, flat(6, 100));
  const handle = await start(
    sessionConfig(account, [
      scriptedSystem('a', symbol, [{ frame: 2, action: 'buy' }, { frame: 4, action: 'close' }]),
      scriptedSystem('b', symbol, [{ frame: 3, action: 'buy' }, { frame: 6, action: 'buy' }]),
    ]),
  );
  await feedPaced(workers.pool, handle, frames.slice(0, 2));
  expect((await accountRows(workers.pool, account)).paperOpen).toHaveLength(1);

  const halt = { state: 'halted' as const, by: 'alice', reason: 'broker maintenance window' };
  const change = await handle.executeUpdate(setTradingStateUpdate, { args: [halt] });
  expect(change).toMatchObject({ from: 'active', to: 'halted', by: 'alice', reason: 'broker maintenance window', source: 'command' });
  expect(await handle.executeUpdate(setTradingStateUpdate, { args: [halt] })).toBeNull(); // already halted
  expect((await handle.query(statusQuery)).tradingState).toBe('halted');
  expect(await tradingStateAttribute(handle)).toBe('halted');
  expect(await controlEvents(workers.pool, account)).toEqual([
    expect.objectContaining({ from_state: 'active', to_state: 'halted', by_who: 'alice', reason: 'broker maintenance window', source: 'command' }),
  ]);

  // Frame 3: b's entry; frame 4: a's close. Both refused by the trading state.
  await feedPaced(workers.pool, handle, frames.slice(2, 4));
  expect(await refusals(workers.pool, account)).toEqual([
    { system_id: 'b', side: 'buy', intent: 'open', rule: 'trading-state', frame_start: frames[2].start },
    { system_id: 'a', side: 'sell', intent: 'close', rule: 'trading-state', frame_start: frames[3].start },
  ]);
  expect(await rejectionOf(handle.executeUpdate(closeAllUpdate, { args: [{ by: 'bob' }] }))).toMatch(/account is halted: no order passes/);
  expect(await rejectionOf(handle.executeUpdate(closePositionUpdate, { args: [{ systemId: 'a', by: 'bob' }] }))).toMatch(/account is halted/);
  let rows = await accountRows(workers.pool, account);
  expect(rows.paperOrders).toHaveLength(1); // only a's entry before the halt
  expect(rows.paperOpen).toHaveLength(1);
  expect(rows.trades).toEqual([]);

  const resumed = await handle.executeUpdate(setTradingStateUpdate, { args: [{ state: 'active', by: 'alice', reason: 'maintenance over' }] });
  expect(resumed).toMatchObject({ from: 'halted', to: 'active', by: 'alice' });
  await feedPaced(workers.pool, handle, frames.slice(4));
  rows = await accountRows(workers.pool, account);
  expect(rows.paperOrders.map((o) => [o.side, o.intent, o.status])).toEqual([
    ['buy', 'open', 'filled'],
    ['buy', 'open', 'filled'],
  ]);
  expect(rows.paperOpen).toHaveLength(2); // a's position (its close was refused) and b's new one
  expect((await refusals(workers.pool, account)).length).toBe(2);
  expect(await tradingStateAttribute(handle)).toBe('active');
  expect((await handle.query(riskQuery)).tradingStateHistory.map((c) => [c.seq, c.from, c.to, c.by, c.source])).toEqual([
    [1, 'active', 'halted', 'alice', 'command'],
    [2, 'halted', 'active', 'alice', 'command'],
  ]);
  await handle.terminate('test done');
});

test('setTradingState rejects a bad command, naming the field, and changes nothing', async () => {
  const account = uniqueAccount('tsval');
  const handle = await start(sessionConfig(account, [scriptedSystem('a', account.toUpperCase(), [])]));
  const set = (cmd: unknown) => handle.executeUpdate(setTradingStateUpdate, { args: [cmd as never] });
  expect(await rejectionOf(set({ state: 'stopped', by: 'alice', reason: 'x' }))).toMatch(/invalid trading-state command: state: /);
  expect(await rejectionOf(set({ state: 'halted', by: '  ', reason: 'x' }))).toMatch(/invalid trading-state command: by: by must name who gives the command/);
  expect(await rejectionOf(set({ state: 'halted', by: 'alice' }))).toMatch(/reason: /);
  expect((await handle.query(statusQuery)).tradingState).toBe('active');
  expect((await handle.query(riskQuery)).tradingStateHistory).toEqual([]);
  await handle.terminate('test done');
});

test('halted survives a SIGKILL of the session worker and a continue-as-new, with its history', async () => {
  const account = uniqueAccount('hsurv');
  const symbol = account.toUpperCase();
  const frames = bars(symbol, flat(7, 100));
  // The daily clean time (HH:MM:SS UTC) comes after the kill and restart below: the run continues as new then.
  const dailyCleanTime = new Date(Date.now() + 45_000).toISOString().slice(11, 19);
  const handle = await start(
    sessionConfig(
      account,
      [
        scriptedSystem('a', symbol, [{ frame: 2, action: 'buy' }, { frame: 3, action: 'close' }]),
        scriptedSystem('b', symbol, [{ frame: 4, action: 'buy' }, { frame: 5, action: 'buy' }, { frame: 7, action: 'buy' }]),
      ],
      { dailyCleanTime },
    ),
    SESSION_TASK_QUEUE, // the worker processes serve it
  );
  const { runId: firstRunId } = await handle.describe();
  await feedPaced(stack.pool, handle, frames.slice(0, 2));
  await handle.executeUpdate(setTradingStateUpdate, { args: [{ state: 'halted', by: 'carol', reason: 'suspicious fills' }] });

  // SIGKILL the session worker; frame 3 (a's close) arrives while it is down.
  await stack.sessionWorker.kill();
  await new MarketDataStore(stack.pool).upsertCandles([frames[2]]);
  await handle.signal(frameSignal, frames[2]);
  await stack.sessionWorker.start();
  await waitForFrame(handle, frames[2]);
  await feedPaced(stack.pool, handle, frames.slice(3, 4)); // b's entry
  const afterKill = await handle.query(statusQuery);
  expect(afterKill.runsSinceStart).toBe(1); // still the first run: the kill, not a continue-as-new, is tested here
  expect(afterKill.tradingState).toBe('halted');
  expect((await refusals(stack.pool, account)).map((r) => [r.system_id, r.intent, r.rule])).toEqual([
    ['a', 'close', 'trading-state'],
    ['b', 'open', 'trading-state'],
  ]);
  const historyBefore = (await handle.query(riskQuery)).tradingStateHistory;
  expect(historyBefore.map((c) => [c.to, c.by, c.reason])).toEqual([['halted', 'carol', 'suspicious fills']]);

  // The continue-as-new at the daily clean time carries the state and its history.
  const latestRunId = await until('a continue-as-new', async () => {
    const d = await handle.describe();
    return d.runId !== firstRunId && d.status.name === 'RUNNING' ? d.runId : undefined;
  }, 90_000);
  const afterCan = await until('the new run to answer', () => handle.query(statusQuery));
  expect(afterCan.runsSinceStart).toBe(2);
  expect(afterCan.tradingState).toBe('halted');
  expect((await handle.query(riskQuery)).tradingStateHistory).toEqual(historyBefore);
  expect((await handle.describe()).runId).toBe(latestRunId);
  expect(await tradingStateAttribute(handle)).toBe('halted');
  await feedPaced(stack.pool, handle, frames.slice(4, 5)); // b's second entry: still refused
  expect((await refusals(stack.pool, account)).map((r) => [r.system_id, r.intent, r.rule])).toEqual([
    ['a', 'close', 'trading-state'],
    ['b', 'open', 'trading-state'],
    ['b', 'open', 'trading-state'],
  ]);

  // Lifted by a command in the new run, the next entry passes; the history runs on across both runs.
  await handle.executeUpdate(setTradingStateUpdate, { args: [{ state: 'active', by: 'carol', reason: 'checked' }] });
  await feedPaced(stack.pool, handle, frames.slice(5));
  expect((await handle.query(riskQuery)).tradingStateHistory.map((c) => [c.seq, c.to, c.by])).toEqual([
    [1, 'halted', 'carol'],
    [2, 'active', 'carol'],
  ]);
  expect((await controlEvents(stack.pool, account)).map((e) => [Number(e.seq), e.to_state, e.by_who])).toEqual([
    [1, 'halted', 'carol'],
    [2, 'active', 'carol'],
  ]);
  const rows = await accountRows(stack.pool, account);
  expect(rows.paperOrders.map((o) => [o.side, o.intent])).toEqual([
    ['buy', 'open'], // a, before the halt
    ['buy', 'open'], // b, frame 7, after it was lifted
  ]);
  expect(rows.paperOpen).toHaveLength(2);
  await handle.terminate('test done');
});

