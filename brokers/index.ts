import type { Pool } from '../db/pool';
import type { AppConfig } from '../config/env';
import type { BrokerAdapter } from './adapter';
import { PaperBrokerAdapter } from './paper';

export interface BrokerDeps {
  pool: Pool;
  config: AppConfig;
}

/** Adapter factories by broker name: the only place that knows which brokers exist. */
const FACTORIES: Readonly<Record<string, (deps: BrokerDeps) => BrokerAdapter>> = Object.freeze({
  paper: ({ pool, config }) => new PaperBrokerAdapter(pool, config.paper),
});

export const BROKER_NAMES = Object.keys(FACTORIES);

export function createBrokerAdapter(name: string, deps: BrokerDeps): BrokerAdapter {
  const factory = FACTORIES[name];
  if (!factory) throw new Error(`unknown broker "${name}"; known brokers: ${BROKER_NAMES.join(', ')}`);
  return factory(deps);
}

export type { BrokerAdapter } from './adapter';
