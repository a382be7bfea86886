/** The fake Alpaca venue: state.ts (ledger, quotes, bars, assets, clock), routes.ts (its endpoints), server.ts (HTTP, faults). */
export { startFakeAlpacaServer, type FakeAlpacaServer, type Fault } from './server';
export { TF_NAME as FAKE_ALPACA_TIMEFRAMES, type FakeAlpacaOptions, type FakeAsset, type FakePosition, type RawResponse } from './state';
export type { FakeAlpacaRefusal, FakeAlpacaStreamControls } from './stream';
