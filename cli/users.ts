import { Command } from 'commander';
import { AuditStore } from '../api/audit';
import { UserStore } from '../api/user-store';
import { createPool } from '../db/pool';
import { cliConfig } from './settings';
import {
  UsersInputError,
  accountOption,
  bootstrapAdmin,
  createUserCommand,
  expiryOption,
  grantOptions,
  grantCommand,
  listCommand,
  revokeCommand,
  roleOption,
  rotateCommand,
  userName,
  type Outcome,
  type UsersContext,
} from './users-actions';

/**
 * `maotrade users bootstrap-admin|create|list|grant|revoke|rotate`: API users, tokens and grants in
 * `maohome`, straight through MYSQL_URL (whoever runs this has the database's trust). Every subcommand
 * is recorded in `maohome.audit_log` as the OS user (or --by).
 */

const EXPIRES_HELP = 'token expiry: a duration (90m, 12h, 30d) or an ISO 8601 date-time; default never';

export function usersCommand(setExit: (code: number) => void): Command {
  const users = new Command('users').description('API users, their tokens and their grants per account (maohome)');
  const withDb = (cmd: Command) =>
    cmd.option('--url <mysql-url>', 'default MYSQL_URL').option('--by <who>', 'recorded in the audit trail as who did it', process.env.USER ?? 'cli');

  const exec = async (o: { url?: string; by: string }, fn: (ctx: UsersContext) => Promise<Outcome>) => {
    const pool = createPool(o.url ?? cliConfig().mysqlUrl, { connectionLimit: 2 });
    try {
      const out = await fn({ users: new UserStore(pool), audit: new AuditStore(pool), by: o.by });
      for (const l of out.stdout) process.stdout.write(`${l}\n`);
      for (const l of out.stderr) process.stderr.write(`${l}\n`);
      setExit(out.code);
    } catch (err) {
      if (!(err instanceof UsersInputError)) throw err;
      process.stderr.write(`maotrade users: ${err.message}\n`);
      setExit(2);
    } finally {
      await pool.end();
    }
  };

  withDb(users.command('bootstrap-admin').description('create the first global admin and print its token once; refused if an admin exists'))
    .requiredOption('--name <name>', 'user name')
    .option('--email <email>', 'email')
    .option('--expires <when>', EXPIRES_HELP)
    .action((o: { name: string; email?: string; expires?: string; url?: string; by: string }) =>
      exec(o, (ctx) => bootstrapAdmin(ctx, { name: userName(o.name), email: o.email, expires: expiryOption(o.expires) })),
    );

  withDb(users.command('create').description('create a user and print its token once'))
    .argument('<name>', 'user name')
    .option('--role <role>', 'global role (every account): viewer, trader or admin; default none')
    .option('--grant <account=role...>', 'a role on one account, repeatable')
    .option('--email <email>', 'email')
    .option('--expires <when>', EXPIRES_HELP)
    .action((name: string, o: { role?: string; grant?: string[]; email?: string; expires?: string; url?: string; by: string }) =>
      exec(o, (ctx) =>
        createUserCommand(ctx, {
          name: userName(name),
          role: o.role === undefined ? undefined : roleOption(o.role),
          grants: grantOptions(o.grant),
          email: o.email,
          expires: expiryOption(o.expires),
        }),
      ),
    );

  withDb(users.command('list').description('users with their global role, grants, token expiry and revocation (never a token)'))
    .option('--json', 'print JSON')
    .action((o: { json?: boolean; url?: string; by: string }) => exec(o, (ctx) => listCommand(ctx, Boolean(o.json))));

  withDb(users.command('grant').description('give a user a role on an account (--account) or globally (--global)'))
    .argument('<name>', 'user name')
    .argument('<role>', 'viewer, trader or admin')
    .option('--account <id>', 'the account')
    .option('--global', 'the global role (every account)')
    .action((name: string, role: string, o: { account?: string; global?: boolean; url?: string; by: string }) =>
      exec(o, async (ctx) => {
        if (Boolean(o.account) === Boolean(o.global)) throw new UsersInputError('--account', 'give exactly one of --account <id> or --global');
        return grantCommand(ctx, userName(name), roleOption(role, 'role'), o.account ? accountOption(o.account) : null);
      }),
    );

  withDb(users.command('revoke').description("revoke a user's token (refused at once), or with --account/--global take back that grant only"))
    .argument('<name>', 'user name')
    .option('--account <id>', 'take back the grant on this account only')
    .option('--global', 'take back the global role only')
    .action((name: string, o: { account?: string; global?: boolean; url?: string; by: string }) =>
      exec(o, async (ctx) => {
        if (o.account && o.global) throw new UsersInputError('--account', 'give at most one of --account <id> or --global');
        return revokeCommand(ctx, userName(name), { account: o.account ? accountOption(o.account) : undefined, global: o.global });
      }),
    );

  withDb(users.command('rotate').description('give a user a new token (printed once); the old one is refused at once'))
    .argument('<name>', 'user name')
    .option('--expires <when>', EXPIRES_HELP)
    .action((name: string, o: { expires?: string; url?: string; by: string }) => exec(o, (ctx) => rotateCommand(ctx, userName(name), expiryOption(o.expires))));

  return users;
}
