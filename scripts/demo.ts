/**
 * The paper-trading demo: starts (or finds) the `demo` account's session on the paper broker, replays
 * the last few hundred minutes of a deterministic synthetic market into it with a progress bar, prints
 * what it traded, an equity chart and where to find the session in the Temporal UI.
 *   tsx scripts/demo.ts           history + summary
 *   tsx scripts/demo.ts --live    then keep feeding one closed frame per minute (the demo's data feeder)
 */
import { plot } from 'asciichart';
import Table from 'cli-table3';
import { Client, Connection, WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import { loadConfigOrExit } from '../config/env';
import { createLogger } from '../logging/logger';
import { DemoFeed } from '../market/demo-feed';
import { plainStyle } from '../cli/settings';
import { progressBar } from '../cli/terminal';
import { createPool } from '../db/pool';
import { MarketDataStore } from '../db/market-data-store';
import { migrateShared } from '../db/migrate';
import { generateFrames } from '../market/synthetic';
import { timeframeMs } from '../market/timeframe';
import type { Frame } from '../market/frame';
import {
  SA_ACCOUNT,
  SA_BROKER,
  SA_STATUS,
  SESSION_TASK_QUEUE,
  frameSignal,
  pnlQuery,
  riskQuery,
  sessionWorkflowId,
  statusQuery,
  submitFramesUpdate,
  tradesQuery,
} from '../workflows/definitions';
import type { accountSession } from '../workflows/account-session';
import type { SessionConfigInput } from '../workflows/session-config';

const ACCOUNT = 'demo';
const SYMBOL = 'DEMOFX';
const HISTORY_FRAMES = 480;
const TF = '1m' as const;
const TF_MS = timeframeMs(TF);
/** The synthetic market starts here, so every minute has one fixed price, run after run. */
const MARKET_EPOCH = Date.UTC(2026, 0, 1);

/** The closed frames of the demo market from `from` (inclusive) to `to` (exclusive). */
function marketFrames(from: number, to: number): Frame[] {
  const all = generateFrames({
    symbol: SYMBOL,
    timeframe: TF,
    start: MARKET_EPOCH,
    count: Math.floor((to - MARKET_EPOCH) / TF_MS),
    seed: 2026,
    startPrice: 1.1,
    volatilityPct: 0.05,
    trendCycle: 90,
    trendAmplitudePct: 0.6,
  });
  return all.filter((f) => f.start >= from);
}

async function startOrFind(client: Client, cfg: ReturnType<typeof loadConfigOrExit>): Promise<WorkflowHandle<typeof accountSession>> {
  const config: SessionConfigInput = {
    account: ACCOUNT,
    broker: 'paper',
    // The paper broker is a simulated venue: trading "for real" on it is the point of the demo.
    tradingEnabled: true,
    dailyCleanTime: `${String(cfg.dailyCleanTimeUtc.hour).padStart(2, '0')}:${String(cfg.dailyCleanTimeUtc.minute).padStart(2, '0')}`,
    systems: [
      { id: 'ma-fast', system: 'ma-crossover', symbol: SYMBOL, timeframe: TF, params: { fastPeriod: 8, slowPeriod: 21, stopDistancePct: 0.15, quantity: 10000 } },
      // Stop entries at the channel's edge with a bracket (stop + take-profit) and a trailing stop: the session emulates them.
      {
        id: 'breakout',
        system: 'channel-breakout',
        symbol: SYMBOL,
        timeframe: TF,
        params: { period: 30, quantity: 10000, stopPct: 0.12, takeProfitPct: 0.25, trailingStopPct: 0.1 },
      },
    ],
    // Pre-trade limits and a daily-loss protection (the replay sends many frames a minute, hence the order rate).
    // 10,000 units of EUR/USD is about 11,000 of notional: above the default of 10% of the 100,000 balance
    // (risk/default-limits.ts), so the demo states the limits it trades under instead of leaning on defaults.
    risk: { maxOrderQuantity: 50_000, maxOrderNotional: 25_000, maxTotalExposure: 100_000, maxOpenPositions: 4, maxOrdersPerMinute: 120 },
    protections: { dailyLoss: { limit: 5_000, action: 'reducing' } },
  };
  try {
    return await client.workflow.start<typeof accountSession>('accountSession', {
      taskQueue: SESSION_TASK_QUEUE,
      workflowId: sessionWorkflowId(ACCOUNT),
      args: [{ config }],
      typedSearchAttributes: [
        { key: SA_ACCOUNT, value: ACCOUNT },
        { key: SA_BROKER, value: 'paper' },
        { key: SA_STATUS, value: 'running' },
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return client.workflow.getHandle(sessionWorkflowId(ACCOUNT));
    throw err;
  }
}

async function waitProcessed(handle: WorkflowHandle, start: number, onProgress?: (done: number) => void) {
  const key = `${SYMBOL}|${TF}`;
  for (;;) {
    const s = await handle.query(statusQuery);
    const last = s.lastFrames[key] ?? 0;
    onProgress?.(last);
    if (last >= start) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function fmt(n: number, digits = 2): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

async function main(): Promise<void> {
  const live = process.argv.includes('--live');
  const cfg = loadConfigOrExit();
  await migrateShared(cfg.mysqlUrl);
  const pool = createPool(cfg.mysqlUrl);
  const market = new MarketDataStore(pool);
  const connection = await Connection.connect({ address: cfg.temporal.address });
  const client = new Client({ connection, namespace: cfg.temporal.namespace });
  const handle = await startOrFind(client, cfg);

  const now = Math.floor(Date.now() / TF_MS) * TF_MS; // start of the current, still open minute
  const history = marketFrames(now - HISTORY_FRAMES * TF_MS, now);
  const before = await handle.query(statusQuery);
  const lastDone = before.lastFrames[`${SYMBOL}|${TF}`] ?? 0;
  const todo = history.filter((f) => f.start > lastDone);

  process.stdout.write(`\nMAOTrade paper demo — account "${ACCOUNT}", ${SYMBOL} ${TF}, moving-average crossover + channel breakout (bracket, trailing stop)\n`);
  if (todo.length) {
    const bar = progressBar('  replaying market  [{bar}] {value}/{total} frames  {orders} orders');
    if (bar) bar.start(todo.length, 0, { orders: before.orderSeq });
    else process.stdout.write(`  replaying ${todo.length} frames of the market\n`);
    // The venue fills at the latest price it knows: store and deliver the frames one small batch at a time.
    for (let i = 0; i < todo.length; i += 1) {
      await market.upsertCandles([todo[i]]);
      await handle.executeUpdate(submitFramesUpdate, { args: [[todo[i]]] });
      const s = await waitProcessed(handle, todo[i].start);
      bar?.update(i + 1, { orders: s.orderSeq });
    }
    bar?.stop();
  } else {
    process.stdout.write('  session already up to date\n');
  }

  const trades = await handle.query(tradesQuery);
  const pnl = await handle.query(pnlQuery);
  const status = await handle.query(statusQuery);
  const table = new Table({ style: plainStyle(), head: ['closed (UTC)', 'system', 'side', 'qty', 'entry', 'exit', 'P&L', 'exit reason'] });
  for (const t of trades.slice(-12)) {
    table.push([new Date(t.closedAt).toISOString().slice(5, 16).replace('T', ' '), t.systemId, t.side, t.quantity, t.entryPrice.toFixed(5), t.exitPrice.toFixed(5), fmt(t.pnl), t.exitReason]);
  }
  process.stdout.write(`\nLast trades (${trades.length} in all):\n${table.toString()}\n`);
  const [rows] = await pool.query(`SELECT equity FROM mt_${ACCOUNT}.equity ORDER BY ts DESC LIMIT 240`);
  const minutes = (rows as { equity: number }[]).map((r) => Number(r.equity)).reverse();
  // One column per 3 minutes keeps the chart inside a terminal.
  const curve = minutes.filter((_, i) => (minutes.length - 1 - i) % 3 === 0);
  if (curve.length > 2) {
    process.stdout.write(`\nEquity, last ${minutes.length} minutes (a column per 3 minutes):\n${plot(curve, { height: 10, format: (x: number) => fmt(x).padStart(12) })}\n`);
  }
  process.stdout.write(
    `\nRealised P&L ${fmt(pnl.realised)}  unrealised ${fmt(pnl.unrealised)}  orders ${status.orderSeq}  frames ${status.counters.framesProcessed}  status ${status.status}\n`,
  );
  const risk = await handle.query(riskQuery);
  process.stdout.write(
    `Trading state ${status.tradingState}  risk refusals ${status.counters.ordersRefused}  working orders ${risk.workingOrders.length}  protection locks ${risk.locks.length}\n`,
  );
  const ui = `http://${cfg.temporal.address.replace(/:\d+$/, '')}:8233/namespaces/${cfg.temporal.namespace}/workflows?query=${encodeURIComponent(`MaoAccount="${ACCOUNT}"`)}`;
  process.stdout.write(`\nTemporal UI: ${ui}\n  (workflow ${sessionWorkflowId(ACCOUNT)}; search attributes MaoAccount=${ACCOUNT} MaoBroker=paper MaoStatus=${status.status} MaoTradingState=${status.tradingState})\n\n`);

  if (!live) {
    await connection.close();
    await pool.end();
    return;
  }
  // The demo's data feeder: one closed frame per minute, stored first (the venue's price feed), then
  // signalled; a failed store or signal (MariaDB, Temporal restarting) is retried with backoff and the
  // frames missed meanwhile are caught up (market/demo-feed.ts).
  process.stdout.write('live feeder: one frame per minute\n');
  const log = createLogger({ level: cfg.logLevel, service: 'demo-feeder' });
  const feed = new DemoFeed(
    {
      framesBetween: marketFrames,
      store: (frames) => market.upsertCandles(frames),
      deliver: (frames) => handle.signal(frameSignal, frames),
      log: (level, message, fields) => log[level](fields, message),
    },
    { frameMs: TF_MS, lastDelivered: Math.max(lastDone, ...todo.map((f) => f.start)) },
  );
  await feed.run();
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
