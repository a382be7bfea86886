import { log } from '@temporalio/activity';
import { ZodError } from 'zod';
import type { Client } from '@temporalio/client';
import type { Pool } from '../db/pool';
import { HomeStore } from '../db/home-store';
import { MarketDataStore } from '../db/market-data-store';
import type { Frame } from '../market/frame';
import { SA_ACCOUNT, SA_BROKER, SA_STATUS, SESSION_TASK_QUEUE, frameSignal, sessionWorkflowId } from '../workflows/definitions';
import type { SessionConfig } from '../workflows/session-config';
import { withFailureMapping } from './failures';

/** What `deliverFrames` did with each subscriber. */
export interface DeliveryReport {
  delivered: string[];
  /** Not in maohome.accounts. */
  missing: string[];
  /** Stored configuration fails the session schema; `reason` names the fields. */
  invalid: { account: string; reason: string }[];
  /** Stopped through the gateway: its session is not started again by the feeder. */
  stopped: string[];
}

const describeZod = (err: ZodError): string =>
  err.issues.map((i) => `${['config', ...i.path.map(String)].join('.')}: ${i.message}`).join('; ');

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
     * One subscriber never stops the others: an account without a configuration (`missing`), with an
     * invalid one (`invalid`, with the fields named) or stopped through the gateway (`stopped`, never
     * started again) is skipped and reported; every other subscriber gets the frames.
     */
    async deliverFrames(accounts: string[], frames: Frame[]): Promise<DeliveryReport> {
      const report: DeliveryReport = { delivered: [], missing: [], invalid: [], stopped: [] };
      for (const account of accounts) {
        let config: SessionConfig | null;
        try {
          if (await home.isStopped(account)) {
            report.stopped.push(account);
            continue;
          }
          config = await home.loadSessionConfig(account, sessionDefaults);
        } catch (err) {
          if (!(err instanceof ZodError) && !(err instanceof SyntaxError)) throw err; // the store is down: retry the activity
          const reason = err instanceof ZodError ? describeZod(err) : `unreadable stored JSON: ${err.message}`;
          log.error('feeder: subscribed account has an invalid configuration in maohome; frames not delivered', { account, reason });
          report.invalid.push({ account, reason });
          continue;
        }
        if (!config) {
          log.error('feeder: subscribed account has no configuration in maohome; frames not delivered', { account });
          report.missing.push(account);
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
        report.delivered.push(account);
      }
      return report;
    },
  });
}

export type FeederActivities = ReturnType<typeof createFeederActivities>;
