/**
 * The AccountSession end to end on the real Temporal dev server, MariaDB and FerretDB, with the
 * production worker processes (session worker + paper broker worker).
 */
import { MarketDataStore } from '../../db/market-data-store';
import { generateFrames } from '../../market/synthetic';
import { pnlQuery, positionsQuery, statusQuery } from '../../workflows/definitions';
import { uniqueAccount } from '../support/env';
import { PAPER_TEST_CONFIG, feedFrames, feedPaced, startSession, waitForFrame } from '../support/harness';
import { expectedPaperRun } from '../support/oracle';
import { accountRows } from '../support/account-rows';
import { logsOf } from '../support/logs';
import { useProcessWorkers } from '../support/worker-processes';

const PARAMS = { fastPeriod: 5, slowPeriod: 20, stopDistancePct: 0.4 };

const stack = useProcessWorkers();

/** Each test trades its own symbol (its account id), so earlier runs' candles never leak into its prices. */
function sessionConfig(account: string, symbol: string) {
  return {
    account,
    broker: 'paper',
    tradingEnabled: true,
    systems: [{ id: 'ma', system: 'ma-crossover', symbol, timeframe: '1m' as const, params: PARAMS }],
  };
}

function expectRowsMatchOracle(rows: Awaited<ReturnType<typeof accountRows>>, expected: ReturnType<typeof expectedPaperRun>) {
  expect(rows.orders.map((o) => [o.side, o.intent, o.status, o.fill_price])).toEqual(
    expected.orders.map((o) => [o.side, o.intent, 'filled', o.price]),
  );
  expect(rows.trades.map((t) => [t.side, t.entry_price, t.exit_price, t.pnl, t.exit_reason])).toEqual(
    expected.trades.map((t) => [t.side, t.entryPrice, t.exitPrice, t.pnl, t.exitReason]),
  );
  const open = rows.positions.filter((p) => p.status === 'open');
  expect(open.map((p) => [p.side, p.entry_price])).toEqual(expected.finalPosition ? [[expected.finalPosition.side, expected.finalPosition.entryPrice]] : []);
  // The venue's ledger agrees with the session's record, order for order.
  expect(rows.paperOrders.map((o) => [o.client_order_id, o.side, o.intent, o.status, o.fill_price]).sort()).toEqual(
    rows.orders.map((o) => [o.client_order_id, o.side, o.intent, o.status, o.fill_price]).sort(),
  );
  expect(rows.paperOpen.map((p) => p.position_ref)).toEqual(open.map((p) => p.position_ref));
  expect(rows.fills).toHaveLength(rows.orders.length);
}

test('a session over 300 frames leaves exactly the expected orders, positions and trades, and logs in maologs', async () => {
  const account = uniqueAccount('sess');
  const frames = generateFrames({ symbol: account.toUpperCase(), timeframe: '1m', count: 300, seed: 4 });
  const expected = expectedPaperRun(frames, 'ma-crossover', PARAMS, PAPER_TEST_CONFIG);
  // The frames must exercise entries, reversals and stops, or this test proves little.
  expect(expected.trades.length).toBeGreaterThanOrEqual(6);
  expect(expected.trades.some((t) => t.exitReason === 'stop')).toBe(true);
  expect(expected.trades.some((t) => t.exitReason === 'reverse')).toBe(true);

  const handle = await startSession(stack.client, sessionConfig(account, account.toUpperCase()));
  await feedPaced(stack.pool, handle, frames);

  const rows = await accountRows(stack.pool, account);
  expectRowsMatchOracle(rows, expected);
  const status = await handle.query(statusQuery);
  expect(status.counters.framesProcessed).toBe(300);
  expect(status.orderSeq).toBe(expected.orders.filter((o) => o.kind !== 'stop').length);
  const pnl = await handle.query(pnlQuery);
  expect(pnl.realised).toBeCloseTo(expected.realised, 6);
  expect((await handle.query(positionsQuery)).length).toBe(expected.finalPosition ? 1 : 0);

  const [{ n: equityPoints }] = (await stack.pool.query(`SELECT COUNT(*) AS n FROM mt_${account}.equity`))[0] as any[];
  expect(Number(equityPoints)).toBe(300);
  const [[sysState]] = (await stack.pool.query(`SELECT state, frame_start FROM mt_${account}.system_states WHERE system_id = 'ma'`)) as any[];
  expect(Number(sysState.frame_start)).toBe(frames[299].start);

  // Structured logs of this account reached MongoDB: workflow logs (replay-aware) and broker activity logs.
  const filled = await logsOf(account, { msg: 'order filled' }, status.counters.ordersPlaced);
  expect(filled).toHaveLength(status.counters.ordersPlaced);
  expect(filled.every((d) => d.levelName === 'info' && d.time instanceof Date)).toBe(true);
  const placed = await logsOf(account, { msg: 'order placed', service: 'broker-paper' }, status.counters.ordersPlaced);
  expect(placed).toHaveLength(status.counters.ordersPlaced);
  await handle.terminate('test done');
});

test('a gap is backfilled from maodata and duplicate frames are ignored, with the same result as an unbroken feed', async () => {
  const account = uniqueAccount('gap');
  const frames = generateFrames({ symbol: account.toUpperCase(), timeframe: '1m', count: 120, seed: 5 });
  const expected = expectedPaperRun(frames, 'ma-crossover', PARAMS, PAPER_TEST_CONFIG);
  // A decision on a backfilled frame fills at the venue's current price, not the old frame's, so the
  // comparison with an unbroken feed uses a 20-frame gap in which the system makes no decision.
  const orderFrames = new Set(expected.orders.map((o) => o.frameIndex));
  const gapStart = [...Array(80).keys()].map((i) => i + 25).find((s) => [...Array(20).keys()].every((k) => !orderFrames.has(s + k)))!;
  expect(gapStart).toBeDefined();
  expect(expected.orders.some((o) => o.frameIndex > gapStart + 20)).toBe(true);
  const handle = await startSession(stack.client, sessionConfig(account, account.toUpperCase()));

  await feedPaced(stack.pool, handle, frames.slice(0, gapStart));
  // The gap's frames reach maodata (the feeder stored them) but never the session.
  await new MarketDataStore(stack.pool).upsertCandles(frames.slice(gapStart, gapStart + 20));
  await feedPaced(stack.pool, handle, frames.slice(gapStart + 20, gapStart + 21));
  // Re-deliveries of frames already processed change nothing.
  await feedFrames(stack.pool, handle, [frames[10], frames[gapStart + 20]]);
  await feedPaced(stack.pool, handle, frames.slice(gapStart + 21));
  await waitForFrame(handle, frames[119]);

  const status = await handle.query(statusQuery);
  expect(status.counters.framesBackfilled).toBe(20);
  expect(status.counters.framesProcessed).toBe(120);
  expect(status.counters.framesDuplicate).toBe(2);
  expect(status.counters.framesMissing).toBe(0);
  expectRowsMatchOracle(await accountRows(stack.pool, account), expected);
  await handle.terminate('test done');
});

test('a gap that maodata cannot fill is counted as missing and the session goes on', async () => {
  const account = uniqueAccount('hole');
  const frames = generateFrames({ symbol: account.toUpperCase(), timeframe: '1m', count: 40, seed: 9 });
  const handle = await startSession(stack.client, sessionConfig(account, account.toUpperCase()));
  await feedPaced(stack.pool, handle, frames.slice(0, 30));
  await feedPaced(stack.pool, handle, frames.slice(35)); // frames 30..34 never existed anywhere
  const status = await handle.query(statusQuery);
  expect(status.counters.framesMissing).toBe(5);
  expect(status.counters.framesProcessed).toBe(35);
  expect(status.lastFrames[`${account.toUpperCase()}|1m`]).toBe(frames[39].start);
  await handle.terminate('test done');
});

test('a 20,000-frame gap is backfilled in pages of 1,000 and the session keeps running, a page per workflow turn', async () => {
  const account = uniqueAccount('big');
  const symbol = account.toUpperCase();
  const n = 20_002;
  // Closed frames ending a minute ago: the session refuses frames from the future.
  const start = Math.floor(Date.now() / 60_000) * 60_000 - (n + 1) * 60_000;
  const frames = generateFrames({ symbol, timeframe: '1m', count: n, seed: 11, start });
  const handle = await startSession(stack.client, { ...sessionConfig(account, symbol), tradingEnabled: false });
  await feedPaced(stack.pool, handle, frames.slice(0, 1));
  await new MarketDataStore(stack.pool).upsertCandles(frames.slice(1, n - 1));
  await feedFrames(stack.pool, handle, frames.slice(n - 1));
  await waitForFrame(handle, frames[n - 1], 240_000);
  const status = await handle.query(statusQuery);
  expect(status.counters.framesBackfilled).toBe(20_000);
  expect(status.counters.framesMissing).toBe(0);
  expect(status.lastFrames[`${symbol}|1m`]).toBe(frames[n - 1].start);
  const [{ c }] = (await stack.pool.query(`SELECT COUNT(*) AS c FROM mt_${account}.equity`))[0] as any[];
  expect(Number(c)).toBe(n);
  expect((await handle.describe()).status.name).toBe('RUNNING');
  // Nineteen pages handed the frame back; the twentieth ended the gap.
  const pages = await logsOf(account, { msg: 'backfill page done; more to come' }, 19);
  expect(pages).toHaveLength(19);
  await handle.terminate('test done');
}, 300_000);
