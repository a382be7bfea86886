import type { Frame } from '../../market/frame';
import { getSystem } from '../../systems/registry';
import { marketFillPrice, stopFillPrice, PaperConfigSchema, type PaperConfig } from '../../brokers/paper';
import { round8 } from '../../trading/trade';

export interface ExpectedOrder {
  side: 'buy' | 'sell';
  intent: 'open' | 'close';
  price: number;
  kind: 'entry' | 'exit' | 'stop';
  /** Index of the frame on which the order happened. */
  frameIndex: number;
}
export interface ExpectedTrade {
  side: 'long' | 'short';
  entryPrice: number;
  exitPrice: number;
  pnl: number;
  exitReason: string;
}

/**
 * The test's own reading of what a paper session must do on these frames: one system, fills at the
 * frame close moved by spread and slippage, stops at their level (or the gapped open) on later frames.
 * With `paused(frameIndex)` the session's pause control applies on that frame: the system still decides
 * and exits (signal close, reverse close, stop) still happen, but no new position is opened; the entries
 * so skipped are counted. Written independently of the workflow so the integration tests compare against something.
 */
export function expectedPaperRun(
  frames: Frame[],
  system: string,
  rawParams: unknown,
  paper: Partial<PaperConfig>,
  paused: (frameIndex: number) => boolean = () => false,
) {
  const impl = getSystem(system);
  const params = impl.paramsSchema.parse(rawParams);
  const cfg = PaperConfigSchema.parse(paper);
  let state = impl.initialState(params);
  type Pos = { side: 'long' | 'short'; quantity: number; entryPrice: number; stop?: number };
  let pos = null as Pos | null;
  const orders: ExpectedOrder[] = [];
  const trades: ExpectedTrade[] = [];
  /** The frame index of each trade's exit, parallel to `trades`. */
  const tradeFrames: number[] = [];
  const skippedEntries: number[] = [];
  let realised = 0;
  const close = (exitPrice: number, reason: string, frameIndex: number) => {
    tradeFrames.push(frameIndex);
    const dir = pos!.side === 'long' ? 1 : -1;
    const pnl = round8((exitPrice - pos!.entryPrice) * pos!.quantity * dir);
    trades.push({ side: pos!.side, entryPrice: pos!.entryPrice, exitPrice, pnl, exitReason: reason });
    realised = round8(realised + pnl);
    pos = null;
  };
  for (const [frameIndex, f] of frames.entries()) {
    if (pos?.stop !== undefined) {
      const fill = stopFillPrice({ side: pos.side, stopLevel: pos.stop }, f, cfg);
      if (fill !== null) {
        orders.push({ side: pos.side === 'long' ? 'sell' : 'buy', intent: 'close', price: fill, kind: 'stop', frameIndex });
        close(fill, 'stop', frameIndex);
      }
    }
    const out = impl.decide({
      frame: f,
      portfolio: { position: pos ? { ...pos } : null, realisedPnl: realised },
      params,
      state,
    });
    state = out.state;
    const d = out.decision;
    if (d.action === 'none') continue;
    if (d.action === 'close') {
      if (pos) {
        const side = pos.side === 'long' ? 'sell' : 'buy';
        const price = marketFillPrice(f.close, side, cfg);
        orders.push({ side, intent: 'close', price, kind: 'exit', frameIndex });
        close(price, 'signal', frameIndex);
      }
      continue;
    }
    const want = d.action === 'buy' ? 'long' : 'short';
    if (pos?.side === want) continue;
    if (pos) {
      const side = pos.side === 'long' ? 'sell' : 'buy';
      const price = marketFillPrice(f.close, side, cfg);
      orders.push({ side, intent: 'close', price, kind: 'exit', frameIndex });
      close(price, 'reverse', frameIndex);
    }
    if (paused(frameIndex)) {
      skippedEntries.push(frameIndex);
      continue;
    }
    const side = d.action === 'buy' ? 'buy' : 'sell';
    const price = marketFillPrice(f.close, side, cfg);
    orders.push({ side, intent: 'open', price, kind: 'entry', frameIndex });
    pos = { side: want, quantity: d.quantity, entryPrice: price, ...(d.stop !== undefined ? { stop: d.stop } : {}) };
  }
  return { orders, trades, tradeFrames, finalPosition: pos, realised, skippedEntries };
}
