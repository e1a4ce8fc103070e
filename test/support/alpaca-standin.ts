import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Asset,
  Brokerage,
  type DailyBarInput,
  type PortfolioPoint,
  type PriceInput,
  type StandInOrder,
  type TradeUpdate,
} from './alpaca/brokerage';
import {
  type ApiName,
  createApiServer,
  FaultBook,
  type FaultInjection,
  pathMatches,
  RequestBudget,
  type StandInRequest,
} from './alpaca/http-api';
import { marketDataRoutes, tradingRoutes } from './alpaca/routes';
import { TradeUpdateStream } from './alpaca/trade-stream';

/**
 * A local, stateful Alpaca for broker and end-to-end tests: the trading REST API, the market-data
 * REST API (a second server, so a client that mixes up the two hosts fails) and the
 * `trade_updates` WebSocket, with Alpaca's response shapes, error bodies and order rules.
 * The real SDK works against it once its hosts are rewritten to `baseUrl` / `dataUrl`.
 */

export type {
  ApiName,
  Asset,
  DailyBarInput,
  FaultInjection,
  PortfolioPoint,
  PriceInput,
  StandInOrder,
  StandInRequest,
  TradeUpdate,
};

export interface AlpacaStandInOptions {
  keyId?: string;
  secretKey?: string;
  /** Default false: a day order is `accepted` and queued until setMarketOpen(true). */
  marketOpen?: boolean;
  /** Starting cash and buying power. Default '100000'. */
  cash?: string;
  /** Per API host (trading, market data), like Alpaca's per-key limit. Default 200. */
  rateLimitPerMinute?: number;
  /** 'immediate' fills routed orders the current quote can fill; 'manual' leaves fills to fill(). */
  fillMode?: 'immediate' | 'manual';
  accountNumber?: string;
  /** Seed AAPL, MSFT, TSLA and SPY with prices. Default true. */
  defaultAssets?: boolean;
}

export interface AlpacaStandIn {
  /** Trading REST, e.g. 'http://127.0.0.1:<port>'. */
  baseUrl: string;
  /** Market-data REST (its own server). */
  dataUrl: string;
  /** 'ws://127.0.0.1:<port>/stream' on the trading server. */
  streamUrl: string;
  keyId: string;
  secretKey: string;
  /** Every HTTP request, in the order they were answered. */
  requests: StandInRequest[];
  /** Requests matching method and path (a string is the exact path, a RegExp is tested). */
  requestCount(filter?: { method?: string; path?: string | RegExp }): number;
  /** Every trade_updates event sent (or that would have been sent with nobody listening). */
  tradeUpdates(): TradeUpdate[];
  /** The endpoints served, with paths written as in Alpaca's OpenAPI documents. */
  endpoints(): { api: ApiName; method: string; path: string }[];

  /** Opening the market routes queued orders (`new` events) and, in immediate mode, fills what the quotes allow. */
  setMarketOpen(open: boolean, opts?: { nextOpen?: Date; nextClose?: Date }): void;
  /** Defaults: active, tradable, fractionable, shortable, exchange NASDAQ, name `${symbol} Inc.`. */
  addAsset(a: Partial<Asset> & { symbol: string }): void;
  /** Feeds snapshots, latest trades/quotes and fills; bid/ask default to last. Re-checks resting orders. */
  setPrice(symbol: string, p: PriceInput): void;
  /** Snapshots answer null for this symbol and latest trades/quotes leave it out. */
  setNoSnapshot(symbol: string): void;
  /** Sets the buying power before open buy orders are reserved; fills move it like cash. */
  setBuyingPower(amount: string): void;
  setPatternDayTraderBlocked(blocked: boolean): void;
  setPortfolioHistory(points: PortfolioPoint[]): void;
  /**
   * Replaces a symbol's daily bars (GET /v2/stocks/bars with timeframe 1Day); without this, its
   * daily bars are yesterday's and today's sessions as its quote implies.
   */
  setDailyBars(symbol: string, bars: readonly DailyBarInput[]): void;
  /** Market holidays (New York dates, YYYY-MM-DD): the calendar leaves them out. */
  setHolidays(dates: readonly string[]): void;
  orders(): StandInOrder[];
  order(idOrClientId: string): StandInOrder | undefined;
  positions(): { symbol: string; qty: string; avg_entry_price: string }[];
  /** Broker-side drift for reconciliation tests: no order, no fill, no cash movement. qty '0' removes. */
  setPosition(symbol: string, qty: string, avgEntryPrice: string): void;
  /** An order placed "elsewhere": no validation, then the normal lifecycle. */
  placeExternalOrder(o: { symbol: string; side: 'buy' | 'sell'; qty: string; clientOrderId?: string }): StandInOrder;
  /** A (partial) fill at `price` (default: the quote, bounded by the limit). Routes a queued order first. */
  fill(orderIdOrClientId: string, qty: string, price?: string): void;
  cancel(orderIdOrClientId: string): void;
  reject(orderIdOrClientId: string, reason?: string): void;
  expire(orderIdOrClientId: string): void;

  /** Matched by method + path prefix or RegExp, consumed `times` (default 1). */
  inject(f: FaultInjection): void;
  /** Drops every injected fault not yet consumed. */
  clearFaults(): void;
  /** Added to every HTTP request (benchmarks). */
  setLatency(ms: number): void;
  dropStreamConnections(): void;
  streamConnectionCount(): number;
  /** Resolves once some stream connection is authenticated and listening to trade_updates. */
  waitForStreamListening(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_ASSETS: { asset: Partial<Asset> & { symbol: string }; price: PriceInput }[] = [
  {
    asset: {
      symbol: 'AAPL',
      id: 'b0b6dd9d-8b9b-48a9-ba46-b9d54906e415',
      name: 'Apple Inc. Common Stock',
      exchange: 'NASDAQ',
    },
    price: { last: '189.42', bid: '189.40', ask: '189.44', prevClose: '187.15' },
  },
  {
    asset: { symbol: 'MSFT', name: 'Microsoft Corporation Common Stock', exchange: 'NASDAQ' },
    price: { last: '415.10', bid: '415.05', ask: '415.15', prevClose: '412.30' },
  },
  {
    asset: { symbol: 'TSLA', name: 'Tesla, Inc. Common Stock', exchange: 'NASDAQ' },
    price: { last: '248.50', bid: '248.45', ask: '248.55', prevClose: '251.00' },
  },
  {
    asset: { symbol: 'SPY', name: 'SPDR S&P 500 ETF Trust', exchange: 'ARCA' },
    price: { last: '520.00', bid: '519.98', ask: '520.02', prevClose: '518.40' },
  },
];

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

async function shutDown(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export async function startAlpacaStandIn(opts: AlpacaStandInOptions = {}): Promise<AlpacaStandIn> {
  const credentials = {
    keyId: opts.keyId ?? `PKTEST${randomBytes(7).toString('hex').toUpperCase()}`,
    secretKey: opts.secretKey ?? `secret${randomBytes(17).toString('hex')}`,
  };
  const requests: StandInRequest[] = [];
  const updates: TradeUpdate[] = [];
  const faults = new FaultBook();
  let latencyMs = 0;
  const stream = new TradeUpdateStream(credentials);

  const brokerage = new Brokerage({
    cash: opts.cash ?? '100000',
    fillMode: opts.fillMode ?? 'immediate',
    accountNumber: opts.accountNumber ?? 'PA3STANDIN00',
    marketOpen: opts.marketOpen ?? false,
    onTradeUpdate: (update) => {
      updates.push(update);
      stream.publish(update);
    },
  });
  if (opts.defaultAssets ?? true) {
    for (const { asset, price } of DEFAULT_ASSETS) {
      brokerage.addAsset(asset);
      brokerage.setPrice(asset.symbol, price);
    }
  }

  const serverOptions = {
    credentials,
    faults,
    latencyMs: () => latencyMs,
    record: (request: StandInRequest) => requests.push(request),
  };
  const limit = opts.rateLimitPerMinute ?? 200;
  const routes = { trading: tradingRoutes(brokerage), data: marketDataRoutes(brokerage) };
  const tradingServer = createApiServer({
    ...serverOptions,
    api: 'trading',
    routes: routes.trading,
    budget: new RequestBudget(limit),
  });
  const dataServer = createApiServer({
    ...serverOptions,
    api: 'data',
    routes: routes.data,
    budget: new RequestBudget(limit),
  });
  stream.attach(tradingServer);
  const tradingPort = await listen(tradingServer);
  const dataPort = await listen(dataServer);

  return {
    baseUrl: `http://127.0.0.1:${tradingPort}`,
    dataUrl: `http://127.0.0.1:${dataPort}`,
    streamUrl: `ws://127.0.0.1:${tradingPort}/stream`,
    keyId: credentials.keyId,
    secretKey: credentials.secretKey,
    requests,
    requestCount: (filter = {}) =>
      requests.filter(
        (r) =>
          (filter.method === undefined || r.method === filter.method.toUpperCase()) &&
          (filter.path === undefined || pathMatches(r.path, filter.path, false)),
      ).length,
    tradeUpdates: () => [...updates],
    endpoints: () =>
      (['trading', 'data'] as const).flatMap((api) =>
        routes[api].map((r) => ({ api, method: r.method, path: r.template })),
      ),
    setMarketOpen: (open, clockOpts) => brokerage.setMarketOpen(open, clockOpts),
    addAsset: (a) => void brokerage.addAsset(a),
    setPrice: (symbol, p) => brokerage.setPrice(symbol, p),
    setNoSnapshot: (symbol) => brokerage.setNoSnapshot(symbol),
    setBuyingPower: (amount) => brokerage.setBuyingPower(amount),
    setPatternDayTraderBlocked: (blocked) => brokerage.setPatternDayTraderBlocked(blocked),
    setPortfolioHistory: (points) => brokerage.setPortfolioHistory(points),
    setDailyBars: (symbol, bars) => brokerage.setDailyBars(symbol, bars),
    setHolidays: (dates) => {
      brokerage.holidays.clear();
      for (const date of dates) brokerage.holidays.add(date);
    },
    orders: () => brokerage.allOrders(),
    order: (idOrClientId) => {
      const found = brokerage.findOrder(idOrClientId);
      return found && brokerage.toWire(found);
    },
    positions: () => brokerage.positionSummaries(),
    setPosition: (symbol, qty, avg) => brokerage.setPosition(symbol, qty, avg),
    placeExternalOrder: (o) => brokerage.placeExternalOrder(o),
    fill: (id, qty, price) => brokerage.fill(id, qty, price),
    cancel: (id) => brokerage.cancel(id),
    reject: (id, reason) => brokerage.reject(id, reason),
    expire: (id) => brokerage.expire(id),
    inject: (f) => faults.add(f),
    clearFaults: () => faults.clear(),
    setLatency: (ms) => {
      latencyMs = ms;
    },
    dropStreamConnections: () => stream.dropConnections(),
    streamConnectionCount: () => stream.connectionCount(),
    waitForStreamListening: (timeoutMs) => stream.waitForListening(timeoutMs),
    close: async () => {
      await stream.close();
      await Promise.all([shutDown(tradingServer), shutDown(dataServer)]);
    },
  };
}
