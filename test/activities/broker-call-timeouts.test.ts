/**
 * The broker activities' side of issue 11, item 4, in Temporal's mock activity context: `brokerCallTimeouts`
 * answers the options computed from the worker's adapter as configured, and an adapter's progress beats
 * (IG's confirm poll) reach the activity's heartbeat.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createBrokerActivities } from '../../activities/broker-activities';
import { IgBrokerAdapter, igCallBudgets, InMemorySubmissionJournal, parseIgConfig } from '../../brokers/ig';
import { paperCallBudgets } from '../../brokers/paper/timeouts';
import { CircuitBreakingAdapter } from '../../brokers/resilience';
import { activityTimeouts, type BrokerCallTimeouts } from '../../brokers/timeouts';
import type { OrderReport, OrderRequest } from '../../brokers/adapter';
import type { BrokerAdapter } from '../../brokers/adapter';
import { startFakeIgServer, type FakeIgServer } from '../fakes/ig-server';

const EPIC = 'CS.D.EURUSD.CFD.IP';
const SILENT = { error: () => undefined, warn: () => undefined, info: () => undefined };

let fake: FakeIgServer;
beforeEach(async () => {
  fake = await startFakeIgServer();
  fake.addMarket({ epic: EPIC, currency: 'USD', expiry: '-', minDealSize: 1 });
  fake.setPrice(EPIC, 1.1, 1.1002);
});
afterEach(async () => fake.close());

const igConfig = () =>
  parseIgConfig({
    apiKey: fake.options.apiKey,
    identifier: fake.options.identifier,
    password: fake.options.password,
    accountId: 'ABC123',
    baseUrl: fake.url,
    httpTimeoutMs: 2_000,
    confirmPollIntervalMs: 20,
    confirmWindowMs: 3_000,
  });

test('brokerCallTimeouts answers the options of the adapter as this worker configured it (through the breaker)', async () => {
  const config = igConfig();
  const adapter = new CircuitBreakingAdapter(new IgBrokerAdapter(config, { journal: new InMemorySubmissionJournal() }), SILENT);
  const acts = createBrokerActivities({ adapter, tradingEnabled: true });
  const answer: BrokerCallTimeouts | null = await new MockActivityEnvironment().run(acts.brokerCallTimeouts);
  expect(answer).toEqual(activityTimeouts(igCallBudgets(config)));
  // httpTimeoutMs 2 s: IG's getAccount worst case is 4 exchanges = 8 s → 8 × 1.25 + 5 = 15 s.
  expect(answer!.getAccount.startToCloseMs).toBe(15_000);
  const paper = createBrokerActivities({ adapter: { name: 'paper' } as unknown as BrokerAdapter, tradingEnabled: true });
  expect(await new MockActivityEnvironment().run(paper.brokerCallTimeouts)).toEqual(activityTimeouts(paperCallBudgets()));
  const unknown = createBrokerActivities({ adapter: { name: 'elsewhere' } as unknown as BrokerAdapter, tradingEnabled: true });
  expect(await new MockActivityEnvironment().run(unknown.brokerCallTimeouts)).toBeNull();
});

test('placeOrder heartbeats while IG’s confirm poll waits for a late confirm', async () => {
  fake.setScenario({ confirmDelayMs: 400 });
  const adapter = new IgBrokerAdapter(igConfig(), { journal: new InMemorySubmissionJournal(), now: () => fake.now() });
  const acts = createBrokerActivities({ adapter, tradingEnabled: true });
  const env = new MockActivityEnvironment();
  const beats: number[] = [];
  env.on('heartbeat', () => beats.push(Date.now()));
  const order: OrderRequest = { account: 'hb', clientOrderId: 'hb-000001', symbol: EPIC, side: 'buy', quantity: 1, type: 'market', intent: 'open' };
  const report: OrderReport = await env.run(acts.placeOrder, order);
  expect(report.status).toBe('filled');
  const polls = fake.requests({ method: 'GET', path: '/confirms/hb-000001' }).length;
  expect(polls).toBeGreaterThan(5);
  // The activity's own beat, one per HTTP exchange, one per poll iteration (the first confirm GET is the look-up).
  expect(beats.length).toBe(1 + fake.requests({}).length + (polls - 1));
  expect(beats.at(-1)! - beats[0]!).toBeGreaterThanOrEqual(350);
  await adapter.close();
});
