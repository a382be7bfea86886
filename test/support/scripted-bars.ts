/**
 * Hand-made markets for tests of the risk engine and order types: frames with explicit OHLC (so a test
 * knows which stop, take-profit or trigger level each frame reaches) and `scripted` systems (so it knows
 * every decision in advance).
 */
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Frame } from '../../market/frame';
import type { SystemConfig } from '../../workflows/session-config';
import type { ScriptedParams } from '../../systems/scripted';

/** A fixed, minute-aligned start: the symbol (the account id) keeps runs apart, not the time. */
export const BARS_BASE = Date.UTC(2026, 0, 5, 9, 0);

/** [open, high, low, close] of one 1-minute frame. */
export type Ohlc = [number, number, number, number];

/** One 1m frame per OHLC, the i-th starting `i` minutes after BARS_BASE. */
export function bars(symbol: string, ohlc: Ohlc[]): Frame[] {
  return ohlc.map(([open, high, low, close], i): Frame => ({ symbol, timeframe: '1m', start: BARS_BASE + i * 60_000, open, high, low, close, volume: 100 }));
}

/** `n` quiet frames around `price` (a range of ±0.2). */
export function flat(n: number, price: number): Ohlc[] {
  return Array.from({ length: n }, () => [price, price + 0.2, price - 0.2, price] as Ohlc);
}

type ScriptStep = Omit<ScriptedParams['script'][number], 'quantity'> & { quantity?: number };

/** A `scripted` system on `symbol` (1m) following `script` (frame 1 = the first frame it sees). */
export function scriptedSystem(id: string, symbol: string, script: ScriptStep[]): SystemConfig {
  return { id, system: 'scripted', symbol, timeframe: '1m', params: { script } };
}

/** Polls `probe` until it returns something other than undefined; fails after `timeoutMs` naming `what`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      // A query right after a worker restart or a continue-as-new may fail until the run has a worker again.
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The message of the non-retryable ApplicationFailure that rejected an update; throws if it was accepted. */
export async function rejectionOf(update: Promise<unknown>): Promise<string> {
  let accepted: unknown;
  try {
    accepted = await update;
  } catch (err) {
    if (!(err instanceof WorkflowUpdateFailedError) || !(err.cause instanceof ApplicationFailure) || !err.cause.nonRetryable) throw err;
    return err.cause.message;
  }
  throw new Error(`update was accepted: ${JSON.stringify(accepted)}`);
}
