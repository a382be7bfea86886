import type { Instrument } from '../brokers/adapter';
import type { RiskLimits } from './limits';
import { lockFor, type ProtectionLock } from './locks';
import { below, exceeds, formatNumber as n, formatTime, isMultipleOf } from './numbers';
import { intentAllowed, type TradingState } from './trading-state';

export type RiskRule =
  | 'trading-state'
  | 'stop-loss-guard'
  | 'loss-cooldown'
  | 'session-closed'
  | 'max-order-quantity'
  | 'max-order-notional'
  | 'max-position-per-symbol'
  | 'max-total-exposure'
  | 'max-open-positions'
  | 'max-orders-per-minute'
  | 'instrument-closed'
  | 'min-quantity'
  | 'quantity-step';

export interface IntentToCheck {
  systemId: string;
  symbol: string;
  side: 'buy' | 'sell';
  quantity: number;
  intent: 'open' | 'close';
  /** Reference price: last close. */
  price: number;
  /** Account money per unit of quantity per 1.0 of price (point value × conversion rate); absent: 1. */
  valuePerPoint?: number;
}

export interface RiskView {
  tradingState: TradingState;
  /** Workflow time, epoch ms. */
  now: number;
  /** Open positions of the account. */
  /** `valuePerPoint` as on IntentToCheck: exposure is account money. */
  positions: { symbol: string; side: 'long' | 'short'; quantity: number; markPrice: number; valuePerPoint?: number }[];
  /** Epoch ms of orders sent (any intent), newest last. */
  recentOrderTimes: number[];
  locks: ProtectionLock[];
  /** Null = not looked up (checkInstrument false, or a close). */
  instrument: Instrument | null;
}

export type RiskVerdict =
  | { ok: true }
  | { ok: false; rule: RiskRule; detail: string; numbers: Record<string, number | string | boolean> };
type Refused = Extract<RiskVerdict, { ok: false }>;

const MINUTE_MS = 60_000;

type Check = (intent: IntentToCheck, view: RiskView, limits: RiskLimits) => Refused | null;

const refuse = (rule: RiskRule, detail: string, numbers: Refused['numbers']): Refused => ({ ok: false, rule, detail, numbers });

const tradingState: Check = (intent, view) => {
  if (intentAllowed(view.tradingState, intent.intent)) return null;
  const detail =
    view.tradingState === 'halted'
      ? `trading state is halted: no order passes, this ${intent.intent} order is refused`
      : `trading state is reducing: only orders that close a position pass, this order opens one`;
  return refuse('trading-state', detail, { tradingState: view.tradingState, intent: intent.intent });
};

const locks: Check = (intent, view) => {
  const lock = lockFor(view.locks, intent.symbol, view.now);
  if (!lock) return null;
  const scope = lock.symbol === undefined ? 'every symbol' : lock.symbol;
  return refuse(
    lock.kind,
    `entries on ${scope} are locked by ${lock.kind} until ${formatTime(lock.until)} (${lock.reason})`,
    { lockId: lock.id, since: lock.since, until: lock.until, now: view.now },
  );
};

const maxOrderQuantity: Check = (intent, _view, limits) => {
  const limit = limits.maxOrderQuantity;
  if (limit === undefined || !exceeds(intent.quantity, limit)) return null;
  return refuse('max-order-quantity', `order quantity ${n(intent.quantity)} exceeds maxOrderQuantity ${n(limit)}`, {
    quantity: intent.quantity,
    limit,
  });
};

/** |quantity × price| × value per point: what the order puts at risk, in account money. */
const notionalOf = (intent: IntentToCheck): number => Math.abs(intent.quantity * intent.price) * (intent.valuePerPoint ?? 1);
const perPointText = (intent: IntentToCheck): string => (intent.valuePerPoint === undefined ? '' : ` × value per point ${n(intent.valuePerPoint)}`);

const maxOrderNotional: Check = (intent, _view, limits) => {
  const limit = limits.maxOrderNotional;
  const notional = notionalOf(intent);
  if (limit === undefined || !exceeds(notional, limit)) return null;
  return refuse(
    'max-order-notional',
    `order notional ${n(notional)} (quantity ${n(intent.quantity)} × price ${n(intent.price)}${perPointText(intent)}) exceeds maxOrderNotional ${n(limit)}`,
    { quantity: intent.quantity, price: intent.price, notional, limit, ...(intent.valuePerPoint === undefined ? {} : { valuePerPoint: intent.valuePerPoint }) },
  );
};

const maxPositionPerSymbol: Check = (intent, view, limits) => {
  const limit = limits.maxPositionPerSymbol;
  if (limit === undefined) return null;
  const current = view.positions
    .filter((p) => p.symbol === intent.symbol)
    .reduce((net, p) => net + (p.side === 'long' ? p.quantity : -p.quantity), 0);
  const order = intent.side === 'buy' ? intent.quantity : -intent.quantity;
  const after = Math.abs(current + order);
  if (!exceeds(after, limit)) return null;
  return refuse(
    'max-position-per-symbol',
    `net position in ${intent.symbol} after the order ${n(after)} (now ${n(current)}, order ${order > 0 ? '+' : ''}${n(order)}) exceeds maxPositionPerSymbol ${n(limit)}`,
    { currentNet: current, order, after, limit },
  );
};

const maxTotalExposure: Check = (intent, view, limits) => {
  const limit = limits.maxTotalExposure;
  if (limit === undefined) return null;
  const open = view.positions.reduce((sum, p) => sum + Math.abs(p.quantity * p.markPrice) * (p.valuePerPoint ?? 1), 0);
  const notional = notionalOf(intent);
  const exposure = open + notional;
  if (!exceeds(exposure, limit)) return null;
  return refuse(
    'max-total-exposure',
    `total exposure after the order ${n(exposure)} (open ${n(open)} + order ${n(notional)}) exceeds maxTotalExposure ${n(limit)}`,
    { openExposure: open, notional, exposure, limit },
  );
};

const maxOpenPositions: Check = (_intent, view, limits) => {
  const after = view.positions.length + 1;
  if (after <= limits.maxOpenPositions) return null;
  return refuse(
    'max-open-positions',
    `open positions after the order ${after} would exceed maxOpenPositions ${limits.maxOpenPositions}`,
    { openPositions: view.positions.length, after, limit: limits.maxOpenPositions },
  );
};

const maxOrdersPerMinute: Check = (_intent, view, limits) => {
  const since = view.now - MINUTE_MS;
  const count = view.recentOrderTimes.filter((t) => t > since && t <= view.now).length;
  if (count < limits.maxOrdersPerMinute) return null;
  return refuse(
    'max-orders-per-minute',
    `${count} orders sent in the last 60 s already reach maxOrdersPerMinute ${limits.maxOrdersPerMinute}`,
    { ordersLastMinute: count, limit: limits.maxOrdersPerMinute },
  );
};

/** Instrument checks run only when enabled and the details were looked up. */
const withInstrument =
  (check: (intent: IntentToCheck, instrument: Instrument) => Refused | null): Check =>
  (intent, view, limits) =>
    limits.checkInstrument && view.instrument ? check(intent, view.instrument) : null;

const instrumentClosed = withInstrument((intent, ins) =>
  ins.tradable
    ? null
    : refuse('instrument-closed', `${intent.symbol} is not tradable now (market status ${ins.marketStatus})`, {
        tradable: false,
        marketStatus: ins.marketStatus,
      }),
);

const minQuantity = withInstrument((intent, ins) =>
  !below(intent.quantity, ins.minQuantity)
    ? null
    : refuse(
        'min-quantity',
        `order quantity ${n(intent.quantity)} is below the minimum quantity ${n(ins.minQuantity)} of ${intent.symbol}`,
        { quantity: intent.quantity, minQuantity: ins.minQuantity },
      ),
);

const quantityStep = withInstrument((intent, ins) =>
  isMultipleOf(intent.quantity, ins.quantityStep)
    ? null
    : refuse(
        'quantity-step',
        `order quantity ${n(intent.quantity)} is not a multiple of the quantity step ${n(ins.quantityStep)} of ${intent.symbol}`,
        { quantity: intent.quantity, quantityStep: ins.quantityStep },
      ),
);

/** Opens go through every check, in the order of RiskRule (the first refusal wins). */
const OPEN_CHECKS: readonly Check[] = [
  tradingState,
  locks,
  maxOrderQuantity,
  maxOrderNotional,
  maxPositionPerSymbol,
  maxTotalExposure,
  maxOpenPositions,
  maxOrdersPerMinute,
  instrumentClosed,
  minQuantity,
  quantityStep,
];

/** Closes: only the trading-state rule (halted refuses them). Opens: every rule, in the order listed in RiskRule. */
export function checkIntent(intent: IntentToCheck, view: RiskView, limits: RiskLimits): RiskVerdict {
  const checks = intent.intent === 'close' ? [tradingState] : OPEN_CHECKS;
  for (const check of checks) {
    const refusal = check(intent, view, limits);
    if (refusal) return refusal;
  }
  return { ok: true };
}
