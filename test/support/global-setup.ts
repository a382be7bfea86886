import { ensureWorkflowBundle } from '../../workers/workflow-bundle';
import { buildWorkers } from '../../workers/build-workers';
import { migrateShared } from '../../db/migrate';
import { TEST_ENV, WORKFLOW_BUNDLE } from './env';

/**
 * Once per test run: bundle the workflows, compile the workers (tests run the production worker
 * processes as they are deployed, from the current sources) and migrate the shared schemas.
 */
export default async function globalSetup(): Promise<void> {
  await Promise.all([ensureWorkflowBundle(WORKFLOW_BUNDLE), buildWorkers()]);
  await migrateShared(TEST_ENV.MYSQL_URL);
}
