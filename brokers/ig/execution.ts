import { unfilledReport, type OrderReport } from '../../trading/order-report';
import { OrderRequestSchema, type OrderRequest } from '../../trading/order-request';
import { stopLegRef } from '../../trading/client-order-id';
import {
  BrokerAuthError,
  BrokerError,
  InvalidOrderError,
  OrderOutcomeUnknownError,
  RateLimitedError,
} from '../errors';
import type { IgHttpClient, IgLogger } from './client';
import type { IgConfig } from './config';
import { checkEpic, type IgDataClient, type IgDealTerms } from './data';
import { BROKER, IgMalformedResponseError } from './errors';
import type { SubmissionJournal, SubmissionKey, SubmissionRecord } from './journal';
import type { IgLookups } from './lookup';
import {
  confirmToReport,
  directionOf,
  IgDealReferenceBodySchema,
  oppositeDirection,
  parseIg,
  type IgConfirm,
  type IgPosition,
  type OrderFacts,
} from './parsing';

/** IG's documented pattern for a user-defined deal reference. */
export const DEAL_REFERENCE_PATTERN = /^[A-Za-z0-9_-]{1,30}$/;

export interface IgExecutionDeps {
  client: IgHttpClient;
  data: IgDataClient;
  lookups: IgLookups;
  journal: SubmissionJournal;
  config: IgConfig;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  logger: IgLogger;
  /** A progress beat on every confirm-poll iteration (brokers/progress.ts). */
  heartbeat: () => void;
}

/** The broker refused the request before acting on it: nothing was dealt, the journal entry can go. */
const refusedBeforeDealing = (err: unknown) =>
  err instanceof RateLimitedError || err instanceof InvalidOrderError || err instanceof BrokerAuthError;

/**
 * Orders at IG, exactly once (invariant 1). IG does not promise to de-duplicate a re-sent dealReference,
 * so every submit is: look the reference up (confirms → positions → activity), journal it, then send.
 * When the answer is lost, the outcome is looked up again; an order the journal says was sent and no
 * look-up finds is *unknown* (OrderOutcomeUnknownError, retryable), never re-sent blindly and never
 * reported as failed. Only once IG's lasting activity history has stayed silent for
 * `unknownOutcomeSettleMs` after the send does it count as never dealt, and may be sent again.
 */
export class IgExecutionClient {
  constructor(private readonly d: IgExecutionDeps) {}

  async placeOrder(input: OrderRequest): Promise<OrderReport> {
    const order = validate(input);
    return order.intent === 'open' ? this.open(order) : this.closePosition(order);
  }

  /** The order with this client order id as IG reports it, or null when IG shows no trace of it. */
  async getOrder(account: string, clientOrderId: string): Promise<OrderReport | null> {
    const facts: OrderFacts = { clientOrderId, symbol: '', side: 'buy', quantity: 0 };
    const positionRef = stopLegRef(clientOrderId);
    if (positionRef !== null) {
      const opened = await this.d.journal.find(this.key(account, positionRef));
      return this.d.lookups.stop(positionRef, clientOrderId, this.d.lookups.searchFrom(opened?.postedAtMs ?? null), opened?.brokerDealId ?? null);
    }
    const rec = await this.d.journal.find(this.key(account, clientOrderId));
    if (rec?.targetDealId) {
      return (await this.d.lookups.close({ ...rec, targetDealId: rec.targetDealId }, facts)).report;
    }
    return (await this.d.lookups.open(clientOrderId, facts, this.d.lookups.searchFrom(rec?.postedAtMs ?? null))).report;
  }

  // ---- open --------------------------------------------------------------------------------------

  private async open(order: OrderRequest): Promise<OrderReport> {
    const { journal, lookups } = this.d;
    const ref = order.clientOrderId;
    const facts = factsOf(order);
    const key = this.key(order.account, ref);
    const rec = await journal.find(key);
    const found = await lookups.open(ref, facts, lookups.searchFrom(rec?.postedAtMs ?? null));
    if (found.report) return this.remember(key, rec, found.report);

    const terms = await this.d.data.dealTerms(order.symbol);
    if (!rec) {
      const postedAtMs = this.d.now();
      if (!(await journal.claim(key, postedAtMs))) throw this.unknown(ref, 'another attempt is sending this order right now', this.d.config.confirmWindowMs);
      return this.submitOpen(order, facts, key, postedAtMs, terms);
    }
    const postedAtMs = await this.rearm(key, rec, found.complete, null);
    this.d.logger.warn({ clientOrderId: ref, sentAtMs: rec.postedAtMs }, 'IG shows no trace of an order sent long ago; sending it again');
    return this.submitOpen(order, facts, key, postedAtMs, terms);
  }

  private async submitOpen(order: OrderRequest, facts: OrderFacts, key: SubmissionKey, postedAtMs: number, terms: IgDealTerms): Promise<OrderReport> {
    const ref = order.clientOrderId;
    const body = {
      epic: order.symbol,
      expiry: terms.expiry,
      direction: directionOf(order.side),
      size: order.quantity,
      orderType: 'MARKET',
      currencyCode: terms.currencyCode,
      forceOpen: true,
      guaranteedStop: false,
      dealReference: ref,
      ...(order.stopLevel !== undefined ? { stopLevel: order.stopLevel } : {}),
    };
    try {
      const res = await this.d.client.request({ method: 'POST', path: '/positions/otc', version: 2, body });
      const answered = IgDealReferenceBodySchema.safeParse(res.body);
      if (answered.success && answered.data.dealReference !== ref) {
        this.d.logger.warn({ clientOrderId: ref, dealReference: answered.data.dealReference }, 'IG answered another deal reference');
      }
    } catch (err) {
      if (refusedBeforeDealing(err)) {
        await this.d.journal.release(key, postedAtMs);
        throw err;
      }
      this.d.logger.warn({ clientOrderId: ref, error: (err as Error).message }, 'IG submit outcome unknown; looking it up');
      return this.settleOpen(ref, facts, key, postedAtMs);
    }
    const c = await this.pollConfirm(ref);
    if (c) return this.remember(key, { postedAtMs }, confirmToReport(c, facts));
    return this.settleOpen(ref, facts, key, postedAtMs);
  }

  /** After a lost or unconfirmed submit: confirms (for the confirm window), positions, activity; else unknown. */
  private async settleOpen(ref: string, facts: OrderFacts, key: SubmissionKey, postedAtMs: number): Promise<OrderReport> {
    try {
      const c = await this.pollConfirm(ref);
      if (c) return this.remember(key, { postedAtMs }, confirmToReport(c, facts));
      const found = await this.d.lookups.open(ref, facts, this.d.lookups.searchFrom(postedAtMs));
      if (found.report) return this.remember(key, { postedAtMs }, found.report);
    } catch (err) {
      if (err instanceof OrderOutcomeUnknownError) throw err;
      throw this.unknown(ref, `look-up failed: ${(err as Error).message}`, this.d.config.unknownOutcomeSettleMs);
    }
    throw this.unknown(ref, 'sent, but IG shows no trace of it yet', this.d.config.unknownOutcomeSettleMs);
  }

  // ---- close -------------------------------------------------------------------------------------

  private async closePosition(order: OrderRequest): Promise<OrderReport> {
    const { journal, lookups } = this.d;
    const facts = factsOf(order);
    const key = this.key(order.account, order.clientOrderId);
    const positionRef = order.positionRef!;
    const rec = await journal.find(key);
    if (rec?.targetDealId) {
      const target = rec.targetDealId;
      const found = await lookups.close({ ...rec, targetDealId: target }, facts);
      if (found.report) return found.report;
      if (!found.stillOpen) {
        if (found.closedElsewhere && found.complete && this.settled(rec)) {
          return rejected(order, `position ${positionRef} was closed by IG (${found.closedElsewhere.channel ?? 'unknown channel'}) before this close`);
        }
        throw this.unknown(order.clientOrderId, `position ${positionRef} is gone but this close is not found yet`, this.remaining(rec));
      }
      const pos = (await lookups.positions()).find((p) => p.position.dealId === target);
      if (!pos) throw this.unknown(order.clientOrderId, `position ${positionRef} changed during the look-up`, this.d.config.confirmWindowMs);
      const postedAtMs = await this.rearm(key, rec, found.complete, target);
      this.d.logger.warn({ clientOrderId: order.clientOrderId, positionRef }, 'IG shows no trace of a close sent long ago; sending it again');
      return this.submitClose(order, facts, key, postedAtMs, pos);
    }

    const pos = (await lookups.positions()).find((p) => p.position.dealReference === positionRef);
    if (!pos) return rejected(order, `position ${positionRef} is not open at IG`);
    const expected = oppositeDirection(pos.position.direction);
    if (directionOf(order.side) !== expected || pos.position.size !== order.quantity) {
      return rejected(order, `close of ${positionRef} must be ${expected === 'BUY' ? 'buy' : 'sell'} ${pos.position.size}`);
    }
    const postedAtMs = this.d.now();
    if (!(await journal.claim(key, postedAtMs, pos.position.dealId))) {
      throw this.unknown(order.clientOrderId, 'another attempt is sending this close right now', this.d.config.confirmWindowMs);
    }
    return this.submitClose(order, facts, key, postedAtMs, pos);
  }

  /**
   * POST /positions/otc with `_method: DELETE` (v1). IG's close request takes no deal reference of ours:
   * IG assigns one and answers it; it is journaled at once, and the outcome is confirmed under it.
   */
  private async submitClose(order: OrderRequest, facts: OrderFacts, key: SubmissionKey, postedAtMs: number, pos: IgPosition): Promise<OrderReport> {
    const target = pos.position.dealId;
    const body = {
      dealId: target,
      direction: oppositeDirection(pos.position.direction),
      size: order.quantity,
      orderType: 'MARKET',
    };
    let brokerRef: string | null = null;
    try {
      const res = await this.d.client.request({ method: 'POST', path: '/positions/otc', version: 1, methodOverride: 'DELETE', body });
      brokerRef = parseIg(IgDealReferenceBodySchema, res.body, 'close answer').dealReference;
      await this.d.journal.annotate(key, { brokerRef });
    } catch (err) {
      if (refusedBeforeDealing(err)) {
        await this.d.journal.release(key, postedAtMs);
        throw err;
      }
      this.d.logger.warn({ clientOrderId: order.clientOrderId, error: (err as Error).message }, 'IG close outcome unknown; looking it up');
    }
    try {
      if (brokerRef) {
        const c = await this.pollConfirm(brokerRef);
        if (c) return confirmToReport(c, facts);
      }
      const found = await this.d.lookups.close({ postedAtMs, brokerRef, targetDealId: target }, facts);
      if (found.report) return found.report;
    } catch (err) {
      if (err instanceof OrderOutcomeUnknownError) throw err;
      throw this.unknown(order.clientOrderId, `look-up failed: ${(err as Error).message}`, this.d.config.unknownOutcomeSettleMs);
    }
    throw this.unknown(order.clientOrderId, 'close sent, but IG shows no trace of it yet', this.d.config.unknownOutcomeSettleMs);
  }

  // ---- shared ------------------------------------------------------------------------------------

  /**
   * GET /confirms/{ref} every `confirmPollIntervalMs` for `confirmWindowMs` (IG confirms a deal shortly
   * after the submit answers). Transient failures inside the window are polled through. Also used by the
   * stop amendments (stops.ts). Beats on every iteration; at most W + T long (timeouts.ts).
   */
  async pollConfirm(ref: string): Promise<IgConfirm | null> {
    const { config, now, sleep } = this.d;
    const deadline = now() + config.confirmWindowMs;
    for (;;) {
      this.d.heartbeat();
      try {
        const c = await this.d.lookups.confirm(ref);
        if (c) return c;
      } catch (err) {
        if (!(err instanceof BrokerError) || !err.retryable || err instanceof IgMalformedResponseError) throw err;
        this.d.logger.debug({ dealReference: ref, error: err.message }, 'IG confirm poll failed; polling on');
      }
      const left = deadline - now();
      if (left <= 0) return null;
      await sleep(Math.min(config.confirmPollIntervalMs, left));
    }
  }

  /**
   * A submission the journal says was sent and no look-up finds: unknown until `unknownOutcomeSettleMs`
   * have passed with a complete activity search; then it is re-armed (atomically) for one new send.
   */
  private async rearm(key: SubmissionKey, rec: SubmissionRecord, searchComplete: boolean, targetDealId: string | null): Promise<number> {
    if (!this.settled(rec) || !searchComplete) {
      throw this.unknown(key.clientOrderId, `sent ${this.d.now() - rec.postedAtMs} ms ago; IG shows no trace of it yet`, this.remaining(rec));
    }
    const postedAtMs = this.d.now();
    if (!(await this.d.journal.reclaim(key, rec.postedAtMs, postedAtMs, targetDealId))) {
      throw this.unknown(key.clientOrderId, 'another attempt is sending this order right now', this.d.config.confirmWindowMs);
    }
    return postedAtMs;
  }

  private settled(rec: SubmissionRecord): boolean {
    return this.d.now() - rec.postedAtMs >= this.d.config.unknownOutcomeSettleMs;
  }

  private remaining(rec: SubmissionRecord): number {
    return Math.max(this.d.config.confirmPollIntervalMs, rec.postedAtMs + this.d.config.unknownOutcomeSettleMs - this.d.now());
  }

  /** Keeps the deal id of a filled open in the journal (stop look-ups use it). */
  private async remember(key: SubmissionKey, rec: Pick<SubmissionRecord, 'postedAtMs'> | null, report: OrderReport): Promise<OrderReport> {
    if (rec && report.status === 'filled' && report.brokerOrderId) {
      await this.d.journal.annotate(key, { brokerDealId: report.brokerOrderId }).catch((err) => {
        this.d.logger.warn({ clientOrderId: key.clientOrderId, error: (err as Error).message }, 'could not note the deal id in the journal');
      });
    }
    return report;
  }

  private unknown(clientOrderId: string, why: string, retryAfterMs: number): OrderOutcomeUnknownError {
    return new OrderOutcomeUnknownError(`IG order ${clientOrderId}: outcome unknown (${why})`, BROKER, clientOrderId, retryAfterMs);
  }

  private key(account: string, clientOrderId: string): SubmissionKey {
    return { broker: BROKER, account, clientOrderId };
  }
}

function validate(input: OrderRequest): OrderRequest {
  const parsed = OrderRequestSchema.safeParse(input);
  if (!parsed.success) {
    throw new InvalidOrderError(`invalid order: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, BROKER);
  }
  const order = parsed.data;
  if (!DEAL_REFERENCE_PATTERN.test(order.clientOrderId)) {
    throw new InvalidOrderError(`clientOrderId "${order.clientOrderId}" is not a valid IG deal reference (1-30 of A-Z a-z 0-9 _ -)`, BROKER);
  }
  checkEpic(order.symbol);
  return order;
}

function factsOf(order: OrderRequest): OrderFacts {
  return { clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side, quantity: order.quantity };
}

function rejected(order: OrderRequest, reason: string): OrderReport {
  return unfilledReport(order, 'rejected', reason);
}
