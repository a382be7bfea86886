#!/usr/bin/env -S node --import tsx
/**
 * The operator's command line: Nagios checks, sessions' status and control, API users and grants, the local stack, migrations.
 * Configured by the same environment as the workers (TEMPORAL_ADDRESS, MYSQL_URL, ...).
 *   npm run maotrade -- status          node --import tsx cli/maotrade.ts check mysql -w 0.5 -c 2
 *   npm run maotrade -- fleet halt --by alice --reason 'broker outage' --query "MaoBroker = 'ig'"
 */
import { Argument, Command, Option } from 'commander';
import { checkCommand } from './check';
import { usersCommand } from './users';
import { withClient, type TemporalOpts } from './temporal';
import { listSessions, sessionsTable } from './status';
import { SESSION_ACTIONS, sessionAction, type SessionAction } from './session';
import { STACK_ACTIONS, runStack } from './stack';
import { runScript } from './scripts';
import { runMigrate } from './migrate';
import { cliConfig } from './settings';
import { AccountIdSchema } from '../config/session-config';
import { VisibilityFilterSchema } from '../fleet/sessions-query';
import { FLEET_DEFAULTS, setFleetTradingState } from '../fleet/trading-state';
import { TRADING_STATE_ACTIONS, fleetText, stateOfAction, type TradingStateAction } from './trading-state';

let exitCode = 0;
const setExit = (code: number) => {
  exitCode = code;
};
const print = (s: string) => process.stdout.write(`${s}\n`);

const program = new Command('maotrade').description('MAOTrade operations').showHelpAfterError();

program.addCommand(checkCommand(setExit));
program.addCommand(usersCommand(setExit));

const temporalOptions = (cmd: Command) =>
  cmd.option('--address <host:port>', 'Temporal frontend (default TEMPORAL_ADDRESS)').option('--namespace <name>', 'namespace (default TEMPORAL_NAMESPACE)');

/** A search-attribute filter option, checked before anything is listed (fleet/sessions-query.ts). */
function filterOption(query: string | undefined): string | undefined {
  if (query === undefined) return undefined;
  const r = VisibilityFilterSchema.safeParse(query);
  if (!r.success) throw new Error(`--query: ${r.error.issues[0].message}`);
  return r.data;
}
const QUERY_HELP = "search-attribute filter AND-ed with 'running sessions', e.g. \"MaoBroker = 'ig'\" or \"MaoAccount IN ('a1', 'a2')\"";

temporalOptions(program.command('status').description('running sessions (Temporal visibility) with their status queries'))
  .option('--json', 'print JSON instead of a table')
  .option('--query <filter>', QUERY_HELP)
  .action(async (o: TemporalOpts & { json?: boolean; query?: string }) => {
    const filter = filterOption(o.query);
    const rows = await withClient(o, (client, connection) => listSessions(client, connection, undefined, filter));
    print(o.json ? JSON.stringify(rows, null, 2) : sessionsTable(rows));
  });

temporalOptions(program.command('session').description("control an account's session"))
  .argument('<account>', 'account id')
  .addArgument(new Argument('<action>', 'what to do (halt, reducing, active: set the trading state; need --reason)').choices(SESSION_ACTIONS))
  .option('--json', 'print the result as JSON')
  .option('--by <who>', 'recorded as the origin of the action', process.env.USER ?? 'cli')
  .option('--reason <text>', 'why (recorded with a trading-state change)')
  .action(async (account: string, action: SessionAction, o: TemporalOpts & { json?: boolean; by: string; reason?: string }) => {
    const id = AccountIdSchema.safeParse(account);
    if (!id.success) throw new Error(`account: ${id.error.issues[0].message}`);
    const out = await withClient(o, (client, connection) => sessionAction(client, connection, account, action, { by: o.by, reason: o.reason }));
    print(o.json ? JSON.stringify(out.json, null, 2) : out.text);
    if (out.failed) setExit(1);
  });

temporalOptions(
  program
    .command('fleet')
    .description(
      'set the trading state of every running session, or of those --query selects; each session records who and why. ' +
        'Visibility lags: a session started in the last seconds may be missed; the command is idempotent, run it again.',
    ),
)
  .addArgument(new Argument('<action>', 'halt: nothing passes; reducing: only closes pass; active: everything passes').choices(TRADING_STATE_ACTIONS))
  .option('--by <who>', 'recorded as who gave the command', process.env.USER ?? 'cli')
  .requiredOption('--reason <text>', 'why (recorded in every session)')
  .option('--query <filter>', QUERY_HELP)
  .option('--concurrency <n>', 'updates in flight at once', String(FLEET_DEFAULTS.concurrency))
  .option('--json', 'print the result as JSON')
  .action(async (action: TradingStateAction, o: TemporalOpts & { by: string; reason: string; query?: string; concurrency: string; json?: boolean }) => {
    const request = { state: stateOfAction(action), by: o.by, reason: o.reason, query: filterOption(o.query), concurrency: Number(o.concurrency) };
    const result = await withClient(o, (client) => setFleetTradingState(client, request));
    print(o.json ? JSON.stringify(result, null, 2) : fleetText(result));
    if (result.failed > 0) setExit(1);
  });

program
  .command('stack')
  .description('the local stack without Docker (scripts/stack.sh)')
  .addArgument(new Argument('<action>', 'up, down or status').choices(STACK_ACTIONS))
  .action(async (action: (typeof STACK_ACTIONS)[number]) => setExit(await runStack(action)));

program
  .command('migrate')
  .description('bring the shared schemas (and given accounts) to their latest version')
  .addOption(new Option('--url <mysql-url>', 'default MYSQL_URL'))
  .option('--account <id...>', 'also migrate mt_<id>')
  .action(async (o: { url?: string; account?: string[] }) => {
    await runMigrate(o.url ?? cliConfig().mysqlUrl, o.account ?? [], print);
  });

for (const [name, description] of [
  ['backtest', 'run a system over history (scripts/backtest.ts; --help there for its options)'],
  ['import-candles', 'import candles from a CSV file into maodata (scripts/import-candles.ts)'],
] as const) {
  program
    .command(name)
    .description(description)
    .allowUnknownOption()
    .helpOption(false)
    .argument('[args...]')
    .action(async (args: string[]) => setExit(await runScript(name, args)));
}

program
  .parseAsync(process.argv)
  .then(() => process.exit(exitCode))
  .catch((err: unknown) => {
    process.stderr.write(`maotrade: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
