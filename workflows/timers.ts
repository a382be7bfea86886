/**
 * The session's timer loop: sleeps on a workflow timer until the engine's next deadline, wakes early when
 * a deadline is added, and fires due work under the session lock. Deadlines live in the engine's state.
 */
import * as wf from '@temporalio/workflow';
import type { Mutex } from 'async-mutex';
import type { SessionEngine } from '../engine/session-engine';
import type { Driver } from './effects';

export class TimerLoop {
  private changed = false;
  private stopping = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly engine: SessionEngine,
    private readonly run: Driver,
    private readonly lock: Mutex,
  ) {}

  /** A deadline was added or moved. */
  wake(): void {
    this.changed = true;
  }

  start(): void {
    this.loop = this.runLoop();
  }

  /** Lets timer work in flight finish, then ends the loop (before a continue-as-new). */
  async stop(): Promise<void> {
    if (!this.loop) return;
    await this.lock.runExclusive(() => {
      this.stopping = true;
    });
    await this.loop;
  }

  private async runLoop(): Promise<void> {
    while (!this.stopping) {
      this.changed = false;
      const next = this.engine.nextDeadline();
      const wait = next === null ? undefined : next - Date.now();
      if (wait === undefined) {
        await wf.condition(() => this.changed || this.stopping);
        continue;
      }
      // true: a deadline was added or the run is ending; false: the timer fired.
      if (wait > 0 && (await wf.condition(() => this.changed || this.stopping, wait))) continue;
      await this.lock.runExclusive(() => this.run(this.engine.fireDueTimers()));
    }
  }
}
