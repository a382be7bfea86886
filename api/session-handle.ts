import type { WorkflowHandle } from '@temporalio/client';
import { sessionWorkflowId } from '../workflows/definitions';
import type { accountSession } from '../workflows/account-session';
import type { GatewayDeps } from './context';
import { notFound, temporalToApiError } from './errors';

export type SessionHandle = WorkflowHandle<typeof accountSession>;

/**
 * The handle of an account's running session (following continue-as-new: no run id), or 404 when the
 * account has no session or its session has ended.
 */
export async function runningSession({ client }: GatewayDeps, account: string): Promise<SessionHandle> {
  const handle = client.workflow.getHandle<typeof accountSession>(sessionWorkflowId(account));
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (err) {
    return temporalToApiError(err, account);
  }
  if (status !== 'RUNNING') throw notFound(`no running session for account "${account}" (last run: ${status.toLowerCase()})`);
  return handle;
}

/** Runs a call on a session, mapping Temporal's errors (not found, validator rejection) onto API errors. */
export async function onSession<T>(deps: GatewayDeps, account: string, call: (h: SessionHandle) => Promise<T>): Promise<T> {
  const handle = await runningSession(deps, account);
  try {
    return await call(handle);
  } catch (err) {
    return temporalToApiError(err, account);
  }
}
