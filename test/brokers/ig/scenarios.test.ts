/**
 * Venue states of issue 11 against the IG fake, through the real adapter: confirms that appear only after
 * a delay, refused closes (REJECTED confirm with a reason), a 401 window during a key rotation, and the money
 * facts of an instrument in another currency than the account's.
 */
import { BrokerAuthError } from '../../../brokers/errors';
import { IgBrokerAdapter, InMemorySubmissionJournal, type IgConfigInput } from '../../../brokers/ig';
import { startFakeIgServer, type FakeIgServer } from '../../fakes/ig-server';

const EPIC = 'CS.D.EURGBP.CFD.IP';
const ACCOUNT = 'igscen';

let fake: FakeIgServer;
let adapter: IgBrokerAdapter;

function newAdapter(): IgBrokerAdapter {
  const config: IgConfigInput = {
    apiKey: fake.options.apiKey,
    identifier: fake.options.identifier,
    password: fake.options.password,
    accountId: 'GBP001',
    baseUrl: fake.url,
    httpTimeoutMs: 300,
    confirmPollIntervalMs: 10,
    confirmWindowMs: 100,
    rateLimitBackoffMs: 2_000,
    unknownOutcomeSettleMs: 120_000,
  };
  return new IgBrokerAdapter(config, { journal: new InMemorySubmissionJournal(), now: () => fake.now() });
}

beforeEach(async () => {
  fake = await startFakeIgServer({ accounts: [{ accountId: 'GBP001', currency: 'GBP', balance: 10_000, preferred: true }] });
  fake.addMarket({
    epic: EPIC,
    currency: 'EUR',
    minDealSize: 1,
    valueOfOnePoint: '10',
    lotSize: 1,
    currencies: [
      { code: 'EUR', baseExchangeRate: 1.25, isDefault: true },
      { code: 'GBP', baseExchangeRate: 1, isDefault: false },
    ],
  });
  fake.setPrice(EPIC, 8500, 8501);
  adapter = newAdapter();
});
afterEach(async () => {
  await adapter.close();
  await fake.close();
});

const open = (id: string) => ({ account: ACCOUNT, clientOrderId: id, symbol: EPIC, side: 'buy' as const, quantity: 2, type: 'market' as const, intent: 'open' as const });

describe('IG fake scenarios through the adapter', () => {
  test('instrument money facts: valueOfOnePoint × lotSize, the default currency, the GBP account, the rate from baseExchangeRate', async () => {
    expect(await adapter.getInstrument(EPIC)).toEqual({
      symbol: EPIC,
      tradable: true,
      marketStatus: 'TRADEABLE',
      minQuantity: 1,
      quantityStep: 0,
      pointValue: '10',
      currency: 'EUR',
      accountCurrency: 'GBP',
      conversionRate: '0.8',
      commission: undefined,
    });
    fake.addMarket({ epic: 'IX.D.FTSE.DAILY.IP', currency: 'GBP', valueOfOnePoint: '1', lotSize: 5 });
    fake.setPrice('IX.D.FTSE.DAILY.IP', 7500, 7501);
    expect(await adapter.getInstrument('IX.D.FTSE.DAILY.IP')).toMatchObject({ pointValue: '5', currency: 'GBP', accountCurrency: 'GBP', conversionRate: '1' });
    // The account currency is asked once per adapter.
    expect(fake.requests({ method: 'GET', path: '/accounts' })).toHaveLength(1);
  });

  test('a confirm that appears only after N seconds: 404 meanwhile, the deal is found in the positions; later the confirm answers', async () => {
    fake.setScenario({ confirmDelayMs: 10_000 });
    const r = await adapter.placeOrder(open('igscen-000001'));
    expect(r).toMatchObject({ status: 'filled', filledQuantity: 2, fillPrice: 8501 });
    const polls = fake.requests({ method: 'GET', path: '/confirms/igscen-000001' });
    expect(polls.length).toBeGreaterThan(0);
    expect(polls.every((p) => p.status === 404 && p.errorCode === 'error.confirms.deal-not-found')).toBe(true);
    fake.advanceTime(10_000);
    expect(await adapter.getOrder(ACCOUNT, 'igscen-000001')).toMatchObject({ status: 'filled', filledQuantity: 2 });
    expect(fake.requests({ method: 'GET', path: '/confirms/igscen-000001' }).at(-1)!.status).toBe(200);
    expect(fake.orderPosts()).toBe(1);
  });

  test('a refused close: IG answers a REJECTED confirm with its reason; reported rejected, the position stays open', async () => {
    await adapter.placeOrder(open('igscen-000002'));
    fake.setScenario({ refuseClose: 'POSITION_NOT_AVAILABLE_TO_CLOSE' });
    const r = await adapter.placeOrder({ account: ACCOUNT, clientOrderId: 'igscen-000003', symbol: EPIC, side: 'sell', quantity: 2, type: 'market', intent: 'close', positionRef: 'igscen-000002' });
    expect(r).toMatchObject({ status: 'rejected', filledQuantity: 0, reason: 'IG REJECTED: POSITION_NOT_AVAILABLE_TO_CLOSE' });
    expect(await adapter.getPositions(ACCOUNT)).toEqual([expect.objectContaining({ positionRef: 'igscen-000002', quantity: 2 })]);
  });

  test('a 401 window (key rotation): the refused token leads to one new login, which is refused too: BrokerAuthError; after it, calls work', async () => {
    await adapter.getAccount(ACCOUNT);
    fake.unauthorizedFor(60_000);
    await expect(adapter.getAccount(ACCOUNT)).rejects.toBeInstanceOf(BrokerAuthError);
    await expect(adapter.placeOrder(open('igscen-000004'))).rejects.toBeInstanceOf(BrokerAuthError);
    expect(fake.orderPosts()).toBe(0);
    fake.advanceTime(60_000);
    expect(await adapter.placeOrder(open('igscen-000004'))).toMatchObject({ status: 'filled' });
  });
});
