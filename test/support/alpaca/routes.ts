import type { Brokerage } from './brokerage';
import { alpacaErrors } from './errors';
import type { Route, RouteResult } from './http-api';
import { addCalendarDays, newYorkDate, tradingDays } from './market-clock';

/** Paths exactly as in Alpaca's OpenAPI documents (trading-api.json, market-data-api.json). */

function ok(body: unknown): RouteResult {
  return { status: 200, body };
}

function route(method: string, template: string, handle: Route['handle']): Route {
  const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '([^/]+)')}$`);
  return { method, template, pattern, handle };
}

export function tradingRoutes(brokerage: Brokerage): Route[] {
  return [
    route('GET', '/v2/account', () => ok(brokerage.account())),
    route('GET', '/v2/clock', () => ok(brokerage.clock())),
    route('GET', '/v2/calendar', ({ query }) => {
      const start = query.start?.slice(0, 10) ?? newYorkDate(new Date());
      const end = query.end?.slice(0, 10) ?? addCalendarDays(start, 30);
      return ok(tradingDays(start, end));
    }),
    route('GET', '/v2/assets', ({ query }) =>
      ok(
        brokerage.listAssets({
          status: query.status,
          asset_class: query.asset_class ?? 'us_equity',
          exchange: query.exchange,
        }),
      ),
    ),
    route('GET', '/v2/assets/{symbol_or_asset_id}', ({ params: [symbol] }) => {
      const asset = brokerage.findAsset(symbol!);
      if (!asset) throw alpacaErrors.assetNotFound();
      return ok(asset);
    }),
    route('POST', '/v2/orders', ({ body }) => ok(brokerage.submitOrder(body))),
    route('GET', '/v2/orders', ({ query }) => ok(brokerage.listOrders(query))),
    route('DELETE', '/v2/orders', () => ({ status: 207, body: brokerage.cancelAllOrders() })),
    route('GET', '/v2/orders:by_client_order_id', ({ query }) => {
      if (!query.client_order_id) throw alpacaErrors.invalidParameter('client_order_id is required');
      return ok(brokerage.orderByClientOrderId(query.client_order_id));
    }),
    route('GET', '/v2/orders/{order_id}', ({ params: [id] }) => ok(brokerage.orderById(id!))),
    route('DELETE', '/v2/orders/{order_id}', ({ params: [id] }) => {
      brokerage.cancelOrderRequest(id!);
      return { status: 204 };
    }),
    route('GET', '/v2/positions', () => ok(brokerage.listPositions())),
    route('GET', '/v2/positions/{symbol_or_asset_id}', ({ params: [symbol] }) => ok(brokerage.position(symbol!))),
    route('GET', '/v2/account/portfolio/history', ({ query }) => ok(brokerage.portfolioHistory(query))),
    route('GET', '/v2/account/activities/{activity_type}', ({ params: [type], query }) =>
      ok(type === 'FILL' ? brokerage.fillActivities(query) : []),
    ),
    route('GET', '/v2/account/activities', ({ query }) => {
      const types = query.activity_types?.split(',');
      return ok(types === undefined || types.includes('FILL') ? brokerage.fillActivities(query) : []);
    }),
  ];
}

function symbolsOf(query: Record<string, string>): string[] {
  if (!query.symbols) throw alpacaErrors.missingSymbols();
  return query.symbols
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== '');
}

export function marketDataRoutes(brokerage: Brokerage): Route[] {
  const snapshot = (symbol: string) => {
    const bars = brokerage.dailyBars(symbol);
    if (!bars) return null;
    return {
      latestTrade: brokerage.latestTrade(symbol),
      latestQuote: brokerage.latestQuote(symbol),
      minuteBar: bars.minute,
      dailyBar: bars.today,
      prevDailyBar: bars.previous,
    };
  };
  return [
    // Alpaca answers null for a symbol it has no snapshot for (alpacahq/alpaca-py#157).
    route('GET', '/v2/stocks/snapshots', ({ query }) =>
      ok(Object.fromEntries(symbolsOf(query).map((s) => [s, snapshot(s)]))),
    ),
    route('GET', '/v2/stocks/{symbol}/snapshot', ({ params: [symbol] }) =>
      ok({ symbol: symbol!.toUpperCase(), ...snapshot(symbol!) }),
    ),
    route('GET', '/v2/stocks/trades/latest', ({ query }) => {
      const trades = symbolsOf(query).flatMap((s) => {
        const trade = brokerage.latestTrade(s);
        return trade ? [[s, trade] as const] : [];
      });
      return ok({ trades: Object.fromEntries(trades) });
    }),
    route('GET', '/v2/stocks/quotes/latest', ({ query }) => {
      const quotes = symbolsOf(query).flatMap((s) => {
        const quote = brokerage.latestQuote(s);
        return quote ? [[s, quote] as const] : [];
      });
      return ok({ quotes: Object.fromEntries(quotes) });
    }),
    route('GET', '/v2/stocks/bars', ({ query }) => {
      const daily = /^1(Day|D)$/.test(query.timeframe ?? '1Day');
      const bars = symbolsOf(query).flatMap((s) => {
        const b = brokerage.dailyBars(s);
        if (!b) return [];
        return [[s, daily ? [b.previous, b.today] : [b.minute]] as const];
      });
      return ok({ bars: Object.fromEntries(bars), next_page_token: null });
    }),
  ];
}
