import type { OrderSide } from '../adapter';
import type { PaperConfig } from './config';
import { round8 } from '../../trading/trade';

/** A market order fills at the quoted price moved against the taker by half the spread plus slippage. */
export function marketFillPrice(price: number, side: OrderSide, cfg: Pick<PaperConfig, 'spreadBps' | 'slippageBps'>): number {
  const adverse = (cfg.spreadBps / 2 + cfg.slippageBps) / 10_000;
  return round8(side === 'buy' ? price * (1 + adverse) : price * (1 - adverse));
}

/**
 * A stop fills at its level, or at the frame's open when the market gapped through it, moved
 * against the position by slippage. Returns null when the frame did not reach the stop.
 */
export function stopFillPrice(
  position: { side: 'long' | 'short'; stopLevel: number },
  frame: { open: number; high: number; low: number },
  cfg: Pick<PaperConfig, 'slippageBps'>,
): number | null {
  const slip = cfg.slippageBps / 10_000;
  if (position.side === 'long' && frame.low <= position.stopLevel)
    return round8(Math.min(position.stopLevel, frame.open) * (1 - slip));
  if (position.side === 'short' && frame.high >= position.stopLevel)
    return round8(Math.max(position.stopLevel, frame.open) * (1 + slip));
  return null;
}
