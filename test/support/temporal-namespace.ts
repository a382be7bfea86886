import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time';
import { SA_ACCOUNT, SA_BROKER, SA_STATUS, SA_TRADING_STATE } from '../../workflows/definitions';

const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
const ATTRIBUTES = [SA_ACCOUNT, SA_BROKER, SA_STATUS, SA_TRADING_STATE].map((k) => k.name);

const grpcCode = (err: unknown): number | undefined => (err as { code?: number })?.code;

/**
 * Makes `namespace` usable for sessions, idempotently: registered if missing (a stack started by an
 * older `scripts/stack.sh` has no test namespace), every session search attribute registered, and a
 * visibility query on all of them accepted (a new namespace reaches the frontend's cache a few seconds
 * after it is registered). Cheap when it is ready: three calls.
 */
export async function ensureNamespace(address: string, namespace: string, timeoutMs = 60_000): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const { workflowService, operatorService } = connection;
    try {
      await workflowService.describeNamespace({ namespace });
    } catch (err) {
      if (grpcCode(err) !== NOT_FOUND) throw err;
      await workflowService
        .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day'), description: 'MAOTrade test runs and benches' })
        .catch((e: unknown) => {
          if (grpcCode(e) !== ALREADY_EXISTS) throw e;
        });
    }
    const probe = ATTRIBUTES.map((a) => `${a} = 'namespace-probe'`).join(' AND ');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const listed = await operatorService.listSearchAttributes({ namespace });
        const missing = ATTRIBUTES.filter((a) => !(a in (listed.customAttributes ?? {})));
        if (missing.length) {
          await operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((a) => [a, KEYWORD])) });
        }
        await workflowService.listWorkflowExecutions({ namespace, query: probe, pageSize: 1 });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`Temporal namespace ${namespace} not usable after ${timeoutMs} ms: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await connection.close();
  }
}
