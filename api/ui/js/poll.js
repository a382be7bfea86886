/**
 * Live update: runs `fn` now and again `ms` after each run ends, until stopped. `now()` runs it at once
 * (after a command), without waiting for the timer.
 */
export const POLL_MS = 3000;

export function poll(fn, ms = POLL_MS) {
  let timer = null;
  let stopped = false;
  let running = null;
  const run = async () => {
    clearTimeout(timer);
    try {
      await fn();
    } finally {
      if (!stopped) timer = setTimeout(() => void tick(), ms);
    }
  };
  const tick = () => (running ??= run().finally(() => (running = null)));
  void tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    now: () => (running ? running.then(tick) : tick()),
  };
}
