import type { Client, WorkflowHandle } from '@temporalio/client';
import { listFleet } from '../../fleet/trading-state';
import { startSession } from '../support/harness';
import { uniqueAccount } from '../support/env';

/** A paper session per account (one MA-crossover system on the account's own symbol), on `taskQueue`. */
export async function startPaperSessions(
  client: Client,
  accounts: readonly string[],
  taskQueue: string,
  tradingEnabled = false,
): Promise<Map<string, WorkflowHandle>> {
  const handles = new Map<string, WorkflowHandle>();
  for (const account of accounts) {
    const symbol = account.toUpperCase();
    const systems = [{ id: 'ma', system: 'ma-crossover', symbol, timeframe: '1m' as const, params: { fastPeriod: 2, slowPeriod: 5, stopDistancePct: 0.5 } }];
    handles.set(account, await startSession(client, { account, broker: 'paper', tradingEnabled, systems }, taskQueue));
  }
  return handles;
}

/** `MaoAccount IN ('a', 'b')`: a filter selecting exactly these test accounts. */
export const accountsFilter = (accounts: readonly string[]) => `MaoAccount IN (${accounts.map((a) => `'${a}'`).join(', ')})`;

/** Visibility is eventually consistent (about a second here): waits until `filter` lists exactly these accounts. */
export async function waitUntilListed(client: Client, filter: string, accounts: readonly string[], timeoutMs = 20_000): Promise<void> {
  const want = [...accounts].sort().join(', ');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = (await listFleet(client, filter)).targets.map((t) => t.account).join(', ');
    if (got === want) return;
    if (Date.now() > deadline) throw new Error(`visibility did not list ${want} within ${timeoutMs} ms (got ${got || 'none'})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Fresh paper sessions (one per account prefix, dry run), returned once visibility lists them all. */
export async function startVisibleSessions(client: Client, prefixes: readonly string[], taskQueue: string) {
  const accounts = prefixes.map((p) => uniqueAccount(p));
  const handles = await startPaperSessions(client, accounts, taskQueue);
  await waitUntilListed(client, accountsFilter(accounts), accounts);
  return { accounts, handles };
}
