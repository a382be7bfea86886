/**
 * Alpaca's trading stream (`wss://paper-api.alpaca.markets/stream`): `{action:'auth', key, secret}` →
 * `{stream:'authorization', data:{status:'authorized'}}`; `{action:'listen', data:{streams:['trade_updates']}}` →
 * `{stream:'listening', data:{streams:[...]}}`; then `trade_updates` messages (binary frames on paper, text on live:
 * both are read). Each becomes a StreamOrderEvent. It only listens: nothing here sends or changes an order.
 */
import type { StreamOrderEvent } from '../../stream-events';
import { StreamRefusedError, type StreamConnection, type StreamOpenContext, type StreamSink, type StreamTransport } from '../../stream-supervisor';
import { parseTradingStreamMessage } from './mapping';
import { streamDefaults, type AlpacaStreamOptions } from './options';
import { AlpacaSocket } from './socket';

export class AlpacaTradeUpdatesTransport implements StreamTransport<StreamOrderEvent> {
  readonly name = 'alpaca:trade_updates';
  constructor(private readonly o: AlpacaStreamOptions) {}

  async open(sink: StreamSink<StreamOrderEvent>, _ctx: StreamOpenContext): Promise<StreamConnection> {
    const d = streamDefaults(this.o);
    const sock = await AlpacaSocket.open(d);
    try {
      sock.send({ action: 'auth', key: this.o.keyId, secret: this.o.secretKey });
      const auth = parseTradingStreamMessage(await sock.next(d.connectTimeoutMs));
      if (auth.type !== 'authorization') throw new StreamRefusedError(`expected an authorization answer, got ${auth.type}`);
      if (!auth.authorized) throw new StreamRefusedError('Alpaca refused the keys (unauthorized)', { code: 'unauthorized', authExpired: true });
      sock.send({ action: 'listen', data: { streams: ['trade_updates'] } });
      const listening = parseTradingStreamMessage(await sock.next(d.connectTimeoutMs));
      if (listening.type !== 'listening' || !listening.streams.includes('trade_updates')) {
        throw new StreamRefusedError(`trade_updates not granted (${listening.type === 'listening' ? listening.streams.join(',') || 'no streams' : listening.type})`);
      }
    } catch (err) {
      sock.close();
      throw err;
    }
    sock.deliver(
      sink,
      (m) => {
        const msg = parseTradingStreamMessage(m);
        if (msg.type === 'trade_update') sink.event(msg.event);
        else if (msg.type === 'invalid') this.o.onProblem?.('malformed trade_updates message', msg.issues);
        else if (msg.type === 'authorization' && !msg.authorized) sink.down('authorization withdrawn', { authExpired: true });
      },
      d.pingEveryMs,
    );
    return sock;
  }
}
