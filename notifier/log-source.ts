/**
 * Alerts from the structured logs in MongoDB (`maologs.logs`, written by every worker through
 * logging/mongo-sink.ts), so the engine needs no change to be heard. FerretDB has no change streams
 * or tailable cursors, so the source polls: each `poll()` reads the alert-worthy lines
 * (`LOG_ALERT_REGEX`) whose `time` is at most `overlapMs` before the newest line seen, and remembers
 * the `_id`s it has handled in that window, so a line inserted late (the sink batches every 500 ms
 * and buffers during an outage) is still read, and no line is read twice. A line buffered for longer
 * than `overlapMs` before it reached MongoDB is missed.
 */
import type { Collection, Document } from 'mongodb';
import type { Alert } from './alert';
import { LOG_ALERT_REGEX, alertFromLog, type LogLine } from './log-rules';

export interface LogAlertSourceOptions {
  /** Lines before this are history, not news: default now. */
  since?: Date;
  /** Default 60,000. */
  overlapMs?: number;
  /** Lines per query; default 500. */
  batchSize?: number;
}

export class LogAlertSource {
  private cursor: number;
  private readonly since: number;
  private readonly overlapMs: number;
  private readonly batchSize: number;
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly collection: Collection<Document>,
    opts: LogAlertSourceOptions = {},
  ) {
    this.since = (opts.since ?? new Date()).getTime();
    this.cursor = this.since;
    this.overlapMs = opts.overlapMs ?? 60_000;
    this.batchSize = opts.batchSize ?? 500;
  }

  /** The alerts of the lines that arrived since the last poll, oldest first. */
  async poll(): Promise<Alert[]> {
    const alerts: Alert[] = [];
    const floor = new Date(this.cursor - this.overlapMs);
    // Pages until a short page: a burst of more than batchSize lines is read in one poll.
    for (let skip = 0; ; skip += this.batchSize) {
      const docs = await this.collection
        .find({ time: { $gte: floor }, msg: { $regex: LOG_ALERT_REGEX } })
        .sort({ time: 1, _id: 1 })
        .skip(skip)
        .limit(this.batchSize)
        .toArray();
      for (const doc of docs) {
        const id = String(doc._id);
        if (this.seen.has(id)) continue;
        const line = doc as unknown as LogLine;
        if (!(line.time instanceof Date)) continue;
        const t = line.time.getTime();
        this.seen.set(id, t);
        if (t < this.since) continue;
        this.cursor = Math.max(this.cursor, t);
        const alert = alertFromLog(line);
        if (alert) alerts.push(alert);
      }
      if (docs.length < this.batchSize) break;
    }
    const keepAfter = this.cursor - 2 * this.overlapMs;
    for (const [id, t] of this.seen) if (t < keepAfter) this.seen.delete(id);
    return alerts;
  }
}
