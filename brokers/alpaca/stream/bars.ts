/**
 * Alpaca's market-data stream v2 (`wss://stream.data.alpaca.markets/v2/{feed}`): `[{T:'success',msg:'connected'}]`,
 * `{action:'auth', key, secret}` → `[{T:'success',msg:'authenticated'}]` or `[{T:'error',code,msg}]` (402 auth
 * failed, 406 connection limit exceeded: one connection per key), `{action:'subscribe', bars:[...]}` →
 * `[{T:'subscription', bars:[...]}]`, then arrays of messages where `T:'b'` is a completed minute bar → a 1-minute
 * Frame. Every open subscribes the whole symbol set again.
 */
import type { StreamFrameEvent } from '../../stream-events';
import { StreamRefusedError, type StreamConnection, type StreamOpenContext, type StreamSink, type StreamTransport } from '../../stream-supervisor';
import { parseDataStreamMessages, type DataStreamMessage } from './mapping';
import { streamDefaults, type AlpacaStreamOptions } from './options';
import { AlpacaSocket } from './socket';

export class AlpacaBarsTransport implements StreamTransport<StreamFrameEvent> {
  readonly name = 'alpaca:bars';
  private readonly symbols = new Set<string>();
  private live: AlpacaSocket | null = null;

  constructor(
    private readonly o: AlpacaStreamOptions,
    symbols: readonly string[] = [],
  ) {
    for (const s of symbols) this.symbols.add(s.toUpperCase());
  }

  /** Adds symbols; sent at once when connected, and on every later open. */
  subscribe(symbols: readonly string[]): void {
    const added = symbols.map((s) => s.toUpperCase()).filter((s) => !this.symbols.has(s));
    for (const s of added) this.symbols.add(s);
    if (added.length && this.live) this.live.send({ action: 'subscribe', bars: added });
  }

  subscribed(): string[] {
    return [...this.symbols];
  }

  async open(sink: StreamSink<StreamFrameEvent>, _ctx: StreamOpenContext): Promise<StreamConnection> {
    const d = streamDefaults(this.o);
    const sock = await AlpacaSocket.open(d);
    /** Reads until the expected answer (Alpaca may batch it with, or precede it by, other messages); an error refuses. */
    const expect = async (ok: (m: DataStreamMessage) => boolean) => {
      for (;;) {
        for (const m of parseDataStreamMessages(await sock.next(d.connectTimeoutMs))) {
          if (m.type === 'error') throw refusal(m.code, m.msg, d.connectionLimitWaitMs);
          if (ok(m)) return;
        }
      }
    };
    try {
      await expect((m) => m.type === 'success' && m.msg === 'connected');
      sock.send({ action: 'auth', key: this.o.keyId, secret: this.o.secretKey });
      await expect((m) => m.type === 'success' && m.msg === 'authenticated');
      if (this.symbols.size) {
        sock.send({ action: 'subscribe', bars: [...this.symbols] });
        await expect((m) => m.type === 'subscription');
      }
    } catch (err) {
      sock.close();
      throw err;
    }
    this.live = sock;
    sock.deliver(
      sink,
      (payload) => {
        for (const m of parseDataStreamMessages(payload)) {
          if (m.type === 'bar') sink.event(m.event);
          else if (m.type === 'invalid') this.o.onProblem?.('malformed bar', m.issues);
          else if (m.type === 'error') sink.down(`Alpaca error ${m.code}: ${m.msg}`, m.code === 406 ? { retryAfterMs: d.connectionLimitWaitMs } : {});
        }
      },
      d.pingEveryMs,
    );
    return {
      close: () => {
        if (this.live === sock) this.live = null;
        sock.close();
      },
    };
  }
}

/** An error answer during the handshake → a refusal; 406 (connection limit) waits at least `limitWaitMs`. */
export function refusal(code: number, msg: string, limitWaitMs: number): StreamRefusedError {
  return new StreamRefusedError(`Alpaca refused the data stream: ${code} ${msg}`, {
    code,
    ...(code === 406 ? { retryAfterMs: limitWaitMs } : {}),
    ...(code === 402 ? { authExpired: true } : {}),
  });
}
