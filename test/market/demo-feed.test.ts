/**
 * The live demo feeder through faults (issue 14, item 5): the store or the signal fails N times (a
 * MariaDB or Temporal restart) while the clock moves on; the feeder retries with backoff, logs each
 * failure and the recovery, and delivers every frame that closed meanwhile exactly once, in order,
 * each stored before it is delivered.
 */
import { DemoFeed, type DemoFeedPorts } from '../../market/demo-feed';
import type { Frame } from '../../market/frame';
import { generateFrames, mulberry32 } from '../../market/synthetic';

const TF_MS = 60_000;
const EPOCH = Date.UTC(2026, 0, 1);
const MARKET = generateFrames({ symbol: 'DEMOFX', timeframe: '1m', start: EPOCH, count: 1000, seed: 7, startPrice: 1.1 });

/** A fake world: a clock, a store and a session that fail on demand. */
function world(startFrames = 10) {
  const w = {
    now: EPOCH + startFrames * TF_MS + 500,
    stored: new Set<number>(),
    delivered: [] as number[],
    storeFailures: 0,
    deliverFailures: 0,
    /** The clock moves this much on every failed try (time passes during an outage). */
    failureAdvanceMs: 0,
    logs: [] as { level: string; message: string; fields: Record<string, unknown> }[],
    storedBeforeDelivered: true,
  };
  const ports: DemoFeedPorts = {
    framesBetween: (from, to) => MARKET.filter((f) => f.start >= from && f.start < to),
    async store(frames: Frame[]) {
      if (w.storeFailures > 0) {
        w.storeFailures -= 1;
        w.now += w.failureAdvanceMs;
        throw new Error('connect ECONNREFUSED 127.0.0.1:3306');
      }
      for (const f of frames) w.stored.add(f.start);
    },
    async deliver(frames: Frame[]) {
      if (w.deliverFailures > 0) {
        w.deliverFailures -= 1;
        w.now += w.failureAdvanceMs;
        throw new Error('14 UNAVAILABLE: No connection established');
      }
      for (const f of frames) {
        if (!w.stored.has(f.start)) w.storedBeforeDelivered = false;
        w.delivered.push(f.start);
      }
    },
    log: (level, message, fields) => w.logs.push({ level, message, fields }),
    now: () => w.now,
  };
  // The session already has the frames before the clock's minute.
  const feed = new DemoFeed(ports, { frameMs: TF_MS, lastDelivered: EPOCH + (startFrames - 1) * TF_MS, initialDelayMs: 1, maxDelayMs: 4 });
  return { w, feed, ports };
}

/** Frame starts from `first` to `last` (inclusive), one per minute. */
const minutes = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => EPOCH + (first + i) * TF_MS);

test('nothing due, nothing sent; each closed frame delivered once', async () => {
  const { w, feed } = world();
  expect(await feed.catchUp()).toBe(0);
  w.now += TF_MS;
  expect(await feed.catchUp()).toBe(1);
  expect(await feed.catchUp()).toBe(0);
  expect(w.delivered).toEqual(minutes(10, 10));
  expect(w.logs).toEqual([]);
});

test('MariaDB down for 3 tries, then Temporal for 2, the clock moving a minute a try: one catch-up batch, nothing lost or doubled', async () => {
  const { w, feed } = world();
  w.now += TF_MS; // frame 10 closes
  w.storeFailures = 3;
  w.deliverFailures = 2;
  w.failureAdvanceMs = TF_MS;
  const sent = await feed.catchUp();
  // 5 failed tries, 5 minutes passed: frames 10..15 are due and go in one batch.
  expect(sent).toBe(6);
  expect(w.delivered).toEqual(minutes(10, 15));
  expect(feed.lastDelivered).toBe(minutes(15, 15)[0]);
  expect(w.storedBeforeDelivered).toBe(true);
  const warns = w.logs.filter((l) => l.level === 'warn');
  expect(warns).toHaveLength(5);
  expect(warns.map((l) => l.fields.attempt)).toEqual([1, 2, 3, 4, 5]);
  expect(warns.slice(0, 3).every((l) => String(l.fields.error).includes('ECONNREFUSED'))).toBe(true);
  expect(warns.slice(3).every((l) => String(l.fields.error).includes('UNAVAILABLE'))).toBe(true);
  const recovered = w.logs.filter((l) => l.message.includes('recovered'));
  expect(recovered).toHaveLength(1);
  expect(recovered[0].fields).toMatchObject({ failures: 5, framesDelivered: 6, downForMs: 5 * TF_MS });
  // The next round starts clean.
  w.now += TF_MS;
  expect(await feed.catchUp()).toBe(1);
  expect(w.delivered).toEqual(minutes(10, 16));
  expect(w.logs.filter((l) => l.message.includes('recovered'))).toHaveLength(1);
});

test('300 minutes of random outages (seeded): every frame delivered exactly once, in order, stored first', async () => {
  const { w, feed } = world();
  const rand = mulberry32(2026);
  let failures = 0;
  for (let minute = 0; minute < 300; minute++) {
    w.now += TF_MS;
    if (rand() < 0.2) {
      w.storeFailures = Math.floor(rand() * 4);
      w.deliverFailures = Math.floor(rand() * 4);
      w.failureAdvanceMs = rand() < 0.5 ? TF_MS : 0;
      failures += w.storeFailures + w.deliverFailures;
    }
    await feed.catchUp();
  }
  const last = Math.floor((w.now - EPOCH) / TF_MS) - 1;
  expect(failures).toBeGreaterThan(20);
  expect(w.delivered).toEqual(minutes(10, last));
  expect(new Set(w.delivered).size).toBe(w.delivered.length);
  expect(w.storedBeforeDelivered).toBe(true);
  expect(w.logs.filter((l) => l.level === 'warn')).toHaveLength(failures);
});

test('run(): waits for each frame to close, keeps going through failures, stops on abort', async () => {
  const { w, ports } = world();
  const abort = new AbortController();
  let ticks = 0;
  const sleeps: number[] = [];
  const feed = new DemoFeed(
    {
      ...ports,
      sleep: async (ms) => {
        sleeps.push(ms);
        w.now += ms;
        ticks += 1;
        if (ticks === 3) w.deliverFailures = 2;
        if (ticks === 6) abort.abort();
      },
    },
    { frameMs: TF_MS, lastDelivered: EPOCH + 9 * TF_MS, initialDelayMs: 1, maxDelayMs: 4, settleMs: 500 },
  );
  await feed.run(abort.signal);
  // Woken 500 ms after each minute; 5 frames closed and delivered before the abort.
  expect(sleeps[0]).toBe(TF_MS);
  expect(sleeps.slice(1).every((ms) => ms === TF_MS)).toBe(true);
  expect(w.delivered).toEqual(minutes(10, 14));
  expect(w.logs.filter((l) => l.level === 'warn')).toHaveLength(2);
});
