import { generateFrames } from '../../market/synthetic';
import { positionsQuery, statusQuery, tradesQuery } from '../../workflows/definitions';
import { feedPaced, startInProcessWorkers, startSession, temporalClient } from '../support/harness';
import { uniqueAccount } from '../support/env';

test('smoke: a paper session trades', async () => {
  const workers = await startInProcessWorkers();
  const { client, connection } = await temporalClient();
  const account = uniqueAccount('smoke');
  try {
    const handle = await startSession(client, {
      account, broker: 'paper', tradingEnabled: true,
      systems: [{ id: 'ma', system: 'ma-crossover', symbol: 'EURUSD', timeframe: '1m', params: { fastPeriod: 5, slowPeriod: 20 } }],
    });
    const frames = generateFrames({ symbol: 'EURUSD', timeframe: '1m', count: 120, seed: 7 });
    const t0 = Date.now();
    await feedPaced(workers.pool, handle, frames);
    console.log('120 frames in', Date.now() - t0, 'ms');
    console.log(await handle.query(statusQuery));
    console.log(await handle.query(tradesQuery));
    console.log(await handle.query(positionsQuery));
    await handle.terminate();
  } finally {
    await connection.close();
    await workers.stop();
  }
});
