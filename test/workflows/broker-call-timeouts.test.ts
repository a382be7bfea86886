/**
 * Issue 11, item 4, on the real Temporal server: an IG confirm that appears only 8 s after the deal settles
 * the order in ONE attempt of placeOrder. The session asks the IG worker for its call timeouts (computed from
 * the adapter's config, brokers/ig/timeouts.ts) and schedules placeOrder with a start-to-close above the
 * adapter's worst case and a heartbeat timeout; the adapter's confirm poll heartbeats while it waits.
 *
 * The adapter polls confirms every 6 s (a valid config: polls at 0, 6 and 12 s), so the 8-s confirm is seen
 * 12 s after the submit: past the 10-s start-to-close every broker call had before, under which attempt 1
 * timed out while its poll was still waiting (and a second attempt had to find the order: run on the previous
 * workflows/effects.ts, placeOrder and placeStop both show attempt 2), within the one computed now.
 */
import type { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { IgBrokerAdapter, igCallBudgets, InMemorySubmissionJournal, parseIgConfig } from '../../brokers/ig';
import { activityTimeouts } from '../../brokers/timeouts';
import type { Frame } from '../../market/frame';
import { positionsQuery, statusQuery } from '../../workflows/definitions';
import { uniqueAccount } from '../support/env';
import { feedPaced, startInProcessWorkers, startSession, temporalClient } from '../support/harness';
import { igVenue } from '../support/venues';

jest.setTimeout(180_000);

let client: Client;
let connection: Connection;
beforeAll(async () => ({ client, connection } = await temporalClient()));
afterAll(async () => connection?.close());

const CONFIRM_DELAY_MS = 8_000;
const OLD_START_TO_CLOSE_MS = 10_000;

/** ma-crossover(1, 2): the third frame turns down, a short entry. */
function decisionFrames(symbol: string, closes: number[]): Frame[] {
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - closes.length * 60_000;
  return closes.map((c, i) => ({ symbol, timeframe: '1m', start: t0 + i * 60_000, open: c, high: c + 0.5, low: c - 0.5, close: c, volume: 0 }));
}

/** A protobuf Duration or Timestamp in ms (its seconds may be a Long). */
const ms = (d: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(String(d?.seconds ?? 0)) * 1000 + Math.round((d?.nanos ?? 0) / 1e6);
const at = (e: temporal.api.history.v1.IHistoryEvent) => ms(e.eventTime);

test('an IG confirm that appears after 8 s settles the order in one attempt of placeOrder: filled, not pending or unknown', async () => {
  const venue = await igVenue();
  const fake = venue.fakeIg!;
  // IG's defaults (10-s HTTP timeout, 10-s confirm window, 20 activity pages), polling confirms every 6 s.
  const config = parseIgConfig({
    apiKey: fake.options.apiKey,
    identifier: fake.options.identifier,
    password: fake.options.password,
    accountId: 'ABC123',
    baseUrl: fake.url,
    confirmPollIntervalMs: 6_000,
  });
  const adapter = new IgBrokerAdapter(config, { journal: new InMemorySubmissionJournal(), now: () => fake.now() });
  const workers = await startInProcessWorkers({ brokers: { ig: adapter } });
  const account = uniqueAccount('igconf');
  try {
    await venue.setPrice(100);
    fake.setScenario({ confirmDelayMs: CONFIRM_DELAY_MS });
    const handle = await startSession(
      client,
      {
        account,
        broker: 'ig',
        tradingEnabled: true,
        systems: [{ id: 'ma', system: 'ma-crossover', symbol: venue.symbol, timeframe: '1m', params: { fastPeriod: 1, slowPeriod: 2, stopDistancePct: 5, quantity: 1 } }],
      },
      workers.taskQueue,
    );
    await feedPaced(workers.pool, handle, decisionFrames(venue.symbol, [100, 101, 100]));

    // The order: filled at IG once, nothing pending or unknown.
    const status = await handle.query(statusQuery);
    expect(status.counters.ordersPlaced).toBe(1);
    expect(status.counters.ordersUnknown).toBe(0);
    expect(fake.orderPosts()).toBe(1);
    const [orders] = (await workers.pool.query(`SELECT client_order_id, status FROM mt_${account}.orders WHERE seq IS NOT NULL`)) as any[];
    expect(orders.map((o: any) => o.status)).toEqual(['filled']);
    expect(await handle.query(positionsQuery)).toEqual([expect.objectContaining({ side: 'short', quantity: 1, positionRef: orders[0].client_order_id })]);
    // IG did answer 404 to the confirm polls for those 8 s.
    const polls = fake.requests({ method: 'GET', path: `/confirms/${orders[0].client_order_id}` });
    expect(polls.some((p) => p.status === 404)).toBe(true);
    expect(polls.at(-1)!.status).toBe(200);

    // The history: the timeouts were asked first, then placeOrder ran in exactly one attempt.
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'placeOrder');
    expect(scheduled).toHaveLength(1);
    const s = scheduled[0]!;
    const attrs = s.activityTaskScheduledEventAttributes!;
    const expected = activityTimeouts(igCallBudgets(config)).placeOrder;
    expect({ startToCloseMs: ms(attrs.startToCloseTimeout), heartbeatTimeoutMs: ms(attrs.heartbeatTimeout) }).toEqual(expected);
    const asked = events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'brokerCallTimeouts');
    expect(asked).toBeGreaterThanOrEqual(0);
    expect(asked).toBeLessThan(events.indexOf(s));
    const id = Number(s.eventId);
    const started = events.filter((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId ?? -1) === id);
    expect(started.map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([1]);
    const completed = events.find((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? -1) === id);
    expect(completed).toBeDefined();
    expect(events.some((e) => Number(e.activityTaskTimedOutEventAttributes?.scheduledEventId ?? -1) === id)).toBe(false);
    expect(events.some((e) => Number(e.activityTaskFailedEventAttributes?.scheduledEventId ?? -1) === id)).toBe(false);
    // The protective stop is an amendment confirmed the same way (8 s late): one attempt too.
    const stop = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'placeStop');
    expect(events.filter((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId ?? -1) === Number(stop!.eventId)).map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([1]);
    // The attempt really outlasted the old start-to-close (the test would not tell otherwise).
    expect(at(completed!) - at(s)).toBeGreaterThan(OLD_START_TO_CLOSE_MS);
    expect(at(completed!) - at(s)).toBeLessThan(expected.startToCloseMs);
    await handle.terminate('test done');
  } finally {
    await workers.stop();
    await venue.stop();
  }
});
