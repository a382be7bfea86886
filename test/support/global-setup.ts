import { ensureWorkflowBundle } from '../../workers/workflow-bundle';
import { buildWorkers } from '../../workers/build-workers';
import { migrateShared } from '../../db/migrate';
import { LIVE_NAMESPACE, TEST_ENV, WORKFLOW_BUNDLE } from './env';
import { ensureNamespace } from './temporal-namespace';

/**
 * Once per test run: bundle the workflows, compile the workers (tests run the production worker
 * processes as they are deployed, from the current sources), migrate the shared schemas and make sure
 * the run's own Temporal namespace exists (never the main job's: its queues are another namespace's).
 */
export default async function globalSetup(): Promise<void> {
  const live = process.env.TEMPORAL_NAMESPACE || LIVE_NAMESPACE;
  if (TEST_ENV.TEMPORAL_NAMESPACE === live || TEST_ENV.TEMPORAL_NAMESPACE === LIVE_NAMESPACE) {
    throw new Error(`the tests' Temporal namespace (MAOTRADE_TEST_NAMESPACE=${TEST_ENV.TEMPORAL_NAMESPACE}) is the main job's: a test run must never share it`);
  }
  await Promise.all([ensureWorkflowBundle(WORKFLOW_BUNDLE), buildWorkers(), ensureNamespace(TEST_ENV.TEMPORAL_ADDRESS, TEST_ENV.TEMPORAL_NAMESPACE)]);
  await migrateShared(TEST_ENV.MYSQL_URL);
}
