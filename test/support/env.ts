import path from 'node:path';

/**
 * The Temporal namespace of every test run and bench (created by `scripts/stack.sh up`, ensured by the
 * jest global setup): never the main job's. Task queues are per namespace, so the suite's workers on
 * `maotrade-sessions` / `broker-<name>` can never take a live session's tasks, nor can a live session's
 * orders reach a test's (fake) broker. `TEMPORAL_NAMESPACE` (which `.stack/env` sets to the main job's
 * `default`) is deliberately not read; `MAOTRADE_TEST_NAMESPACE` moves it.
 */
export const TEST_NAMESPACE = process.env.MAOTRADE_TEST_NAMESPACE || 'maotrade-test';

/** The namespace the main job (`npm start`, scripts/main.sh, the demo) runs in. */
export const LIVE_NAMESPACE = 'default';

/** Addresses of the real services that `scripts/stack.sh up` starts; overridable like production. */
export const TEST_ENV = {
  TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
  TEMPORAL_NAMESPACE: TEST_NAMESPACE,
  MYSQL_URL: process.env.MYSQL_URL ?? 'mysql://maotrade:maotrade@127.0.0.1:3306',
  MONGO_URL: process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017/maologs',
};

export const ROOT = path.join(__dirname, '..', '..');
export const WORKFLOW_BUNDLE = path.join(ROOT, '.run', 'workflow-bundle.js');

/** A fresh account id per test run, so tests never see each other's rows or sessions. */
export function uniqueAccount(prefix: string): string {
  const suffix = (Date.now() % 1e8).toString(36) + Math.floor(Math.random() * 1296).toString(36);
  return `${prefix}_${suffix}`.slice(0, 20);
}
