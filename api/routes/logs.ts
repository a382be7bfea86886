import { Readable, pipeline } from 'node:stream';
import { createGzip } from 'node:zlib';
import { z } from 'zod';
import type { Filter } from 'mongodb';
import { LOG_COLLECTION, type LogDoc } from '../../logging/mongo-sink';
import { AccountIdSchema } from '../../config/session-config';
import { accountsWith, requireOn, type Caller } from '../access';
import { BEARER_SECURITY, userOf, type Gateway, type GatewayDeps } from '../context';
import { ApiError, badRequest } from '../errors';
import { GzipNdjsonBody, objectIdHex, responses } from '../responses';

/**
 * Log lines kept in MongoDB `maologs.logs`: a page as JSON, or everything matching as a gzip NDJSON
 * download. A caller without a global role sees only the lines of the accounts it holds a grant on;
 * lines of no account (the gateway's, which name users) only a global viewer sees. A download needs
 * `from`, may span at most `maxSpanMs`, and only `maxConcurrent` stream at once.
 */

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
const LevelName = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const IsoTime = z.string().datetime({ offset: true, message: 'expected an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z' });

const LogFilter = z.object({
  account: AccountIdSchema.optional(),
  /** The least level: `level=warn` gives warn, error and fatal. */
  level: LevelName.optional(),
  /** Inclusive. */
  from: IsoTime.optional(),
  /** Exclusive. */
  to: IsoTime.optional(),
});
type LogFilter = z.infer<typeof LogFilter>;

/** The filter narrowed to the caller's accounts; 403 for an account it holds no grant on. */
function mongoFilter(f: LogFilter, caller: Caller): Filter<LogDoc> {
  const filter: Filter<LogDoc> = {};
  if (f.account) {
    requireOn(caller, f.account, 'viewer');
    filter.account = f.account;
  } else {
    const mine = accountsWith(caller, 'viewer');
    if (mine !== 'all') filter.account = { $in: mine };
  }
  if (f.level) filter.level = { $gte: LEVELS[f.level] };
  if (f.from || f.to) {
    filter.time = { ...(f.from ? { $gte: new Date(f.from) } : {}), ...(f.to ? { $lt: new Date(f.to) } : {}) };
  }
  return filter;
}

const MS_PER_DAY = 86_400_000;
const span = (ms: number) => (ms % MS_PER_DAY === 0 ? `${ms / MS_PER_DAY} day(s)` : `${Math.round(ms / 60_000)} minute(s)`);

/** A download's time range: `from` required, `to` at most `maxSpanMs` later (default: now, if within it). */
function downloadRange(f: LogFilter, maxSpanMs: number): { from: string; to: string } {
  if (!f.from) throw badRequest(`from: a download needs a time range (from, and to at most ${span(maxSpanMs)} later)`, [{ field: 'from', message: 'required', in: 'query' }]);
  const from = Date.parse(f.from);
  const to = f.to ? Date.parse(f.to) : Date.now();
  if (to - from > maxSpanMs) {
    const field = f.to ? 'to' : 'from';
    const message = `the range may span at most ${span(maxSpanMs)}${f.to ? '' : ' (to defaults to now)'}`;
    throw badRequest(`${field}: ${message}`, [{ field, message, in: 'query' }]);
  }
  return { from: f.from, to: new Date(to).toISOString() };
}

const LogsResponse = responses({
  200: z.object({
    logs: z.array(
      z
        .object({ _id: objectIdHex, time: z.date(), level: z.number().int(), levelName: z.string(), msg: z.string().optional(), account: z.string().optional() })
        .passthrough()
        .describe('A maologs.logs document: pino fields beyond these as logged'),
    ),
  }),
});
const DownloadResponse = responses({ 200: GzipNdjsonBody });

export function registerLogRoutes(app: Gateway, { mongoDb, logDownload }: GatewayDeps): void {
  const logs = mongoDb.collection<LogDoc>(LOG_COLLECTION);
  let downloading = 0;

  app.get(
    '/logs',
    {
      config: { role: 'viewer', access: 'caller' },
      schema: {
        tags: ['logs'],
        summary: 'Log lines of the accounts the caller may view, newest first (level = the least level; from inclusive, to exclusive)',
        security: BEARER_SECURITY, response: LogsResponse,
        querystring: LogFilter.extend({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict(),
      },
    },
    async (request) => {
      const { limit, ...filter } = request.query;
      return { logs: await logs.find(mongoFilter(filter, userOf(request))).sort({ time: -1, _id: -1 }).limit(limit).toArray() };
    },
  );

  app.get(
    '/logs/download',
    {
      config: { role: 'viewer', access: 'caller' },
      schema: {
        tags: ['logs'],
        summary:
          'Every matching log line of the accounts the caller may view, oldest first, as a gzip-compressed NDJSON file (one JSON document per line), ' +
          'streamed; from is required and the range may span at most 7 days (by default); 429 when too many downloads stream at once',
        security: BEARER_SECURITY, response: DownloadResponse,
        querystring: LogFilter.strict(),
      },
    },
    async (request, reply) => {
      const filter = mongoFilter({ ...request.query, ...downloadRange(request.query, logDownload.maxSpanMs) }, userOf(request));
      if (downloading >= logDownload.maxConcurrent) {
        throw new ApiError(429, 'too_many_downloads', `at most ${logDownload.maxConcurrent} log downloads stream at once; retry when one has finished`);
      }
      downloading++;
      let released = false;
      const release = () => {
        if (!released) downloading--;
        released = true;
      };
      reply.raw.once('close', release);
      const cursor = logs.find(filter).sort({ time: 1, _id: 1 }).batchSize(500);
      const lines = Readable.from(
        (async function* () {
          try {
            for await (const doc of cursor) yield `${JSON.stringify(doc)}\n`;
          } finally {
            await cursor.close();
          }
        })(),
      );
      // A failure half-way destroys the stream: the client sees a truncated download, never a wrong one.
      const gzip = pipeline(lines, createGzip(), (err) => {
        release();
        if (err) request.log.error({ err }, 'log download failed');
      });
      const name = `maologs-${request.query.account ?? 'all'}-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson.gz`;
      return reply
        .header('content-type', 'application/gzip')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(gzip);
    },
  );
}
