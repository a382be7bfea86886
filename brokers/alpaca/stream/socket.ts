/**
 * The WebSocket plumbing both Alpaca streams share (ws): connect with a timeout (an HTTP 429 on the upgrade is a
 * refusal that waits), JSON messages read one at a time during the handshake then handed to a listener, ws pings
 * whose pongs are the stream's heartbeat, and the close reported once.
 */
import WebSocket from 'ws';
import { StreamRefusedError, type StreamConnection, type StreamSink } from '../../stream-supervisor';

export interface AlpacaSocketOptions {
  url: string;
  connectTimeoutMs: number;
  /** A ws ping every this many ms; each pong is a heartbeat. 0 = no pings. */
  pingEveryMs: number;
  /** Least wait after a refusal for too many connections (406, or 429 on the upgrade). */
  connectionLimitWaitMs: number;
}

/** One open socket: `next()` during the handshake, then `deliver()` hands every message to a listener. */
export class AlpacaSocket implements StreamConnection {
  private readonly queue: unknown[] = [];
  private waiter: { resolve: (m: unknown) => void; reject: (e: Error) => void } | null = null;
  private listener: ((m: unknown) => void) | null = null;
  private closedWith: string | null = null;
  private onDown: ((reason: string) => void) | null = null;
  private ping: NodeJS.Timeout | null = null;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawText(data));
      } catch {
        parsed = { unparseable: rawText(data).slice(0, 200) };
      }
      if (this.listener) this.listener(parsed);
      else if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w.resolve(parsed);
      } else this.queue.push(parsed);
    });
    ws.on('close', (code: number, reason: Buffer) => this.gone(`closed by the venue (${code}${reason.length ? ` ${reason.toString()}` : ''})`));
    ws.on('error', (err: Error) => this.gone(`socket error: ${err.message}`));
  }

  static open(o: AlpacaSocketOptions): Promise<AlpacaSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(o.url, { handshakeTimeout: o.connectTimeoutMs, perMessageDeflate: false });
      const fail = (e: Error) => {
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(e);
      };
      ws.once('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        const after = Number(res.headers['retry-after']);
        const retryAfterMs = Math.max(o.connectionLimitWaitMs, Number.isFinite(after) ? after * 1000 : 0);
        fail(new StreamRefusedError(`upgrade refused with HTTP ${status}`, { code: status, ...(status === 429 ? { retryAfterMs } : {}) }));
      });
      ws.once('error', fail);
      ws.once('open', () => {
        ws.removeListener('error', fail);
        resolve(new AlpacaSocket(ws));
      });
    });
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** The next message, or a rejection when none arrives in time or the socket closes first. */
  next(timeoutMs: number): Promise<unknown> {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closedWith) return Promise.reject(new Error(this.closedWith));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        resolve: (m) => (clearTimeout(t), resolve(m)),
        reject: (e) => (clearTimeout(t), reject(e)),
      };
    });
  }

  /** After the handshake: every message to `onMessage`, pongs as heartbeats, the close as `down`. */
  deliver<E>(sink: StreamSink<E>, onMessage: (m: unknown) => void, pingEveryMs: number): void {
    for (const m of this.queue.splice(0)) onMessage(m);
    this.listener = onMessage;
    this.onDown = (reason) => sink.down(reason);
    if (this.closedWith) this.onDown(this.closedWith);
    this.ws.on('pong', () => sink.heartbeat());
    if (pingEveryMs > 0) {
      this.ping = setInterval(() => {
        if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
      }, pingEveryMs);
    }
  }

  close(): void {
    this.stopPing();
    this.listener = null;
    this.onDown = null;
    this.ws.removeAllListeners('message');
    this.ws.on('error', () => undefined);
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }

  private gone(reason: string): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    this.stopPing();
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(new Error(reason));
    }
    this.onDown?.(reason);
  }

  private stopPing(): void {
    if (this.ping) clearInterval(this.ping);
    this.ping = null;
  }
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
