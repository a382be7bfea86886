import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/common';
import pino, { type Logger as PinoLogger } from 'pino';

/**
 * Temporal's `Logger` on top of pino, for `Runtime.install({ logger })`. Worker, activity and
 * workflow logs (the SDK forwards workflow logs only when not replaying) then reach pino, so
 * stdout and MongoDB. Temporal's metadata (workflowId, runId, activityType, taskQueue, ...)
 * becomes fields; `account` comes from a `session-<account>` workflow id.
 */

export const SESSION_WORKFLOW_PREFIX = 'session-';

const PINO_METHOD: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The account of an AccountSession workflow id (`session-acc1` → `acc1`), else undefined. */
export function accountFromWorkflowId(workflowId: unknown): string | undefined {
  if (typeof workflowId !== 'string' || !workflowId.startsWith(SESSION_WORKFLOW_PREFIX)) return undefined;
  const account = workflowId.slice(SESSION_WORKFLOW_PREFIX.length);
  return account === '' ? undefined : account;
}

/** Temporal metadata → pino fields. Errors become serialised objects (`error` is renamed `err`). */
export function temporalMetaToFields(meta: LogMetadata | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (meta) {
    // Object.entries skips symbol keys such as the worker's LogTimestamp.
    for (const [key, value] of Object.entries(meta)) {
      if (value instanceof Error) fields[key === 'error' ? 'err' : key] = pino.stdSerializers.err(value);
      else fields[key] = value;
    }
  }
  if (fields.account === undefined) {
    const account = accountFromWorkflowId(fields.workflowId);
    if (account !== undefined) fields.account = account;
  }
  return fields;
}

export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly logger: PinoLogger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const method = PINO_METHOD[level] ?? 'info';
    this.logger[method](temporalMetaToFields(meta), message);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }

  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }

  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }

  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }

  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** `Runtime.install({ logger: createTemporalLogger(logger) })`. */
export function createTemporalLogger(logger: PinoLogger): TemporalLogger {
  return new PinoTemporalLogger(logger);
}
