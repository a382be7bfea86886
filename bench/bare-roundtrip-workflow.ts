/**
 * The bare round trip for bench/live-latency.ts: a workflow that, for each `ping` signal, calls one
 * no-op activity. Bundled on its own (bundleWorkflowCode) and served on its own task queue, so the
 * session's bundle and queues stay untouched.
 */
import * as wf from '@temporalio/workflow';

export interface BareActivities {
  noop(n: number): Promise<void>;
}

export const pingSignal = wf.defineSignal<[number]>('ping');
export const doneQuery = wf.defineQuery<number>('done');
export const stopSignal = wf.defineSignal('stop');

const { noop } = wf.proxyActivities<BareActivities>({ startToCloseTimeout: '10s' });

export async function bareRoundTrip(): Promise<void> {
  const queue: number[] = [];
  let done = -1;
  let stop = false;
  wf.setHandler(pingSignal, (n) => void queue.push(n));
  wf.setHandler(stopSignal, () => void (stop = true));
  wf.setHandler(doneQuery, () => done);
  for (;;) {
    await wf.condition(() => queue.length > 0 || stop);
    if (queue.length === 0) return;
    while (queue.length > 0) {
      const n = queue.shift()!;
      await noop(n);
      done = n;
    }
  }
}
