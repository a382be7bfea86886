/**
 * The order lifecycle on the real Temporal server against the Alpaca fake (issue 11): an entry the venue
 * keeps working is tracked and settled by the session's timer with no second entry; a close queued while
 * the venue holds orders is one order however often it is asked for; a 401 window during a stop check
 * degrades the session (status, search attribute) and it recovers by itself; a refused close (403) keeps
 * the stop at the broker, or shows it not live and places it again; a close cancelled after a partial
 * fill keeps the residual open with a stop of its quantity; a session started again for an account with
 * open positions adopts them as its own, and close-all closes them.
 */
import type { Client, Connection } from '@temporalio/client';
import type { Frame } from '../../market/frame';
import { closeAllUpdate, closePositionUpdate, positionsQuery, reconcileUpdate, statusQuery, tradesQuery } from '../../workflows/definitions';
import { uniqueAccount } from '../support/env';
import { until } from '../support/scripted-bars';
import { feedPaced, startInProcessWorkers, startSession, temporalClient } from '../support/harness';
import { alpacaVenue } from '../support/venues';

jest.setTimeout(180_000);

let client: Client;
let connection: Connection;
beforeAll(async () => ({ client, connection } = await temporalClient()));
afterAll(async () => connection?.close());

/** Closed 1m frames ending before now: ma-crossover(1, 2) goes short on the 3rd. */
function frames(symbol: string, closes: number[]): Frame[] {
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - (closes.length + 1) * 60_000;
  return closes.map((c, i) => ({ symbol, timeframe: '1m', start: t0 + i * 60_000, open: c, high: c + 0.5, low: c - 0.5, close: c, volume: 0 }));
}

/** The value of `probe` once `ok` holds (the shared poller: retries a query that fails while a worker restarts). */
const when = <T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs?: number) =>
  until(what, async () => { const v = await probe(); return ok(v) ? v : undefined; }, timeoutMs ?? 60_000);

const MA = (symbol: string) => ({ id: 'ma', system: 'ma-crossover', symbol, timeframe: '1m' as const, params: { fastPeriod: 1, slowPeriod: 2, stopDistancePct: 5, quantity: 1 } });

test('a working entry is tracked and settled by the timer, with no second entry; a held close is one order however often it is asked for', async () => {
  const venue = await alpacaVenue();
  const fake = venue.fakeAlpaca!;
  const workers = await startInProcessWorkers({ brokers: { alpaca: venue.adapter } });
  const account = uniqueAccount('lcyc');
  try {
    await venue.setPrice(100);
    const handle = await startSession(client, { account, broker: 'alpaca', tradingEnabled: true, systems: [MA(venue.symbol)] }, workers.taskQueue);
    fake.setScenario({ fills: 'hold' });
    // 100, 101, 100: short entry on the 3rd frame; 99 again: still short (no new decision to enter).
    await feedPaced(workers.pool, handle, frames(venue.symbol, [100, 101, 100, 99]));
    const tracked = await handle.query(statusQuery);
    expect(tracked.ordersInFlight).toEqual([expect.objectContaining({ intent: 'open', state: 'accepted' })]);
    expect(await handle.query(positionsQuery)).toEqual([]);
    expect(await venue.submissions(account)).toBe(1);

    fake.releaseFills();
    const positions = await when('the released entry to open the position', () => handle.query(positionsQuery), (p) => p.length === 1);
    expect(positions[0]).toMatchObject({ side: 'short', quantity: 1 });
    expect((await handle.query(statusQuery)).ordersInFlight).toEqual([]);
    expect(await venue.submissions(account)).toBe(1);

    // The venue holds orders again (after hours): three close requests, one order.
    fake.setScenario({ fills: 'hold' });
    expect(await handle.executeUpdate(closePositionUpdate, { args: [{ systemId: 'ma', by: 'test' }] })).toBeNull();
    expect(await handle.executeUpdate(closePositionUpdate, { args: [{ systemId: 'ma', by: 'test' }] })).toBeNull();
    expect(await handle.executeUpdate(closePositionUpdate, { args: [{ systemId: 'ma', by: 'test' }] })).toBeNull();
    expect(await venue.submissions(account)).toBe(2);
    fake.releaseFills();
    const trades = await when('the released close to book the trade', () => handle.query(tradesQuery), (t) => t.length === 1);
    expect(trades[0]).toMatchObject({ exitReason: 'manual', quantity: 1 });
    expect(await handle.query(positionsQuery)).toEqual([]);
    expect(fake.positions()).toEqual([]);
    expect(await venue.submissions(account)).toBe(2);
    await handle.terminate('test done');
  } finally {
    await workers.stop();
    await venue.stop();
  }
});

test('a 401 window during reconciliation degrades the session instead of failing it, and it recovers by itself', async () => {
  const venue = await alpacaVenue();
  const fake = venue.fakeAlpaca!;
  const workers = await startInProcessWorkers({ brokers: { alpaca: venue.adapter } });
  const account = uniqueAccount('ldeg');
  try {
    await venue.setPrice(100);
    const handle = await startSession(client, { account, broker: 'alpaca', tradingEnabled: true, systems: [MA(venue.symbol)] }, workers.taskQueue);
    await feedPaced(workers.pool, handle, frames(venue.symbol, [100, 101, 100]));
    expect(await handle.query(positionsQuery)).toHaveLength(1);
    fake.unauthorizedFor(20_000);
    const report = await handle.executeUpdate(reconcileUpdate, { args: [{ by: 'test' }] });
    expect(report.reason).toMatch(/failed, session degraded/);
    const degraded = await handle.query(statusQuery);
    expect(degraded.status).toBe('degraded');
    expect(degraded.degraded?.reason).toMatch(/401|unauthori/i);
    const described = await handle.describe();
    expect(described.status.name).toBe('RUNNING');
    expect(described.searchAttributes.MaoStatus).toEqual(['degraded']);
    // The retry is 30 s after, when the 401 window has passed.
    const recovered = await when('the session to recover', () => handle.query(statusQuery), (s) => s.status === 'running', 90_000);
    expect(recovered.degraded).toBeNull();
    expect(await handle.query(positionsQuery)).toHaveLength(1);
    await handle.terminate('test done');
  } finally {
    await workers.stop();
    await venue.stop();
  }
});

/** The stop orders working at the Alpaca fake. */
const workingStops = (fake: NonNullable<Awaited<ReturnType<typeof alpacaVenue>>['fakeAlpaca']>) =>
  fake.orders().filter((o) => o.type === 'stop' && ['new', 'accepted'].includes(o.status));

const PDT = JSON.stringify({ code: 40310000, message: 'trade denied due to pattern day trading protection' });

test('a refused close keeps the stop at the broker; a stop that cannot be put back is shown not live and placed again on the next frame', async () => {
  const venue = await alpacaVenue();
  const fake = venue.fakeAlpaca!;
  const workers = await startInProcessWorkers({ brokers: { alpaca: venue.adapter } });
  const account = uniqueAccount('lref');
  const stopsAtVenue = () => workingStops(fake);
  try {
    await venue.setPrice(100);
    const handle = await startSession(client, { account, broker: 'alpaca', tradingEnabled: true, systems: [MA(venue.symbol)] }, workers.taskQueue);
    const fs = frames(venue.symbol, [100, 101, 100, 100, 100]);
    await feedPaced(workers.pool, handle, fs.slice(0, 3));
    const [pos] = await handle.query(positionsQuery);
    expect(pos).toMatchObject({ side: 'short', quantity: 1, stop: 105 });
    expect(stopsAtVenue().map((o) => o.client_order_id)).toEqual([`${pos.positionRef}-S`]);

    // Alpaca refuses the close (403): the stop the close cancelled is back at once as -S2.
    fake.respondNext({ method: 'POST', path: '/v2/orders', status: 403, body: PDT, times: 1 });
    expect(await handle.executeUpdate(closePositionUpdate, { args: [{ systemId: 'ma', by: 'test' }] })).toBeNull();
    expect(stopsAtVenue().map((o) => [o.client_order_id, o.qty, o.stop_price])).toEqual([[`${pos.positionRef}-S2`, '1', '105']]);
    const [kept] = await handle.query(positionsQuery);
    expect(kept).toMatchObject({ positionRef: pos.positionRef, stop: 105 });
    expect(kept.stopLive).toBeUndefined();

    // Refused again, and so are the re-place and the session's own retry: no stop at the broker, and the query says so.
    fake.respondNext({ method: 'POST', path: '/v2/orders', status: 403, body: PDT, times: 3 });
    expect(await handle.executeUpdate(closePositionUpdate, { args: [{ systemId: 'ma', by: 'test' }] })).toBeNull();
    expect(stopsAtVenue()).toEqual([]);
    expect((await handle.query(positionsQuery))[0]).toMatchObject({ positionRef: pos.positionRef, stop: 105, stopLive: false });

    // The next frame places it again: live at the broker, the mark gone, the position still open and its own.
    await feedPaced(workers.pool, handle, fs.slice(3, 4));
    const live = await when('the stop to be live again', () => handle.query(positionsQuery), (p) => p[0]?.stopLive === undefined);
    expect(live[0]).toMatchObject({ positionRef: pos.positionRef, quantity: 1, stop: 105 });
    expect(stopsAtVenue().map((o) => [o.qty, o.stop_price])).toEqual([['1', '105']]);
    expect(fake.positions()).toEqual([expect.objectContaining({ symbol: venue.symbol, side: 'short' })]);
    expect(await handle.query(tradesQuery)).toEqual([]);
    await handle.terminate('test done');
  } finally {
    await workers.stop();
    await venue.stop();
  }
});

test('a close cancelled after a partial fill books the part and keeps the residual open with a stop of its quantity at the broker', async () => {
  const venue = await alpacaVenue();
  const fake = venue.fakeAlpaca!;
  const workers = await startInProcessWorkers({ brokers: { alpaca: venue.adapter } });
  const account = uniqueAccount('lpart');
  const stopsAtVenue = () => workingStops(fake);
  try {
    await venue.setPrice(100);
    const ma = { ...MA(venue.symbol), params: { ...MA(venue.symbol).params, quantity: 3 } };
    const handle = await startSession(client, { account, broker: 'alpaca', tradingEnabled: true, systems: [ma] }, workers.taskQueue);
    await feedPaced(workers.pool, handle, frames(venue.symbol, [100, 101, 100]));
    const [pos] = await handle.query(positionsQuery);
    expect(pos).toMatchObject({ side: 'short', quantity: 3, stop: 105 });

    fake.setScenario({ partial: { qty: 1, rest: 'cancel' } });
    expect(await handle.executeUpdate(closePositionUpdate, { args: [{ systemId: 'ma', by: 'test' }] })).toBeNull();
    fake.releaseFills();
    const trades = await when('the part that filled to be booked', () => handle.query(tradesQuery), (t) => t.length === 1);
    expect(trades[0]).toMatchObject({ exitReason: 'manual', quantity: 1 });
    const residual = await when('the residual to be protected', () => handle.query(positionsQuery), (p) => p[0]?.quantity === 2 && stopsAtVenue().length === 1);
    expect(residual[0]).toMatchObject({ positionRef: pos.positionRef, quantity: 2, stop: 105 });
    expect(stopsAtVenue().map((o) => [o.qty, o.stop_price])).toEqual([['2', '105']]);
    expect(fake.positions()).toEqual([expect.objectContaining({ symbol: venue.symbol, side: 'short', qty: -2 })]);
    await handle.terminate('test done');
  } finally {
    fake.setScenario({ partial: undefined });
    await workers.stop();
    await venue.stop();
  }
});

test('a session stopped with an open position and started again adopts it as its own (system, stop, quantity): close-all closes it at the broker', async () => {
  const venue = await alpacaVenue();
  const fake = venue.fakeAlpaca!;
  const workers = await startInProcessWorkers({ brokers: { alpaca: venue.adapter } });
  const account = uniqueAccount('lrst');
  try {
    await venue.setPrice(100);
    const config = { account, broker: 'alpaca' as const, tradingEnabled: true, systems: [MA(venue.symbol)] };
    const first = await startSession(client, config, workers.taskQueue);
    await feedPaced(workers.pool, first, frames(venue.symbol, [100, 101, 100]));
    const [pos] = await first.query(positionsQuery);
    expect(pos).toMatchObject({ systemId: 'ma', side: 'short', quantity: 1, stop: 105 });
    // What DELETE /sessions/{account} does to the workflow.
    await first.terminate('stopped by test');

    const again = await startSession(client, config, workers.taskQueue);
    const adopted = await when('the restarted session to adopt the position', () => again.query(positionsQuery), (p) => p.length === 1);
    expect(adopted[0]).toMatchObject({ positionRef: pos.positionRef, systemId: 'ma', side: 'short', quantity: 1, stop: 105 });
    const status = await again.query(statusQuery);
    expect(status.foreignPositions).toBe(0);

    const trades = await again.executeUpdate(closeAllUpdate, { args: [{ by: 'test' }] });
    expect(trades).toEqual([expect.objectContaining({ positionRef: pos.positionRef, exitReason: 'manual', quantity: 1 })]);
    expect(await again.query(positionsQuery)).toEqual([]);
    expect(fake.positions()).toEqual([]);
    expect(workingStops(fake)).toEqual([]);
    await again.terminate('test done');
  } finally {
    await workers.stop();
    await venue.stop();
  }
});
