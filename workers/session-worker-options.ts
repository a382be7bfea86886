/** Worker options of the session worker that other entry points (bench workers) must share. */

/**
 * How long a workflow task may wait on this worker's sticky queue before the server hands it to the
 * shared queue (Temporal's default: 10 s). After a crash the dead worker's sticky queue is where the
 * next task of each of its sessions goes first, so this is the floor of resume time. The cost of a short
 * value: a busy but live worker that does not start a sticky task in time loses it to the shared queue,
 * and whichever worker gets it replays the whole history (since the last continue-as-new) instead of
 * applying one new event to its cached run, which under CPU saturation (thousands of sessions on a
 * couple of cores) adds replay work exactly when there is none to spare. 1 s is well above a healthy
 * worker's schedule-to-start (tens of ms, `bench:live-latency`) and half the 2 s resume target.
 */
export const STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT = '1s';
