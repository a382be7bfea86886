import {
  StreamRefusedError,
  StreamSupervisor,
  type ReconcileCause,
  type StreamOpenContext,
  type StreamSink,
  type StreamTransport,
} from '../../brokers/stream-supervisor';
import { collectingLogger, settle, VirtualTimers } from './stream-helpers';

/** A transport the test scripts: each open takes the next outcome ('ok' or an error). */
class ScriptedTransport implements StreamTransport<string> {
  readonly name = 'test:stream';
  outcomes: ('ok' | Error)[] = [];
  opens: StreamOpenContext[] = [];
  sinks: StreamSink<string>[] = [];
  closed = 0;
  async open(sink: StreamSink<string>, ctx: StreamOpenContext) {
    this.opens.push(ctx);
    const o = this.outcomes.shift() ?? 'ok';
    if (o !== 'ok') throw o;
    this.sinks.push(sink);
    return { close: () => void this.closed++ };
  }
  get sink(): StreamSink<string> {
    return this.sinks[this.sinks.length - 1]!;
  }
}

function setup(opts: { silenceMs?: number; reconcileEveryMs?: number; reconcile?: (c: ReconcileCause) => Promise<void> } = {}) {
  const timers = new VirtualTimers();
  const transport = new ScriptedTransport();
  const events: string[] = [];
  const reconciles: ReconcileCause[] = [];
  const log = collectingLogger();
  const sup = new StreamSupervisor<string>({
    transport,
    onEvent: (e) => events.push(e),
    reconcile: opts.reconcile ?? (async (c) => void reconciles.push(c)),
    silenceMs: opts.silenceMs ?? 1_000,
    backoff: { initialMs: 100, maxMs: 1_000, factor: 2 },
    ...(opts.reconcileEveryMs ? { reconcileEveryMs: opts.reconcileEveryMs } : {}),
    logger: log.logger,
    timers,
  });
  return { timers, transport, events, reconciles, log, sup };
}

describe('StreamSupervisor', () => {
  it('connects, delivers events, exposes its state and reconciles on the first connect', async () => {
    const { sup, transport, events, reconciles, timers } = setup();
    expect(sup.health().state).toBe('idle');
    sup.start();
    await settle();
    expect(sup.health()).toMatchObject({ state: 'up', connects: 1, failures: 0, since: timers.now() });
    transport.sink.event('a');
    transport.sink.event('b');
    expect(events).toEqual(['a', 'b']);
    expect(reconciles.map((r) => r.reason)).toEqual(['connected']);
    await sup.stop();
    expect(sup.health().state).toBe('stopped');
    expect(transport.closed).toBe(1);
  });

  it('watchdog: reconnects when neither an event nor a heartbeat arrives within silenceMs, and reconciles again', async () => {
    const { sup, transport, timers, reconciles, log } = setup({ silenceMs: 1_000 });
    sup.start();
    await settle();
    // heartbeats keep it up past the silence limit
    for (let i = 0; i < 5; i++) {
      await timers.advance(600);
      transport.sink.heartbeat();
    }
    expect(sup.health().state).toBe('up');
    expect(transport.opens).toHaveLength(1);
    // then silence
    await timers.advance(1_000);
    expect(sup.health().state).toBe('down');
    expect(sup.health().lastError).toMatch(/watchdog: nothing received for 1000 ms/);
    expect(transport.closed).toBe(1);
    await timers.advance(100);
    expect(sup.health()).toMatchObject({ state: 'up', connects: 2 });
    expect(reconciles.map((r) => r.reason)).toEqual(['connected', 'reconnected']);
    expect(log.messages()).toEqual(expect.arrayContaining(['stream test:stream: up → down', 'stream test:stream: down → connecting', 'stream test:stream: connecting → up']));
    await sup.stop();
  });

  it('backs off doubling after failed opens, waits at least what a refusal asks, and resets after a success', async () => {
    const { sup, transport, timers } = setup();
    transport.outcomes = [new Error('ECONNREFUSED'), new Error('ECONNREFUSED'), new StreamRefusedError('406 connection limit exceeded', { code: 406, retryAfterMs: 5_000 }), 'ok'];
    sup.start();
    await settle();
    expect(sup.health()).toMatchObject({ state: 'down', failures: 1 });
    expect(sup.health().nextAttemptAt! - timers.now()).toBe(100);
    await timers.advance(99);
    expect(transport.opens).toHaveLength(1);
    await timers.advance(1);
    expect(transport.opens).toHaveLength(2);
    expect(sup.health().nextAttemptAt! - timers.now()).toBe(200);
    await timers.advance(200);
    expect(transport.opens).toHaveLength(3);
    // the refusal asked for 5 s: exponential would be 400 ms
    expect(sup.health().nextAttemptAt! - timers.now()).toBe(5_000);
    await timers.advance(4_999);
    expect(transport.opens).toHaveLength(3);
    await timers.advance(1);
    expect(sup.health()).toMatchObject({ state: 'up', failures: 0, connects: 1 });
    // a later drop starts from the initial delay again
    transport.sink.down('socket closed');
    expect(sup.health().nextAttemptAt! - timers.now()).toBe(100);
    await sup.stop();
  });

  it('logs in again on the next open after a refusal for expired tokens', async () => {
    const { sup, transport, timers } = setup();
    sup.start();
    await settle();
    transport.outcomes = [new StreamRefusedError('tokens expired', { authExpired: true }), 'ok'];
    transport.sink.down('closed by the venue');
    await timers.advance(100);
    await timers.advance(200);
    expect(transport.opens.map((o) => o.relogin)).toEqual([false, false, true]);
    expect(sup.health().state).toBe('up');
    await sup.stop();
  });

  it('ignores events and downs from a connection it has replaced', async () => {
    const { sup, transport, timers, events } = setup();
    sup.start();
    await settle();
    const old = transport.sink;
    old.down('dropped');
    await timers.advance(100);
    expect(transport.sinks).toHaveLength(2);
    old.event('stale');
    old.down('late close of the old socket');
    transport.sink.event('fresh');
    expect(events).toEqual(['fresh']);
    expect(sup.health()).toMatchObject({ state: 'up', connects: 2 });
    await sup.stop();
  });

  it('a failing reconcile is logged, never fatal; the timer reconciles while up; one reconcile at a time', async () => {
    let running = 0;
    let most = 0;
    const causes: string[] = [];
    let release: () => void = () => undefined;
    const { sup, transport, timers, log } = setup({
      reconcileEveryMs: 5_000,
      silenceMs: 60_000,
      reconcile: async (c) => {
        causes.push(c.reason);
        running++;
        most = Math.max(most, running);
        if (causes.length === 1) {
          await new Promise<void>((r) => (release = r));
          running--;
          throw new Error('REST down');
        }
        running--;
      },
    });
    sup.start();
    await settle();
    transport.sink.down('dropped');
    await timers.advance(100); // reconnected while the first reconcile still runs
    expect(causes).toEqual(['connected']);
    release();
    await settle();
    expect(causes).toEqual(['connected', 'reconnected']);
    expect(most).toBe(1);
    expect(log.lines.find((l) => l['msg'] === 'stream reconciliation failed')).toMatchObject({ err: 'REST down', reason: 'connected' });
    await timers.advance(5_000);
    expect(causes).toEqual(['connected', 'reconnected', 'timer']);
    expect(sup.health().state).toBe('up');
    await sup.stop();
    await timers.advance(20_000);
    expect(causes).toHaveLength(3);
    expect(timers.pending()).toBe(0);
  });

  it('gives up on an open that never completes and tries again', async () => {
    const timers = new VirtualTimers();
    let opens = 0;
    const transport: StreamTransport<string> = {
      name: 'test:hang',
      open: () => {
        opens++;
        return opens === 1 ? new Promise(() => undefined) : Promise.resolve({ close: () => undefined });
      },
    };
    const sup = new StreamSupervisor<string>({ transport, onEvent: () => undefined, reconcile: () => undefined, silenceMs: 1_000, openTimeoutMs: 3_000, backoff: { initialMs: 100 }, logger: collectingLogger().logger, timers });
    sup.start();
    await timers.advance(2_999);
    expect(sup.health().state).toBe('connecting');
    await timers.advance(1);
    expect(sup.health()).toMatchObject({ state: 'down', lastError: 'open failed: open did not complete within 3000 ms' });
    await timers.advance(100);
    expect(sup.health().state).toBe('up');
    await sup.stop();
  });
});
