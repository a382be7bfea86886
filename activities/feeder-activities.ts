import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { Pool } from '../db/pool';
import { HomeStore } from '../db/home-store';
import { MarketDataStore } from '../db/market-data-store';
import type { Frame } from '../market/frame';
import { SA_ACCOUNT, SA_BROKER, SA_STATUS, SESSION_TASK_QUEUE, frameSignal, sessionWorkflowId } from '../workflows/definitions';
import { withFailureMapping } from './failures';

export interface FeederActivityDeps {
  pool: Pool;
  client: Client;
  /** From the session worker's environment: how sessions started by the feeder run. */
  sessionDefaults: { tradingEnabled: boolean; dailyCleanTime: string };
  /** Where sessions the feeder starts run; the session task queue unless a test isolates itself. */
  sessionTaskQueue?: string;
}

/** Activities of the market-data feeder that run on the session worker: store frames, deliver them. */
export function createFeederActivities({ pool, client, sessionDefaults, sessionTaskQueue = SESSION_TASK_QUEUE }: FeederActivityDeps) {
  const market = new MarketDataStore(pool);
  const home = new HomeStore(pool);
  return withFailureMapping({
    async storeFrames(frames: Frame[]): Promise<void> {
      await market.upsertCandles(frames);
    },
    /**
     * Delivers frames to each subscribed account's session with signal-with-start: a session that is not
     * running is started from its configuration in maohome. Idempotent: sessions ignore frames they have.
     */
    async deliverFrames(accounts: string[], frames: Frame[]): Promise<{ delivered: string[]; missing: string[] }> {
      const delivered: string[] = [];
      const missing: string[] = [];
      for (const account of accounts) {
        const config = await home.loadSessionConfig(account, sessionDefaults);
        if (!config) {
          log.error('feeder: subscribed account has no configuration in maohome; frames not delivered', { account });
          missing.push(account);
          continue;
        }
        await client.workflow.signalWithStart('accountSession', {
          workflowId: sessionWorkflowId(account),
          taskQueue: sessionTaskQueue,
          args: [{ config }],
          signal: frameSignal,
          signalArgs: [frames],
          typedSearchAttributes: [
            { key: SA_ACCOUNT, value: account },
            { key: SA_BROKER, value: config.broker },
            { key: SA_STATUS, value: 'running' },
          ],
        });
        delivered.push(account);
      }
      if (!delivered.length && missing.length) {
        throw ApplicationFailure.nonRetryable(`no subscribed account is configured: ${missing.join(', ')}`, 'FeederConfigError');
      }
      return { delivered, missing };
    },
  });
}

export type FeederActivities = ReturnType<typeof createFeederActivities>;
