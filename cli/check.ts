import { Command, Option } from 'commander';
import { ConfigError } from '../config/env';
import { runCheck, EXIT, type CheckResult } from '../ops/checks/plugin';
import { checkTemporal } from '../ops/checks/temporal';
import { checkMysql } from '../ops/checks/mysql';
import { checkMongo } from '../ops/checks/mongo';
import { checkBreaker } from '../ops/checks/breaker';
import { checkWorker, type PollerKind } from '../ops/checks/worker';
import { checkSession } from '../ops/checks/session';
import { checkFleet } from '../ops/checks/fleet';
import { checkIgAllowance } from '../ops/checks/ig-allowance';
import { cliConfig, secondsOption } from './settings';

interface CommonOpts {
  warning?: string;
  critical?: string;
  timeout: string;
  address?: string;
  namespace?: string;
  url?: string;
}

/** Prints the one status line and sets the exit code; any failure before the check ran is UNKNOWN. */
async function emit(service: string, opts: CommonOpts, build: (timeoutMs: number) => Promise<CheckResult>): Promise<number> {
  let timeoutMs: number;
  try {
    timeoutMs = secondsOption(opts.timeout, '--timeout');
  } catch (err) {
    process.stdout.write(`${service.toUpperCase()} UNKNOWN: ${(err as Error).message}\n`);
    return EXIT.UNKNOWN;
  }
  const out = await runCheck(service, () => build(timeoutMs), timeoutMs);
  process.stdout.write(`${out.line}\n`);
  return out.exitCode;
}

function config() {
  try {
    return cliConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(err.issues.map((i) => `${i.variable}: ${i.message}`).join('; '));
    throw err;
  }
}

const temporalTarget = (o: CommonOpts, timeoutMs: number) => {
  const needsEnv = o.address === undefined || o.namespace === undefined;
  const c = needsEnv ? config() : undefined;
  return {
    address: o.address ?? c!.temporal.address,
    namespace: o.namespace ?? c!.temporal.namespace,
    connectTimeoutMs: Math.max(500, timeoutMs - 500),
  };
};

function common(cmd: Command, thresholdsHelp: string): Command {
  return cmd
    .option('-w, --warning <range>', `warning range (Nagios syntax) on ${thresholdsHelp}`)
    .option('-c, --critical <range>', `critical range (Nagios syntax) on ${thresholdsHelp}`)
    .option('-t, --timeout <seconds>', 'give up (UNKNOWN) after this many seconds', '10');
}

/** `maotrade check <target>`: Nagios plugins; `setExit` receives 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
export function checkCommand(setExit: (code: number) => void): Command {
  const check = new Command('check').description('Nagios-compatible checks: one status line, exit 0/1/2/3');
  const withTemporal = (cmd: Command) =>
    cmd.option('--address <host:port>', 'Temporal frontend (default TEMPORAL_ADDRESS)').option('--namespace <name>', 'namespace (default TEMPORAL_NAMESPACE)');

  withTemporal(common(check.command('temporal').description('Temporal frontend health and namespace'), 'the response time in s')).action(
    async (o: CommonOpts) => setExit(await emit('temporal', o, async (ms) => checkTemporal({ ...o, ...temporalTarget(o, ms) }))),
  );

  common(check.command('mysql').description('MySQL: connect and SELECT 1'), 'the connect + query time in s')
    .option('--url <mysql-url>', 'mysql://user:password@host:port (default MYSQL_URL)')
    .action(async (o: CommonOpts) =>
      setExit(await emit('mysql', o, async (ms) => checkMysql({ ...o, url: o.url ?? config().mysqlUrl, connectTimeoutMs: Math.max(500, ms - 500) }))),
    );

  common(check.command('breaker').description("a broker's circuit breaker, from its worker's /metrics: open CRITICAL, half-open WARNING"), 'unused')
    .requiredOption('--metrics-url <url>', 'the broker worker metrics endpoint, e.g. http://127.0.0.1:9464/metrics')
    .requiredOption('--broker <name>', 'broker name, e.g. ig')
    .action(async (o: CommonOpts & { metricsUrl: string; broker: string }) =>
      setExit(await emit('breaker', o, async (ms) => checkBreaker({ metricsUrl: o.metricsUrl, broker: o.broker, timeoutMs: Math.max(500, ms - 500) }))),
    );

  common(check.command('mongo').description('MongoDB: ping'), 'the ping time in s')
    .option('--url <mongodb-url>', 'mongodb://host:port/db (default MONGO_URL)')
    .action(async (o: CommonOpts) =>
      setExit(await emit('mongo', o, async (ms) => checkMongo({ ...o, url: o.url ?? config().mongoUrl, serverSelectionTimeoutMs: Math.max(500, ms - 500) }))),
    );

  withTemporal(common(check.command('worker').description('pollers on a task queue (CRITICAL when none)'), 'the number of pollers (default -c 1:)'))
    .requiredOption('--queue <task-queue>', 'task queue, e.g. maotrade-sessions or broker-paper')
    .addOption(new Option('--type <kind>', 'poller type to count').choices(['workflow', 'activity', 'any']).default('any'))
    .action(async (o: CommonOpts & { queue: string; type: string }) =>
      setExit(
        await emit('worker', o, async (ms) =>
          checkWorker({
            ...temporalTarget(o, ms),
            taskQueue: o.queue,
            kinds: o.type === 'any' ? undefined : [o.type as PollerKind],
            warning: o.warning,
            critical: o.critical,
          }),
        ),
      ),
    );

  withTemporal(common(check.command('session').description("an account's session: running, fresh frames, not paused too long, no drift"), 'the age of the last frame in s (default -w 600 -c 1800)'))
    .requiredOption('--account <id>', 'account id')
    .option('--paused-warning <range>', 'range on seconds paused (default 900)')
    .option('--paused-critical <range>', 'range on seconds paused (default 3600)')
    .action(async (o: CommonOpts & { account: string; pausedWarning?: string; pausedCritical?: string }) =>
      setExit(
        await emit('session', o, async (ms) =>
          checkSession({
            ...temporalTarget(o, ms),
            account: o.account,
            warning: o.warning,
            critical: o.critical,
            pausedWarning: o.pausedWarning,
            pausedCritical: o.pausedCritical,
            queryTimeoutMs: Math.max(500, ms - 1000),
          }),
        ),
      ),
    );
  withTemporal(
    common(
      check.command('fleet').description('trading states of the running sessions (visibility): any halted CRITICAL, any reducing WARNING'),
      'the number of reducing (-w, default 0) and halted (-c, default 0) sessions',
    ),
  )
    .option('--query <filter>', "search-attribute filter, e.g. \"MaoBroker = 'ig'\"")
    .action(async (o: CommonOpts & { query?: string }) =>
      setExit(await emit('fleet', o, async (ms) => checkFleet({ ...temporalTarget(o, ms), query: o.query, warning: o.warning, critical: o.critical }))),
    );
  common(check.command('ig-allowance').description("IG's historical-data allowance, from the IG broker worker's /metrics"), 'the remaining points (default -w 2000: -c 500:)').requiredOption('--metrics-url <url>', 'the IG broker worker metrics endpoint').action(async (o: CommonOpts & { metricsUrl: string }) => setExit(await emit('ig-allowance', o, async (ms) => checkIgAllowance({ metricsUrl: o.metricsUrl, warning: o.warning, critical: o.critical, timeoutMs: Math.max(500, ms - 500) }))));
  return check;
}
