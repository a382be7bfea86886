import type { OrderReport } from './order-report';

/**
 * An order's life, as one table (issue 11): an intent is recorded before the broker sees it, the broker
 * accepts it (working), fills it in parts or whole, or cancels, rejects or expires it. `unknown` is not a
 * venue state: the session could not tell (retries ran out, the answer was lost) and asks again until the
 * broker does. `rejected` is final only for a venue's explicit refusal; anything ambiguous is `unknown`.
 *
 *   from \ to          submitted accepted partially-filled filled cancelled rejected expired unknown
 *   intent                 ✓
 *   submitted                       ✓          ✓            ✓        ✓         ✓        ✓       ✓
 *   accepted                                   ✓            ✓        ✓         ✓        ✓       ✓
 *   partially-filled                           ✓            ✓        ✓         ✓        ✓       ✓
 *   unknown                         ✓          ✓            ✓        ✓         ✓        ✓       ✓
 *   filled | cancelled | rejected | expired: final, no transition out
 *
 * A `cancelled` or `expired` order may carry a filled quantity (the rest was cancelled): the fill stands.
 */
export const ORDER_STATES = ['intent', 'submitted', 'accepted', 'partially-filled', 'filled', 'cancelled', 'rejected', 'expired', 'unknown'] as const;
export type OrderState = (typeof ORDER_STATES)[number];

/** The states a broker's answer (or its absence) can put an order in. */
export type ReportedState = Exclude<OrderState, 'intent' | 'submitted'>;

export const FINAL_STATES: ReadonlySet<OrderState> = new Set(['filled', 'cancelled', 'rejected', 'expired']);

const AFTER_SUBMIT: readonly OrderState[] = ['accepted', 'partially-filled', 'filled', 'cancelled', 'rejected', 'expired', 'unknown'];
// A venue may still refuse an order it had accepted (Alpaca reports a cancel with nothing filled as refused).
const WHILE_WORKING: readonly OrderState[] = ['partially-filled', 'filled', 'cancelled', 'rejected', 'expired', 'unknown'];

export const TRANSITIONS: Readonly<Record<OrderState, readonly OrderState[]>> = {
  intent: ['submitted'],
  submitted: AFTER_SUBMIT,
  accepted: WHILE_WORKING,
  'partially-filled': WHILE_WORKING,
  unknown: AFTER_SUBMIT,
  filled: [],
  cancelled: [],
  rejected: [],
  expired: [],
};

export function isFinal(state: OrderState): boolean {
  return FINAL_STATES.has(state);
}

export function canTransition(from: OrderState, to: OrderState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** A transition the table does not allow: a bug or a venue report out of order. Never retried. */
export class OrderTransitionError extends Error {
  readonly retryable = false;
  constructor(
    readonly clientOrderId: string,
    readonly from: OrderState,
    readonly to: OrderState,
  ) {
    super(`order ${clientOrderId}: ${from} → ${to} is not an allowed transition`);
    this.name = 'OrderTransitionError';
  }
}

const EPS = 1e-9;

/**
 * The lifecycle state a broker report says an order is in. Reports carry the venue's status and the
 * filled quantity: a `filled` report with less than the order's quantity is an order whose rest was
 * cancelled (Alpaca reports a cancel after a partial fill so), a `pending` one is working, in parts or not.
 */
export function stateOfReport(report: Pick<OrderReport, 'status' | 'quantity' | 'filledQuantity'>): ReportedState {
  switch (report.status) {
    case 'filled':
    case 'dry-run':
      return report.filledQuantity + EPS >= report.quantity ? 'filled' : 'cancelled';
    case 'rejected':
      return report.filledQuantity > EPS ? 'cancelled' : 'rejected';
    case 'pending':
      return report.filledQuantity > EPS ? 'partially-filled' : 'accepted';
  }
}

/** One recorded transition of an order (`mt_<account>.order_events`). */
export interface OrderEvent {
  clientOrderId: string;
  /** Workflow time of the transition, epoch ms. */
  at: number;
  from: OrderState;
  to: OrderState;
  filledQuantity: number;
  /** Average fill price so far; 0 when nothing filled. */
  fillPrice: number;
  reason?: string;
}

/** The event of moving `clientOrderId` from `from` to `to`; throws OrderTransitionError when the table forbids it. */
export function transition(
  clientOrderId: string,
  from: OrderState,
  to: OrderState,
  at: number,
  fill: { filledQuantity: number; fillPrice: number },
  reason?: string,
): OrderEvent {
  if (!canTransition(from, to)) throw new OrderTransitionError(clientOrderId, from, to);
  const event: OrderEvent = { clientOrderId, at, from, to, filledQuantity: fill.filledQuantity, fillPrice: fill.fillPrice };
  if (reason !== undefined) event.reason = reason;
  return event;
}

/**
 * When a non-final order is asked about next: 2 s after it was sent, doubling to at most a minute, for as
 * long as it takes (a queued after-hours order, an outage: the broker answers in the end).
 */
export function nextCheckDelayMs(checks: number): number {
  return Math.min(60_000, 2_000 * 2 ** Math.min(checks, 5));
}
