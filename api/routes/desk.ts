import { z } from 'zod';
import { accountSchema } from '../../db/pool';
import { MarketDataStore } from '../../db/market-data-store';
import { AccountIdSchema, SystemConfigSchema } from '../../config/session-config';
import { TimeframeSchema, timeframeMs, type Timeframe } from '../../market/timeframe';
import { statusQuery } from '../../workflows/definitions';
import { authenticate } from '../auth';
import { BEARER_SECURITY, type Gateway, type GatewayDeps } from '../context';
import { badRequest, notFound } from '../errors';
import { onSession } from '../session-handle';
import { RoleSchema } from '../roles';
import { FrameSchema, GrantSchema, responses } from '../responses';

/**
 * The reads the operator's desk (`/ui`) needs that no other route gives: who the caller is and what it
 * may do, the candles of a session's streams (for its chart) and the account's P&L of the day. Same
 * access checks as their neighbours: an account's data needs viewer on that account.
 */

const AccountParams = z.object({ account: AccountIdSchema });
const DAY_MS = 86_400_000;

/** `symbol|timeframe` keys of the status query's `lastFrames`, with the last processed start. */
function streamsOf(lastFrames: Record<string, number>): { symbol: string; timeframe: Timeframe; last: number }[] {
  return Object.entries(lastFrames).flatMap(([key, last]) => {
    const [symbol, tf] = key.split('|');
    const timeframe = TimeframeSchema.safeParse(tf);
    return timeframe.success ? [{ symbol, timeframe: timeframe.data, last }] : [];
  });
}

const MeResponse = responses({
  200: z.object({
    name: z.string(),
    globalRole: RoleSchema.nullable(),
    grants: z.array(GrantSchema),
  }),
});
const CandlesResponse = responses({
  200: z.object({
    account: z.string(),
    symbol: z.string().nullable(),
    timeframe: TimeframeSchema.nullable(),
    streams: z.array(z.object({ symbol: z.string(), timeframe: TimeframeSchema, lastFrame: z.number().describe('Last processed frame start, epoch ms') })),
    candles: z.array(FrameSchema),
  }),
});
const PnlTodayResponse = responses({
  200: z.object({
    account: z.string(),
    day: z.string().nullable().describe('UTC day, YYYY-MM-DD'),
    pnl: z.number().nullable(),
    equity: z.number().nullable(),
    base: z.object({ ts: z.number(), equity: z.number() }).nullable(),
    lastTs: z.number().nullable(),
  }),
});

export function registerDeskRoutes(app: Gateway, deps: GatewayDeps): void {
  const { pool } = deps;

  app.get(
    '/me',
    {
      schema: {
        tags: ['users'],
        summary: "The caller: its name, global role and grants per account (never a token); any valid token may ask",
        security: BEARER_SECURITY, response: MeResponse,
      },
    },
    async (request) => {
      // No role: every authenticated caller may see its own grants, even one with none.
      const caller = await authenticate(pool, request.headers.authorization);
      request.user = caller;
      const grants = [...caller.grants].map(([account, role]) => ({ account, role })).sort((a, b) => a.account.localeCompare(b.account));
      return { name: caller.name, globalRole: caller.globalRole, grants };
    },
  );

  app.get(
    '/sessions/:account/candles',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['sessions'],
        summary:
          "Candles (maodata) of one of a running session's streams, the last `limit` up to the last frame it processed; " +
          'the stream by symbol and timeframe, else its first; `streams` lists them all',
        security: BEARER_SECURITY, response: CandlesResponse,
        params: AccountParams,
        querystring: z.object({
          symbol: SystemConfigSchema.shape.symbol.optional(),
          timeframe: TimeframeSchema.optional(),
          limit: z.coerce.number().int().min(1).max(5000).default(500),
        }),
      },
    },
    async (request) => {
      const { account } = request.params;
      const { symbol, timeframe, limit } = request.query;
      const status = await onSession(deps, account, (h) => h.query(statusQuery));
      const streams = streamsOf(status.lastFrames);
      const stream = streams.find((s) => (!symbol || s.symbol === symbol) && (!timeframe || s.timeframe === timeframe));
      if (!stream) {
        if (!symbol && !timeframe) return { account, symbol: null, timeframe: null, streams: [], candles: [] };
        throw badRequest(`session "${account}" trades no stream ${symbol ?? '*'}|${timeframe ?? '*'} (it trades ${streams.map((s) => `${s.symbol}|${s.timeframe}`).join(', ') || 'none yet'})`, [
          { field: symbol ? 'symbol' : 'timeframe', message: 'not a stream of this session', in: 'query' },
        ]);
      }
      const { frames } = await new MarketDataStore(pool).loadCandles({
        symbol: stream.symbol,
        timeframe: stream.timeframe,
        fromStart: stream.last - (limit - 1) * timeframeMs(stream.timeframe),
        toStart: stream.last,
      });
      return {
        account,
        symbol: stream.symbol,
        timeframe: stream.timeframe,
        streams: streams.map(({ symbol: s, timeframe: t, last }) => ({ symbol: s, timeframe: t, lastFrame: last })),
        candles: frames,
      };
    },
  );

  app.get(
    '/accounts/:account/pnl-today',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['accounts'],
        summary:
          "P&L of the account's latest trading day (UTC day of its last equity point): that point's equity less the last one before the day " +
          '(or the day\'s first); null without equity points',
        security: BEARER_SECURITY, response: PnlTodayResponse,
        params: AccountParams,
      },
    },
    async (request) => {
      const { account } = request.params;
      const table = `\`${accountSchema(account)}\`.equity`;
      const one = async (where: string, order: 'ASC' | 'DESC', args: unknown[]) => {
        const [rows] = await pool.query(`SELECT ts, equity FROM ${table} ${where} ORDER BY ts ${order} LIMIT 1`, args);
        const row = (rows as { ts: string | number; equity: string | number }[])[0];
        return row ? { ts: Number(row.ts), equity: Number(row.equity) } : null;
      };
      let last;
      try {
        last = await one('', 'DESC', []);
      } catch (err) {
        // No schema (ER_BAD_DB_ERROR) or no table (ER_NO_SUCH_TABLE): the account has no records.
        if ([1049, 1146].includes((err as { errno?: number }).errno ?? 0)) throw notFound(`no records for account "${account}"`);
        throw err;
      }
      if (!last) return { account, day: null, pnl: null, equity: null, base: null, lastTs: null };
      const dayStart = Math.floor(last.ts / DAY_MS) * DAY_MS;
      const base = (await one('WHERE ts < ?', 'DESC', [dayStart])) ?? (await one('WHERE ts >= ?', 'ASC', [dayStart]))!;
      return {
        account,
        day: new Date(dayStart).toISOString().slice(0, 10),
        pnl: Math.round((last.equity - base.equity) * 1e8) / 1e8,
        equity: last.equity,
        base,
        lastTs: last.ts,
      };
    },
  );
}
