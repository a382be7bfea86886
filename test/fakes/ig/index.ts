/** The fake IG venue: state.ts (the venue's book and dealing rules), routes.ts (its endpoints), server.ts (HTTP, faults). */
export { startFakeIgServer, type FakeIgServer } from './server';
export {
  GATEWAY_PATH,
  igUtc,
  type FakeCandle,
  type FakeIgAccount,
  type FakeIgActivity,
  type FakeIgMarket,
  type FakeIgOptions,
  type FakeIgPosition,
  type FakeIgScenario,
  type RawOverride,
  type RequestRecord,
} from './state';
export type { FakeLightstreamerControls } from './lightstreamer';
