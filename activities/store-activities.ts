import { log } from '@temporalio/activity';
import type { Pool } from '../db/pool';
import { AccountStore, type AccountCheckpoint, type SessionOutcome } from '../db/account-store';
import { MarketDataStore, type CandleRange } from '../db/market-data-store';
import { migrateSchema } from '../db/migrate';
import type { OrderRecord } from '../trading/order';
import type { Frame } from '../market/frame';
import { withFailureMapping } from './failures';

export interface StoreActivityDeps {
  pool: Pool;
  mysqlUrl: string;
}

/** Store activities: idempotent writes to `mt_<account>` and reads of `maodata` (invariant 7). */
export function createStoreActivities({ pool, mysqlUrl }: StoreActivityDeps) {
  const accounts = new AccountStore(pool);
  const market = new MarketDataStore(pool);
  return withFailureMapping({
    /** Migrates `mt_<account>` and returns what a fresh session must know to never reuse an order id. */
    async prepareAccount(account: string): Promise<AccountCheckpoint> {
      const applied = await migrateSchema(mysqlUrl, 'account', account);
      if (applied.length) log.info('account schema migrated', { account, applied });
      return accounts.checkpoint(account);
    },
    /** Written before the order is sent, so an intent is never lost even if everything dies right after. */
    async recordOrderIntent(account: string, order: OrderRecord): Promise<void> {
      await accounts.upsertOrder(account, order);
    },
    async recordOutcome(account: string, outcome: SessionOutcome): Promise<void> {
      await accounts.recordOutcome(account, outcome);
    },
    /** Backfill for a gap (invariant 2): the stored frames of one stream in a start range. */
    async loadFrames(range: CandleRange): Promise<Frame[]> {
      const { frames, invalid } = await market.loadCandles(range);
      for (const bad of invalid) log.warn('stored frame failed validation; skipped', { ...range, start: bad.start, reason: bad.reason });
      return frames;
    },
  });
}

export type StoreActivities = ReturnType<typeof createStoreActivities>;
