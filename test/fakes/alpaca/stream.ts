/**
 * The fake Alpaca venue's WebSocket streams, on the same HTTP server as its REST API and over the same state, so a
 * fill made through REST (or by a stop, or by a trade on the dashboard) is sent on the stream too:
 * - `/stream`: the trading stream. `{action:'auth',key,secret}` → `{stream:'authorization',data:{action:'authenticate',
 *   status:'authorized'|'unauthorized'}}`; `{action:'listen',data:{streams}}` → `{stream:'listening',data:{streams}}`
 *   (only trade_updates is granted); then a `trade_updates` message per order change of the ledger, sent as binary
 *   frames as the paper endpoint does.
 * - `/v2/{feed}`: the market-data stream. `[{T:'success',msg:'connected'}]`, auth → `[{T:'success',
 *   msg:'authenticated'}]` or `[{T:'error',code:402,msg:'auth failed'}]`, a second connection of the key →
 *   `[{T:'error',code:406,msg:'connection limit exceeded'}]` and closed; subscribe → `[{T:'subscription',...}]`;
 *   bars pushed by the test as `[{T:'b',...}]`.
 * Pings are answered with pongs (the heartbeat), unless `silence('all')`.
 * Test faults: `drop()` (sockets destroyed), `silence('events')` (events are lost, pongs continue: a silent drop),
 * `silence('all')` (nothing at all), `refuseNext(n, how)`. Events sent while a client is not connected are lost,
 * as at Alpaca (no replay).
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Frame } from '../../../market/frame';
import { dec, iso, type FakeAlpacaState, type FakeTradeEvent } from './state';

export type FakeAlpacaRefusal = '406' | '429' | 'unauthorized';

export interface FakeAlpacaStreamControls {
  /** Open sockets, by kind. */
  connections(kind?: 'trading' | 'data'): number;
  /** Destroys every stream socket at once (a hard drop, no close frame). */
  drop(kind?: 'trading' | 'data'): void;
  /** `'events'`: events stop (lost) while pongs continue; `'all'`: pings go unanswered too; `false`: normal. */
  silence(mode: 'events' | 'all' | false): void;
  /** The next `n` connection attempts are refused: 406 connection limit, HTTP 429 on the upgrade, or bad keys. */
  refuseNext(n: number, how: FakeAlpacaRefusal): void;
  /** Sends a completed minute bar to every data client subscribed to its symbol. */
  pushBar(frame: Frame): void;
  /** Sends a raw trade_updates `data` object (for malformed-message tests). */
  pushRawTradeUpdate(data: unknown): void;
  /** What the fake received and sent. */
  stats(): { connects: number; auths: number; listens: number; subscribes: string[][]; eventsSent: number; eventsLost: number; refused: number };
}

interface Client {
  ws: WebSocket;
  kind: 'trading' | 'data';
  authed: boolean;
  listening: boolean;
  bars: Set<string>;
}

export function attachFakeAlpacaStream(server: http.Server, st: FakeAlpacaState, creds: { keyId: string; secretKey: string }) {
  const wss = new WebSocketServer({ noServer: true, autoPong: false });
  const clients = new Set<Client>();
  let silence: 'events' | 'all' | false = false;
  const refusals: FakeAlpacaRefusal[] = [];
  const stats = { connects: 0, auths: 0, listens: 0, subscribes: [] as string[][], eventsSent: 0, eventsLost: 0, refused: 0 };

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const kind = path === '/stream' ? 'trading' : /^\/v2\/(iex|sip|test|delayed_sip)$/.test(path) ? 'data' : null;
    if (!kind) {
      socket.destroy();
      return;
    }
    stats.connects++;
    if (refusals[0] === '429') {
      refusals.shift();
      stats.refused++;
      socket.end('HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, kind));
  };
  server.on('upgrade', onUpgrade);

  function serve(ws: WebSocket, kind: 'trading' | 'data') {
    const c: Client = { ws, kind, authed: false, listening: false, bars: new Set() };
    clients.add(c);
    ws.on('close', () => clients.delete(c));
    ws.on('error', () => clients.delete(c));
    ws.on('ping', (d) => {
      if (silence !== 'all') ws.pong(d);
    });
    const refusal = () => {
      const r = refusals.shift();
      if (r) stats.refused++;
      return r;
    };
    if (kind === 'data') sendData(c, [{ T: 'success', msg: 'connected' }]);
    ws.on('message', (raw) => {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(String(raw)) as Record<string, unknown>;
      } catch {
        return;
      }
      if (m['action'] === 'auth') {
        stats.auths++;
        const ok = m['key'] === creds.keyId && m['secret'] === creds.secretKey;
        const r = refusal();
        if (kind === 'trading') {
          const authorized = ok && r !== 'unauthorized';
          c.authed = authorized;
          sendTrading(c, { stream: 'authorization', data: { action: 'authenticate', status: authorized ? 'authorized' : 'unauthorized' } });
          // fake: a refused connection limit on the trading stream is answered as unauthorized and closed
          if (!authorized || r === '406') ws.close();
          return;
        }
        if (!ok || r === 'unauthorized') {
          sendData(c, [{ T: 'error', code: 402, msg: 'auth failed' }]);
          ws.close();
          return;
        }
        const other = [...clients].some((o) => o !== c && o.kind === 'data' && o.authed);
        if (other || r === '406') {
          sendData(c, [{ T: 'error', code: 406, msg: 'connection limit exceeded' }]);
          ws.close();
          return;
        }
        c.authed = true;
        sendData(c, [{ T: 'success', msg: 'authenticated' }]);
        return;
      }
      if (!c.authed) {
        if (kind === 'data') sendData(c, [{ T: 'error', code: 401, msg: 'not authenticated' }]);
        return;
      }
      if (kind === 'trading' && m['action'] === 'listen') {
        stats.listens++;
        const wanted = ((m['data'] as { streams?: unknown } | undefined)?.streams ?? []) as unknown[];
        c.listening = wanted.includes('trade_updates');
        sendTrading(c, { stream: 'listening', data: { streams: c.listening ? ['trade_updates'] : [] } });
        return;
      }
      if (kind === 'data' && m['action'] === 'subscribe') {
        const bars = Array.isArray(m['bars']) ? m['bars'].map(String) : [];
        stats.subscribes.push(bars);
        for (const b of bars) c.bars.add(b.toUpperCase());
        sendData(c, [{ T: 'subscription', trades: [], quotes: [], bars: [...c.bars], updatedBars: [], dailyBars: [], statuses: [], lulds: [], corrections: [], cancelErrors: [] }]);
      }
    });
  }

  function sendTrading(c: Client, msg: unknown) {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(Buffer.from(JSON.stringify(msg)), { binary: true });
  }
  function sendData(c: Client, msgs: unknown[]) {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(msgs));
  }

  function broadcastTrade(data: unknown) {
    const targets = [...clients].filter((c) => c.kind === 'trading' && c.listening);
    if (silence || targets.length === 0) {
      stats.eventsLost++;
      return;
    }
    for (const c of targets) sendTrading(c, { stream: 'trade_updates', data });
    stats.eventsSent++;
  }

  const onTrade = (e: FakeTradeEvent) => {
    const pos = st.positions.get(e.order.symbol);
    broadcastTrade({
      event: e.event,
      execution_id: `${e.order.id}-${e.order.updated_at}`,
      order: st.orderJson(e.order),
      timestamp: iso(e.at),
      ...(e.price !== undefined ? { price: dec(e.price), qty: dec(e.qty ?? 0), position_qty: dec(pos?.qty ?? 0) } : {}),
      ...(e.reason ? { reason: e.reason } : {}),
    });
  };
  st.tradeListeners.add(onTrade);

  const controls: FakeAlpacaStreamControls = {
    connections: (kind) => [...clients].filter((c) => !kind || c.kind === kind).length,
    drop(kind) {
      for (const c of [...clients]) if (!kind || c.kind === kind) c.ws.terminate();
    },
    silence(mode) {
      silence = mode;
    },
    refuseNext(n, how) {
      for (let i = 0; i < n; i++) refusals.push(how);
    },
    pushBar(f) {
      const bar = { T: 'b', S: f.symbol.toUpperCase(), o: f.open, h: f.high, l: f.low, c: f.close, v: f.volume, t: new Date(f.start).toISOString().replace('.000Z', 'Z'), n: 1, vw: f.close };
      const targets = [...clients].filter((c) => c.kind === 'data' && c.authed && c.bars.has(bar.S));
      if (silence || targets.length === 0) {
        stats.eventsLost++;
        return;
      }
      for (const c of targets) sendData(c, [bar]);
      stats.eventsSent++;
    },
    pushRawTradeUpdate: (data) => broadcastTrade(data),
    stats: () => ({ ...stats, subscribes: stats.subscribes.map((s) => [...s]) }),
  };

  return {
    controls,
    async close() {
      st.tradeListeners.delete(onTrade);
      server.off('upgrade', onUpgrade);
      for (const c of clients) c.ws.terminate();
      clients.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
