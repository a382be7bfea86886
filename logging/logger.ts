import pino, { type DestinationStream, type Logger } from 'pino';
import type { MongoLogSink } from './mongo-sink';
import { redactDeep } from './redact';

export { REDACTED } from './redact';

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
 * The process logger: JSON lines with ISO time, `service`, credentials redacted at any depth, written to
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
  const logger = pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Credentials redacted at any depth, in any spelling, errors included (logging/redact.ts), on the
      // objects as logged, before the serializers. (pino's own path redaction reaches only listed paths
      // and cost about 15x a line's formatting with wildcards; the walk covers every path it had.)
      formatters: { log: redactDeep },
    },
    destination,
  );
  // A child's bindings are written once, when it is made (pino gives children no bindings formatter):
  // checked there. Children inherit this `child` from the root, so grandchildren are checked too.
  const child = logger.child;
  logger.child = function redactedChild(this: Logger, bindings, options) {
    return child.call(this, redactDeep(bindings), options);
  } as typeof logger.child;
  return logger;
}
