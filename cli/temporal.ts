import { Client, Connection } from '@temporalio/client';
import { cliConfig } from './settings';

export interface TemporalOpts {
  address?: string;
  namespace?: string;
}

/** Runs `fn` with a client on the configured (or given) Temporal, and closes the connection after. */
export async function withClient<T>(opts: TemporalOpts, fn: (client: Client, connection: Connection) => Promise<T>): Promise<T> {
  const c = opts.address && opts.namespace ? undefined : cliConfig();
  const connection = await Connection.connect({ address: opts.address ?? c!.temporal.address, connectTimeout: 5_000 });
  try {
    return await fn(new Client({ connection, namespace: opts.namespace ?? c!.temporal.namespace }), connection);
  } finally {
    await connection.close();
  }
}
