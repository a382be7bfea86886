/**
 * IG streaming over Lightstreamer with the maintained client (`lightstreamer-client-node` 9, TLCP 2.5), as a
 * StreamTransport for the StreamSupervisor. One LightstreamerClient per account and open; login as IG documents:
 * the `lightstreamerEndpoint` of the /session answer, user = accountId, password `CST-<cst>|XST-<xst>`.
 * Subscriptions: `CHART:{epic}:{scale}` (MERGE, CHART_FIELDS), `TRADE:{accountId}` (DISTINCT, CONFIRMS OPU WOU),
 * `ACCOUNT:{accountId}` (MERGE, ACCOUNT_FIELDS), all made again on every open.
 *
 * Reconnection belongs to the supervisor, not to the library: once up, any status other than CONNECTED:*-STREAMING
 * (STALLED after keepalive + stalledTimeout without data or PROBE, DISCONNECTED:WILL-RETRY, ...) is reported down,
 * the client is disconnected and the supervisor opens a new one (and reconciles). While the library says the
 * streaming connection is healthy, a heartbeat is passed to the watchdog every `heartbeatEveryMs`: the library sees
 * PROBEs, which it does not expose.
 */
import { LightstreamerClient, Subscription, type ItemUpdate } from 'lightstreamer-client-node';
import type { Timeframe } from '../../../market/timeframe';
import type { StreamEvent } from '../../stream-events';
import { StreamRefusedError, type StreamConnection, type StreamOpenContext, type StreamSink, type StreamTransport } from '../../stream-supervisor';
import { accountItem, accountToEvent, ACCOUNT_FIELDS, chartItem, chartToFrameEvent, CHART_FIELDS, tradeItem, tradeToEvents, TRADE_FIELDS, type IgFields } from './mapping';

/** What a Lightstreamer login needs; from the REST session (see login.ts). The tokens are never logged. */
export interface IgStreamCredentials {
  lightstreamerEndpoint: string;
  accountId: string;
  cst: string;
  xst: string;
}

export interface IgStreamOptions {
  /** Fetches credentials; `relogin` = the last ones were refused, log in to REST again. */
  credentials(relogin: boolean): Promise<IgStreamCredentials>;
  /** Candle streams wanted: symbol = epic. */
  charts?: readonly { epic: string; timeframe: Timeframe }[];
  /** Subscribe TRADE:{accountId} (default true) and ACCOUNT:{accountId} (default true). */
  trade?: boolean;
  account?: boolean;
  /** Items allowed on one connection (IG limits subscriptions per connection). Default 40. */
  maxSubscriptions?: number;
  /** Keepalive asked of the server (PROBEs) and the silence after which the library reports STALLED. */
  keepaliveMs?: number;
  stalledTimeoutMs?: number;
  heartbeatEveryMs?: number;
  /** Default WS-STREAMING (IG serves it); null lets the library choose. */
  forcedTransport?: string | null;
  adapterSet?: string;
  onProblem?(what: string, detail: unknown): void;
}

const STREAMING = /^CONNECTED:(WS|HTTP)-STREAMING$/;

/** LS server error codes that mean the credentials were refused (1: user/password check failed, 2: adapter set). */
const AUTH_CODES = new Set([1, 2]);

export class IgStreamTransport implements StreamTransport<StreamEvent> {
  readonly name = 'ig:lightstreamer';
  private readonly charts: { epic: string; timeframe: Timeframe }[];

  constructor(private readonly o: IgStreamOptions) {
    this.charts = [...(o.charts ?? [])];
    for (const c of this.charts) chartItem(c.epic, c.timeframe); // an unstreamable timeframe fails here, not later
    const n = this.charts.length + (o.trade === false ? 0 : 1) + (o.account === false ? 0 : 1);
    const max = o.maxSubscriptions ?? 40;
    if (n > max) throw new Error(`IG stream: ${n} subscriptions exceed the limit of ${max} per connection`);
  }

  async open(sink: StreamSink<StreamEvent>, ctx: StreamOpenContext): Promise<StreamConnection> {
    const creds = await this.o.credentials(ctx.relogin);
    const client = new LightstreamerClient(creds.lightstreamerEndpoint, this.o.adapterSet);
    client.connectionDetails.setUser(creds.accountId);
    client.connectionDetails.setPassword(`CST-${creds.cst}|XST-${creds.xst}`);
    const forced = this.o.forcedTransport === undefined ? 'WS-STREAMING' : this.o.forcedTransport;
    if (forced) client.connectionOptions.setForcedTransport(forced);
    if (this.o.keepaliveMs) client.connectionOptions.setKeepaliveInterval(this.o.keepaliveMs);
    if (this.o.stalledTimeoutMs) client.connectionOptions.setStalledTimeout(this.o.stalledTimeoutMs);
    // the supervisor reconnects; the library only retries within this open
    client.connectionOptions.setSessionRecoveryTimeout(0);

    let up = false;
    let settleOpen: { resolve: () => void; reject: (e: Error) => void } | null = null;
    const opened = new Promise<void>((resolve, reject) => (settleOpen = { resolve, reject }));
    const fail = (e: Error) => {
      if (settleOpen) settleOpen.reject(e);
      settleOpen = null;
    };
    const subs: Subscription[] = [];
    let pendingSubs = 0;
    let connected = false;
    const maybeUp = () => {
      if (connected && pendingSubs === 0 && settleOpen) {
        up = true;
        settleOpen.resolve();
        settleOpen = null;
      }
    };
    const add = (mode: 'MERGE' | 'DISTINCT', item: string, fields: readonly string[], onUpdate: (u: ItemUpdate) => void) => {
      const s = new Subscription(mode, [item], [...fields]);
      s.setRequestedSnapshot(mode === 'MERGE' ? 'yes' : 'no');
      pendingSubs++;
      s.addListener({
        onSubscription: () => {
          pendingSubs--;
          maybeUp();
        },
        onSubscriptionError: (code: number, message: string) => {
          const e = new StreamRefusedError(`IG refused the subscription ${item}: ${code} ${message}`, { code });
          if (up) sink.down(e.message);
          else fail(e);
        },
        // updates before the open completes (a MERGE snapshot) are delivered too: the supervisor takes them
        onItemUpdate: (u: ItemUpdate) => onUpdate(u),
      });
      subs.push(s);
      client.subscribe(s);
    };

    for (const c of this.charts) {
      add('MERGE', chartItem(c.epic, c.timeframe), CHART_FIELDS, (u) => {
        const r = chartToFrameEvent(c.epic, c.timeframe, fieldsOf(u));
        if (r === null) sink.heartbeat();
        else if ('issues' in r) this.o.onProblem?.(`invalid candle of ${chartItem(c.epic, c.timeframe)}`, r.issues);
        else sink.event(r);
      });
    }
    if (this.o.trade !== false) {
      add('DISTINCT', tradeItem(creds.accountId), TRADE_FIELDS, (u) => {
        for (const r of tradeToEvents(fieldsOf(u))) {
          if ('issues' in r) this.o.onProblem?.('invalid TRADE update', r.issues);
          else sink.event(r);
        }
      });
    }
    if (this.o.account !== false) {
      add('MERGE', accountItem(creds.accountId), ACCOUNT_FIELDS, (u) => sink.event(accountToEvent(creds.accountId, fieldsOf(u))));
    }

    let beat: NodeJS.Timeout | null = null;
    client.addListener({
      onStatusChange: (status: string) => {
        if (STREAMING.test(status)) {
          connected = true;
          maybeUp();
          return;
        }
        if (status === 'CONNECTING' || status.startsWith('CONNECTED:STREAM-SENSING')) return;
        if (up) sink.down(`Lightstreamer status ${status}`);
        // the library may announce DISCONNECTED before onServerError: let a server error (CONERR) say why first
        else if (status.startsWith('DISCONNECTED')) setImmediate(() => fail(new Error(`Lightstreamer status ${status}`)));
      },
      onServerError: (code: number, message: string) => {
        const e = new StreamRefusedError(`Lightstreamer server error ${code}: ${message}`, { code, authExpired: AUTH_CODES.has(code) });
        if (up) sink.down(e.message, { authExpired: AUTH_CODES.has(code) });
        else fail(e);
      },
    });
    const close = () => {
      if (beat) clearInterval(beat);
      beat = null;
      for (const s of subs) if (s.isActive()) client.unsubscribe(s);
      client.disconnect();
    };
    client.connect();
    try {
      await opened;
    } catch (err) {
      close();
      throw err;
    }
    const every = this.o.heartbeatEveryMs ?? 1_000;
    beat = setInterval(() => {
      if (STREAMING.test(client.getStatus())) sink.heartbeat();
    }, every);
    return { close };
  }
}

function fieldsOf(u: ItemUpdate): IgFields {
  const f: Record<string, string | null> = {};
  u.forEachField((name, _pos, value) => (f[name] = value));
  return f;
}
