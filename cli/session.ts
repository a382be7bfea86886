import Table from 'cli-table3';
import { plainStyle } from './settings';
import type { Client, Connection } from '@temporalio/client';
import {
  closeAllUpdate,
  pauseSignal,
  positionsQuery,
  reconcileUpdate,
  resumeSignal,
  sessionWorkflowId,
} from '../workflows/definitions';

export const SESSION_ACTIONS = ['pause', 'resume', 'close-all', 'reconcile', 'positions'] as const;
export type SessionAction = (typeof SESSION_ACTIONS)[number];

/** One control action on an account's session; returns what to print (the raw result for --json). */
export async function sessionAction(
  client: Client,
  connection: Connection,
  account: string,
  action: SessionAction,
  by: string,
): Promise<{ json: unknown; text: string }> {
  const handle = client.workflow.getHandle(sessionWorkflowId(account));
  switch (action) {
    case 'pause':
    case 'resume': {
      await handle.signal(action === 'pause' ? pauseSignal : resumeSignal, { by, reason: 'maotrade CLI' });
      return { json: { account, signal: action }, text: `${action} sent to session ${account}` };
    }
    case 'close-all': {
      const trades = await handle.executeUpdate(closeAllUpdate, { args: [{ by }] });
      return { json: trades, text: `closed ${trades.length} position(s) of ${account}` };
    }
    case 'reconcile': {
      const report = await handle.executeUpdate(reconcileUpdate, { args: [{ by, reason: 'maotrade CLI' }] });
      return { json: report, text: `reconciled ${account}:\n${JSON.stringify(report, null, 2)}` };
    }
    case 'positions': {
      const positions = await connection.withDeadline(Date.now() + 10_000, () => handle.query(positionsQuery));
      const table = new Table({ style: plainStyle(), head: ['ref', 'system', 'symbol', 'side', 'quantity', 'entry', 'stop', 'opened'] });
      for (const p of positions) {
        table.push([p.positionRef, p.systemId, p.symbol, p.side, p.quantity, p.entryPrice, p.stop ?? '-', new Date(p.openedAt).toISOString()]);
      }
      return { json: positions, text: positions.length ? table.toString() : `no open positions on ${account}` };
    }
  }
}
