import { type Db, type Collection, MongoBulkWriteError, MongoClient, ObjectId } from 'mongodb';

/**
 * A pino destination that keeps log lines in MongoDB (`maologs.logs`).
 *
 * Lines are parsed, converted and batched; a batch is inserted every `flushIntervalMs` or as
 * soon as `batchSize` documents wait. Every document gets its `_id` here, so re-inserting a batch
 * after an ambiguous failure cannot double it (duplicate-key errors count as success).
 *
 * It never throws into the application: while MongoDB is unreachable it keeps at most
 * `maxPendingDocs` documents (the oldest are dropped first) and reports the outage once on stderr.
 */

export const LOG_DB_NAME = 'maologs';
export const LOG_COLLECTION = 'logs';

/** pino's numeric levels. */
const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export interface LogDoc {
  _id: ObjectId;
  time: Date;
  level: number;
  levelName: string;
  msg?: string;
  account?: string;
  [field: string]: unknown;
}

export interface MongoLogSinkOptions {
  /** MongoDB URL; the sink owns the client and closes it in `close()`. Ignored when `db` is given. */
  url?: string;
  /** Database name; default: the URL's path, else `maologs`. */
  dbName?: string;
  /** An existing database handle (the caller owns its client). */
  db?: Db;
  /** Default `logs`. */
  collection?: string;
  /** Default 500. */
  flushIntervalMs?: number;
  /** Default 200. */
  batchSize?: number;
  /** Documents kept while MongoDB is unreachable; default 10,000. */
  maxPendingDocs?: number;
  /** How long the owned client looks for a server before an insert fails; default 5,000. */
  serverSelectionTimeoutMs?: number;
  /** Where outages are reported; default stderr. */
  report?: (message: string) => void;
}

/** The database name in a MongoDB URL's path, if any (`mongodb://h:1,h2:2/maologs?x=y` → `maologs`). */
export function dbNameFromUrl(url: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?#]+)/.exec(url);
  return m ? decodeURIComponent(m[1]) : undefined;
}

/** Keys MongoDB/FerretDB refuse (`$`-prefixed, dotted) are rewritten with `_`. */
function sanitize(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Date || value instanceof ObjectId) return value;
  if (depth > 20) return '[too deep]';
  if (Array.isArray(value)) return value.map((v) => sanitize(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k.replace(/^\$/, '_').replace(/\./g, '_')] = sanitize(v, depth + 1);
  }
  return out;
}

/** Converts one pino JSON line to a log document. */
export function toLogDoc(line: string): LogDoc {
  let parsed: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(line);
    parsed = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { msg: String(v) };
  } catch {
    parsed = { msg: line.trimEnd(), unparsed: true };
  }
  const { time, level, levelName: _ignored, _id: _ignoredId, ...rest } = sanitize(parsed) as Record<string, unknown>;
  const t = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date(NaN);
  const lvl = typeof level === 'number' ? level : 30;
  const doc: LogDoc = {
    ...rest,
    _id: new ObjectId(),
    time: Number.isNaN(t.getTime()) ? new Date() : t,
    level: lvl,
    levelName: (typeof level === 'string' ? level : LEVEL_NAMES[lvl]) ?? String(lvl),
  };
  if (doc.account !== undefined && typeof doc.account !== 'string') doc.account = String(doc.account);
  return doc;
}

export class MongoLogSink {
  private readonly collection: Collection<LogDoc>;
  private readonly client?: MongoClient;
  private readonly flushIntervalMs: number;
  private readonly batchSize: number;
  private readonly maxPendingDocs: number;
  private readonly report: (message: string) => void;
  private pending: LogDoc[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failing = false;
  private dropped = 0;
  private closed = false;

  constructor(options: MongoLogSinkOptions) {
    let db = options.db;
    if (!db) {
      if (!options.url) throw new TypeError('MongoLogSink needs a url or a db');
      this.client = new MongoClient(options.url, { serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 5_000, appName: 'maotrade-logs' });
      db = this.client.db(options.dbName ?? dbNameFromUrl(options.url) ?? LOG_DB_NAME);
    } else if (options.dbName) {
      throw new TypeError('MongoLogSink: give dbName with url, not with db');
    }
    this.collection = db.collection<LogDoc>(options.collection ?? LOG_COLLECTION);
    this.flushIntervalMs = options.flushIntervalMs ?? 500;
    this.batchSize = options.batchSize ?? 200;
    this.maxPendingDocs = options.maxPendingDocs ?? 10_000;
    this.report = options.report ?? ((m) => void process.stderr.write(`${m}\n`));
  }

  /** Documents waiting to be inserted. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Documents dropped since the last successful insert because the buffer was full. */
  get droppedCount(): number {
    return this.dropped;
  }

  /** pino calls this with one JSON line (sometimes several) per log call. Never throws. */
  write(chunk: string): boolean {
    if (this.closed) return true;
    try {
      for (const line of String(chunk).split('\n')) {
        if (line.trim() !== '') this.pending.push(toLogDoc(line));
      }
      this.trim();
      if (this.pending.length >= this.batchSize) void this.flush();
      else this.schedule();
    } catch (err) {
      this.reportOnce(`cannot buffer a log line: ${(err as Error).message}`);
    }
    return true;
  }

  /** Inserts everything pending. Resolves (never rejects) once this flush and earlier ones are done. */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.drain()).catch((err: unknown) => {
      this.reportOnce(`MongoLogSink: flush failed: ${(err as Error).message}`);
    });
    return this.chain;
  }

  /** Flushes, stops the timer and closes the client if the sink owns it. Later writes are ignored. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length > 0) {
      this.report(`MongoLogSink: closing with ${this.pending.length} log document(s) not written to MongoDB`);
    }
    await this.client?.close().catch(() => undefined);
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  private trim(): void {
    const excess = this.pending.length - this.maxPendingDocs;
    if (excess > 0) {
      this.pending.splice(0, excess);
      this.dropped += excess;
    }
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.batchSize);
      try {
        await this.collection.insertMany(batch, { ordered: false });
      } catch (err) {
        const retry = this.failedToRetry(batch, err);
        if (retry.length > 0) {
          this.pending.unshift(...retry);
          this.trim();
          this.reportOnce(
            `MongoLogSink: cannot write logs to MongoDB (${(err as Error).message}); keeping up to ${this.maxPendingDocs} and retrying`,
          );
          this.schedule();
          return;
        }
      }
      if (this.failing) {
        this.report(`MongoLogSink: writing logs to MongoDB again${this.dropped > 0 ? `; ${this.dropped} dropped meanwhile` : ''}`);
        this.failing = false;
      }
      this.dropped = 0;
    }
  }

  /**
   * Which documents of a failed batch to insert again. Per-document errors: duplicates were already
   * written, any other document error would fail again, so it is dropped and reported.
   * Any other error (network, server selection): the whole batch.
   */
  private failedToRetry(batch: LogDoc[], err: unknown): LogDoc[] {
    if (!(err instanceof MongoBulkWriteError) || err.writeErrors === undefined) return batch;
    const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    if (writeErrors.length === 0) return batch;
    const rejected = writeErrors.filter((e) => e.code !== 11000);
    if (rejected.length > 0) {
      this.report(`MongoLogSink: MongoDB rejected ${rejected.length} log document(s): ${rejected[0].errmsg ?? rejected[0].code}`);
    }
    return [];
  }

  private reportOnce(message: string): void {
    if (this.failing) return;
    this.failing = true;
    this.report(message);
  }
}

export const LOG_INDEXES = [
  { key: { time: 1 }, name: 'time_1' },
  { key: { account: 1, time: 1 }, name: 'account_1_time_1' },
  { key: { level: 1, time: 1 }, name: 'level_1_time_1' },
] as const;

/**
 * Indexes for reading logs by time, by account and by level. Idempotent. One `createIndex` per
 * index on purpose: FerretDB v1.24.2 drops the connection (server-side panic) when a single
 * `createIndexes` command names two or more indexes that all exist already.
 */
export async function ensureLogIndexes(db: Db, collection = LOG_COLLECTION): Promise<void> {
  for (const { key, name } of LOG_INDEXES) {
    await db.collection(collection).createIndex({ ...key }, { name });
  }
}
