/**
 * Crash recovery (invariants 1 and 2): the session and broker worker processes are SIGKILLed at
 * several points of one session — between frames, in the middle of a frame, after the broker accepted
 * an order but before the acknowledgement reached the session, after the acknowledgement but before the
 * store write, before the intent was recorded, and both workers at once — and restarted. The result
 * must equal an uninterrupted run on the same frames: the same orders, none doubled, none missing,
 * the same trades and final positions.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { MarketDataStore } from '../../db/market-data-store';
import { generateFrames } from '../../market/synthetic';
import type { Frame } from '../../market/frame';
import { frameSignal, statusQuery } from '../../workflows/definitions';
import { ROOT, uniqueAccount } from '../support/env';
import { PAPER_TEST_CONFIG, feedPaced, startSession, waitForFrame } from '../support/harness';
import { expectedPaperRun } from '../support/oracle';
import { accountRows, normalised } from '../support/account-rows';
import { useProcessWorkers } from '../support/worker-processes';

jest.setTimeout(600_000);

const PARAMS = { fastPeriod: 5, slowPeriod: 20, stopDistancePct: 0.4 };
const COUNT = 240;

const stack = useProcessWorkers();

/** The same prices under another symbol: each session needs its own price feed at the paper venue. */
function framesFor(symbol: string): Frame[] {
  return generateFrames({ symbol, timeframe: '1m', count: COUNT, seed: 4 });
}

function configFor(account: string, symbol: string) {
  return { account, broker: 'paper', tradingEnabled: true, systems: [{ id: 'ma', system: 'ma-crossover', symbol, timeframe: '1m' as const, params: PARAMS }] };
}

/** Stores the frame and signals it: signals need no live worker, so this works while workers are down. */
async function signalFrame(handle: WorkflowHandle, frame: Frame): Promise<void> {
  await new MarketDataStore(stack.pool).upsertCandles([frame]);
  await handle.signal(frameSignal, frame);
}

test('SIGKILLs of the workers at any point change nothing: same orders, none doubled or missing, same positions', async () => {
  // 1. The uninterrupted run.
  const baseAccount = uniqueAccount('base');
  const baseFrames = framesFor(baseAccount.toUpperCase());
  const base = await startSession(stack.client, configFor(baseAccount, baseAccount.toUpperCase()));
  await feedPaced(stack.pool, base, baseFrames);
  await base.terminate('baseline done');
  const baseRows = await accountRows(stack.pool, baseAccount);

  const expected = expectedPaperRun(baseFrames, 'ma-crossover', PARAMS, PAPER_TEST_CONFIG);
  const orderFrames = [...new Set(expected.orders.filter((o) => o.kind !== 'stop').map((o) => o.frameIndex))].sort((a, b) => a - b);
  expect(orderFrames.length).toBeGreaterThanOrEqual(6);
  expect(baseRows.orders).toHaveLength(expected.orders.length);

  // 2. The same frames, with crashes.
  const account = uniqueAccount('crash');
  const symbol = account.toUpperCase();
  const frames = framesFor(symbol);
  const handle = await startSession(stack.client, configFor(account, symbol));
  const figures: Record<string, number> = {};
  let next = 0;
  const feedUntil = async (end: number) => {
    await feedPaced(stack.pool, handle, frames.slice(next, end));
    next = Math.max(next, end);
  };

  // a) Session worker killed between frames; the next frame arrives while it is down.
  await feedUntil(25);
  const killedAt = await stack.sessionWorker.kill();
  await signalFrame(handle, frames[next]);
  const restartAt = Date.now();
  await stack.sessionWorker.start();
  const readyAt = Date.now();
  await waitForFrame(handle, frames[next]);
  const processedAt = Date.now();
  figures.killToNextFrameMs = processedAt - killedAt;
  figures.workerRestartMs = readyAt - restartAt;
  figures.readyToNextFrameMs = processedAt - readyAt;
  next += 1;

  // b) Broker worker killed after the venue accepted an order, before the acknowledgement left it.
  const [o1, o2, o3, o4, o5] = orderFrames.filter((i) => i > next);
  await feedUntil(o1);
  await stack.brokerWorker.stop();
  await stack.brokerWorker.start({ MAOTRADE_FAULT_KILL_AFTER_SUBMIT: '1' });
  await signalFrame(handle, frames[o1]);
  await stack.brokerWorker.exited();
  await stack.brokerWorker.start();
  await waitForFrame(handle, frames[o1]);
  next = o1 + 1;

  // c) Session worker killed after the broker acknowledged, before the outcome was stored.
  await feedUntil(o2);
  await stack.sessionWorker.stop();
  await stack.sessionWorker.start({ MAOTRADE_FAULT_KILL_BEFORE: 'recordOutcome:1' });
  await signalFrame(handle, frames[o2]);
  await stack.sessionWorker.exited();
  await stack.sessionWorker.start();
  await waitForFrame(handle, frames[o2]);
  next = o2 + 1;

  // d) Session worker killed before the intent was even recorded.
  await feedUntil(o3);
  await stack.sessionWorker.stop();
  await stack.sessionWorker.start({ MAOTRADE_FAULT_KILL_BEFORE: 'recordOrderIntent:1' });
  await signalFrame(handle, frames[o3]);
  await stack.sessionWorker.exited();
  await stack.sessionWorker.start();
  await waitForFrame(handle, frames[o3]);
  next = o3 + 1;

  // e) Session worker killed in the middle of an order frame, at whatever point it has reached.
  await feedUntil(o4);
  await signalFrame(handle, frames[o4]);
  await new Promise((r) => setTimeout(r, 150));
  await stack.sessionWorker.kill();
  await stack.sessionWorker.start();
  await waitForFrame(handle, frames[o4]);
  next = o4 + 1;

  // f) Both workers killed at once, mid-frame.
  await feedUntil(o5);
  await signalFrame(handle, frames[o5]);
  await new Promise((r) => setTimeout(r, 100));
  await Promise.all([stack.sessionWorker.kill(), stack.brokerWorker.kill()]);
  await Promise.all([stack.sessionWorker.start(), stack.brokerWorker.start()]);
  await waitForFrame(handle, frames[o5]);
  next = o5 + 1;

  await feedUntil(COUNT);
  const status = await handle.query(statusQuery);
  expect(status.counters.framesProcessed).toBe(COUNT);
  expect(status.counters.ordersUnknown).toBe(0);
  await handle.terminate('test done');

  // 3. Same records as the uninterrupted run, order for order, and the venue agrees.
  const rows = await accountRows(stack.pool, account);
  expect(normalised(rows, account)).toEqual(normalised(baseRows, baseAccount));
  expect(rows.paperOrders).toHaveLength(expected.orders.length);
  expect(new Set(rows.paperOrders.map((o) => o.client_order_id)).size).toBe(rows.paperOrders.length);

  fs.mkdirSync(path.join(ROOT, '.run'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, '.run', 'crash-recovery-figures.json'), JSON.stringify(figures, null, 2));
  console.log(`resume after SIGKILL of the session worker: ${JSON.stringify(figures)}`);
});
