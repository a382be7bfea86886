/**
 * Issue 11, item 4: each broker call's worst case from its adapter's config (brokers/<venue>/timeouts.ts),
 * the activity options derived from it (brokers/timeouts.ts), and the progress beats the long polls make
 * (IG's confirm poll, Alpaca's fill wait) through the injectable hook and through the ambient scope the
 * broker activities open (brokers/progress.ts).
 */
import { AlpacaBrokerAdapter, alpacaCallBudgets, AlpacaConfigSchema } from '../../brokers/alpaca';
import { IgBrokerAdapter, igCallBudgets, IgConfigSchema, InMemorySubmissionJournal } from '../../brokers/ig';
import { paperCallBudgets } from '../../brokers/paper/timeouts';
import { beat, withProgress } from '../../brokers/progress';
import { CircuitBreakingAdapter } from '../../brokers/resilience';
import { activityTimeouts, reportsCallBudgets, SESSION_BROKER_CALLS, type CallBudgets } from '../../brokers/timeouts';
import { callBudgetsOf } from '../../activities/broker-activities';
import type { BrokerAdapter } from '../../brokers/adapter';
import { startFakeAlpacaServer } from '../fakes/alpaca-server';
import { startFakeIgServer } from '../fakes/ig-server';

const worst = (b: CallBudgets) => Object.fromEntries(SESSION_BROKER_CALLS.map((c) => [c, b[c].worstCaseMs]));
const IG_DEFAULT = { httpTimeoutMs: 10_000, confirmWindowMs: 10_000, confirmPollIntervalMs: 500, activityMaxPages: 20 };
const ALPACA_DEFAULT = { httpTimeoutMs: 10_000, orderFillWaitMs: 10_000, orderPollIntervalMs: 250, positionHistoryPages: 4 };
const SILENT = { error: () => undefined, warn: () => undefined, info: () => undefined };

describe('worst cases from the config', () => {
  test('the defaults used here are the schemas’ defaults', () => {
    for (const [k, v] of Object.entries(IG_DEFAULT)) expect([k, IgConfigSchema.shape[k as keyof typeof IG_DEFAULT].parse(undefined)]).toEqual([k, v]);
    for (const [k, v] of Object.entries(ALPACA_DEFAULT)) expect([k, AlpacaConfigSchema.shape[k as keyof typeof ALPACA_DEFAULT].parse(undefined)]).toEqual([k, v]);
  });

  test('IG, default config: submit = two look-ups with 20 activity pages each, two confirm windows, one renewal', () => {
    expect(worst(igCallBudgets(IG_DEFAULT))).toEqual({
      placeOrder: 545_000, // 3·5 s + 2·22·10 s + 2·10 s + 2·(10 s + 10 s) + 3·10 s
      getOrder: 255_000, // 5 s + 22·10 s + 30 s
      getPositions: 40_000,
      getAccount: 40_000,
      getInstrument: 50_000,
      placeStop: 295_000, // 10 s + 5 s + 25·10 s + 30 s
    });
    // HTTP exchange + max(poll interval, journal statement).
    expect(igCallBudgets(IG_DEFAULT).placeOrder.beatGapMs).toBe(15_000);
  });

  test('IG: each config field moves the calls that wait on it, by the formula', () => {
    const base = igCallBudgets(IG_DEFAULT);
    const longerWindow = igCallBudgets({ ...IG_DEFAULT, confirmWindowMs: 30_000 });
    expect(longerWindow.placeOrder.worstCaseMs - base.placeOrder.worstCaseMs).toBe(2 * 20_000); // two confirm polls
    expect(longerWindow.placeStop.worstCaseMs - base.placeStop.worstCaseMs).toBe(20_000); // one
    expect(longerWindow.getOrder.worstCaseMs).toBe(base.getOrder.worstCaseMs); // no poll
    const fewerPages = igCallBudgets({ ...IG_DEFAULT, activityMaxPages: 5 });
    expect(base.placeOrder.worstCaseMs - fewerPages.placeOrder.worstCaseMs).toBe(2 * 15 * 10_000);
    expect(base.getOrder.worstCaseMs - fewerPages.getOrder.worstCaseMs).toBe(15 * 10_000);
    const fastHttp = igCallBudgets({ ...IG_DEFAULT, httpTimeoutMs: 1_000 });
    expect(fastHttp.getAccount.worstCaseMs).toBe(4_000);
    expect(fastHttp.placeOrder.worstCaseMs).toBe(3 * 5_000 + 2 * 10_000 + 51 * 1_000);
    expect(igCallBudgets({ ...IG_DEFAULT, confirmPollIntervalMs: 8_000 }).placeOrder.beatGapMs).toBe(18_000);
  });

  test('Alpaca, default config: a close waits for the stop’s cancel and for its own fill', () => {
    expect(worst(alpacaCallBudgets(ALPACA_DEFAULT))).toEqual({
      placeOrder: 120_000, // 10·10 s + 2·10 s (a refused close re-placing its stop: 11·10 s + 10 s)
      getOrder: 20_000, // a stop leg: `-S`, then its re-placed `-S2`
      getPositions: 410_000, // 10 s + 10 symbols · 4 pages · 10 s
      getAccount: 10_000,
      getInstrument: 30_000,
      placeStop: 70_000,
    });
    expect(alpacaCallBudgets(ALPACA_DEFAULT).placeOrder.beatGapMs).toBe(10_250);
    expect(alpacaCallBudgets({ ...ALPACA_DEFAULT, orderFillWaitMs: 30_000 }).placeOrder.worstCaseMs).toBe(100_000 + 60_000);
    // short fill waits: the refused close's re-placed stop is the longer path
    expect(alpacaCallBudgets({ ...ALPACA_DEFAULT, orderFillWaitMs: 1_000 }).placeOrder.worstCaseMs).toBe(110_000 + 1_000);
    expect(alpacaCallBudgets(ALPACA_DEFAULT, 1).getPositions.worstCaseMs).toBe(50_000);
  });

  test('paper: one transaction per call, no beats', () => {
    for (const call of SESSION_BROKER_CALLS) expect(paperCallBudgets()[call]).toMatchObject({ worstCaseMs: 10_000, beatGapMs: null });
  });
});

describe('activity options from the worst cases', () => {
  test('start-to-close = worst × 1.25 + 5 s; heartbeat = beat gap × 1.5 + 2 s, only when it beats and comes first', () => {
    const ig = activityTimeouts(igCallBudgets(IG_DEFAULT));
    expect(ig.placeOrder).toEqual({ startToCloseMs: 686_250, heartbeatTimeoutMs: 24_500 });
    expect(ig.getAccount).toEqual({ startToCloseMs: 55_000, heartbeatTimeoutMs: 24_500 });
    const alpaca = activityTimeouts(alpacaCallBudgets(ALPACA_DEFAULT));
    expect(alpaca.placeOrder).toEqual({ startToCloseMs: 155_000, heartbeatTimeoutMs: 17_375 });
    expect(alpaca.getOrder).toEqual({ startToCloseMs: 30_000, heartbeatTimeoutMs: 17_375 });
    // A heartbeat timeout that could never fire before the start-to-close is left out.
    expect(activityTimeouts(alpacaCallBudgets({ ...ALPACA_DEFAULT, orderPollIntervalMs: 10_000 })).getOrder).toEqual({ startToCloseMs: 30_000 });
    expect(activityTimeouts(paperCallBudgets()).placeOrder).toEqual({ startToCloseMs: 17_500 });
    for (const t of [ig, alpaca]) for (const call of SESSION_BROKER_CALLS) expect(t[call].startToCloseMs).toBeGreaterThan(10_000);
  });

  test('the broker activities find an adapter’s own budgets, through the circuit breaker too', () => {
    const ig = new IgBrokerAdapter(
      { apiKey: 'k', identifier: 'i', password: 'p', accountId: 'A1', baseUrl: 'http://127.0.0.1:1/gateway/deal', confirmWindowMs: 30_000, httpTimeoutMs: 2_000 },
      { journal: new InMemorySubmissionJournal() },
    );
    const wrapped = new CircuitBreakingAdapter(ig, SILENT);
    expect(reportsCallBudgets(wrapped)).toBe(true);
    const own = igCallBudgets({ ...IG_DEFAULT, confirmWindowMs: 30_000, httpTimeoutMs: 2_000 });
    expect(callBudgetsOf(wrapped)).toEqual(own);
    expect(callBudgetsOf(ig)).toEqual(own);
    // A wrapper that does not forward them gets its venue's default-config budgets by name.
    const bare = (name: string) => ({ name }) as unknown as BrokerAdapter;
    expect(callBudgetsOf(bare('alpaca'))).toEqual(alpacaCallBudgets(ALPACA_DEFAULT));
    expect(callBudgetsOf(bare('ig'))).toEqual(igCallBudgets(IG_DEFAULT));
    expect(callBudgetsOf(bare('paper'))).toEqual(paperCallBudgets());
    expect(callBudgetsOf(bare('elsewhere'))).toBeNull();
  });
});

describe('progress beats', () => {
  test('a beat reaches the scope it is made in, across awaits; outside any scope it does nothing', async () => {
    let beats = 0;
    await withProgress(
      () => beats++,
      async () => {
        beat();
        await new Promise((r) => setImmediate(r));
        beat();
      },
    );
    beat();
    expect(beats).toBe(2);
    // A failing sink never fails the call.
    await expect(withProgress(() => { throw new Error('activity gone'); }, async () => (beat(), 'done'))).resolves.toBe('done');
  });

  test('IG: a confirm that appears late is polled with a beat on every iteration (hook injected)', async () => {
    const fake = await startFakeIgServer();
    try {
      fake.addMarket({ epic: 'CS.D.EURUSD.CFD.IP', currency: 'USD', expiry: '-', minDealSize: 1 });
      fake.setPrice('CS.D.EURUSD.CFD.IP', 1.1, 1.1002);
      fake.setScenario({ confirmDelayMs: 300 });
      const beats: number[] = [];
      const adapter = new IgBrokerAdapter(
        { apiKey: fake.options.apiKey, identifier: fake.options.identifier, password: fake.options.password, accountId: 'ABC123', baseUrl: fake.url, httpTimeoutMs: 2_000, confirmPollIntervalMs: 20, confirmWindowMs: 5_000 },
        { journal: new InMemorySubmissionJournal(), now: () => fake.now(), heartbeat: () => beats.push(Date.now()) },
      );
      const r = await adapter.placeOrder({ account: 'hb', clientOrderId: 'hb-000001', symbol: 'CS.D.EURUSD.CFD.IP', side: 'buy', quantity: 1, type: 'market', intent: 'open' });
      expect(r.status).toBe('filled');
      const polls = fake.requests({ method: 'GET', path: '/confirms/hb-000001' });
      expect(polls.length).toBeGreaterThan(5);
      // One beat per HTTP exchange (every request the fake saw, logins included) plus one per poll iteration.
      expect(beats.length).toBe(fake.requests({}).length + polls.length - 1);
      await adapter.close();
    } finally {
      await fake.close();
    }
  });

  test('Alpaca: a held fill is waited for with a beat on every iteration (default hook: the ambient scope)', async () => {
    const fake = await startFakeAlpacaServer();
    try {
      fake.setPrice('AAPL', 100, 100.1);
      fake.setScenario({ fills: 'hold' });
      const adapter = new AlpacaBrokerAdapter({ keyId: fake.keyId, secretKey: fake.secretKey, tradingBaseUrl: fake.url, dataBaseUrl: fake.url, httpTimeoutMs: 2_000, orderFillWaitMs: 400, orderPollIntervalMs: 20 });
      const beats: number[] = [];
      const r = await withProgress(
        () => beats.push(Date.now()),
        () => adapter.placeOrder({ account: 'hb', clientOrderId: 'hb-000001', symbol: 'AAPL', side: 'buy', quantity: 1, type: 'market', intent: 'open' }),
      );
      expect(r.status).toBe('pending');
      // The look-up, the POST, then two beats per poll iteration (the loop's, its GET's) across the whole wait.
      expect(beats.length).toBeGreaterThan(2 + 2 * 5);
      expect(beats.at(-1)! - beats[0]!).toBeGreaterThanOrEqual(300);
      const gaps = beats.slice(1).map((t, i) => t - beats[i]!);
      expect(Math.max(...gaps)).toBeLessThan(250);
    } finally {
      await fake.close();
    }
  });
});
