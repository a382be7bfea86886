/**
 * Progress beats of long broker calls (issue 11, item 4). An adapter calls its `heartbeat` hook on every
 * HTTP exchange and every poll iteration (IG's confirm poll, Alpaca's fill and cancel waits); the hook is
 * injectable (adapter deps) and defaults to `beat`, which reaches whatever scope the caller opened with
 * `withProgress`: the broker activities open one per call that heartbeats to Temporal
 * (activities/broker-activities.ts). Outside such a scope (a script, a test, the backtester) a beat does
 * nothing, so the adapters stay usable outside activities.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const scope = new AsyncLocalStorage<() => void>();

/** Runs `fn` with `onBeat` receiving every beat made inside it (across awaits). */
export function withProgress<T>(onBeat: () => void, fn: () => Promise<T>): Promise<T> {
  return scope.run(onBeat, fn);
}

/** One progress beat to the current scope, if any. Never throws: a beat must not fail a broker call. */
export function beat(): void {
  const onBeat = scope.getStore();
  if (!onBeat) return;
  try {
    onBeat();
  } catch {
    // The scope's sink failed (e.g. the activity already finished): the call itself carries on.
  }
}
