import { z } from 'zod';
import { accountSchema } from '../../db/pool';
import { AccountIdSchema } from '../../config/session-config';
import { accountsWith } from '../access';
import { BEARER_SECURITY, userOf, type Gateway, type GatewayDeps } from '../context';
import { notFound } from '../errors';
import { responses, tableRow } from '../responses';

/** `maohome.accounts` and each account's own records in `mt_<account>`. */

const AccountParams = z.object({ account: AccountIdSchema });
const AccountsResponse = responses({
  200: z.object({
    accounts: z.array(
      z.object({
        account: z.string(),
        broker: z.string(),
        currency: z.string(),
        description: z.string().nullable(),
        ownerUserId: z.number().nullable(),
        createdAt: z.date(),
      }),
    ),
  }),
});
const EquityRow = tableRow('mt_<account>.equity row', {
  ts: z.number().describe('epoch ms'),
  balance: z.number(),
  realised_pnl: z.number(),
  unrealised_pnl: z.number(),
  equity: z.number(),
});
const EquityResponse = responses({ 200: z.object({ equity: z.array(EquityRow) }) });
const TABLE_ROWS = {
  orders: tableRow('mt_<account>.orders row (db/migrations/account)', {
    client_order_id: z.string(),
    system_id: z.string(),
    symbol: z.string(),
    side: z.enum(['buy', 'sell']),
    quantity: z.number(),
    intent: z.enum(['open', 'close']),
    status: z.string(),
  }),
  trades: tableRow('mt_<account>.trades row (db/migrations/account)', {
    position_ref: z.string(),
    system_id: z.string(),
    symbol: z.string(),
    side: z.enum(['long', 'short']),
    quantity: z.number(),
    entry_price: z.number(),
    exit_price: z.number(),
    pnl: z.number(),
    opened_at: z.number(),
    closed_at: z.number(),
    exit_reason: z.string(),
  }),
};
const Limit = z.coerce.number().int().min(1).max(10_000).default(1000);
const IsoTime = z.string().datetime({ offset: true, message: 'expected an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z' });

/** The account's schema does not exist (ER_BAD_DB_ERROR) or lacks the table (ER_NO_SUCH_TABLE). */
const isMissingSchema = (err: unknown) => [1049, 1146].includes((err as { errno?: number }).errno ?? 0);

export function registerAccountRoutes(app: Gateway, { pool }: GatewayDeps): void {
  app.get(
    '/accounts',
    {
      config: { role: 'viewer', access: 'caller' },
      schema: { tags: ['accounts'], summary: 'Accounts configured in maohome that the caller may view', security: BEARER_SECURITY, response: AccountsResponse },
    },
    async (request) => {
      const mine = accountsWith(userOf(request), 'viewer');
      if (mine !== 'all' && mine.length === 0) return { accounts: [] };
      const [rows] = await pool.query(
        `SELECT account, broker, currency, description, owner_user_id AS ownerUserId, created_at AS createdAt FROM maohome.accounts
         ${mine === 'all' ? '' : 'WHERE account IN (?)'} ORDER BY account`,
        mine === 'all' ? [] : [mine],
      );
      return { accounts: rows as z.input<typeof AccountsResponse[200]>['accounts'] };
    },
  );

  /** Rows of one table of `mt_<account>`; the account id was validated by the route's schema before this builds a name. */
  async function accountRows(account: string, sql: (schema: string) => string, args: unknown[]): Promise<object[]> {
    const schema = accountSchema(AccountIdSchema.parse(account));
    try {
      const [rows] = await pool.query(sql(`\`${schema}\``), args);
      return rows as object[];
    } catch (err) {
      if (isMissingSchema(err)) throw notFound(`no records for account "${account}"`);
      throw err;
    }
  }

  // Orders and trades read the same way: newest limit, oldest first, from the account's own schema.
  for (const r of [
    { table: 'orders', summary: 'Orders of an account (mt_<account>.orders), oldest first', orderBy: 'created_at, client_order_id' },
    { table: 'trades', summary: 'Closed trades of an account (mt_<account>.trades), oldest first', orderBy: 'closed_at, position_ref' },
  ] as const) {
    app.get(
      `/accounts/:account/${r.table}`,
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['accounts'],
          summary: r.summary,
          security: BEARER_SECURITY,
          response: responses({ 200: z.object({ [r.table]: z.array(TABLE_ROWS[r.table]) }) }),
          params: AccountParams,
          querystring: z.object({ limit: Limit }),
        },
      },
      async (request) => ({
        [r.table]: await accountRows(request.params.account, (s) => `SELECT * FROM ${s}.${r.table} ORDER BY ${r.orderBy} LIMIT ?`, [request.query.limit]),
      }),
    );
  }

  app.get(
    '/accounts/:account/equity',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['accounts'],
        summary: 'Equity curve of an account (mt_<account>.equity; ts in epoch ms), oldest first',
        security: BEARER_SECURITY,
        response: EquityResponse,
        params: AccountParams,
        querystring: z.object({ from: IsoTime.optional(), to: IsoTime.optional(), limit: Limit }),
      },
    },
    async (request) => {
      const { from, to, limit } = request.query;
      return {
        equity: await accountRows(
          request.params.account,
          (s) => `SELECT * FROM ${s}.equity WHERE ts >= ? AND ts < ? ORDER BY ts LIMIT ?`,
          [from ? Date.parse(from) : 0, to ? Date.parse(to) : Number.MAX_SAFE_INTEGER, limit],
        ),
      };
    },
  );
}
