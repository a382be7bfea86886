import type { Pool } from '../db/pool';
import type { AppConfig } from '../config/env';
import type { BrokerAdapter } from './adapter';
import { PaperBrokerAdapter } from './paper';
import { IgBrokerAdapter, MysqlSubmissionJournal, igConfigFromEnv } from './ig';
import { AlpacaBrokerAdapter, alpacaConfigFromEnv } from './alpaca';

export interface BrokerDeps {
  pool: Pool;
  config: AppConfig;
  /** The process environment: each broker reads and validates its own settings (credentials included). */
  env: Record<string, string | undefined>;
  logger?: { debug(obj: object, msg: string): void; info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/** Adapter factories by broker name: the only place that knows which brokers exist. */
const FACTORIES: Readonly<Record<string, (deps: BrokerDeps) => BrokerAdapter>> = Object.freeze({
  paper: ({ pool, config }) => new PaperBrokerAdapter(pool, config.paper),
  ig: ({ pool, env, logger }) =>
    new IgBrokerAdapter(igConfigFromEnv(env), { journal: new MysqlSubmissionJournal(pool), ...(logger ? { logger } : {}) }),
  alpaca: ({ env }) => new AlpacaBrokerAdapter(alpacaConfigFromEnv(env)),
});

export const BROKER_NAMES = Object.keys(FACTORIES);

export function createBrokerAdapter(name: string, deps: BrokerDeps): BrokerAdapter {
  const factory = FACTORIES[name];
  if (!factory) throw new Error(`unknown broker "${name}"; known brokers: ${BROKER_NAMES.join(', ')}`);
  return factory(deps);
}

export type { BrokerAdapter } from './adapter';
