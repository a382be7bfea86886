import type { Decision } from '../systems/types';

const positivePrice = (x: number | undefined): boolean => x === undefined || (Number.isFinite(x) && x > 0);

/**
 * What is wrong with a system's decision, or null when the session can act on it. A bad decision is
 * logged (live) or counted (backtest) and treated as "none": one definition, so both ignore the same ones.
 * Levels (stop, takeProfit, entry price) and the trailing distance must be positive finite numbers;
 * an expiry must be a positive number of milliseconds.
 */
export function decisionProblem(d: Decision): string | null {
  if (d.action !== 'none' && d.action !== 'close' && d.action !== 'buy' && d.action !== 'sell') return `unknown action ${String(d.action)}`;
  if ((d.action === 'buy' || d.action === 'sell') && !(Number.isFinite(d.quantity) && d.quantity > 0)) return `quantity ${d.quantity} is not a positive number`;
  if (!positivePrice(d.stop)) return `stop ${d.stop} is not a positive price`;
  if (!positivePrice(d.takeProfit)) return `takeProfit ${d.takeProfit} is not a positive price`;
  if (!positivePrice(d.trailingStop)) return `trailingStop ${d.trailingStop} is not a positive distance`;
  const e = d.entry;
  if (e === undefined || e.type === 'market') return null;
  if (e.type !== 'limit' && e.type !== 'stop') return `unknown entry type ${String((e as { type: unknown }).type)}`;
  if (!(Number.isFinite(e.price) && e.price > 0)) return `entry price ${e.price} is not a positive price`;
  if (e.expiresAfterMs !== undefined && !(Number.isFinite(e.expiresAfterMs) && e.expiresAfterMs > 0)) return `entry expiresAfterMs ${e.expiresAfterMs} is not a positive duration`;
  return null;
}
