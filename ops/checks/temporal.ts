import { Client, Connection } from '@temporalio/client';
import { errorText, evaluate, secondsSince, thresholds, type CheckResult } from './plugin';

export interface TemporalTarget {
  address: string;
  namespace: string;
  connectTimeoutMs?: number;
}

/** A client for one check; the caller closes the connection. */
export async function connectTemporal(target: TemporalTarget): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address: target.address, connectTimeout: target.connectTimeoutMs ?? 5_000 });
  return { connection, client: new Client({ connection, namespace: target.namespace }) };
}

export interface TemporalCheckOptions extends TemporalTarget {
  /** Thresholds on connect + health + namespace describe, in seconds. */
  warning?: string;
  critical?: string;
}

/** gRPC health `SERVING` = 1 (grpc.health.v1.HealthCheckResponse.ServingStatus). */
const SERVING = 1;
/** temporal.api.enums.v1.NamespaceState: 1 = REGISTERED. */
const NAMESPACE_REGISTERED = 1;

/** Temporal frontend: gRPC health check and `DescribeNamespace`; CRITICAL when unreachable, not serving or the namespace is not registered. */
export async function checkTemporal(opts: TemporalCheckOptions): Promise<CheckResult> {
  const t = thresholds(opts);
  const started = Date.now();
  let connection: Connection | undefined;
  const timePerf = () => ({ label: 'time', value: secondsSince(started), uom: 's', warning: t.warning, critical: t.critical, min: 0 });
  try {
    ({ connection } = await connectTemporal(opts));
    const health = await connection.healthService.check({});
    if (health.status !== SERVING) {
      return { status: 'CRITICAL', message: `frontend ${opts.address} is not serving (health status ${health.status})`, perfdata: [timePerf()] };
    }
    const ns = await connection.workflowService.describeNamespace({ namespace: opts.namespace });
    const state = ns.namespaceInfo?.state ?? 0;
    const perf = timePerf();
    if (state !== NAMESPACE_REGISTERED) {
      return { status: 'CRITICAL', message: `namespace ${opts.namespace} on ${opts.address} is in state ${state}, not registered`, perfdata: [perf] };
    }
    return {
      status: evaluate(perf.value, t),
      message: `frontend ${opts.address} serving, namespace ${opts.namespace} registered (${perf.value.toFixed(3)} s)`,
      perfdata: [perf],
    };
  } catch (err) {
    return { status: 'CRITICAL', message: `Temporal at ${opts.address} (namespace ${opts.namespace}): ${errorText(err)}`, perfdata: [timePerf()] };
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
