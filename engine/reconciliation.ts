/**
 * Reconciliation (invariant 3): the broker is the source of truth for money. A pure comparison of the
 * session's positions with the broker's, run inside the workflow; the workflow then adopts the broker's
 * state and logs every difference at error level.
 */
import type { BrokerPosition } from '../brokers/adapter';
import type { OrderRecord } from '../trading/order';
import type { Position } from '../trading/position';

/** An order whose outcome the session could not settle: it may or may not exist at the broker. */
export type UnsettledOrder = OrderRecord;

export type DriftKind =
  /** The session holds it, the broker does not: closed by its stop or behind the session's back. */
  | 'closed-at-broker'
  /** The broker holds a position one of this session's orders opened, which the session does not know. */
  | 'opened-at-broker'
  /** Same position, different side, size, entry or stop. */
  | 'changed-at-broker'
  /** A position at the broker that no order of this account opened. */
  | 'foreign-at-broker';

export interface PositionDrift {
  kind: DriftKind;
  positionRef: string;
  systemId?: string;
  session?: Position;
  broker?: BrokerPosition;
  detail: string;
}

export interface ReconciliationReport {
  /** Workflow time of the check, epoch ms. */
  at: number;
  reason: string;
  drifts: PositionDrift[];
  /** Unsettled orders whose outcome this check settled. */
  settled: number;
  /** Unsettled orders still unknown after it. */
  stillUnknown: number;
}

const EPS = 1e-9;
const differs = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? a !== b : Math.abs(a - b) > EPS * Math.max(1, Math.abs(a), Math.abs(b));

export function diffPositions(
  account: string,
  session: Record<string, Position>,
  broker: readonly BrokerPosition[],
  unsettled: readonly UnsettledOrder[],
): PositionDrift[] {
  const drifts: PositionDrift[] = [];
  const atBroker = new Map(broker.map((b) => [b.positionRef, b]));
  const known = new Set<string>();
  for (const [systemId, p] of Object.entries(session)) {
    known.add(p.positionRef);
    const b = atBroker.get(p.positionRef);
    if (!b) {
      drifts.push({ kind: 'closed-at-broker', positionRef: p.positionRef, systemId, session: p, detail: `${p.side} ${p.quantity} ${p.symbol} is not open at the broker` });
      continue;
    }
    const changes: string[] = [];
    if (b.side !== p.side) changes.push(`side ${p.side} → ${b.side}`);
    if (differs(b.quantity, p.quantity)) changes.push(`quantity ${p.quantity} → ${b.quantity}`);
    if (differs(b.entryPrice, p.entryPrice)) changes.push(`entry ${p.entryPrice} → ${b.entryPrice}`);
    if (differs(b.stopLevel, p.stop)) changes.push(`stop ${p.stop ?? 'none'} → ${b.stopLevel ?? 'none'}`);
    if (changes.length) drifts.push({ kind: 'changed-at-broker', positionRef: p.positionRef, systemId, session: p, broker: b, detail: changes.join(', ') });
  }
  const unsettledById = new Map(unsettled.map((u) => [u.clientOrderId, u]));
  for (const b of broker) {
    if (known.has(b.positionRef)) continue;
    const origin = unsettledById.get(b.positionRef);
    if (origin && origin.intent === 'open') {
      drifts.push({ kind: 'opened-at-broker', positionRef: b.positionRef, systemId: origin.systemId, broker: b, detail: `unsettled order ${b.positionRef} did open ${b.side} ${b.quantity} ${b.symbol}` });
    } else {
      const ours = b.positionRef.startsWith(`${account}-`);
      drifts.push({
        kind: 'foreign-at-broker',
        positionRef: b.positionRef,
        broker: b,
        detail: ours
          ? `${b.side} ${b.quantity} ${b.symbol} carries this account's reference but no system of the session owns it`
          : `${b.side} ${b.quantity} ${b.symbol} was not opened by this session`,
      });
    }
  }
  return drifts;
}
