/**
 * What each venue is, declared as pure data (no Node imports, no adapter instance), so that the session
 * config schema, the gateway and workflow code can all ask it. Every broker of brokers/index.ts declares
 * itself here (test/config/session-config.test.ts checks it).
 *
 * Position model:
 *  - `hedging`: the venue keeps one position per deal (paper: one per opening order; IG: one per deal id),
 *    so each system's position, its close and its protective stop stand on their own;
 *  - `netting`: the venue keeps one position per symbol per account (Alpaca). Two systems on one symbol
 *    share that one position at the venue: a close sent for one system's lot flattens or flips the other's,
 *    and one system's protective stop fills against the other's quantity.
 *
 * Sessions on a netting venue therefore get at most one system per symbol per venue account, refused
 * when the config is validated (config/session-config.ts) or the session is started (POST /sessions),
 * rather than tracked per lot: per-lot tracking at a netting venue cannot keep per-system stops apart —
 * a venue stop order is for a quantity of the symbol's one position, not for a lot, so whichever stop
 * triggers first sells the other system's quantity too, and the close and stop guards (is my position
 * still open? is my stop still working?) read a position that belongs to both. Refusing is simple and safe.
 */

export type PositionModel = 'hedging' | 'netting';

export interface VenueCapabilities {
  /** How the venue keeps positions: per deal (`hedging`) or one per symbol per account (`netting`). */
  readonly positionModel: PositionModel;
  /**
   * Where the venue's credentials come from. `worker`: one key per broker worker process (environment
   * variables), shared by every account whose sessions use that broker — so on a netting venue, all of
   * them are one venue account.
   */
  readonly credentials: 'worker';
  /** The worker's credential setting, for error messages. */
  readonly credentialSetting?: string;
}

export const VENUE_CAPABILITIES: Readonly<Record<string, VenueCapabilities>> = Object.freeze({
  paper: Object.freeze({ positionModel: 'hedging', credentials: 'worker' }),
  ig: Object.freeze({ positionModel: 'hedging', credentials: 'worker', credentialSetting: 'IG_API_KEY' }),
  alpaca: Object.freeze({ positionModel: 'netting', credentials: 'worker', credentialSetting: 'ALPACA_KEY_ID' }),
});

/** The declared capabilities of a broker, or undefined for a broker that is not declared (not a known venue). */
export function venueCapabilities(broker: string): VenueCapabilities | undefined {
  return Object.prototype.hasOwnProperty.call(VENUE_CAPABILITIES, broker) ? VENUE_CAPABILITIES[broker] : undefined;
}

/** Whether the venue keeps one position per symbol per account. */
export function isNettingVenue(broker: string): boolean {
  return venueCapabilities(broker)?.positionModel === 'netting';
}
