import type { OrderReport } from '../../trading/order-report';
import { OrderOutcomeUnknownError } from '../errors';
import type { IgHttpClient } from './client';
import type { IgConfig } from './config';
import { BROKER, IG_DEAL_NOT_FOUND } from './errors';
import {
  activityToReport,
  closesDeal,
  confirmToReport,
  formatIgUtc,
  IgActivityBodySchema,
  IgConfirmBodySchema,
  IgPositionsBodySchema,
  oppositeDirection,
  opensDeal,
  parseIg,
  parseIgUtc,
  positionToReport,
  sideOf,
  type IgActivity,
  type IgConfirm,
  type IgPosition,
  type OrderFacts,
} from './parsing';

/** Channel of deals made through this API (IG activity history `channel`). */
export const API_CHANNEL = 'PUBLIC_WEB_API';
/** Channel of deals IG made itself: a triggered stop (or a margin close-out). */
export const SYSTEM_CHANNEL = 'SYSTEM';

export interface LookupResult {
  report: OrderReport | null;
  /** false when the activity search stopped at its page limit: absence is then not proven. */
  complete: boolean;
}

export interface CloseLookupResult extends LookupResult {
  /** The position the close acts on is still open at IG. */
  stillOpen: boolean;
  /** An activity that closed the position through another channel (a stop, the web platform). */
  closedElsewhere: IgActivity | null;
}

/**
 * Where IG keeps the outcome of a deal, asked in order: the confirmation under its deal reference
 * (GET /confirms/{ref}, kept only about a minute), the open positions (GET /positions v2, each carries
 * the dealReference that opened it), and the account activity history (GET /history/activity v3,
 * detailed, lasting).
 */
export class IgLookups {
  constructor(
    private readonly client: IgHttpClient,
    private readonly config: IgConfig,
    private readonly now: () => number,
  ) {}

  /** The deal confirmation under `dealReference`, or null when IG has none (never seen, or expired). */
  async confirm(dealReference: string): Promise<IgConfirm | null> {
    const res = await this.client.request({
      method: 'GET',
      path: `/confirms/${encodeURIComponent(dealReference)}`,
      version: 1,
      passErrorCodes: [IG_DEAL_NOT_FOUND],
    });
    if (res.errorCode === IG_DEAL_NOT_FOUND) return null;
    return parseIg(IgConfirmBodySchema, res.body, `deal confirmation ${dealReference}`);
  }

  async positions(): Promise<IgPosition[]> {
    const res = await this.client.request({ method: 'GET', path: '/positions', version: 2 });
    return parseIg(IgPositionsBodySchema, res.body, 'positions').positions;
  }

  /**
   * Activities since `fromMs` (detailed) that `keep` selects, following IG's paging links up to
   * `activityMaxPages` pages. `complete` is false when pages were left unread.
   */
  async activities(fromMs: number, keep: (a: IgActivity) => boolean): Promise<{ matches: IgActivity[]; complete: boolean }> {
    const matches: IgActivity[] = [];
    let path = '/history/activity';
    let query: Record<string, string | number | boolean> | undefined = {
      from: formatIgUtc(Math.max(0, fromMs)),
      detailed: true,
      pageSize: this.config.activityPageSize,
    };
    for (let page = 0; page < this.config.activityMaxPages; page++) {
      const res = await this.client.request({ method: 'GET', path, version: 3, query });
      const body = parseIg(IgActivityBodySchema, res.body, 'activity history');
      matches.push(...body.activities.filter(keep));
      const next = body.metadata?.paging?.next;
      if (!next || body.activities.length === 0) return { matches, complete: true };
      path = this.gatewayPath(next);
      query = undefined;
    }
    return { matches, complete: false };
  }

  /** The open order `ref` (our dealReference): confirms, then positions, then activity since `fromMs`. */
  async open(ref: string, facts: OrderFacts, fromMs: number): Promise<LookupResult> {
    const c = await this.confirm(ref);
    if (c) return { report: confirmToReport(c, facts), complete: true };
    const pos = (await this.positions()).find((p) => p.position.dealReference === ref);
    if (pos) return { report: positionToReport(pos, facts.clientOrderId), complete: true };
    const { matches, complete } = await this.activities(fromMs, (a) => a.details?.dealReference === ref);
    const settled = matches.map((a) => activityToReport(a, facts)).find((r) => r !== null);
    if (settled) return { report: settled, complete: true };
    if (matches.length > 0) {
      // IG knows the deal but has not settled it (status UNKNOWN): it exists, so it must never be re-sent.
      throw new OrderOutcomeUnknownError(`IG lists deal ${ref} with status ${matches[0]!.status}`, BROKER, ref, this.config.confirmWindowMs);
    }
    return { report: null, complete };
  }

  /**
   * The close order `facts.clientOrderId`, sent at `postedAtMs` against position `targetDealId`; IG gave it
   * the deal reference `brokerRef` when the answer got back to us. A close without a known brokerRef is
   * recognised as an API-channel activity closing the position after the submit.
   */
  async close(
    sub: { postedAtMs: number; brokerRef: string | null; targetDealId: string },
    facts: OrderFacts,
  ): Promise<CloseLookupResult> {
    if (sub.brokerRef) {
      const c = await this.confirm(sub.brokerRef);
      if (c) return { report: confirmToReport(c, facts), complete: true, stillOpen: false, closedElsewhere: null };
    }
    const stillOpen = (await this.positions()).some((p) => p.position.dealId === sub.targetDealId);
    const since = sub.postedAtMs - this.config.activitySearchMarginMs;
    const { matches, complete } = await this.activities(
      since,
      (a) => (!!sub.brokerRef && a.details?.dealReference === sub.brokerRef) || closesDeal(a, sub.targetDealId),
    );
    const ours = matches.find(
      (a) =>
        (!!sub.brokerRef && a.details?.dealReference === sub.brokerRef) ||
        (a.channel === API_CHANNEL && closesDeal(a, sub.targetDealId) && (parseIgUtc(a.date) ?? 0) >= since),
    );
    if (ours) {
      const report = activityToReport(ours, facts);
      if (!report) throw new OrderOutcomeUnknownError(`IG lists the close with status ${ours.status}`, BROKER, facts.clientOrderId, this.config.confirmWindowMs);
      return { report, complete: true, stillOpen, closedElsewhere: null };
    }
    const elsewhere = matches.find((a) => a.status === 'ACCEPTED' && closesDeal(a, sub.targetDealId)) ?? null;
    return { report: null, complete, stillOpen, closedElsewhere: elsewhere };
  }

  /**
   * The fill of the protective stop of the position opened by `positionRef`: an activity through IG's
   * SYSTEM channel closing that position's deal. Null while the position is open or closed otherwise.
   * `dealId` (when the journal knows it) spares the search for the opening activity's deal id.
   */
  async stop(positionRef: string, stopId: string, fromMs: number, dealId: string | null): Promise<OrderReport | null> {
    if ((await this.positions()).some((p) => p.position.dealReference === positionRef)) return null;
    const { matches } = await this.activities(
      fromMs,
      (a) => a.details?.dealReference === positionRef || (a.details?.actions ?? []).some((x) => x.actionType.startsWith('POSITION_')),
    );
    const opening = matches.find((a) => a.details?.dealReference === positionRef && a.status === 'ACCEPTED' && opensDeal(a));
    const id = dealId ?? (opening ? opensDeal(opening) : null);
    if (!id) return null;
    const closing = matches.find((a) => a.channel === SYSTEM_CHANNEL && a.status === 'ACCEPTED' && closesDeal(a, id));
    if (!closing) return null;
    const openDir = opening?.details?.direction ?? null;
    const closeDir = closing.details?.direction ?? (openDir ? oppositeDirection(openDir) : null);
    const level = closing.details?.level;
    const size = closing.details?.size ?? opening?.details?.size ?? 0;
    if (typeof level !== 'number' || !(level > 0) || !closeDir) return null;
    return {
      clientOrderId: stopId,
      brokerOrderId: closing.dealId ?? '',
      status: 'filled',
      symbol: closing.epic ?? opening?.epic ?? '',
      side: sideOf(closeDir),
      quantity: size,
      filledQuantity: size,
      fillPrice: level,
      filledAt: parseIgUtc(closing.date),
      reason: 'protective stop: IG closed the position',
    };
  }

  /** A paging link from IG (absolute, or relative to the host or to the gateway) as a path under the gateway. */
  private gatewayPath(next: string): string {
    const base = new URL(this.config.baseUrl);
    const url = new URL(next, `${base.origin}${base.pathname}/`);
    const prefix = base.pathname.replace(/\/+$/, '');
    const p = url.pathname.startsWith(`${prefix}/`) ? url.pathname.slice(prefix.length) : url.pathname;
    return `${p}${url.search}`;
  }

  /** Epoch ms from which activity is searched for a submission sent at `postedAtMs` (or unknown). */
  searchFrom(postedAtMs: number | null): number {
    return postedAtMs !== null ? postedAtMs - this.config.activitySearchMarginMs : this.now() - this.config.activityLookbackMs;
  }
}
