/**
 * The fake Alpaca venue's endpoints (trading API v2 and market data v2) over its state (state.ts): order submits
 * with Alpaca's checks and error bodies, order look-ups and lists, cancels, positions, the account, assets, the
 * clock, bars and the latest quote.
 */
import { randomUUID } from 'node:crypto';
import { assetId, dec, err, iso, TIMEFRAMES, WORKING, type FakeAlpacaState, type Order, type Reply } from './state';

/** The route table of one fake venue; `route` answers one request. */
export function createFakeAlpacaRoutes(st: FakeAlpacaState, options: { barsPageLimit: number }) {
  const { barsPageLimit } = options;
  const { orders, byClientId, positions, quotes, bars, assets, stamp, fill, marketPrice, available, newOrder, orderJson, positionJson, equity, cancel } = st;

  function submit(body: unknown): Reply {
    if (!body || typeof body !== 'object') return err(400, 40010000, 'request body format is invalid');
    const b = body as Record<string, unknown>;
    for (const f of ['symbol', 'side', 'type', 'time_in_force']) if (typeof b[f] !== 'string' || !b[f]) return err(422, 40010001, `${f} is required`);
    const symbol = String(b.symbol).toUpperCase();
    const side = b.side as string;
    const type = b.type as string;
    const tif = b.time_in_force as string;
    if (side !== 'buy' && side !== 'sell') return err(422, 40010001, `invalid side: ${side}`);
    if (!['day', 'gtc', 'opg', 'cls', 'ioc', 'fok'].includes(tif)) return err(422, 40010001, `invalid time_in_force: ${tif}`);
    if (type !== 'market' && type !== 'stop') return err(422, 40010001, `order type ${type} is not supported by this fake`);
    const qty = Number(b.qty);
    if (b.qty === undefined || b.qty === null || !Number.isFinite(qty) || qty <= 0) return err(422, 40010001, 'qty must be > 0');
    if (!Number.isInteger(qty) && tif !== 'day') return err(422, 42210000, 'fractional orders must be DAY orders');
    let cid = b.client_order_id === undefined ? randomUUID() : String(b.client_order_id);
    if (cid.length > 128) return err(422, 40010001, 'client_order_id must be no more than 128 characters');
    if (cid === '') cid = randomUUID();
    if (byClientId.has(cid)) return err(422, 40010001, 'client_order_id must be unique');
    const q = quotes.get(symbol);
    if (!q) return err(422, 40010001, `asset "${symbol}" not found`);
    let stop: number | null = null;
    if (type === 'stop') {
      stop = Number(b.stop_price);
      if (!Number.isFinite(stop) || stop <= 0) return err(422, 40010001, 'stop_price is required for stop orders');
      const decimals = (String(b.stop_price).split('.')[1] ?? '').length;
      if ((stop >= 1 && decimals > 2) || decimals > 4)
        return err(422, 42210000, `invalid stop_price ${b.stop_price}. sub-penny increment does not fulfill minimum pricing criteria`);
      if (side === 'sell' && stop >= q.bid) return err(422, 42210000, `stop price ${b.stop_price} must be below the current price ${q.bid} for a sell stop order`);
      if (side === 'buy' && stop <= q.ask) return err(422, 42210000, `stop price ${b.stop_price} must be above the current price ${q.ask} for a buy stop order`);
    }
    const pos = positions.get(symbol);
    const reducing = pos && ((pos.qty > 0 && side === 'sell') || (pos.qty < 0 && side === 'buy'));
    if (reducing && st.scenario.refuseReducing) return err(403, 40310000, st.scenario.refuseReducing);
    if (reducing) {
      const { free } = available(symbol, side as 'buy' | 'sell');
      if (qty > free + 1e-9) return err(403, 40310000, `insufficient qty available for order (requested: ${qty}, available: ${free})`);
    } else {
      const price = side === 'buy' ? q.ask : q.bid;
      if (type === 'market' && qty * price > st.cash + 1e-9)
        return err(403, 40310000, 'insufficient buying power', { buying_power: dec(st.cash), cost_basis: dec(qty * price) });
    }
    const o = newOrder({ symbol, side, type, qty, time_in_force: tif, stop_price: stop, client_order_id: cid } as Parameters<typeof newOrder>[0]);
    const answer = orderJson(o);
    // Accepted asynchronously, as at Alpaca: the answer says pending_new; the venue moves on right after.
    o.status = type === 'stop' ? 'new' : 'accepted';
    o.updated_at = stamp();
    st.emitTrade('new', o);
    if (type === 'market' && st.marketOpen) st.marketFill(o);
    return { status: 200, body: answer };
  }

  function listOrders(qs: URLSearchParams): Reply {
    const status = qs.get('status') ?? 'open';
    const limit = Math.min(Number(qs.get('limit') ?? 50), 500);
    const direction = qs.get('direction') ?? 'desc';
    const symbols = qs.get('symbols')?.split(',').map((s) => s.trim().toUpperCase());
    const after = qs.get('after') ? Date.parse(qs.get('after')!) : -Infinity;
    const until = qs.get('until') ? Date.parse(qs.get('until')!) : Infinity;
    const open = (o: Order) => WORKING.has(o.status) || o.status === 'pending_cancel';
    let list = orders.filter(
      (o) =>
        (status === 'all' || (status === 'open' ? open(o) : !open(o))) &&
        (!symbols || symbols.includes(o.symbol)) &&
        o.submitted_at > after &&
        o.submitted_at < until,
    );
    list = list.sort((a, b) => (direction === 'asc' ? a.submitted_at - b.submitted_at : b.submitted_at - a.submitted_at)).slice(0, limit);
    return { status: 200, body: list.map(orderJson) };
  }

  function getBars(symbol: string, qs: URLSearchParams): Reply {
    const tfName = qs.get('timeframe') ?? '';
    const tf = TIMEFRAMES[tfName];
    if (!tf) return err(422, 42210000, `invalid timeframe: ${tfName}`);
    const start = qs.get('start') ? Date.parse(qs.get('start')!) : -Infinity;
    const end = qs.get('end') ? Date.parse(qs.get('end')!) : Infinity;
    if (Number.isNaN(start) || Number.isNaN(end)) return err(422, 42210000, 'invalid start or end');
    const limit = Math.min(Number(qs.get('limit') ?? 1000), 10_000, barsPageLimit);
    const token = qs.get('page_token');
    const afterT = token ? Number(Buffer.from(token, 'base64').toString('utf8')) : -Infinity;
    const all = (bars.get(`${symbol}|${tf}`) ?? [])
      .filter((b) => {
        const t = Date.parse(String(b.t));
        return t >= start && t <= end && t > afterT;
      })
      .sort((a, b) => Date.parse(String(a.t)) - Date.parse(String(b.t)));
    const page = all.slice(0, limit);
    st.barsServed.requests++;
    st.barsServed.bars += page.length;
    const next = all.length > limit ? Buffer.from(String(Date.parse(String(page[page.length - 1]!.t)))).toString('base64') : null;
    return { status: 200, body: { bars: page, symbol, next_page_token: next } };
  }

  function route(method: string, path: string, qs: URLSearchParams, body: unknown): Reply {
    if (method === 'GET' && path === '/v2/account') {
      const e = equity();
      return {
        status: 200,
        body: {
          id: '6b1c1f1e-0000-4000-8000-00000000fa4e',
          account_number: 'PA3FAKE00001',
          status: 'ACTIVE',
          crypto_status: 'INACTIVE',
          currency: 'USD',
          buying_power: dec(st.cash),
          regt_buying_power: dec(st.cash),
          cash: dec(st.cash),
          portfolio_value: dec(e),
          equity: dec(e),
          last_equity: dec(e),
          long_market_value: '0',
          short_market_value: '0',
          multiplier: '1',
          pattern_day_trader: false,
          trading_blocked: false,
          transfers_blocked: false,
          account_blocked: false,
          shorting_enabled: true,
          trade_suspended_by_user: false,
          created_at: '2024-01-01T00:00:00.000000Z',
        },
      };
    }
    const assetPath = /^\/v2\/assets\/([^/]+)$/.exec(path);
    if (method === 'GET' && assetPath) {
      const symbol = decodeURIComponent(assetPath[1]!).toUpperCase();
      const a = assets.get(symbol) ?? (quotes.has(symbol) ? {} : undefined);
      if (!a) return err(404, 40410000, `asset not found for ${symbol}`);
      return {
        status: 200,
        body: {
          id: assetId(symbol),
          class: 'us_equity',
          exchange: 'NASDAQ',
          symbol,
          name: `${symbol} Common Stock`,
          status: a.status ?? 'active',
          tradable: a.tradable ?? true,
          marginable: true,
          maintenance_margin_requirement: 30,
          shortable: true,
          easy_to_borrow: true,
          fractionable: a.fractionable ?? true,
          attributes: [],
          ...(a.min_order_size !== undefined ? { min_order_size: a.min_order_size } : {}),
          ...(a.min_trade_increment !== undefined ? { min_trade_increment: a.min_trade_increment } : {}),
        },
      };
    }
    if (method === 'GET' && path === '/v2/clock') {
      const now = Date.now();
      return { status: 200, body: { timestamp: iso(now), is_open: st.marketOpen, next_open: iso(now + 3_600_000), next_close: iso(now + 7_200_000) } };
    }
    if (method === 'GET' && path === '/v2/positions') {
      return { status: 200, body: [...positions].map(([s, p]) => positionJson(s, p)) };
    }
    if (path === '/v2/orders') {
      if (method === 'POST') return submit(body);
      if (method === 'GET') return listOrders(qs);
    }
    if (method === 'GET' && path === '/v2/orders:by_client_order_id') {
      const cid = qs.get('client_order_id');
      if (!cid) return err(422, 40010001, 'client_order_id is missing');
      const o = byClientId.get(cid);
      return o ? { status: 200, body: orderJson(o) } : err(404, 40410000, 'order not found');
    }
    const byId = /^\/v2\/orders\/([^/]+)$/.exec(path);
    if (byId) {
      const o = orders.find((x) => x.id === decodeURIComponent(byId[1]!));
      if (method === 'GET') return o ? { status: 200, body: orderJson(o) } : err(404, 40410000, 'order not found');
      if (method === 'DELETE') {
        if (!o) return err(404, 40410000, 'order not found');
        if (!WORKING.has(o.status)) return err(422, 42210000, 'order is not cancelable');
        cancel(o);
        return { status: 204 };
      }
    }
    const barsPath = /^\/v2\/stocks\/([^/]+)\/bars$/.exec(path);
    if (method === 'GET' && barsPath) return getBars(decodeURIComponent(barsPath[1]!).toUpperCase(), qs);
    const quotePath = /^\/v2\/stocks\/([^/]+)\/quotes\/latest$/.exec(path);
    if (method === 'GET' && quotePath) {
      const symbol = decodeURIComponent(quotePath[1]!).toUpperCase();
      const q = quotes.get(symbol);
      if (!q) return err(404, 40410000, `no quote found for ${symbol}`);
      return { status: 200, body: { symbol, quote: { t: iso(q.t), ax: 'V', ap: q.ask, as: 1, bx: 'V', bp: q.bid, bs: 1, c: ['R'], z: 'C' } } };
    }
    return err(404, 40410000, 'endpoint not found');
  }

  return { route };
}
