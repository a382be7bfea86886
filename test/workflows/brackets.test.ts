/**
 * Brackets and the durable entry sequence (issue 6) on the paper venue, with the real worker processes:
 * a bracket's take-profit (emulated from frames) or its protective stop (native at the venue) fills,
 * the other leg is cancelled, exactly once, also when a worker is SIGKILLed between the two; a stop that
 * cannot be placed (after its retries, or refused) closes the position; a trailing stop exits; a stop
 * entry waits as a working order and triggers, another expires. Decisions come from `scripted` systems
 * on hand-made frames, so which level each frame reaches is known in advance.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { MarketDataStore } from '../../db/market-data-store';
import { PaperBrokerAdapter } from '../../brokers/paper';
import { BrokerUnavailableError } from '../../brokers/errors';
import type { BrokerAdapter, StopReport, StopRequest } from '../../brokers/adapter';
import type { Frame } from '../../market/frame';
import { frameSignal, riskQuery, statusQuery } from '../../workflows/definitions';
import type { SessionConfigInput, SystemConfig } from '../../workflows/session-config';
import { uniqueAccount } from '../support/env';
import { PAPER_TEST_CONFIG, feedPaced, startSession, waitForFrame } from '../support/harness';
import { accountRows } from '../support/account-rows';
import { logsOf } from '../support/logs';
import { useProcessWorkers } from '../support/worker-processes';
import { startBrokerWorker } from '../support/broker-worker';
import { bars, flat, scriptedSystem, until, type Ohlc } from '../support/scripted-bars';
import { startPaperBrokerProcess } from '../support/paper-broker-process';

jest.setTimeout(300_000);

const stack = useProcessWorkers();
const handles: WorkflowHandle[] = [];

afterAll(async () => {
  await Promise.all(handles.map((h) => h.terminate('test file done').catch(() => undefined)));
});

async function start(account: string, systems: SystemConfig[], over: Partial<SessionConfigInput> = {}): Promise<WorkflowHandle> {
  const handle = await startSession(stack.client, { account, broker: 'paper', tradingEnabled: true, systems, ...over });
  handles.push(handle);
  return handle;
}

/** Stores the frame and signals it: a signal needs no live worker, so this works while one is down. */
async function signalFrame(handle: WorkflowHandle, frame: Frame): Promise<void> {
  await new MarketDataStore(stack.pool).upsertCandles([frame]);
  await handle.signal(frameSignal, frame);
}

async function workingOrders(account: string): Promise<any[]> {
  const [rows] = await stack.pool.query(`SELECT system_id, type, price, status, client_order_id FROM \`mt_${account}\`.working_orders ORDER BY ref`);
  return rows as any[];
}

const near = (price: number, level: number, bps = 5) => Math.abs(price / level - 1) < bps / 10_000;

/** A long bracket entered on frame 2 (stop 95, take-profit 105). */
const BRACKET = [{ frame: 2, action: 'buy' as const, quantity: 1, stop: 95, takeProfit: 105 }];
/** Frame 4 reaches the take-profit; frame 5 then falls through the old stop level. */
const TAKE_PROFIT_BARS: Ohlc[] = [...flat(2, 100), [100, 101, 99.5, 100.5], [100.5, 105.5, 100.4, 105], [105, 105, 94, 94.5], ...flat(1, 94.5)];

/** The venue's ledger holds one round trip: the long entry and one close, and nothing is open there. */
function expectOneRoundTripAtVenue(rows: Awaited<ReturnType<typeof accountRows>>) {
  expect(rows.paperOrders.map((o) => [o.side, o.intent, o.status])).toEqual([
    ['buy', 'open', 'filled'],
    ['sell', 'close', 'filled'],
  ]);
  expect(rows.paperOpen).toEqual([]);
}

/** The take-profit closed the position, once; the stop leg is cancelled and never filled at the venue. */
async function expectClosedOnceByTakeProfit(account: string) {
  const rows = await accountRows(stack.pool, account);
  const ref = rows.orders[0].client_order_id as string;
  expect(rows.trades).toHaveLength(1);
  expect(rows.trades[0]).toMatchObject({ position_ref: ref, side: 'long', exit_reason: 'take-profit' });
  expect(near(rows.trades[0].exit_price, 105)).toBe(true); // the market close on the frame's close
  expect(rows.stopLegs.map((s) => [s.client_order_id, s.status])).toEqual([[`${ref}-S`, 'cancelled']]);
  // The venue's ledger: the entry and one close, no stop fill although frame 5 went through 95.
  expectOneRoundTripAtVenue(rows);
  expect(rows.paperOrders.some((o) => o.client_order_id === `${ref}-S`)).toBe(false);
  expect(rows.paperOrders[1].client_order_id).toBe(rows.trades[0].exit_client_order_id);
  // The session's positions agree with the venue's (none open there).
  expect(rows.positions.map((p) => [p.position_ref, p.status])).toEqual([[ref, 'closed']]);
}

test('bracket, take-profit reached: closed at market once, the stop leg cancelled and never filled', async () => {
  const account = uniqueAccount('brtp');
  const symbol = account.toUpperCase();
  const handle = await start(account, [scriptedSystem('a', symbol, BRACKET)]);
  await feedPaced(stack.pool, handle, bars(symbol, TAKE_PROFIT_BARS));
  await expectClosedOnceByTakeProfit(account);
  expect((await handle.query(statusQuery)).counters.ordersPlaced).toBe(2);
  await handle.terminate('test done');
});

test('bracket, stop reached: filled at the venue, the take-profit never fires afterwards', async () => {
  const account = uniqueAccount('brst');
  const symbol = account.toUpperCase();
  const handle = await start(account, [scriptedSystem('a', symbol, BRACKET)]);
  // Frame 3 falls through 95; frame 4 then rises above 105.
  await feedPaced(stack.pool, handle, bars(symbol, [...flat(2, 100), [100, 100.2, 94, 94.5], [94.5, 106, 94.5, 105.5], ...flat(1, 105.5)]));
  const rows = await accountRows(stack.pool, account);
  const ref = rows.orders[0].client_order_id as string;
  expect(rows.trades).toHaveLength(1);
  expect(rows.trades[0]).toMatchObject({ position_ref: ref, exit_client_order_id: `${ref}-S`, exit_reason: 'stop' });
  expect(near(rows.trades[0].exit_price, 95)).toBe(true);
  expect(rows.stopLegs.map((s) => [s.client_order_id, s.status])).toEqual([[`${ref}-S`, 'filled']]);
  expect(rows.paperOrders.map((o) => [o.client_order_id, o.intent, o.status])).toEqual([
    [ref, 'open', 'filled'],
    [`${ref}-S`, 'close', 'filled'],
  ]);
  expect(rows.paperOpen).toEqual([]);
  expect(rows.positions.map((p) => p.status)).toEqual(['closed']);
  await handle.terminate('test done');
});

/** The paper venue under another broker name, with some of its methods replaced (a fault, a kill). */
function paperWith(name: string, over: Partial<BrokerAdapter>): BrokerAdapter {
  const paper = new PaperBrokerAdapter(stack.pool, PAPER_TEST_CONFIG);
  return {
    name,
    capabilities: paper.capabilities,
    getAccount: (a) => paper.getAccount(a),
    getPositions: (a) => paper.getPositions(a),
    placeOrder: (o) => paper.placeOrder(o),
    getOrder: (a, id) => paper.getOrder(a, id),
    getCandles: (r) => paper.getCandles(r),
    getLatestPrice: (s) => paper.getLatestPrice(s),
    getInstrument: (s) => paper.getInstrument(s),
    placeStop: (r) => paper.placeStop(r),
    ...over,
  };
}

test('bracket, session worker SIGKILLed after the venue filled the take-profit close, before the session knew: one exit', async () => {
  const account = uniqueAccount('brks');
  const symbol = account.toUpperCase();
  const frames = bars(symbol, TAKE_PROFIT_BARS);
  // The venue, served from this process under its own broker name, SIGKILLs the session worker process
  // right after it filled this account's close: the kill hits exactly that instant, whatever else the
  // shared session task queue is running.
  const paper = new PaperBrokerAdapter(stack.pool, PAPER_TEST_CONFIG);
  let closeStatusAtKill: string | undefined;
  const brokerWorker = await startBrokerWorker(
    'paperkill',
    paperWith('paperkill', {
      async placeOrder(o) {
        const report = await paper.placeOrder(o);
        if (o.account === account && o.intent === 'close' && closeStatusAtKill === undefined) {
          await stack.sessionWorker.kill();
          const [rows] = await stack.pool.query(`SELECT status FROM \`mt_${account}\`.orders WHERE client_order_id = ?`, [o.clientOrderId]);
          closeStatusAtKill = (rows as any[])[0]?.status ?? 'none';
        }
        return report;
      },
    }),
  );
  try {
    const handle = await start(account, [scriptedSystem('a', symbol, BRACKET)], { broker: 'paperkill' });
    await feedPaced(stack.pool, handle, frames.slice(0, 3));
    await signalFrame(handle, frames[3]);
    await until('the session worker killed at the take-profit close', async () => closeStatusAtKill);
    expect(closeStatusAtKill).toBe('pending'); // the intent was recorded, its fill was not: killed in between
    await stack.sessionWorker.start();
    await waitForFrame(handle, frames[3]);
    await feedPaced(stack.pool, handle, frames.slice(4)); // frame 5 crosses the old stop level
    await expectClosedOnceByTakeProfit(account);
    await handle.terminate('test done');
  } finally {
    await brokerWorker.stop();
  }
});

test('bracket, broker worker SIGKILLed after the venue accepted the take-profit close: one exit', async () => {
  const account = uniqueAccount('brkb');
  const symbol = account.toUpperCase();
  const frames = bars(symbol, TAKE_PROFIT_BARS);
  // A paper broker process of this test's own (`broker-paperkb`): its 2nd accepted order is the
  // take-profit close (the 1st is the entry), after which it SIGKILLs itself: the acknowledgement is lost.
  let broker = await startPaperBrokerProcess('paperkb', { MAOTRADE_FAULT_KILL_AFTER_SUBMIT: '2' });
  try {
    const handle = await start(account, [scriptedSystem('a', symbol, BRACKET)], { broker: 'paperkb' });
    await feedPaced(stack.pool, handle, frames.slice(0, 3));
    await signalFrame(handle, frames[3]);
    const killed = await broker.exitedWithin(60_000);
    const closeId = (await accountRows(stack.pool, account)).paperOrders[1]?.client_order_id;
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.stderr).toContain(`fault injection: SIGKILL after submitting ${closeId}`);
    // The restarted broker worker gets the retried placeOrder and finds the close in the venue's ledger.
    broker = await startPaperBrokerProcess('paperkb');
    await waitForFrame(handle, frames[3]);
    await feedPaced(stack.pool, handle, frames.slice(4)); // frame 5 crosses the old stop level
    await expectClosedOnceByTakeProfit(account);
    await handle.terminate('test done');
  } finally {
    await broker.stop();
  }
});

/** The paper venue, except that placing a protective stop always fails as an unreachable broker would. */
function paperWithoutStops(calls: StopRequest[]): BrokerAdapter {
  return paperWith('paperfail', {
    async placeStop(req: StopRequest): Promise<StopReport> {
      calls.push(req);
      throw new BrokerUnavailableError('stop service unavailable (test fault)', 'paperfail');
    },
  });
}

test('a protective stop that still fails after its retries closes the position (stop-failed), logged at error level', async () => {
  const calls: StopRequest[] = [];
  const brokerWorker = await startBrokerWorker('paperfail', paperWithoutStops(calls));
  try {
    const account = uniqueAccount('stfail');
    const symbol = account.toUpperCase();
    const handle = await start(account, [scriptedSystem('a', symbol, [{ frame: 2, action: 'buy', quantity: 1, stop: 95 }])], { broker: 'paperfail' });
    const frames = bars(symbol, flat(3, 100));
    const began = Date.now();
    await feedPaced(stack.pool, handle, frames.slice(0, 2));
    const tookMs = Date.now() - began;
    const rows = await accountRows(stack.pool, account);
    const ref = rows.orders[0].client_order_id as string;
    // Retried by its own policy (4 attempts, backoff 1 s, 2 s, 4 s), then given up.
    expect(calls.map((c) => [c.positionRef, c.stopLevel])).toEqual(Array(4).fill([ref, 95]));
    expect(tookMs).toBeGreaterThan(6_000);
    expect(rows.trades).toEqual([expect.objectContaining({ position_ref: ref, exit_reason: 'stop-failed' })]);
    expect(rows.stopLegs).toEqual([expect.objectContaining({ client_order_id: `${ref}-S`, status: 'rejected' })]);
    expect(rows.stopLegs[0].reason).toMatch(/protective stop not placed: .*stop service unavailable/);
    expectOneRoundTripAtVenue(rows);
    const errors = await logsOf(account, { msg: 'protective stop could not be placed; closing the position' });
    expect(errors.map((d) => [d.levelName, d.positionRef])).toEqual([['error', ref]]);
    await feedPaced(stack.pool, handle, frames.slice(2));
    expect((await accountRows(stack.pool, account)).trades).toHaveLength(1);
    await handle.terminate('test done');
  } finally {
    await brokerWorker.stop();
  }
});

test('a protective stop the venue refuses (wrong side of the price) closes the position at once', async () => {
  const account = uniqueAccount('stref');
  const symbol = account.toUpperCase();
  // A long with its stop above the price: the venue refuses it; no retry can help.
  const handle = await start(account, [scriptedSystem('a', symbol, [{ frame: 2, action: 'buy', quantity: 1, stop: 101 }])]);
  await feedPaced(stack.pool, handle, bars(symbol, flat(3, 100)));
  const rows = await accountRows(stack.pool, account);
  const ref = rows.orders[0].client_order_id as string;
  expect(rows.trades).toEqual([expect.objectContaining({ position_ref: ref, exit_reason: 'stop-failed' })]);
  expect(rows.stopLegs).toEqual([expect.objectContaining({ client_order_id: `${ref}-S`, status: 'rejected' })]);
  expect(rows.stopLegs[0].reason).toMatch(/wrong side/);
  expectOneRoundTripAtVenue(rows);
  await handle.terminate('test done');
});

test('a trailing stop follows the high and exits at market when a frame falls back to it', async () => {
  const account = uniqueAccount('trail');
  const symbol = account.toUpperCase();
  const handle = await start(account, [scriptedSystem('a', symbol, [{ frame: 2, action: 'buy', quantity: 1, trailingStop: 2 }])]);
  // Entry ~100.02 (level 98.02); frame 3 lifts the level to 103 − 2 = 101 without touching it; frame 4 falls to 100.5.
  const frames = bars(symbol, [...flat(2, 100), [100, 103, 99.5, 102.5], [102.5, 102.6, 100.5, 100.8], ...flat(1, 100.8)]);
  await feedPaced(stack.pool, handle, frames);
  const rows = await accountRows(stack.pool, account);
  expect(rows.trades).toHaveLength(1);
  expect(rows.trades[0]).toMatchObject({ side: 'long', exit_reason: 'trailing-stop' });
  expect(near(rows.trades[0].exit_price, 100.8)).toBe(true); // the market close on frame 4
  expect(rows.trades[0].pnl).toBeGreaterThan(0); // it trailed: the first level (98.02) would have lost
  expectOneRoundTripAtVenue(rows);
  await handle.terminate('test done');
});

test('a stop entry waits as a working order until a frame reaches it; another one expires without reaching the venue', async () => {
  const account = uniqueAccount('wkord');
  const symbol = account.toUpperCase();
  const handle = await start(account, [
    scriptedSystem('a', symbol, [{ frame: 2, action: 'buy', quantity: 1, stop: 98, entry: { type: 'stop', price: 102 } }]),
    scriptedSystem('b', symbol, [{ frame: 2, action: 'buy', quantity: 1, entry: { type: 'stop', price: 110, expiresAfterMs: 120_000 } }]),
  ]);
  // Frame 3 stays below 102; frame 4 reaches it.
  const frames = bars(symbol, [...flat(2, 100), [100, 101, 99.8, 100.5], [100.5, 102.4, 100.4, 102.2], ...flat(2, 102.2)]);
  await feedPaced(stack.pool, handle, frames.slice(0, 3));
  expect((await accountRows(stack.pool, account)).paperOrders).toEqual([]);
  await feedPaced(stack.pool, handle, frames.slice(3));
  const rows = await accountRows(stack.pool, account);
  expect(rows.paperOrders.map((o) => [o.side, o.intent, o.status])).toEqual([['buy', 'open', 'filled']]);
  const entry = rows.paperOrders[0].client_order_id as string;
  expect(near(rows.paperOrders[0].fill_price, 102.2)).toBe(true); // at market on the triggering frame
  expect(await workingOrders(account)).toEqual([
    expect.objectContaining({ system_id: 'a', type: 'stop', status: 'triggered', client_order_id: entry }),
    expect.objectContaining({ system_id: 'b', type: 'stop', status: 'expired', client_order_id: null }),
  ]);
  // The triggered entry carries its protective stop to the venue.
  expect(rows.stopLegs.map((s) => [s.client_order_id, s.status, Number(s.stop_level)])).toEqual([[`${entry}-S`, 'working', 98]]);
  expect(rows.paperOpen.map((p) => p.position_ref)).toEqual([entry]);
  await handle.terminate('test done');
});

test('a working order no frame reaches ends by its durable timer, across a SIGKILL of the session worker', async () => {
  const account = uniqueAccount('wkexp');
  const symbol = account.toUpperCase();
  const handle = await start(account, [
    scriptedSystem('a', symbol, [{ frame: 2, action: 'buy', quantity: 1, entry: { type: 'limit', price: 90, expiresAfterMs: 1_000 } }]),
  ]);
  // Placed on frame 2; no later frame ever comes, so only the session's backstop timer can end it: in
  // workflow time from placement, expiresAfterMs + two timeframes of grace (about 2 minutes here).
  await feedPaced(stack.pool, handle, bars(symbol, flat(2, 100)));
  const placedAt = Date.now();
  await stack.sessionWorker.kill();
  await stack.sessionWorker.start();
  expect((await workingOrders(account)).map((w) => w.status)).toEqual(['working']); // not before its time
  const ended = await until('the working order to expire by its timer', async () => {
    const [wo] = await workingOrders(account);
    return wo?.status === 'expired' ? wo : undefined;
  }, 180_000);
  expect(Date.now() - placedAt).toBeGreaterThan(100_000);
  expect(ended).toMatchObject({ system_id: 'a', type: 'limit', client_order_id: null });
  expect((await handle.query(riskQuery)).workingOrders).toEqual([]);
  expect((await accountRows(stack.pool, account)).paperOrders).toEqual([]);
  await handle.terminate('test done');
});
