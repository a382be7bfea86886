/**
 * Control of a running AccountSession (invariants 4, 5, 6, 8) on the real Temporal dev server, MariaDB
 * and FerretDB, with the session and paper-broker workers running in this process: pause/resume,
 * closeAll/closePosition, setParams, malformed frames, dry run, continue-as-new at the daily clean
 * time, search attributes and a bad session config.
 */
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, WorkflowUpdateFailedError, type Client, type Connection, type WorkflowHandle } from '@temporalio/client';
import { generateFrames } from '../../market/synthetic';
import type { Frame } from '../../market/frame';
import { PaperConfigSchema, marketFillPrice } from '../../brokers/paper';
import { MaCrossoverParamsSchema } from '../../systems/ma-crossover';
import {
  closeAllUpdate,
  closePositionUpdate,
  frameSignal,
  pauseSignal,
  positionsQuery,
  resumeSignal,
  sessionWorkflowId,
  setParamsUpdate,
  statusQuery,
  submitFramesUpdate,
  systemsQuery,
  tradesQuery,
  type StatusView,
} from '../../workflows/definitions';
import type { SessionConfigInput } from '../../workflows/session-config';
import type { accountSession } from '../../workflows/account-session';
import { linearCloses } from '../../systems/window-averages';
import { uniqueAccount } from '../support/env';
import { PAPER_TEST_CONFIG, feedFrames, feedPaced, startInProcessWorkers, startSession, temporalClient, waitForFrame } from '../support/harness';
import { expectedPaperRun } from '../support/oracle';
import { accountRows } from '../support/account-rows';
import { round8 } from '../../trading/trade';

/** Short averages and a random walk without trend: entries, reversals and stops within a few dozen frames. */
const PARAMS = { fastPeriod: 2, slowPeriod: 5, stopDistancePct: 0.5 };
const framesFor = (account: string, count: number, seed: number) =>
  generateFrames({ symbol: account.toUpperCase(), timeframe: '1m', count, seed, trendCycle: 0, volatilityPct: 0.3 });

let workers: Awaited<ReturnType<typeof startInProcessWorkers>>;
let client: Client;
let connection: Connection;
const handles: WorkflowHandle[] = [];

beforeAll(async () => {
  workers = await startInProcessWorkers();
  ({ client, connection } = await temporalClient());
});

afterAll(async () => {
  // A test that failed half-way leaves its session running: end it here (terminate of a closed one is a no-op).
  await Promise.all(handles.map((h) => h.terminate('test file done').catch(() => undefined)));
  await connection?.close();
  await workers?.stop();
});

function sessionConfig(account: string, over: Partial<SessionConfigInput> = {}): SessionConfigInput {
  return {
    account,
    broker: 'paper',
    tradingEnabled: true,
    systems: [{ id: 'ma', system: 'ma-crossover', symbol: account.toUpperCase(), timeframe: '1m', params: PARAMS }],
    ...over,
  };
}

/** Starts a session on this process's task queue; `firstRunId` is the run it started (before any continue-as-new). */
async function start(config: SessionConfigInput): Promise<WorkflowHandle & { firstRunId: string }> {
  const handle = await startSession(client, config, workers.taskQueue);
  handles.push(handle);
  const { runId } = await handle.describe();
  return Object.assign(handle, { firstRunId: runId });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something other than undefined, failing after `timeoutMs`. */
async function eventually<T>(what: string | (() => string), probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(100);
  }
}

/** The executions a visibility query finds (visibility lags the workflow by about a second). */
async function listRuns(query: string): Promise<{ workflowId: string; runId: string }[]> {
  const out: { workflowId: string; runId: string }[] = [];
  for await (const wf of client.workflow.list({ query })) out.push({ workflowId: wf.workflowId, runId: wf.runId });
  return out;
}

async function waitVisible(query: string, runId: string): Promise<void> {
  await eventually(`a run ${runId} matching ${query}`, async () => ((await listRuns(query)).some((r) => r.runId === runId) ? true : undefined));
}

async function waitStatus(handle: WorkflowHandle, pred: (s: StatusView) => boolean, what: string): Promise<StatusView> {
  let last: unknown;
  return eventually(() => `${what} (last status or error: ${String(last)})`, async () => {
    try {
      const s = await handle.query(statusQuery);
      last = JSON.stringify(s);
      return pred(s) ? s : undefined;
    } catch (err) {
      // Right after a continue-as-new the new run may not answer queries until its first task completed.
      last = err;
      return undefined;
    }
  });
}

/** The failure message a rejected update carries (the validator's or handler's ApplicationFailure). */
async function updateRejection(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    (v) => {
      throw new Error(`update was accepted, returned ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).nonRetryable).toBe(true);
  return cause!.message;
}

async function q(sql: string, args: unknown[] = []): Promise<any[]> {
  return (await workers.pool.query(sql, args))[0] as any[];
}

const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

type Expected = {
  orders: { side: string; intent: string; price: number; frameIndex: number }[];
  trades: { side: string; exitReason: string }[];
  finalPosition: { side: string } | null;
};

/**
 * Fill prices depend on the fill model of whichever paper worker serves the shared `broker-paper` task
 * queue (this file's worker uses PAPER_TEST_CONFIG, a stack or demo worker started elsewhere uses the
 * defaults), so prices are compared with the oracle's within a tolerance that covers any of those (a
 * fill at another frame's close is tens of basis points away), and exactly with the venue's own ledger.
 */
const FILL_TOLERANCE = 1.5e-4;

function farFromOracle(rows: { fill_price: number }[], expected: { price: number }[]): string[] {
  return rows.flatMap((r, i) =>
    Math.abs(r.fill_price / expected[i].price - 1) < FILL_TOLERANCE ? [] : [`#${i}: ${r.fill_price} vs oracle ${expected[i].price}`],
  );
}

/**
 * The session's books equal the oracle's run: the same orders (side, intent, frame) at the oracle's prices,
 * the same trades (side, exit reason) at exactly the prices of their own orders, the same open position,
 * and the venue's ledger agrees order for order.
 */
async function expectBooksMatch(account: string, frames: Frame[], expected: Expected) {
  const rows = await accountRows(workers.pool, account);
  const orders = await q(
    `SELECT client_order_id, seq, side, intent, status, fill_price, frame_start FROM \`mt_${account}\`.orders
     WHERE NOT (seq IS NULL AND status IN ('working', 'cancelled', 'rejected')) -- stop legs that never filled
     ORDER BY frame_start, seq IS NOT NULL, seq`,
  );
  expect(orders.map((o) => [o.side, o.intent, o.status, Number(o.frame_start)])).toEqual(
    expected.orders.map((o) => [o.side, o.intent, 'filled', frames[o.frameIndex].start]),
  );
  expect(farFromOracle(orders, expected.orders)).toEqual([]);
  const fill = new Map<string, number>(orders.map((o) => [o.client_order_id, o.fill_price]));
  expect(rows.trades.map((t) => [t.side, t.exit_reason])).toEqual(expected.trades.map((t) => [t.side, t.exitReason]));
  expect(rows.trades.map((t) => [t.entry_price, t.exit_price, t.pnl])).toEqual(
    rows.trades.map((t) => {
      const [entry, exit] = [fill.get(t.position_ref), fill.get(t.exit_client_order_id)];
      return [entry, exit, round8((exit! - entry!) * t.quantity * (t.side === 'long' ? 1 : -1))];
    }),
  );
  const open = rows.positions.filter((p) => p.status === 'open');
  expect(open.map((p) => [p.side, p.entry_price])).toEqual(expected.finalPosition ? [[expected.finalPosition.side, fill.get(open[0]?.position_ref)]] : []);
  expect(rows.paperOrders.map((o) => [o.client_order_id, o.side, o.intent, o.status, o.fill_price]).sort()).toEqual(
    rows.orders.map((o) => [o.client_order_id, o.side, o.intent, o.status, o.fill_price]).sort(),
  );
  expect(rows.paperOpen.map((p) => p.position_ref)).toEqual(open.map((p) => p.position_ref));
}

test('pause stops new entries but not exits (stop and reverse), shows in status and MaoStatus; resume lets entries happen again', async () => {
  const account = uniqueAccount('pause');
  const frames = framesFor(account, 52, 1);
  const A = [34, 38]; // first pause: frames 34..38 are processed while paused
  const B = [41, 46]; // second pause
  const inPause = (i: number) => (i >= A[0] && i <= A[1]) || (i >= B[0] && i <= B[1]);
  const expected = expectedPaperRun(frames, 'ma-crossover', PARAMS, PAPER_TEST_CONFIG, inPause);
  const unpaused = expectedPaperRun(frames, 'ma-crossover', PARAMS, PAPER_TEST_CONFIG);
  // The frames must make the test mean something: a position open at each pause, closed during it (by
  // its stop in A, by a reverse signal in B), entries wanted during both pauses, and one after each resume.
  const tradesIn = ([a, b]: number[]) =>
    expected.trades.map((t, i) => ({ ...t, frameIndex: expected.tradeFrames[i] })).filter((t) => t.frameIndex >= a && t.frameIndex <= b);
  expect(tradesIn(A).map((t) => t.exitReason)).toEqual(['stop']);
  expect(tradesIn(B).map((t) => t.exitReason)).toEqual(['reverse']);
  const skippedIn = ([a, b]: number[]) => expected.skippedEntries.filter((i) => i >= a && i <= b).length;
  expect(skippedIn(A)).toBeGreaterThan(0);
  expect(skippedIn(B)).toBeGreaterThan(0);
  const entryAfter = (i: number) => expected.orders.find((o) => o.kind === 'entry' && o.frameIndex > i)!;
  expect(entryAfter(A[1]).frameIndex).toBeLessThan(B[0]);
  expect(entryAfter(B[1])).toBeDefined();
  // ...and pausing changed the outcome (otherwise the comparison below could not tell a pause from none).
  expect(expected.orders.length).toBeLessThan(unpaused.orders.length);

  const handle = await start(sessionConfig(account));
  const db = `mt_${account}`;
  const entriesFrom = async (i: number) => Number((await q(`SELECT COUNT(*) AS n FROM \`${db}\`.orders WHERE intent = 'open' AND frame_start >= ?`, [frames[i].start]))[0].n);

  await feedPaced(workers.pool, handle, frames.slice(0, A[0]));
  expect(await handle.query(positionsQuery)).toHaveLength(1);

  await handle.signal(pauseSignal, { by: 'tester', reason: 'pause test A' });
  await waitStatus(handle, (s) => s.status === 'paused', 'status paused');
  await waitVisible(`MaoAccount = '${account}' AND MaoStatus = 'paused'`, handle.firstRunId);

  await feedPaced(workers.pool, handle, frames.slice(A[0], A[1] + 1));
  let status = await handle.query(statusQuery);
  expect(status.status).toBe('paused');
  expect(status.counters.entriesSkippedWhilePaused).toBe(skippedIn(A));
  expect(await entriesFrom(A[0])).toBe(0);
  // The exit still happened: the position is gone, closed by its stop.
  expect(await handle.query(positionsQuery)).toEqual([]);
  const stopTrades = await q(`SELECT exit_reason, closed_at FROM \`${db}\`.trades WHERE closed_at >= ?`, [frames[A[0]].start]);
  expect(stopTrades.map((t) => [t.exit_reason, Number(t.closed_at)])).toEqual([['stop', frames[tradesIn(A)[0].frameIndex].start]]);

  await handle.signal(resumeSignal, { by: 'tester', reason: 'resume A' });
  await waitStatus(handle, (s) => s.status === 'running', 'status running');
  await waitVisible(`MaoAccount = '${account}' AND MaoStatus = 'running'`, handle.firstRunId);
  await feedPaced(workers.pool, handle, frames.slice(A[1] + 1, B[0]));
  // Entries happen again after resume.
  expect(await entriesFrom(A[1] + 1)).toBe(1);
  expect(await handle.query(positionsQuery)).toHaveLength(1);

  await handle.signal(pauseSignal, { by: 'tester', reason: 'pause test B' });
  await waitStatus(handle, (s) => s.status === 'paused', 'status paused again');
  await feedPaced(workers.pool, handle, frames.slice(B[0], B[1] + 1));
  status = await handle.query(statusQuery);
  expect(status.counters.entriesSkippedWhilePaused).toBe(skippedIn(A) + skippedIn(B));
  expect(await entriesFrom(B[0])).toBe(0);
  expect(await handle.query(positionsQuery)).toEqual([]);
  const reverseTrades = await q(`SELECT exit_reason FROM \`${db}\`.trades WHERE closed_at >= ?`, [frames[B[0]].start]);
  expect(reverseTrades.map((t) => t.exit_reason)).toEqual(['reverse']);

  await handle.signal(resumeSignal, { by: 'tester', reason: 'resume B' });
  await waitStatus(handle, (s) => s.status === 'running', 'status running again');
  await feedPaced(workers.pool, handle, frames.slice(B[1] + 1));
  expect(await entriesFrom(B[1] + 1)).toBeGreaterThan(0);

  await expectBooksMatch(account, frames, expected);
  status = await handle.query(statusQuery);
  expect(status.counters.framesProcessed).toBe(frames.length);
  expect(status.counters.entriesSkippedWhilePaused).toBe(expected.skippedEntries.length);
  await handle.terminate('test done');
});

test('closeAll closes every position as manual, at the broker too; closePosition of an unknown systemId is rejected', async () => {
  const account = uniqueAccount('close');
  const frames = framesFor(account, 40, 4);
  const PARAMS_B = { fastPeriod: 3, slowPeriod: 8, stopDistancePct: 0.5 };
  // The first prefix after which both systems hold a position.
  const n = [...Array(30).keys()]
    .map((i) => i + 10)
    .find(
      (k) =>
        expectedPaperRun(frames.slice(0, k), 'ma-crossover', PARAMS, PAPER_TEST_CONFIG).finalPosition &&
        expectedPaperRun(frames.slice(0, k), 'ma-crossover', PARAMS_B, PAPER_TEST_CONFIG).finalPosition,
    )!;
  expect(n).toBeDefined();
  const symbol = account.toUpperCase();
  const handle = await start(
    sessionConfig(account, {
      systems: [
        { id: 'a', system: 'ma-crossover', symbol, timeframe: '1m', params: PARAMS },
        { id: 'b', system: 'ma-crossover', symbol, timeframe: '1m', params: PARAMS_B },
      ],
    }),
  );
  await feedPaced(workers.pool, handle, frames.slice(0, n));
  const before = await handle.query(positionsQuery);
  expect(before.map((p) => p.systemId).sort()).toEqual(['a', 'b']);

  const trades = await handle.executeUpdate(closeAllUpdate, { args: [{ by: 'tester' }] });
  const last = frames[n - 1];
  expect(trades.map((t) => [t.systemId, t.positionRef, t.exitReason, t.closedAt]).sort()).toEqual(
    before.map((p) => [p.systemId, p.positionRef, 'manual', last.start]).sort(),
  );
  // Filled at the venue's latest price, the last frame's close (moved by the venue's spread and slippage).
  const oracleExit = trades.map((t) => ({ price: marketFillPrice(last.close, t.side === 'long' ? 'sell' : 'buy', PaperConfigSchema.parse(PAPER_TEST_CONFIG)) }));
  expect(farFromOracle(trades.map((t) => ({ fill_price: t.exitPrice })), oracleExit)).toEqual([]);
  expect(await handle.query(positionsQuery)).toEqual([]);

  const db = `mt_${account}`;
  const manual = await q(`SELECT position_ref FROM \`${db}\`.trades WHERE exit_reason = 'manual' ORDER BY position_ref`);
  expect(manual.map((r) => r.position_ref)).toEqual(before.map((p) => p.positionRef).sort());
  expect(await q(`SELECT position_ref FROM \`${db}\`.positions WHERE status = 'open'`)).toEqual([]);
  expect(await q(`SELECT position_ref FROM maopaper.positions WHERE account = ? AND status = 'open'`, [account])).toEqual([]);
  const closedAtVenue = await q(
    `SELECT p.position_ref, p.closed_by, o.fill_price FROM maopaper.positions p JOIN maopaper.orders o ON o.account = p.account AND o.client_order_id = p.closed_by
     WHERE p.account = ? AND p.position_ref IN (?)`,
    [account, before.map((p) => p.positionRef)],
  );
  expect(closedAtVenue.map((r) => [r.position_ref, r.closed_by, r.fill_price]).sort()).toEqual(trades.map((t) => [t.positionRef, t.exitClientOrderId, t.exitPrice]).sort());

  // Nothing left to close: closeAll returns nothing, closePosition of a known system returns null.
  expect(await handle.executeUpdate(closeAllUpdate, { args: [{ by: 'tester' }] })).toEqual([]);
  expect(await handle.executeUpdate(closePositionUpdate, { args: [{ systemId: 'a', by: 'tester' }] })).toBeNull();
  const message = await updateRejection(handle.executeUpdate(closePositionUpdate, { args: [{ systemId: 'nope', by: 'tester' }] }));
  expect(message).toMatch(/systemId/);
  expect(message).toMatch(/nope/);

  // The session goes on trading after a manual close.
  await feedPaced(workers.pool, handle, frames.slice(n, n + 2));
  expect((await handle.query(statusQuery)).counters.framesProcessed).toBe(n + 2);
  await handle.terminate('test done');
});

test('setParams validates with the system schema (field named, nothing changed) and merges, returns and persists valid params', async () => {
  const account = uniqueAccount('params');
  const frames = framesFor(account, 16, 6);
  const handle = await start(sessionConfig(account));
  await feedPaced(workers.pool, handle, frames.slice(0, 6));
  const initial = MaCrossoverParamsSchema.parse(PARAMS);
  const storedParams = async () => json((await q(`SELECT params FROM \`mt_${account}\`.system_states WHERE system_id = 'ma'`))[0].params);
  expect((await handle.query(systemsQuery)).ma.params).toEqual(initial);
  expect(await storedParams()).toEqual(initial);

  const set = (params: unknown, systemId = 'ma') => handle.executeUpdate(setParamsUpdate, { args: [{ systemId, params, by: 'tester' }] });
  expect(await updateRejection(set({ fastPeriod: 30, slowPeriod: 10 }))).toMatch(/params\.slowPeriod: slowPeriod \(10\) must be greater than fastPeriod \(30\)/);
  expect(await updateRejection(set({ fastPeriod: -1 }))).toMatch(/params\.fastPeriod: fastPeriod must be at least 1/);
  expect(await updateRejection(set({ fastPeriod: 2, slowPeriod: 5, bogus: true }))).toMatch(/bogus/);
  expect(await updateRejection(set({ fastPeriod: 2 }, 'nope'))).toMatch(/systemId/);
  expect((await handle.query(systemsQuery)).ma.params).toEqual(initial);
  expect(await storedParams()).toEqual(initial);

  // setParams changes only the parameters it names: the others keep their current values.
  const applied = await set({ fastPeriod: 3, slowPeriod: 12 });
  const merged = { ...initial, fastPeriod: 3, slowPeriod: 12 };
  expect(initial.stopDistancePct).not.toBe(MaCrossoverParamsSchema.parse({}).stopDistancePct);
  expect(applied).toEqual(merged);
  expect((await handle.query(systemsQuery)).ma.params).toEqual(merged);
  expect(await storedParams()).toEqual(merged);

  // Later decisions run with the new parameters: the system now keeps a 12-close window (it kept 5).
  expect((await handle.query(systemsQuery)).ma.state).toMatchObject({ closes: expect.any(Array) });
  expect(((await handle.query(systemsQuery)).ma.state as { closes: number[] }).closes).toHaveLength(5);
  await feedPaced(workers.pool, handle, frames.slice(6));
  // The window is a ring buffer (systems/window-averages.ts): read it oldest first.
  expect(linearCloses((await handle.query(systemsQuery)).ma.state as { closes: number[]; head?: number })).toEqual(frames.slice(4).map((f) => f.close));
  await handle.terminate('test done');
});

test('two concurrent setParams that each validate alone: one succeeds, the other fails naming the field, and frames keep flowing', async () => {
  const account = uniqueAccount('paramsrace');
  const frames = framesFor(account, 12, 8);
  const handle = await start(sessionConfig(account));
  await feedPaced(workers.pool, handle, frames.slice(0, 4));
  const set = (params: unknown) => handle.executeUpdate(setParamsUpdate, { args: [{ systemId: 'ma', params, by: 'tester' }] });
  // fastPeriod 2 / slowPeriod 5 today: slowPeriod 3 is valid alone, fastPeriod 4 is valid alone, both together are not.
  // A batch of frames holds the session's lock, so both validators pass against the old parameters and
  // both handlers wait for the lock: the second one's re-check is what fails.
  await handle.signal(frameSignal, frames.slice(4));
  const results = await Promise.allSettled([set({ slowPeriod: 3 }), set({ fastPeriod: 4 })]);
  const ok = results.filter((r) => r.status === 'fulfilled');
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  expect(ok).toHaveLength(1);
  expect(failed).toHaveLength(1);
  expect(failed[0].reason).toBeInstanceOf(WorkflowUpdateFailedError);
  expect(String((failed[0].reason as WorkflowUpdateFailedError).cause?.message)).toMatch(/params\.slowPeriod: slowPeriod \(\d+\) must be greater than fastPeriod \(\d+\)/);
  const params = (await handle.query(systemsQuery)).ma.params as { fastPeriod: number; slowPeriod: number };
  expect(params.slowPeriod).toBeGreaterThan(params.fastPeriod);
  // The workflow task did not fail: the session keeps processing frames.
  await waitForFrame(handle, frames[frames.length - 1]);
  expect((await handle.query(statusQuery)).counters.framesProcessed).toBe(frames.length);
  await handle.terminate('test done');
});

test('a frame that has not closed by workflow time (start in microseconds) is refused naming start; the next real frame is processed', async () => {
  const account = uniqueAccount('future');
  const frames = framesFor(account, 4, 9);
  const handle = await start(sessionConfig(account));
  const key = `${account.toUpperCase()}|1m`;
  await feedPaced(workers.pool, handle, frames.slice(0, 2));
  const micro = { ...frames[2], start: frames[2].start * 1000 };
  const message = await updateRejection(handle.executeUpdate(submitFramesUpdate, { args: [[micro]] }));
  expect(message).toMatch(/frames\[0\]: start: frame \d+ of .* ends at .*after the session's time/);
  // The same through the signal: counted as rejected, the stream's last frame unchanged.
  const nextMinute = Math.floor(Date.now() / 60_000) * 60_000 + 60_000;
  await handle.signal(frameSignal, { ...frames[2], start: nextMinute });
  const s = await waitStatus(handle, (x) => x.counters.framesRejected === 1, 'framesRejected = 1');
  expect(s.lastRejection).toMatch(/start: frame .* ends at/);
  expect(s.lastFrames[key]).toBe(frames[1].start);
  await feedPaced(workers.pool, handle, frames.slice(2));
  expect((await handle.query(statusQuery)).lastFrames[key]).toBe(frames[3].start);
  await handle.terminate('test done');
});

test('malformed frames are rejected naming the field (update) or counted (signal), and the session keeps processing', async () => {
  const account = uniqueAccount('badframe');
  const frames = framesFor(account, 14, 7);
  const handle = await start(sessionConfig(account));
  const key = `${account.toUpperCase()}|1m`;
  await feedPaced(workers.pool, handle, frames.slice(0, 2));
  let next = 2;

  const submit = (payload: unknown) => handle.executeUpdate(submitFramesUpdate, { args: [payload as Frame[]] });
  /** The bad payload is refused with a message matching `expected`; nothing is processed; the next valid frame is. */
  async function rejectedThenGoesOn(bad: (f: Frame, g: Frame) => unknown, expected: RegExp) {
    const f = frames[next];
    const message = await updateRejection(submit(bad(f, frames[next + 1])));
    expect(message).toMatch(expected);
    const s = await handle.query(statusQuery);
    expect(s.lastFrames[key]).toBe(frames[next - 1].start);
    expect(s.queuedFrames).toBe(0);
    await feedPaced(workers.pool, handle, [f]);
    expect((await handle.query(statusQuery)).lastFrames[key]).toBe(f.start);
    next++;
  }

  await rejectedThenGoesOn((f) => [{ ...f, close: NaN }], /frames\[0\]: .*\bclose: close must be a number/); // NaN travels as null
  await rejectedThenGoesOn((f) => [{ ...f, close: null }], /frames\[0\]: .*\bclose: close must be a number/);
  await rejectedThenGoesOn((f) => [{ ...f, low: -f.low }], /\blow: low must be a positive price/);
  await rejectedThenGoesOn((f) => [{ ...f, open: -1 }], /\bopen: open must be a positive price/);
  await rejectedThenGoesOn((f) => [{ ...f, high: f.low - 0.5 }], /\bhigh: high [\d.]+ is below low [\d.]+/);
  await rejectedThenGoesOn((f, g) => [g, f], /frames\[1\]: start: \d+ is not after the previous frame \d+/);
  await rejectedThenGoesOn((f) => [{ ...f, spread: 0.1 }], /Unrecognized key.*'spread'/);
  await rejectedThenGoesOn((f) => [{ ...f, symbol: 'NOT_TRADED' }], /no system of this session trades NOT_TRADED\|1m/);
  await rejectedThenGoesOn((f) => f, /frames: expected an array/);

  // Through the signal there is nobody to answer: the frame is counted and the reason kept.
  const f = frames[next];
  await handle.signal(frameSignal, { ...f, close: NaN });
  let s = await waitStatus(handle, (x) => x.counters.framesRejected === 1, 'framesRejected = 1');
  expect(s.lastRejection).toMatch(/\bclose: close must be a number/);
  await handle.signal(frameSignal, [frames[next + 1], f]);
  s = await waitStatus(handle, (x) => x.counters.framesRejected === 3, 'framesRejected = 3');
  expect(s.lastRejection).toMatch(/\bstart: .*not after/);
  expect(s.lastFrames[key]).toBe(frames[next - 1].start);
  await feedPaced(workers.pool, handle, [f]);
  // And a good frame through the signal is processed too.
  await handle.signal(frameSignal, frames[next + 1]);
  await waitForFrame(handle, frames[next + 1]);

  s = await handle.query(statusQuery);
  expect(s.counters.framesProcessed).toBe(next + 2);
  expect(s.counters.framesRejected).toBe(3);
  expect(s.counters.framesDuplicate).toBe(0);
  await handle.terminate('test done');
});

test('dry run decides and records every intent as dry-run, fills at the frame close in its own books, and sends nothing to the venue', async () => {
  const account = uniqueAccount('dry');
  const frames = framesFor(account, 40, 5);
  // Dry-run fills are the frame close exactly: the oracle without spread or slippage.
  const expected = expectedPaperRun(frames, 'ma-crossover', PARAMS, { spreadBps: 0, slippageBps: 0 });
  expect(expected.orders.filter((o) => o.kind !== 'stop').length).toBeGreaterThanOrEqual(6);
  expect(expected.trades.some((t) => t.exitReason === 'stop')).toBe(true);
  const handle = await start(sessionConfig(account, { tradingEnabled: false }));
  // Nothing is sent to a venue, so the frames may arrive in one batch.
  await feedFrames(workers.pool, handle, frames);
  await waitForFrame(handle, frames[frames.length - 1]);

  const status = await handle.query(statusQuery);
  expect(status.tradingEnabled).toBe(false);
  expect(status.counters.framesProcessed).toBe(frames.length);
  const rows = await accountRows(workers.pool, account);
  const intents = rows.orders.filter((o) => o.seq !== null);
  expect(intents.map((o) => [o.side, o.intent, o.status, o.fill_price])).toEqual(
    expected.orders.filter((o) => o.kind !== 'stop').map((o) => [o.side, o.intent, 'dry-run', o.price]),
  );
  expect(rows.orders.every((o) => o.status === 'dry-run')).toBe(true);
  expect(rows.trades.map((t) => [t.side, t.entry_price, t.exit_price, t.pnl, t.exit_reason])).toEqual(
    expected.trades.map((t) => [t.side, t.entryPrice, t.exitPrice, t.pnl, t.exitReason]),
  );
  const open = rows.positions.filter((p) => p.status === 'open');
  expect(open.map((p) => [p.side, p.entry_price])).toEqual(expected.finalPosition ? [[expected.finalPosition.side, expected.finalPosition.entryPrice]] : []);
  expect(await handle.query(positionsQuery)).toHaveLength(expected.finalPosition ? 1 : 0);
  // The venue never heard of this account's orders.
  expect(rows.paperOrders).toEqual([]);
  expect(Number((await q('SELECT COUNT(*) AS n FROM maopaper.orders WHERE account = ?', [account]))[0].n)).toBe(0);
  expect(Number((await q('SELECT COUNT(*) AS n FROM maopaper.positions WHERE account = ?', [account]))[0].n)).toBe(0);
  await handle.terminate('test done');
});

test('at the daily clean time the session continues as new, carrying its state, and loses or doubles no frame', async () => {
  const account = uniqueAccount('can');
  const frames = framesFor(account, 40, 3);
  const split = 20;
  const expected = expectedPaperRun(frames, 'ma-crossover', PARAMS, PAPER_TEST_CONFIG);
  // A position is open across the rollover, and orders happen on both sides of it.
  expect(expectedPaperRun(frames.slice(0, split), 'ma-crossover', PARAMS, PAPER_TEST_CONFIG).finalPosition).not.toBeNull();
  expect(expected.orders.some((o) => o.frameIndex < split)).toBe(true);
  expect(expected.orders.some((o) => o.frameIndex >= split)).toBe(true);

  // HH:MM:SS in UTC a few seconds ahead (the date part is irrelevant: nextCleanTime handles midnight).
  const dailyCleanTime = new Date(Date.now() + 10_000).toISOString().slice(11, 19);
  const handle = await start(sessionConfig(account, { dailyCleanTime }));
  const firstRunId = handle.firstRunId;
  await feedPaced(workers.pool, handle, frames.slice(0, split));
  const before = await handle.query(statusQuery);
  expect(before.runsSinceStart).toBe(1); // the feed must finish before the clean time, or this test checks nothing
  const positionsBefore = await handle.query(positionsQuery);
  const systemsBefore = await handle.query(systemsQuery);
  const tradesBefore = await handle.query(tradesQuery);
  expect(positionsBefore).toHaveLength(1);

  const after = await waitStatus(handle, (s) => s.runsSinceStart === 2, 'runsSinceStart = 2');
  const carriedPart = ({ status, orderSeq, lastFrames, counters, lastRejection, queuedFrames }: StatusView) => ({ status, orderSeq, lastFrames, counters, lastRejection, queuedFrames });
  expect(carriedPart(after)).toEqual(carriedPart(before));
  expect(after.orderSeq).toBeGreaterThan(0);
  expect(await handle.query(positionsQuery)).toEqual(positionsBefore);
  expect(await handle.query(systemsQuery)).toEqual(systemsBefore);
  expect(await handle.query(tradesQuery)).toEqual(tradesBefore);
  const first = await client.workflow.getHandle(handle.workflowId, firstRunId).describe();
  expect(first.status.name).toBe('CONTINUED_AS_NEW');
  const latest = await client.workflow.getHandle(handle.workflowId).describe();
  expect(latest.runId).not.toBe(firstRunId);
  expect(latest.status.name).toBe('RUNNING');
  await waitVisible(`MaoAccount = '${account}' AND MaoBroker = 'paper' AND MaoStatus = 'running'`, latest.runId);

  await feedPaced(workers.pool, handle, frames.slice(split));
  const end = await handle.query(statusQuery);
  expect(end.runsSinceStart).toBe(2);
  expect(end.counters.framesProcessed).toBe(frames.length);
  expect(end.counters.framesDuplicate).toBe(0);
  expect(end.counters.framesBackfilled).toBe(0);
  expect(end.orderSeq).toBe(expected.orders.filter((o) => o.kind !== 'stop').length);
  await expectBooksMatch(account, frames, expected);
  await handle.terminate('test done');
});

test('a running session is found by its search attributes (account, broker, status) that it sets itself', async () => {
  const account = uniqueAccount('search');
  // Started without search attributes (as any caller may): the session upserts its own.
  const handle = await client.workflow.start<typeof accountSession>('accountSession', {
    taskQueue: workers.taskQueue,
    workflowId: sessionWorkflowId(account),
    args: [{ config: sessionConfig(account) }],
  });
  handles.push(handle);
  const runId = handle.firstExecutionRunId;
  const query = `MaoAccount = '${account}' AND MaoBroker = 'paper' AND MaoStatus = 'running'`;
  await waitVisible(query, runId);
  expect(await listRuns(query)).toEqual([{ workflowId: `session-${account}`, runId }]);
  expect(await listRuns(`MaoAccount = '${account}' AND MaoStatus = 'paused'`)).toEqual([]);
  expect(await listRuns(`MaoAccount = '${account}' AND MaoBroker = 'ig'`)).toEqual([]);
  await handle.terminate('test done');
});

test('a bad session config fails the workflow with a non-retryable error naming the field', async () => {
  const failureOf = async (config: SessionConfigInput) => {
    const handle = await start(config);
    const err = await handle.result().then(
      () => {
        throw new Error('the session completed');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).nonRetryable).toBe(true);
    return { type: (cause as ApplicationFailure).type, message: cause!.message };
  };
  const a1 = uniqueAccount('badsys');
  const unknown = await failureOf(
    sessionConfig(a1, { systems: [{ id: 'ma', system: 'no-such-system', symbol: a1.toUpperCase(), timeframe: '1m', params: {} }] }),
  );
  expect(unknown.type).toBe('InvalidSessionConfig');
  expect(unknown.message).toMatch(/systems\.ma\.system: unknown trading system "no-such-system"/);

  const a2 = uniqueAccount('badpar');
  const badParams = await failureOf(
    sessionConfig(a2, { systems: [{ id: 'ma', system: 'ma-crossover', symbol: a2.toUpperCase(), timeframe: '1m', params: { fastPeriod: 30, slowPeriod: 10 } }] }),
  );
  expect(badParams.type).toBe('InvalidSystemParamsError');
  expect(badParams.message).toMatch(/system ma: .*slowPeriod: slowPeriod \(10\) must be greater than fastPeriod \(30\)/);

  const a3 = uniqueAccount('badcfg');
  const badClock = await failureOf(sessionConfig(a3, { dailyCleanTime: '24:00' }));
  expect(badClock.type).toBe('InvalidSessionConfig');
  expect(badClock.message).toMatch(/dailyCleanTime: must be a UTC time of day/);
});
