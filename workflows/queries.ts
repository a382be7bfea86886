/** The session's queries: read-only views from the engine. */
import * as wf from '@temporalio/workflow';
import type { SessionEngine } from '../engine/session-engine';
import type { Frame } from '../market/frame';
import { pnlQuery, positionsQuery, riskQuery, statusQuery, systemsQuery, tradesQuery } from './definitions';

export function wireQueries(engine: SessionEngine, queue: Frame[]): void {
  wf.setHandler(statusQuery, () => engine.status(queue.length));
  wf.setHandler(positionsQuery, () => engine.positions());
  wf.setHandler(riskQuery, () => engine.risk());
  wf.setHandler(pnlQuery, () => engine.pnl());
  wf.setHandler(tradesQuery, () => engine.trades());
  wf.setHandler(systemsQuery, () => engine.systemViews());
}
