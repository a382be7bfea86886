import { Readable, pipeline } from 'node:stream';
import { createGzip } from 'node:zlib';
import { z } from 'zod';
import type { Filter } from 'mongodb';
import { LOG_COLLECTION, type LogDoc } from '../../logging/mongo-sink';
import { AccountIdSchema } from '../../config/session-config';
import { BEARER_SECURITY, type Gateway, type GatewayDeps } from '../context';

/** Log lines kept in MongoDB `maologs.logs`: a page as JSON, or everything matching as a gzip NDJSON download. */

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

function mongoFilter(f: LogFilter): Filter<LogDoc> {
  const filter: Filter<LogDoc> = {};
  if (f.account) filter.account = f.account;
  if (f.level) filter.level = { $gte: LEVELS[f.level] };
  if (f.from || f.to) {
    filter.time = { ...(f.from ? { $gte: new Date(f.from) } : {}), ...(f.to ? { $lt: new Date(f.to) } : {}) };
  }
  return filter;
}

export function registerLogRoutes(app: Gateway, { mongoDb }: GatewayDeps): void {
  const logs = mongoDb.collection<LogDoc>(LOG_COLLECTION);

  app.get(
    '/logs',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['logs'],
        summary: 'Log lines, newest first (level = the least level; from inclusive, to exclusive)',
        security: BEARER_SECURITY,
        querystring: LogFilter.extend({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict(),
      },
    },
    async (request) => {
      const { limit, ...filter } = request.query;
      return { logs: await logs.find(mongoFilter(filter)).sort({ time: -1, _id: -1 }).limit(limit).toArray() };
    },
  );

  app.get(
    '/logs/download',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['logs'],
        summary: 'Every matching log line, oldest first, as a gzip-compressed NDJSON file (one JSON document per line), streamed',
        security: BEARER_SECURITY,
        querystring: LogFilter.strict(),
      },
    },
    async (request, reply) => {
      const cursor = logs.find(mongoFilter(request.query)).sort({ time: 1, _id: 1 }).batchSize(500);
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
