/**
 * Errors of fleet commands, classed by what the caller should do next. Neither is retryable: the same
 * input fails the same way. A failure on one session is not an error of the command: it is that
 * session's result (`outcome: 'error'`).
 */

export interface FleetField {
  readonly field: string;
  readonly message: string;
}

/** The command's input is invalid (state, by, reason, query, concurrency); nothing was sent. */
export class FleetInputError extends Error {
  readonly retryable = false;
  constructor(readonly fields: readonly FleetField[]) {
    super(fields.map((f) => `${f.field}: ${f.message}`).join('; '));
    this.name = 'FleetInputError';
  }
}

/** Temporal refused the visibility query (a filter that passed our sanity check but not the server's parser). */
export class FleetQueryError extends Error {
  readonly retryable = false;
  constructor(
    readonly query: string,
    reason: string,
  ) {
    super(`query: Temporal refused the visibility query "${query}": ${reason}`);
    this.name = 'FleetQueryError';
  }
}
