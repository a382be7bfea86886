/**
 * Protections and the trading day's end (issue 6) in a real paper session: the stop-loss guard and the
 * per-symbol cooldown after a loss lock entries and are lifted by workflow timers; flatten-at-session-close
 * closes every position on a workflow timer and keeps entries closed until reopenAt.
 */
import { accountSchema } from '../../db/pool';
import { riskQuery, setTradingStateUpdate, statusQuery } from '../../workflows/definitions';
import { uniqueAccount } from '../support/env';
import { feedPaced, startInProcessWorkers, startSession } from '../support/harness';
import { bars, flat, scriptedSystem, until, type Ohlc } from '../support/scripted-bars';
import type { SessionConfigInput } from '../../workflows/session-config';

let workers: Awaited<ReturnType<typeof startInProcessWorkers>>;
beforeAll(async () => {
  workers = await startInProcessWorkers();
});
afterAll(async () => {
  await workers?.stop();
});

async function refusals(account: string) {
  const [rows] = (await workers.pool.query(
    `SELECT system_id, rule, detail, numbers FROM \`${accountSchema(account)}\`.risk_refusals ORDER BY refusal_id`,
  )) as any[];
  return rows as { system_id: string; rule: string; detail: string; numbers: Record<string, unknown> }[];
}

async function trades(account: string) {
  const [rows] = (await workers.pool.query(`SELECT system_id, exit_reason, pnl FROM \`${accountSchema(account)}\`.trades ORDER BY closed_at, position_ref`)) as any[];
  return rows as { system_id: string; exit_reason: string; pnl: number }[];
}

/** A UTC time of day `seconds` from now, as HH:MM:SS. */
function clockIn(seconds: number): string {
  return new Date(Date.now() + seconds * 1000).toISOString().slice(11, 19);
}

async function start(prefix: string, extra: Partial<SessionConfigInput>, systems: (symbol: string) => SessionConfigInput['systems']) {
  const account = uniqueAccount(prefix);
  const symbol = account.toUpperCase();
  const handle = await startSession(workers.client, { account, broker: 'paper', tradingEnabled: true, systems: systems(symbol), ...extra }, workers.taskQueue);
  return { account, symbol, handle };
}

test('the stop-loss guard locks entries on every symbol after too many stops, until its cooldown timer lifts it', async () => {
  // Two long entries stopped out (frames 2→3 and 4→5), then an entry at frame 6 while locked, one at frame 9 after the lift.
  const { account, symbol, handle } = await start(
    'pg',
    { protections: { stopLossGuard: { maxStops: 2, windowMinutes: 60, cooldownMinutes: 0.1 } } },
    (s) => [
      scriptedSystem('a', s, [
        { frame: 2, action: 'buy', stop: 99 },
        { frame: 4, action: 'buy', stop: 99 },
        { frame: 6, action: 'buy' },
        { frame: 9, action: 'buy' },
      ]),
    ],
  );
  const ohlc: Ohlc[] = [...flat(2, 100), [100, 100.2, 98.5, 99] as Ohlc, [100, 100.2, 99.8, 100] as Ohlc, [100, 100.2, 98.5, 99] as Ohlc, ...flat(4, 100)];
  const frames = bars(symbol, ohlc);
  // Frames 1–6: two stops, then the refused entry.
  await feedPaced(workers.pool, handle, frames.slice(0, 6));
  expect((await trades(account)).map((t) => t.exit_reason)).toEqual(['stop', 'stop']);
  expect((await refusals(account)).map((r) => r.rule)).toEqual(['stop-loss-guard']);
  const locked = await handle.query(riskQuery);
  expect(locked.locks.map((l) => [l.kind, l.symbol ?? '*'])).toEqual([['stop-loss-guard', '*']]);
  // The cooldown (6 s) is a workflow timer: the lock goes without any frame arriving.
  await until('the stop-loss guard lifted', async () => ((await handle.query(riskQuery)).locks.length === 0 ? true : undefined), 20_000);
  await feedPaced(workers.pool, handle, frames.slice(6));
  expect((await refusals(account)).map((r) => r.rule)).toEqual(['stop-loss-guard']);
  expect((await handle.query(statusQuery)).counters.ordersRefused).toBe(1);
  const [open] = (await workers.pool.query(`SELECT COUNT(*) AS n FROM maopaper.positions WHERE account = ? AND status = 'open'`, [account])) as any[];
  expect(Number(open[0].n)).toBe(1);
  await handle.terminate('test done');
});

test('a losing exit puts its symbol on cooldown: the next entries on it are refused, naming the symbol', async () => {
  const { account, symbol, handle } = await start(
    'pc',
    { protections: { lossCooldown: { minutes: 10 } } },
    (s) => [scriptedSystem('a', s, [{ frame: 1, action: 'buy' }, { frame: 2, action: 'close' }, { frame: 3, action: 'buy' }, { frame: 4, action: 'sell' }])],
  );
  // Bought at ~100, closed at ~99: a loss; the next entries on the symbol are refused for 10 minutes.
  await feedPaced(workers.pool, handle, bars(symbol, [[100, 100.2, 99.8, 100], [100, 100.2, 98.8, 99], ...flat(3, 99)]));
  const t = await trades(account);
  expect(t.map((x) => x.exit_reason)).toEqual(['signal']);
  expect(Number(t[0].pnl)).toBeLessThan(0);
  const r = await refusals(account);
  expect(r.map((x) => x.rule)).toEqual(['loss-cooldown', 'loss-cooldown']);
  expect(r[0].detail).toMatch(new RegExp(symbol));
  expect((await handle.query(riskQuery)).locks.map((l) => [l.kind, l.symbol])).toEqual([['loss-cooldown', symbol]]);
  await handle.terminate('test done');
});

test('at flattenAt a workflow timer closes every position (session-close) and entries stay closed until reopenAt', async () => {
  const flattenAt = clockIn(8);
  const reopenAt = clockIn(3600);
  const { account, symbol, handle } = await start('pf', { schedule: { flattenAt, reopenAt } }, (s) => [
    scriptedSystem('a', s, [{ frame: 1, action: 'buy', stop: 90 }]),
    scriptedSystem('b', s, [{ frame: 1, action: 'sell', stop: 110 }, { frame: 3, action: 'sell' }]),
  ]);
  const frames = bars(symbol, flat(3, 100));
  await feedPaced(workers.pool, handle, frames.slice(0, 1));
  expect((await handle.query(statusQuery)).counters.ordersPlaced).toBe(2);
  // No frame arrives: the timer alone flattens the account.
  const closed = await until('the account flattened', async () => {
    const t = await trades(account);
    return t.length === 2 ? t : undefined;
  }, 30_000);
  expect(closed.map((t) => t.exit_reason)).toEqual(['session-close', 'session-close']);
  const [paperOpen] = (await workers.pool.query(`SELECT COUNT(*) AS n FROM maopaper.positions WHERE account = ? AND status = 'open'`, [account])) as any[];
  expect(Number(paperOpen[0].n)).toBe(0);
  const [legs] = (await workers.pool.query(`SELECT status FROM \`${accountSchema(account)}\`.orders WHERE seq IS NULL ORDER BY client_order_id`)) as any[];
  expect(legs.map((l: any) => l.status)).toEqual(['cancelled', 'cancelled']);
  // After the flatten, entries are closed until reopenAt.
  await feedPaced(workers.pool, handle, frames.slice(1));
  expect((await refusals(account)).map((r) => [r.system_id, r.rule])).toEqual([['b', 'session-closed']]);
  expect((await handle.query(riskQuery)).locks.map((l) => l.kind)).toEqual(['session-closed']);
  await handle.terminate('test done');
});

test('a person re-activating after a drawdown breach re-arms the protection from the current equity', async () => {
  const { handle, symbol } = await start('pr', { protections: { maxDrawdown: { pct: 0.005, action: 'reducing' } } }, (s) => [
    scriptedSystem('a', s, [{ frame: 1, action: 'buy', quantity: 10 }]),
  ]);
  const frames = bars(symbol, [[100, 100.1, 99.9, 100], [100, 100, 98.9, 99], [99, 99.1, 98.9, 99], [99, 99, 97.9, 98]]);
  // 10 × 1.0 lost from the peak of 100,000: past 0.005 % → reducing.
  await feedPaced(workers.pool, handle, frames.slice(0, 2));
  expect((await handle.query(statusQuery)).tradingState).toBe('reducing');
  await handle.executeUpdate(setTradingStateUpdate, { args: [{ state: 'active', by: 'alice', reason: 'reviewed the drawdown' }] });
  // No new loss: the account stays active (the breach is not re-reported from the old peak).
  await feedPaced(workers.pool, handle, frames.slice(2, 3));
  expect((await handle.query(statusQuery)).tradingState).toBe('active');
  // A new loss past the limit from the re-armed peak switches it again.
  await feedPaced(workers.pool, handle, frames.slice(3));
  const risk = await handle.query(riskQuery);
  expect(risk.tradingState).toBe('reducing');
  expect(risk.tradingStateHistory.map((c) => [c.to, c.by])).toEqual([
    ['reducing', 'protection:max-drawdown'],
    ['active', 'alice'],
    ['reducing', 'protection:max-drawdown'],
  ]);
  await handle.terminate('test done');
});
