import { z } from 'zod';
import { AccountIdSchema } from '../../config/session-config';
import { UserNameSchema } from '../user-name';
import { accountsWith } from '../access';
import { BEARER_SECURITY, userOf, type Gateway, type GatewayDeps } from '../context';
import { responses } from '../responses';

const IsoTime = z.string().datetime({ offset: true, message: 'expected an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z' });

/** The audit trail (admin): a global admin reads every row, an account admin the rows of its accounts. */
const AuditResponse = responses({
  200: z.object({
    entries: z.array(
      z.object({
        id: z.number().int(),
        at: z.date(),
        userName: z.string().nullable(),
        via: z.enum(['api', 'cli']),
        route: z.string().describe('The route pattern, never the raw URL'),
        command: z.string().nullable(),
        account: z.string().nullable(),
        statusCode: z.number().int().nullable(),
        outcome: z.enum(['ok', 'refused', 'failed']),
        detail: z.string().nullable(),
      }),
    ),
  }),
});

export function registerAuditRoutes(app: Gateway, { audit }: GatewayDeps): void {
  app.get(
    '/audit',
    {
      config: { role: 'admin', access: 'caller' },
      schema: {
        tags: ['users'],
        summary: 'Audit trail of commands, newest first: who, when, route, account, status and outcome (never a token)',
        security: BEARER_SECURITY, response: AuditResponse,
        querystring: z
          .object({
            account: AccountIdSchema.optional(),
            user: UserNameSchema.optional(),
            from: IsoTime.optional(),
            to: IsoTime.optional(),
            limit: z.coerce.number().int().min(1).max(10_000).default(100),
          })
          .strict(),
      },
    },
    async (request) => {
      const { account, user, from, to, limit } = request.query;
      const mine = accountsWith(userOf(request), 'admin');
      const entries = await audit.query({
        account,
        user,
        limit,
        ...(from ? { from: new Date(from) } : {}),
        ...(to ? { to: new Date(to) } : {}),
        ...(mine === 'all' ? {} : { accounts: mine }),
      });
      return { entries };
    },
  );
}
