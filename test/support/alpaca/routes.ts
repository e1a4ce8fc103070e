import type { Brokerage } from './brokerage';
import { alpacaErrors } from './errors';
import type { Route, RouteResult } from './http-api';
import { addCalendarDays, newYorkDate, newYorkMidnight, tradingDays } from './market-clock';

/** Paths exactly as in Alpaca's OpenAPI documents (trading-api.json, market-data-api.json). */

function ok(body: unknown): RouteResult {
  return { status: 200, body };
}

function route(method: string, template: string, handle: Route['handle']): Route {
  const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '([^/]+)')}$`);
  return { method, template, pattern, handle };
}

/**
 * GET /v2/calendar's start and end (the spec: `date-time`, a "legacy time"): a date is that date; an
 * instant is the New York date it falls on — 2026-12-03T00:00:00Z is the evening of 2 December there.
 */
function calendarDate(value: string | undefined, name: string): string | undefined {
  if (value === undefined || /^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw alpacaErrors.invalidParameter(`invalid ${name}: ${value}`);
  return newYorkDate(at);
}

export function tradingRoutes(brokerage: Brokerage): Route[] {
  return [
    route('GET', '/v2/account', () => ok(brokerage.account())),
    route('GET', '/v2/clock', () => ok(brokerage.clock())),
    route('GET', '/v2/calendar', ({ query }) => {
      const start = calendarDate(query.start, 'start') ?? newYorkDate(new Date());
      const end = calendarDate(query.end, 'end') ?? addCalendarDays(start, 30);
      return ok(tradingDays(start, end).filter((day) => !brokerage.holidays.has(day.date)));
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
    route('GET', '/v2/stocks/bars', ({ query }) => ok(stockBars(brokerage, query))),
  ];
}

/** The timeframes market-data-api.json lists for bars. */
const TIMEFRAME =
  /^(?:(?:[1-9]|[1-5]\d)(?:Min|T)|(?:[1-9]|1\d|2[0-3])(?:Hour|H)|1(?:Day|D)|1(?:Week|W)|(?:[1-46]|12)(?:Month|M))$/;
const DEFAULT_BARS_LIMIT = 1000;
const MAX_BARS_LIMIT = 10_000;

/** RFC-3339, or a date alone (taken as New York midnight, where daily bars are stamped). */
function queryTime(value: string, name: string): number {
  const at = /^\d{4}-\d{2}-\d{2}$/.test(value) ? newYorkMidnight(value).getTime() : Date.parse(value);
  if (Number.isNaN(at)) throw alpacaErrors.invalidQuery(`invalid ${name}`);
  return at;
}

/**
 * GET /v2/stocks/bars as documented: bars of every symbol in [start, end] (start defaults to the
 * beginning of the current New York day, end to now), sorted by symbol, then by time (`sort`);
 * `limit` counts bars over all symbols, and a `next_page_token` continues after the last one sent.
 */
function stockBars(brokerage: Brokerage, query: Record<string, string>) {
  const symbols = [...new Set(symbolsOf(query))].sort();
  const timeframe = query.timeframe ?? '';
  if (!TIMEFRAME.test(timeframe)) throw alpacaErrors.invalidQuery('invalid timeframe');
  const limit = query.limit === undefined ? DEFAULT_BARS_LIMIT : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_BARS_LIMIT) throw alpacaErrors.invalidQuery('invalid limit');
  const sort = query.sort ?? 'asc';
  if (sort !== 'asc' && sort !== 'desc') throw alpacaErrors.invalidQuery('invalid sort');
  const start = query.start ? queryTime(query.start, 'start') : newYorkMidnight(newYorkDate(new Date())).getTime();
  const end = query.end ? queryTime(query.end, 'end') : Date.now();
  if (end < start) throw alpacaErrors.invalidQuery('end should not be before start');

  const daily = /^1(Day|D)$/.test(timeframe);
  const rows = symbols.flatMap((symbol) => {
    const bars = brokerage.historicalBars(symbol, daily).filter((b) => {
      const t = Date.parse(String(b.t));
      return t >= start && t <= end;
    });
    if (sort === 'desc') bars.reverse();
    return bars.map((bar) => ({ symbol, bar }));
  });
  const tokenOf = (row: { symbol: string; bar: Record<string, unknown> }) =>
    Buffer.from(`${row.symbol}|${String(row.bar.t)}`).toString('base64');
  let from = 0;
  if (query.page_token) {
    const after = rows.findIndex((row) => tokenOf(row) === query.page_token);
    if (after < 0) throw alpacaErrors.invalidQuery('invalid page token');
    from = after + 1;
  }
  const page = rows.slice(from, from + limit);
  const bars: Record<string, Record<string, unknown>[]> = {};
  for (const { symbol, bar } of page) {
    const list = bars[symbol] ?? [];
    list.push(bar);
    bars[symbol] = list;
  }
  const last = page.at(-1);
  return { bars, next_page_token: last && from + limit < rows.length ? tokenOf(last) : null };
}
