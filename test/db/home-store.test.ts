import { ZodError } from 'zod';
import { HomeStore } from '../../db/home-store';
import { migrateShared } from '../../db/migrate';
import { createPool, type Pool } from '../../db/pool';
import { TEST_ENV, uniqueAccount } from '../support/env';

let pool: Pool;
let home: HomeStore;
const env = { tradingEnabled: true, dailyCleanTime: '23:45' };

beforeAll(async () => {
  await migrateShared(TEST_ENV.MYSQL_URL);
  pool = createPool(TEST_ENV.MYSQL_URL);
  home = new HomeStore(pool);
});
afterAll(async () => {
  await pool.end();
});

async function accountWithSystem(prefix: string): Promise<string> {
  const account = uniqueAccount(prefix);
  await home.upsertAccount({ account, broker: 'paper', currency: 'USD' });
  await home.upsertSystemConfig(account, { id: 'ma', system: 'ma-crossover', symbol: 'EURUSD', timeframe: '1m', params: {} });
  return account;
}

test("an account's stored risk config reaches its session config; parts left out take their defaults", async () => {
  const account = await accountWithSystem('hr');
  expect((await home.loadSessionConfig(account, env))!.risk).toEqual({ maxOpenPositions: 20, maxOrdersPerMinute: 30, checkInstrument: true });

  expect(
    await home.setRiskConfig(account, {
      risk: { maxOrderNotional: 50_000, maxOpenPositions: 3 },
      protections: { dailyLoss: { limit: 1_000 } },
      schedule: { flattenAt: '21:55', reopenAt: '22:05' },
    }),
  ).toBe(true);
  const cfg = (await home.loadSessionConfig(account, env))!;
  expect(cfg.risk).toEqual({ maxOrderNotional: 50_000, maxOpenPositions: 3, maxOrdersPerMinute: 30, checkInstrument: true });
  expect(cfg.protections).toEqual({ dailyLoss: { limit: 1_000, action: 'reducing' } });
  expect(cfg.schedule).toEqual({ flattenAt: '21:55', reopenAt: '22:05' });
  expect(cfg.systems.map((s) => s.id)).toEqual(['ma']);
});

test('a bad risk config is refused naming the field, and the stored one is kept', async () => {
  const account = await accountWithSystem('hb');
  await home.setRiskConfig(account, { risk: { maxOrderQuantity: 5 } });
  const bad = (cfg: unknown) => home.setRiskConfig(account, cfg as never).then(() => 'accepted', (e: unknown) => e);

  const e1 = await bad({ risk: { maxOrderQuantity: -1 } });
  expect(e1).toBeInstanceOf(ZodError);
  expect((e1 as ZodError).issues.map((i) => [i.path.join('.'), i.message])).toEqual([['risk.maxOrderQuantity', 'maxOrderQuantity must be positive']]);
  const e2 = (await bad({ schedule: { reopenAt: '09:00' } })) as ZodError;
  expect(e2.issues[0].path.join('.')).toBe('schedule.reopenAt');
  const e3 = (await bad({ risk: { maxOrderQty: 5 } })) as ZodError;
  expect(e3.issues[0].message).toMatch(/maxOrderQty/);

  expect((await home.loadSessionConfig(account, env))!.risk.maxOrderQuantity).toBe(5);
});

test('an unknown account has no risk config to set', async () => {
  expect(await home.setRiskConfig(uniqueAccount('hn'), { risk: {} })).toBe(false);
});
