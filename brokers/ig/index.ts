import type { AccountSnapshot, BrokerAdapter, BrokerCapabilities, BrokerPosition, CandleRequest, Quote } from '../adapter';
import type { Instrument } from '../../trading/instrument';
import type { OrderReport, StopReport } from '../../trading/order-report';
import type { OrderRequest, StopRequest } from '../../trading/order-request';
import { BrokerUnavailableError } from '../errors';
import { beat } from '../progress';
import type { CallBudgets, ReportsCallBudgets } from '../timeouts';
import type { Frame } from '../../market/frame';
import { IgHttpClient, SILENT_LOGGER, type IgLogger } from './client';
import { parseIgConfig, type IgConfig, type IgConfigInput } from './config';
import { IgDataClient } from './data';
import { BROKER } from './errors';
import { IgExecutionClient } from './execution';
import type { SubmissionJournal } from './journal';
import { IgLookups } from './lookup';
import { IgStopClient } from './stops';
import { igCallBudgets } from './timeouts';
import { IgAccountsBodySchema, parseIg, positionToBroker } from './parsing';

/*
 * Assumptions about IG's contract where its documentation is silent or ambiguous (keep in step with the fake,
 * test/fakes/ig-server.ts):
 * - IG does not de-duplicate a re-sent dealReference; GET /confirms/{ref} answers for about a minute, then
 *   404 error.confirms.deal-not-found; open positions (GET /positions v2) carry the dealReference that opened
 *   them; GET /history/activity v3 (detailed) lists every deal, ACCEPTED or REJECTED, with details.dealReference,
 *   and lists a deal within `unknownOutcomeSettleMs` of its submit (the basis for re-sending a lost submit).
 * - The close request (POST /positions/otc, `_method: DELETE`, v1) takes no dealReference of ours (none is
 *   documented): IG assigns one and answers it; a close whose answer was lost is recognised in the activity
 *   history as a PUBLIC_WEB_API activity closing the position's dealId after the submit.
 * - A protective stop that IG triggers shows in the activity history as an ACCEPTED close of the position's
 *   dealId through the SYSTEM channel (a margin close-out looks the same and is reported the same way).
 * - Timestamps without a zone (`createdDateUTC`, `snapshotTimeUTC`, activity `date`) are UTC, and the
 *   `from`/`to` query parameters of /history/activity and /prices are read by IG as UTC.
 * - Rate limits come as 403 with an `exceeded-*-allowance` errorCode and no Retry-After; the caller waits
 *   `rateLimitBackoffMs`.
 * - A stop placed after the entry is an amendment of the position (PUT /positions/otc/{dealId} v2): IG assigns
 *   its deal reference and answers the outcome on /confirms (REJECTED with e.g. ATTACHED_ORDER_LEVEL_ERROR);
 *   the position's `stopLevel` in GET /positions v2 is the lasting record that makes placeStop idempotent.
 * - IG's dealing rules give a minimum deal size but no size increment: getInstrument reports step 0.
 * - Money facts (data.ts moneyFacts): pointValue is `valueOfOnePoint` × `lotSize`; a currency's `baseExchangeRate`
 *   is instrument-currency units per account-currency unit, so the conversion rate is its inverse; IG's market
 *   details publish no commission, so none is reported.
 */

export interface IgAdapterDeps {
  /** Where submissions are recorded before they are sent (MysqlSubmissionJournal in production). */
  journal: SubmissionJournal;
  logger?: IgLogger;
  /** The adapter's clock (epoch ms); tests share one with the fake venue. */
  now?: () => number;
  /** Waits between confirmation polls. */
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  /**
   * Progress beats: before every HTTP exchange and on every confirm-poll iteration. Default `beat`
   * (brokers/progress.ts), which reaches the broker activity's heartbeat when there is one.
   */
  heartbeat?: () => void;
}

/**
 * IG's REST trading API behind `BrokerAdapter`. Symbols are IG epics (e.g. `CS.D.EURUSD.CFD.IP`),
 * quantity is IG's `size`, a clientOrderId is the deal's `dealReference` (≤ 30 of [A-Za-z0-9_-]).
 * One adapter acts on one IG account (`accountId`); `account` arguments name the MAOTrade account,
 * which keys the submission journal.
 */
export class IgBrokerAdapter implements BrokerAdapter, ReportsCallBudgets {
  readonly name = BROKER;
  /**
   * Stops are attached to the position (IG `stopLevel`, non-guaranteed). The client order id is kept as
   * IG's dealReference but IG does not de-duplicate on it: exactly-once is this adapter's journal + look-ups.
   */
  readonly capabilities: BrokerCapabilities = Object.freeze({ supportsStopOrders: true, supportsClientOrderId: true });
  readonly config: IgConfig;
  readonly client: IgHttpClient;
  private readonly data: IgDataClient;
  private readonly lookups: IgLookups;
  private readonly execution: IgExecutionClient;
  private readonly stops: IgStopClient;
  private currency: Promise<string> | undefined;

  constructor(config: IgConfigInput | IgConfig, deps: IgAdapterDeps) {
    this.config = parseIgConfig(config);
    const now = deps.now ?? Date.now;
    const logger = deps.logger ?? SILENT_LOGGER;
    const heartbeat = deps.heartbeat ?? beat;
    this.client = new IgHttpClient(this.config, { now, logger, heartbeat, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
    this.data = new IgDataClient(this.client, now, () => this.accountCurrency());
    this.lookups = new IgLookups(this.client, this.config, now);
    this.execution = new IgExecutionClient({
      client: this.client,
      data: this.data,
      lookups: this.lookups,
      journal: deps.journal,
      config: this.config,
      now,
      sleep: deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      logger,
      heartbeat,
    });
    this.stops = new IgStopClient({ client: this.client, lookups: this.lookups, execution: this.execution, logger });
  }

  /** The worst case of every session call under this adapter's config (timeouts.ts). */
  callBudgets(): CallBudgets {
    return igCallBudgets(this.config);
  }

  async getAccount(account: string): Promise<AccountSnapshot> {
    const res = await this.client.request({ method: 'GET', path: '/accounts', version: 1 });
    const a = parseIg(IgAccountsBodySchema, res.body, 'accounts').accounts.find((x) => x.accountId === this.config.accountId);
    if (!a) throw new BrokerUnavailableError(`IG does not list account ${this.config.accountId} for this login`, BROKER);
    return { account, currency: a.currency, balance: a.balance.balance };
  }

  /** The IG account's currency (GET /accounts v1), asked once per adapter (a failed ask is asked again next time). */
  private accountCurrency(): Promise<string> {
    this.currency ??= this.getAccount('').then((a) => a.currency);
    this.currency.catch(() => (this.currency = undefined));
    return this.currency;
  }

  /** Every open position of the IG account; `positionRef` is the dealReference that opened it. */
  async getPositions(_account: string): Promise<BrokerPosition[]> {
    return (await this.lookups.positions()).map(positionToBroker);
  }

  placeOrder(order: OrderRequest): Promise<OrderReport> {
    return this.execution.placeOrder(order);
  }

  getOrder(account: string, clientOrderId: string): Promise<OrderReport | null> {
    return this.execution.getOrder(account, clientOrderId);
  }

  getCandles(request: CandleRequest): Promise<Frame[]> {
    return this.data.getCandles(request);
  }

  getLatestPrice(symbol: string): Promise<Quote> {
    return this.data.getLatestPrice(symbol);
  }

  getInstrument(symbol: string): Promise<Instrument> {
    return this.data.getInstrument(symbol);
  }

  /** Amends the open position with its stop level (stops.ts). */
  placeStop(req: StopRequest): Promise<StopReport> {
    return this.stops.placeStop(req);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

export { IgConfigSchema, igConfigFromEnv, parseIgConfig, IgConfigError, IG_ENV_VARS, type IgConfig, type IgConfigInput } from './config';
export { IgHttpClient, type IgLogger } from './client';
export { igCallBudgets, type IgTimingConfig } from './timeouts';
export { IgMalformedResponseError, igError, IG_RATE_LIMIT_CODES, IG_TOKEN_CODES, IG_AUTH_CODES } from './errors';
export { InMemorySubmissionJournal, MysqlSubmissionJournal, type SubmissionJournal, type SubmissionRecord, type SubmissionKey } from './journal';
