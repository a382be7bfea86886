/**
 * The notifier: alerts that reach a person (issue 14). Tails the structured logs in MongoDB for
 * alert-worthy lines (notifier/log-rules.ts) and checks the sessions periodically for stale frames or
 * a session that stopped (notifier/session-watch.ts), then sends each alert, de-duplicated per tier,
 * to every configured channel (webhook, Telegram, e-mail; notifier/config.ts) with retry.
 * The engine and the workflows need no change: they already log every event this reads.
 *
 *   node --import tsx workers/notifier-worker.ts       (MONGO_URL, TEMPORAL_ADDRESS as every worker)
 * Exit codes: 0 stopped by a signal or no channel configured (nothing to do), 78 bad configuration.
 */
import { MongoClient } from 'mongodb';
import { ConfigError, loadConfigOrExit } from '../config/env';
import { createLogger } from '../logging/logger';
import { LOG_COLLECTION } from '../logging/mongo-sink';
import { channelsFrom } from '../notifier/channels';
import { anyChannelConfigured, parseNotifierConfig } from '../notifier/config';
import { Deduplicator } from '../notifier/dedup';
import { LogAlertSource } from '../notifier/log-source';
import { Notifier } from '../notifier/notifier';
import { SessionWatch } from '../notifier/session-watch';

async function main(): Promise<void> {
  const app = loadConfigOrExit();
  const logger = createLogger({ level: app.logLevel, service: 'notifier' });
  if (!anyChannelConfigured(process.env)) {
    logger.info('notifier: no channel configured (NOTIFIER_WEBHOOK_URL, NOTIFIER_TELEGRAM_BOT_TOKEN, NOTIFIER_SMTP_HOST); nothing to do');
    return;
  }
  let cfg;
  try {
    cfg = parseNotifierConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const channels = channelsFrom(cfg);
  const notifier = new Notifier(channels, new Deduplicator(cfg.renotifyMs), { logger });
  const mongo = new MongoClient(app.mongoUrl, { serverSelectionTimeoutMS: 5_000, appName: 'maotrade-notifier' });
  const source = new LogAlertSource(mongo.db().collection(LOG_COLLECTION));
  const watch = new SessionWatch({ temporal: app.temporal, accounts: cfg.accounts, frameWarningS: cfg.frameWarningS, frameCriticalS: cfg.frameCriticalS });

  let stopping = false;
  const stop = () => {
    stopping = true;
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  logger.info({ channels: notifier.channelNames, pollMs: cfg.pollMs, sessionCheckMs: cfg.sessionCheckMs, accounts: cfg.accounts }, 'notifier running');

  let nextSessionCheck = cfg.sessionCheckMs > 0 ? Date.now() + cfg.sessionCheckMs : Infinity;
  let sourceFailing = false;
  while (!stopping) {
    try {
      for (const alert of await source.poll()) await notifier.notify(alert);
      if (sourceFailing) logger.info('notifier: reading maologs again');
      sourceFailing = false;
    } catch (err) {
      if (!sourceFailing) logger.error({ error: (err as Error).message }, 'notifier: cannot read maologs; retrying');
      sourceFailing = true;
    }
    if (Date.now() >= nextSessionCheck) {
      nextSessionCheck = Date.now() + cfg.sessionCheckMs;
      try {
        for (const alert of await watch.round()) await notifier.notify(alert);
      } catch (err) {
        logger.error({ error: (err as Error).message }, 'notifier: session check round failed');
      }
    }
    await new Promise((r) => setTimeout(r, cfg.pollMs));
  }
  logger.info('notifier stopping');
  for (const c of channels) (c as { close?: () => void }).close?.();
  await mongo.close().catch(() => undefined);
}

main().catch((err) => {
  process.stderr.write(`notifier: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
