/**
 * The broker's instrument details as the session keeps them, and the money facts they give its positions
 * (issue 11 item 7): P&L, equity, exposure and the loss protections in account currency.
 */
import type { Instrument } from '../brokers/adapter';
import { positionMoney, type PositionMoney } from '../trading/money';
import type { Position } from '../trading/position';
import type { EngineContext } from './context';
import type { Step } from './effects';

/** Caches `instrument` for `symbol`; the open positions on it take its money facts (a conversion rate moves). */
export function noteInstrument(ctx: EngineContext, symbol: string, instrument: Instrument): void {
  const { state } = ctx;
  state.instruments[symbol] = { instrument, at: ctx.ports.now() };
  if (!ctx.features.accountCurrency) return;
  const money = positionMoney(instrument);
  for (const [systemId, p] of Object.entries(state.positions)) {
    if (p.symbol === symbol) state.positions[systemId] = withMoney(p, money);
  }
}

/** The money facts a new position on `symbol` books with: from the instrument last read, none before one was. */
export function moneyFor(ctx: EngineContext, symbol: string): PositionMoney | undefined {
  if (!ctx.features.accountCurrency) return undefined;
  const cached = ctx.state.instruments[symbol];
  return cached ? positionMoney(cached.instrument) : undefined;
}

/** An entry's money can only be checked in account currency once the instrument was read: read it once per symbol. */
export function* knownInstrument(ctx: EngineContext, symbol: string): Step<Instrument> {
  const cached = ctx.state.instruments[symbol];
  if (cached) return cached.instrument;
  const instrument = (yield { kind: 'getInstrument', symbol }) as Instrument;
  noteInstrument(ctx, symbol, instrument);
  return instrument;
}

/** `p` with `money` (or without any), keeping the note that its entry fee was booked. */
export function withMoney(p: Position, money: PositionMoney | undefined): Position {
  const next: Position = { ...p };
  delete next.money;
  if (money) next.money = p.money?.entryFeeBooked ? { ...money, entryFeeBooked: true } : money;
  return next;
}
