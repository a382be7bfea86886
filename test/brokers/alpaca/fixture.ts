import { AlpacaBrokerAdapter } from '../../../brokers/alpaca';
import type { FakeAlpacaServer } from '../../fakes/alpaca-server';

/** An adapter on the fake with short waits, the way the fault tests want it. */
export function adapterOnFake(server: FakeAlpacaServer, httpTimeoutMs: number): AlpacaBrokerAdapter {
  return new AlpacaBrokerAdapter({
    keyId: server.keyId,
    secretKey: server.secretKey,
    tradingBaseUrl: server.url,
    dataBaseUrl: server.url,
    httpTimeoutMs,
    rateLimitBackoffMs: 50,
    orderFillWaitMs: 400,
    orderPollIntervalMs: 10,
  });
}
