import pino, { type DestinationStream, type Logger } from 'pino';
import type { MongoLogSink } from './mongo-sink';

/** Field names whose values are credentials, at the top level and one level down. */
const SECRET_FIELDS = [
  'password',
  'passwd',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'apiSecret',
  'cst',
  'xSecurityToken',
  'authorization',
  'cookie',
  'mysqlUrl',
  'mongoUrl',
];

/** Paths pino censors before a line is written anywhere (stdout and MongoDB alike). */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]),
  'headers.authorization',
  'headers.cookie',
  'headers.cst',
  'headers["x-security-token"]',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers.cst',
  '*.headers["x-security-token"]',
  '*.headers["x-api-key"]',
];

export const REDACTED = '[redacted]';

export interface CreateLoggerOptions {
  /** pino level name (`info`, `debug`, ...). */
  level: string;
  /** Written into every line as `service`. */
  service: string;
  /** Also keep every line in MongoDB `maologs`. */
  mongo?: MongoLogSink;
  /** Where the stdout copy goes; default stdout (fd 1). Tests pass a collector. */
  stdout?: DestinationStream;
}

/**
 * The process logger: JSON lines with ISO time, `service`, credentials redacted, written to
 * stdout and (with `mongo`) to MongoDB. Give per-account loggers with `logger.child({ account })`.
 */
export function createLogger({ level, service, mongo, stdout }: CreateLoggerOptions): Logger {
  const out = stdout ?? pino.destination({ dest: 1, sync: true });
  // Streams accept everything; the logger's own level filters, so `logger.level = ...` works.
  const destination = mongo
    ? pino.multistream([
        { level: 'trace', stream: out },
        { level: 'trace', stream: mongo },
      ])
    : out;
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    },
    destination,
  );
}
