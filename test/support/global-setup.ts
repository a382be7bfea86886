import { ensureWorkflowBundle } from '../../workers/workflow-bundle';
import { migrateShared } from '../../db/migrate';
import { TEST_ENV, WORKFLOW_BUNDLE } from './env';

/** Once per test run: bundle the workflows and migrate the shared schemas on the real MariaDB. */
export default async function globalSetup(): Promise<void> {
  await ensureWorkflowBundle(WORKFLOW_BUNDLE);
  await migrateShared(TEST_ENV.MYSQL_URL);
}
