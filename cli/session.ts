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
import { setSessionTradingState } from '../fleet/trading-state';
import { TRADING_STATE_ACTIONS, isTradingStateAction, stateOfAction, tradingStateSummary, tradingStateTable } from './trading-state';

export const SESSION_ACTIONS = ['pause', 'resume', 'close-all', 'reconcile', 'positions', ...TRADING_STATE_ACTIONS] as const;
export type SessionAction = (typeof SESSION_ACTIONS)[number];

/**
 * One control action on an account's session; returns what to print (the raw result for --json) and
 * `failed` when the session refused or did not answer (a trading-state command reports that as a row).
 */
export async function sessionAction(
  client: Client,
  connection: Connection,
  account: string,
  action: SessionAction,
  who: { by: string; reason?: string },
): Promise<{ json: unknown; text: string; failed?: boolean }> {
  const { by } = who;
  if (isTradingStateAction(action)) {
    const command = { state: stateOfAction(action), by, reason: who.reason ?? '' };
    const r = await setSessionTradingState(client, account, command);
    const summary = tradingStateSummary({
      command,
      matched: 1,
      changed: r.outcome === 'changed' ? 1 : 0,
      unchanged: r.outcome === 'unchanged' ? 1 : 0,
      failed: r.ok ? 0 : 1,
    });
    return { json: r, text: `${tradingStateTable([r])}\n${summary}`, failed: !r.ok };
  }
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
