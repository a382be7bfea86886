/**
 * A fake of IG's Lightstreamer server: enough of TLCP 2.5 over WebSocket (`/lightstreamer`, subprotocol
 * TLCP-2.5.0.lightstreamer.com) for the real `lightstreamer-client-node` to create a session, subscribe, receive
 * updates and be disconnected. Messages are lines ending CRLF.
 * - client `wsok` → `WSOK`; `create_session\r\nLS_user=..&LS_password=..` → `CONOK,<session>,<reqLimit>,<keepalive>,*`,
 *   `SERVNAME`, `CLIENTIP`, `CONS,unlimited`; refused logins → `CONERR,1,User/password check failed` (fake: the
 *   text). The password must be `CST-<cst>|XST-<xst>` of a live REST session of the user's account (IG's rule).
 * - `control\r\nLS_reqId=..&LS_op=add&LS_subId=..&LS_mode=..&LS_group=<item>&LS_schema=<fields>` → `REQOK,<reqId>`,
 *   `SUBOK,<subId>,1,<fields>` (and the snapshot of a MERGE item), or `REQERR,<reqId>,<code>,<msg>` when the item is
 *   unknown or one field is not served for it (IG refuses the whole subscription). `LS_op=delete` → `REQOK`, `UNSUB`.
 * - updates `U,<subId>,1,<v1>|<v2>|...`, values percent-encoded, `#` for null;
 * - `PROBE` every keepalive (the client's `LS_keepalive_millis`, else 5 s); `END,<code>,<msg>` by `end()`.
 * Items: `CHART:{epic}:{SECOND|1MINUTE|5MINUTE|HOUR}` (fake: LTP_* and LTV are unavailable, as for an FX or CFD
 * market without traded volume), `TRADE:{accountId}` (CONFIRMS, OPU from the shared ledger; WOU pushed by tests),
 * `ACCOUNT:{accountId}` (balance fields from the ledger). Faults: `drop()`, `silence('events'|'all')`, `refuseNext`.
 * Updates sent while no client is subscribed are lost (no replay, as at IG).
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { TF_RESOLUTION, type FakeCandle, type FakeIgState, type FakeIgStreamEvent, type Json } from './state';

const CHART_FIELDS = new Set(['BID_OPEN', 'BID_HIGH', 'BID_LOW', 'BID_CLOSE', 'OFR_OPEN', 'OFR_HIGH', 'OFR_LOW', 'OFR_CLOSE', 'UTM', 'CONS_END', 'CONS_TICK_COUNT', 'DAY_OPEN_MID', 'DAY_NET_CHG_MID', 'DAY_PERC_CHG_MID', 'DAY_HIGH', 'DAY_LOW', 'BID', 'OFR']);
const TRADE_FIELDS = new Set(['CONFIRMS', 'OPU', 'WOU']);
const ACCOUNT_FIELDS = new Set(['PNL', 'DEPOSIT', 'AVAILABLE_CASH', 'PNL_LR', 'PNL_NLR', 'FUNDS', 'MARGIN', 'MARGIN_LR', 'MARGIN_NLR', 'AVAILABLE_TO_DEAL', 'EQUITY', 'EQUITY_USED']);
const SCALES = new Set(['SECOND', '1MINUTE', '5MINUTE', 'HOUR']);

export interface FakeLightstreamerControls {
  /** Open WebSocket sessions. */
  sessions(): number;
  /** Destroys every connection (a hard drop). */
  drop(): void;
  /** Sends `END,<code>,<msg>` and closes (the server ends the session). */
  end(code?: number, msg?: string): void;
  /** `'events'`: updates are lost while PROBEs continue; `'all'`: PROBEs stop too; `false`: normal. */
  silence(mode: 'events' | 'all' | false): void;
  /** The next `n` session creations are refused with CONERR (`auth`: 1 user/password; `limit`: 8 sessions limit). */
  refuseNext(n: number, how: 'auth' | 'limit'): void;
  /** A CHART update of an epic and scale; `fields` are sent as given (strings). */
  pushChart(epic: string, scale: string, fields: Record<string, string | null>): void;
  /**
   * A candle of an epic as IG streams it once complete (`CONS_END` 1; with `forming`, first an update with
   * `CONS_END` 0), added to the REST price history too (the shared state): what the stream loses REST still has.
   * Returns whether a subscriber got it.
   */
  pushCandle(epic: string, candle: FakeCandle, opts?: { spread?: number; forming?: boolean }): boolean;
  /** A TRADE update field (e.g. a WOU payload) of an account. */
  pushTrade(accountId: string, field: 'CONFIRMS' | 'OPU' | 'WOU', payload: unknown): void;
  stats(): { creates: number; subscribes: string[]; refused: number; updatesSent: number; updatesLost: number; probes: number; lastUser: string | null };
}

interface Sub {
  subId: number;
  item: string;
  mode: string;
  fields: string[];
}
interface Session {
  ws: WebSocket;
  id: string;
  keepaliveMs: number;
  probe: NodeJS.Timeout | null;
  subs: Map<number, Sub>;
}

export function attachFakeLightstreamer(server: http.Server, ig: FakeIgState) {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has('TLCP-2.5.0.lightstreamer.com') ? 'TLCP-2.5.0.lightstreamer.com' : false) });
  const sessions = new Set<Session>();
  let silence: 'events' | 'all' | false = false;
  const refusals: ('auth' | 'limit')[] = [];
  let seq = 0;
  const stats = { creates: 0, subscribes: [] as string[], refused: 0, updatesSent: 0, updatesLost: 0, probes: 0, lastUser: null as string | null };

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://fake').pathname !== '/lightstreamer') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws));
  };
  server.on('upgrade', onUpgrade);

  const send = (s: Session, ...lines: string[]) => {
    if (s.ws.readyState === s.ws.OPEN) s.ws.send(lines.map((l) => `${l}\r\n`).join(''));
  };
  const enc = (v: string | null | undefined) => (v === null || v === undefined ? '#' : v === '' ? '$' : encodeURIComponent(v));

  function serve(ws: WebSocket) {
    const s: Session = { ws, id: '', keepaliveMs: 5_000, probe: null, subs: new Map() };
    const gone = () => {
      if (s.probe) clearInterval(s.probe);
      sessions.delete(s);
    };
    ws.on('close', gone);
    ws.on('error', gone);
    ws.on('message', (raw) => {
      const text = String(raw);
      // one message: a verb, then one line of parameters per request (the client batches control requests)
      const [verb, ...requests] = text.split('\r\n').filter((l) => l !== '');
      if (verb === 'wsok') return send(s, 'WSOK');
      for (const params of requests) {
        const p = new URLSearchParams(params);
        if (verb === 'create_session') create(s, p);
        else if (verb === 'control') control(s, p);
      }
    });
  }

  function create(s: Session, p: URLSearchParams) {
    stats.creates++;
    const user = p.get('LS_user');
    stats.lastUser = user;
    const m = /^CST-(.+)\|XST-(.+)$/.exec(p.get('LS_password') ?? '');
    const tok = m ? ig.cst.get(m[1]!) : undefined;
    const refusal = refusals.shift();
    if (refusal) stats.refused++;
    if (refusal === 'limit') return send(s, 'CONERR,8,Configured maximum number of actively started sessions reached'), s.ws.close();
    if (refusal === 'auth' || !tok || tok.securityToken !== m![2] || tok.expiresAtMs <= ig.now() || tok.accountId !== user) {
      return send(s, 'CONERR,1,User/password check failed'), s.ws.close();
    }
    const ka = Number(p.get('LS_keepalive_millis'));
    s.keepaliveMs = Number.isFinite(ka) && ka > 0 ? ka : 5_000;
    s.id = `S${(++seq).toString(16)}fake`;
    sessions.add(s);
    send(s, `CONOK,${s.id},50000,${s.keepaliveMs},*`, 'SERVNAME,Fake IG Lightstreamer', 'CLIENTIP,127.0.0.1', 'CONS,unlimited');
    s.probe = setInterval(() => {
      if (silence === 'all') return;
      stats.probes++;
      send(s, 'PROBE');
    }, s.keepaliveMs);
  }

  function control(s: Session, p: URLSearchParams) {
    const reqId = p.get('LS_reqId') ?? '0';
    const op = p.get('LS_op');
    const subId = Number(p.get('LS_subId'));
    if (op === 'delete') {
      s.subs.delete(subId);
      return send(s, `REQOK,${reqId}`, `UNSUB,${subId}`);
    }
    if (op !== 'add') return send(s, `REQOK,${reqId}`);
    const item = p.get('LS_group') ?? '';
    const fields = (p.get('LS_schema') ?? '').split(' ').filter(Boolean);
    const mode = p.get('LS_mode') ?? 'MERGE';
    const problem = checkItem(item, fields, mode);
    if (problem) return send(s, `REQERR,${reqId},${problem.code},${encodeURIComponent(problem.msg)}`);
    stats.subscribes.push(item);
    const sub: Sub = { subId, item, mode, fields };
    s.subs.set(subId, sub);
    send(s, `REQOK,${reqId}`, `SUBOK,${subId},1,${fields.length}`);
    if (mode === 'MERGE' && item.startsWith('ACCOUNT:')) sendUpdate(s, sub, accountValues(item.slice('ACCOUNT:'.length)));
  }

  /** fake: IG's error codes and texts for a refused item are not documented; 21 (bad item) and 23 (bad field) as Lightstreamer uses them. */
  function checkItem(item: string, fields: string[], mode: string): { code: number; msg: string } | null {
    const [kind, a, b] = item.split(':');
    let allowed: Set<string>;
    if (kind === 'CHART' && a && b && ig.markets.has(a) && SCALES.has(b) && mode === 'MERGE') allowed = CHART_FIELDS;
    else if (kind === 'TRADE' && a && ig.accounts.has(a) && mode === 'DISTINCT') allowed = TRADE_FIELDS;
    else if (kind === 'ACCOUNT' && a && ig.accounts.has(a) && mode === 'MERGE') allowed = ACCOUNT_FIELDS;
    else return { code: 21, msg: `Invalid item ${item} for mode ${mode}` };
    const bad = fields.find((f) => !allowed.has(f));
    return bad ? { code: 23, msg: `Field ${bad} not available for ${item}` } : null;
  }

  function accountValues(accountId: string): Record<string, string | null> {
    const a = ig.accounts.get(accountId);
    const bal = a ? String(a.balance) : null;
    return { PNL: '0', DEPOSIT: '0', AVAILABLE_CASH: bal, FUNDS: bal, MARGIN: '0', EQUITY: bal, AVAILABLE_TO_DEAL: bal };
  }

  function sendUpdate(s: Session, sub: Sub, values: Record<string, string | null>) {
    send(s, `U,${sub.subId},1,${sub.fields.map((f) => (f in values ? enc(values[f]) : '')).join('|')}`);
  }

  /** Sends `values` on every subscription of `item`; counted lost when nobody listens or the fake is silent. */
  function publish(item: string, values: Record<string, string | null>): boolean {
    const targets = [...sessions].flatMap((s) => [...s.subs.values()].filter((x) => x.item === item && s.ws.readyState === s.ws.OPEN).map((sub) => ({ s, sub })));
    if (silence || targets.length === 0) {
      stats.updatesLost++;
      return false;
    }
    for (const { s, sub } of targets) sendUpdate(s, sub, sub.mode === 'DISTINCT' ? Object.fromEntries(sub.fields.map((f) => [f, values[f] ?? null])) : values);
    stats.updatesSent++;
    return true;
  }

  /** The CHART scale of a timeframe (fake: the REST resolution names, as IG's streaming API spells them). */
  const SCALE_OF: Record<string, string> = { '1m': '1MINUTE', '5m': '5MINUTE', '1h': 'HOUR' };

  const onLedger = (e: FakeIgStreamEvent) => {
    if (e.field === 'ACCOUNT') publish(`ACCOUNT:${e.accountId}`, accountValues(e.accountId));
    else publish(`TRADE:${e.accountId}`, { [e.field]: JSON.stringify(e.payload as Json) });
  };
  ig.streamListeners.add(onLedger);

  const controls: FakeLightstreamerControls = {
    sessions: () => sessions.size,
    drop() {
      for (const s of [...sessions]) s.ws.terminate();
    },
    end(code = 31, msg = 'Session closed by the administrator') {
      for (const s of [...sessions]) {
        send(s, `END,${code},${encodeURIComponent(msg)}`);
        s.ws.close();
      }
    },
    silence(mode) {
      silence = mode;
    },
    refuseNext(n, how) {
      for (let i = 0; i < n; i++) refusals.push(how);
    },
    pushChart: (epic, scale, fields) => void publish(`CHART:${epic}:${scale}`, fields),
    pushCandle(epic, c, opts = {}) {
      const spread = opts.spread ?? 0.0002;
      ig.addCandles(epic, [c], spread);
      const scale = SCALE_OF[c.timeframe];
      if (!scale) throw new Error(`fake IG streams no ${c.timeframe} (${TF_RESOLUTION[c.timeframe]}) candles`);
      const book = ig.candles.get(epic)!.get(TF_RESOLUTION[c.timeframe])!.get(c.start)!;
      const fields = (consEnd: string): Record<string, string | null> => ({
        BID_OPEN: String(book.bid[0]), BID_HIGH: String(book.bid[1]), BID_LOW: String(book.bid[2]), BID_CLOSE: String(book.bid[3]),
        OFR_OPEN: String(book.ask[0]), OFR_HIGH: String(book.ask[1]), OFR_LOW: String(book.ask[2]), OFR_CLOSE: String(book.ask[3]),
        UTM: String(c.start), CONS_END: consEnd, CONS_TICK_COUNT: String(c.volume ?? 0),
      });
      if (opts.forming) publish(`CHART:${epic}:${scale}`, fields('0'));
      return publish(`CHART:${epic}:${scale}`, fields('1'));
    },
    pushTrade: (accountId, field, payload) => publish(`TRADE:${accountId}`, { [field]: JSON.stringify(payload) }),
    stats: () => ({ ...stats, subscribes: [...stats.subscribes] }),
  };

  return {
    controls,
    async close() {
      ig.streamListeners.delete(onLedger);
      server.off('upgrade', onUpgrade);
      for (const s of [...sessions]) s.ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
