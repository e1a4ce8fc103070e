import {
  Alpaca,
  marketData,
  middleware,
  NotFoundError,
  pagination,
  streaming,
  trading,
} from '@alpacahq/alpaca-trade-api';
import type { AlpacaConnection } from '../config';
import { BrokerError, type BrokerErrorKind } from '../domain/errors';
import type * as Market from '../domain/market';
import type { OrderIntent } from '../domain/order';
import { addDays } from '../domain/value-history';
import { KeyedQueue } from '../lifecycle';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { type BrokerRequestContext, readErrorBody, toBrokerError } from './alpaca-errors';
import {
  mapAccount,
  mapAsset,
  mapCalendar,
  mapClock,
  mapDailyBar,
  mapOrder,
  mapPortfolioHistory,
  mapPosition,
  mapSnapshot,
  mapTradeUpdate,
  toPostOrderRequest,
} from './alpaca-mapping';
import type { Broker, BrokerOrder, ListOrdersQuery, TradeUpdateHandlers, TradeUpdateSubscription } from './broker';
import { type Lane, RequestPacer, type RequestPacerOptions } from './request-pacer';

export interface AlpacaBrokerOptions extends AlpacaConnection {
  logger: Logger;
  /** Per-attempt REST deadline; the SDK's 30 s when unset. */
  timeoutMs?: number;
  /** Stream reconnect back-off (tests shorten it). */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** Request pacing per host (tests shrink it); DEFAULT_PACING when unset. */
  pacing?: Partial<Omit<RequestPacerOptions, 'now'>>;
  metrics?: Metrics;
}

/**
 * Alpaca publishes no maximum for /v2/stocks/snapshots; the practical bound is the URL length
 * (servers commonly stop at 8 KB). 1,000 symbols of up to 6 characters plus commas stay near
 * 7 KB, so a portfolio page of any realistic size is one request and a huge one is still safe.
 */
export const MAX_SYMBOLS_PER_SNAPSHOT_REQUEST = 1000;

/** Alpaca's largest page for GET /v2/orders. */
const MAX_ORDERS_PAGE = 500;

/** Alpaca's largest page for GET /v2/stocks/bars (counted over all symbols of the request). */
export const MAX_BARS_PAGE = 10_000;

/** Without a SIP subscription, Alpaca refuses SIP data younger than this. */
const SIP_DELAY_MS = 15 * 60_000;

const OPERATIONAL_KINDS = new Set<BrokerErrorKind>(['unavailable', 'unauthorized', 'rate_limited']);

/**
 * Alpaca allows 200 requests a minute per key on each host. Requests are paced here, strictly over
 * any 60 s, a little under that (the SDK's own GET retries come on top): a burst then queues
 * instead of drawing 429s, and the wait happens before the SDK's per-attempt timeout starts, so an
 * order that is merely queued is never mistaken for one lost in flight.
 */
export const REQUESTS_PER_MINUTE = 190;

/**
 * Of those 190 a minute, reads any member can trigger (forms, Home tabs, /portfolio, quotes) never
 * take the last 40: a busy desk's orders, lookups and cancels fit with room to spare, and reads
 * keep 150, far above what they need behind CachedBroker. At most 25 reads wait (10 s of the
 * reads' share at its steady rate); past that a trader is better served by "try again" than by a
 * stuck form.
 */
export const DEFAULT_PACING: Omit<RequestPacerOptions, 'now'> = {
  limit: REQUESTS_PER_MINUTE,
  intervalMs: 60_000,
  reservedForOrders: 40,
  maxQueuedReads: 25,
};

const DEFAULT_RECONNECT_INITIAL_MS = 1_000;
const DEFAULT_RECONNECT_MAX_MS = 30_000;

/**
 * The Broker port over @alpacahq/alpaca-trade-api v4. The SDK's facade keeps its 200/min rate
 * limiter, its GET-only retries and `redirect: 'error'`; we only point its fixed hosts at the
 * configured URLs and translate models and errors.
 */
export class AlpacaBroker implements Broker {
  readonly kind = 'alpaca' as const;
  private readonly alpaca: Alpaca;
  private readonly logger: Logger;
  private readonly secrets: readonly string[];
  private readonly pacers: Record<'trading' | 'data', RequestPacer>;

  constructor(private readonly options: AlpacaBrokerOptions) {
    this.logger = options.logger.child({ component: 'alpaca' });
    this.secrets = [options.keyId, options.secretKey];
    const pacing = { ...DEFAULT_PACING, ...options.pacing };
    // Market data carries no orders, so its whole budget is the reads'.
    this.pacers = { trading: new RequestPacer(pacing), data: new RequestPacer({ ...pacing, reservedForOrders: 0 }) };
    const log = this.logger;
    const metrics = options.metrics;
    metrics?.watchPacerQueue(() =>
      Object.entries(this.pacers).flatMap(([host, pacer]) =>
        Object.entries(pacer.queued()).map(([lane, depth]) => ({ host, lane, depth })),
      ),
    );
    this.alpaca = new Alpaca({
      keyId: options.keyId,
      secret: options.secretKey,
      timeoutMs: options.timeoutMs,
      redirect: 'error',
      middleware: [
        hostRewrite(options.baseUrl, options.dataUrl),
        ...(metrics
          ? [
              middleware.metricsMiddleware({
                onRequest: (m) => metrics.alpacaRequest(m.method, m.url, m.status, m.durationMs / 1000),
              }),
            ]
          : []),
      ],
      retry: {
        onRetry: (e) => {
          metrics?.alpacaRetry(e.method, e.url);
          log.warn(
            {
              method: e.method,
              path: pathOf(e.url),
              status: e.status,
              attempt: e.attempt,
              delay_ms: Math.round(e.delayMs),
            },
            'retrying Alpaca request',
          );
        },
        onGiveUp: (e) =>
          log.warn(
            { method: e.method, path: pathOf(e.url), status: e.status, attempts: e.attempt + 1 },
            'Alpaca request failed after retries',
          ),
      },
    });
  }

  getAccount(): Promise<Market.BrokerAccount> {
    return this.call({ method: 'GET', what: 'account' }, async () =>
      mapAccount(await this.alpaca.trading.account.getAccount()),
    );
  }

  getClock(): Promise<Market.MarketClock> {
    return this.call({ method: 'GET', what: 'market clock' }, async () =>
      mapClock(await this.alpaca.trading.clock.legacyClock()),
    );
  }

  getAsset(symbol: string): Promise<Market.BrokerAsset> {
    const normalized = symbol.trim().toUpperCase();
    return this.call({ method: 'GET', what: 'asset', symbol: normalized }, async () =>
      mapAsset(await this.alpaca.trading.assets.getV2AssetsSymbolOrAssetId({ symbolOrAssetId: normalized })),
    );
  }

  listAssets(): Promise<Market.BrokerAsset[]> {
    return this.call({ method: 'GET', what: 'asset list' }, async () => {
      const assets = await this.alpaca.trading.assets.getV2Assets({ status: 'active', assetClass: 'us_equity' });
      return assets.map(mapAsset);
    });
  }

  async getSnapshots(symbols: readonly string[]): Promise<Map<string, Market.Snapshot>> {
    const unique = [...new Set(symbols.map((s) => s.trim().toUpperCase()).filter(Boolean))];
    const result = new Map<string, Market.Snapshot>();
    for (let i = 0; i < unique.length; i += MAX_SYMBOLS_PER_SNAPSHOT_REQUEST) {
      const chunk = unique.slice(i, i + MAX_SYMBOLS_PER_SNAPSHOT_REQUEST);
      const snapshots = await this.call(
        { method: 'GET', what: 'quotes' },
        () => this.alpaca.marketData.stocks.stockSnapshots({ symbols: chunk.join(','), feed: this.options.dataFeed }),
        'read',
        'data',
      );
      for (const [symbol, raw] of Object.entries(snapshots)) {
        const snapshot = mapSnapshot(symbol.toUpperCase(), raw);
        if (snapshot) result.set(snapshot.symbol, snapshot);
      }
    }
    return result;
  }

  submitOrder(intent: OrderIntent): Promise<BrokerOrder> {
    return this.call(
      { method: 'POST', what: 'order', symbol: intent.symbol },
      async () =>
        mapOrder(await this.alpaca.trading.orders.postOrder({ postOrderRequest: toPostOrderRequest(intent) })),
      'order',
    );
  }

  getOrderByClientOrderId(clientOrderId: string): Promise<BrokerOrder | undefined> {
    return this.call(
      { method: 'GET', what: 'order' },
      async () => {
        try {
          return mapOrder(await this.alpaca.trading.orders.getOrderByClientOrderId({ clientOrderId }));
        } catch (err) {
          if (err instanceof NotFoundError) return undefined;
          throw err;
        }
      },
      'order',
    );
  }

  getOrder(orderId: string): Promise<BrokerOrder> {
    return this.call(
      { method: 'GET', what: 'order' },
      async () => mapOrder(await this.alpaca.trading.orders.getOrderByOrderID({ orderId })),
      'order',
    );
  }

  listOrders(query: ListOrdersQuery): Promise<BrokerOrder[]> {
    return this.call({ method: 'GET', what: 'order list' }, async () => {
      const orders = await this.alpaca.trading.orders.getAllOrders({
        status: query.status,
        after: query.after?.toISOString(),
        until: query.until?.toISOString(),
        limit: Math.min(query.limit ?? MAX_ORDERS_PAGE, MAX_ORDERS_PAGE),
        direction: 'desc',
      });
      return orders.map(mapOrder);
    });
  }

  cancelOrder(orderId: string): Promise<void> {
    return this.call(
      { method: 'DELETE', what: 'cancel request' },
      () => this.alpaca.trading.orders.deleteOrderByOrderID({ orderId }),
      'order',
    );
  }

  listPositions(): Promise<Market.BrokerPosition[]> {
    return this.call({ method: 'GET', what: 'positions' }, async () =>
      (await this.alpaca.trading.positions.getAllOpenPositions()).map(mapPosition),
    );
  }

  getPortfolioHistory(period: '1M' | '1W' | '3M'): Promise<Market.PortfolioHistoryPoint[]> {
    return this.call({ method: 'GET', what: 'portfolio history' }, async () =>
      mapPortfolioHistory(
        await this.alpaca.trading.portfolioHistory.getAccountPortfolioHistory({ period, timeframe: '1D' }),
      ),
    );
  }

  /**
   * The SDK sends dates as UTC midnights (2026-12-03T00:00:00.000Z), which Alpaca reads as the evening
   * before in New York: ask for a day more either side and keep [start, end].
   */
  getCalendar(start: string, end: string): Promise<Market.TradingDay[]> {
    return this.call({ method: 'GET', what: 'market calendar' }, async () =>
      mapCalendar(
        await this.alpaca.trading.calendar.legacyCalendar({
          start: new Date(`${addDays(start, -1)}T00:00:00Z`),
          end: new Date(`${addDays(end, 1)}T00:00:00Z`),
        }),
      ).filter((d) => d.date >= start && d.date <= end),
    );
  }

  /**
   * One paced request per page of GET /v2/stocks/bars, following next_page_token. The window runs
   * from UTC midnight of `start` (before New York midnight, where Alpaca stamps the session's bar)
   * to UTC midnight after `end` (that evening in New York, before the next session's stamp).
   */
  async getDailyBars(symbols: readonly string[], start: string, end: string): Promise<Map<string, Market.DailyBar[]>> {
    const unique = [...new Set(symbols.map((s) => s.trim().toUpperCase()).filter(Boolean))];
    const result = new Map<string, Market.DailyBar[]>();
    const endAt = new Date(Date.parse(`${end}T00:00:00Z`) + 86_400_000);
    // A free plan may not ask SIP for its last 15 minutes; daily bars are stamped at midnight, so nothing is lost.
    if (this.options.dataFeed === 'sip') endAt.setTime(Math.min(endAt.getTime(), Date.now() - SIP_DELAY_MS));
    for (let i = 0; i < unique.length; i += MAX_SYMBOLS_PER_SNAPSHOT_REQUEST) {
      const chunk = unique.slice(i, i + MAX_SYMBOLS_PER_SNAPSHOT_REQUEST);
      const pages = pagination.paginate(async (pageToken) => {
        const page = await this.call(
          { method: 'GET', what: 'daily prices' },
          () =>
            this.alpaca.marketData.stocks.stockBars({
              symbols: chunk.join(','),
              timeframe: '1Day',
              start: new Date(`${start}T00:00:00Z`),
              end: endAt,
              limit: MAX_BARS_PAGE,
              adjustment: 'raw',
              feed: this.options.dataFeed,
              sort: 'asc',
              pageToken,
            }),
          'read',
          'data',
        );
        return { items: Object.entries(page.bars ?? {}), nextPageToken: page.nextPageToken };
      });
      for await (const [symbol, bars] of pages) {
        const key = symbol.toUpperCase();
        const list = result.get(key) ?? [];
        for (const bar of bars) {
          const mapped = mapDailyBar(bar);
          if (mapped) list.push(mapped);
        }
        if (list.length > 0) result.set(key, list);
      }
    }
    return result;
  }

  streamTradeUpdates(handlers: TradeUpdateHandlers): TradeUpdateSubscription {
    const log = this.logger.child({ stream: 'trade_updates' });
    const stream = this.alpaca.trading.stream({
      url: this.options.streamUrl,
      maxReconnectAttempts: streaming.UNLIMITED_RECONNECT_ATTEMPTS,
      backoff: true,
      initialReconnectMs: this.options.reconnect?.initialMs ?? DEFAULT_RECONNECT_INITIAL_MS,
      maxReconnectMs: this.options.reconnect?.maxMs ?? DEFAULT_RECONNECT_MAX_MS,
    });

    let connected = false;
    const setConnected = (value: boolean) => {
      if (connected === value) return;
      connected = value;
      log.info({ connected: value }, value ? 'trade_updates stream listening' : 'trade_updates stream disconnected');
      handlers.onConnectionChange?.(value);
    };

    let markReady!: () => void;
    let failReady!: (err: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    // Callers may never await `ready`; a refusal is still logged and must not crash the process.
    ready.catch(() => undefined);

    // Updates of one order are handled one at a time, in arrival order (a fill must not overtake
    // its partial fill); different orders' updates go ahead side by side, so a burst at the open
    // is not one long line.
    const queue = new KeyedQueue();

    stream.on(streaming.EVENT.SUBSCRIPTION, (streams: unknown) => {
      if (Array.isArray(streams) && streams.includes('trade_updates')) {
        setConnected(true);
        markReady();
      }
    });
    stream.onDisconnect(() => setConnected(false));
    stream.onReconnecting((attempt) => log.info({ attempt }, 'reconnecting to trade_updates'));
    stream.onError((message) => log.warn({ error: message }, 'trade_updates stream error'));
    stream.onTradeUpdate((raw) => {
      void queue
        .run(raw.order.id ?? '', async () => handlers.onUpdate(mapTradeUpdate(raw)))
        .catch((err: unknown) =>
          log.error({ err, event: raw.event, order_id: raw.order.id }, 'trade update handler failed'),
        );
    });
    // A refused login is final (the SDK does not retry it); any other close before `listening`
    // is either followed by a reconnect or is our own close().
    void stream.whenAuthenticated().then((result) => {
      if (result.status !== streaming.STREAM_AUTH_STATUS.SERVER_REJECTED) return;
      log.error({ code: result.code }, 'trade_updates stream refused our API keys');
      failReady(
        new BrokerError(
          'unauthorized',
          'Alpaca refused our API keys on the order-updates stream. ' +
            'An admin needs to check ALPACA_API_KEY_ID and ALPACA_SECRET_KEY.',
          {
            code: result.code,
          },
        ),
      );
    });

    stream.subscribeTradeUpdates();
    stream.connect();

    return {
      ready,
      connected: () => connected,
      close: async () => {
        failReady(new BrokerError('unavailable', 'The Alpaca order-updates stream was closed before it was ready.'));
        stream.disconnect();
        setConnected(false);
        await queue.idle();
      },
    };
  }

  /** Orders (submissions, their lookups, cancels) go in the order lane; everything else is a read. */
  private async call<T>(
    context: BrokerRequestContext,
    operation: () => Promise<T>,
    lane: Lane = 'read',
    host: 'trading' | 'data' = 'trading',
  ): Promise<T> {
    try {
      return await this.pacers[host].run(lane, operation);
    } catch (err) {
      throw await this.failure(err, context);
    }
  }

  /**
   * Translates an SDK failure (the pacer's refusal is already a BrokerError) and logs its safe
   * fields — never the SDK error, which holds the request headers.
   */
  private async failure(err: unknown, context: BrokerRequestContext) {
    const error =
      err instanceof BrokerError
        ? err
        : toBrokerError(err, { ...context, body: await readErrorBody(err), secrets: this.secrets });
    const { status, code, requestId, ambiguous } = error.details;
    // A refused order or an unknown symbol is the trader's business; an unreachable broker is ours.
    const level = OPERATIONAL_KINDS.has(error.kind) ? 'warn' : 'info';
    this.logger[level](
      {
        kind: error.kind,
        status,
        code,
        request_id: requestId,
        ambiguous,
        what: context.what,
        cause: err instanceof Error ? err.name : typeof err,
      },
      error.message,
    );
    return error;
  }
}

/**
 * The SDK targets Alpaca's fixed hosts (its facade takes no basePath): send its requests to the
 * configured URLs instead. Runs before every attempt, so retries are rewritten too.
 */
function hostRewrite(baseUrl: string, dataUrl: string): trading.Middleware {
  const route = (from: string, to: string): [string, string] => [`${from}/`, `${to.replace(/\/+$/, '')}/`];
  const routes = [
    route(trading.TRADING_PAPER_HOST, baseUrl),
    route(trading.TRADING_LIVE_HOST, baseUrl),
    route(marketData.MARKET_DATA_HOST, dataUrl),
    route(marketData.MARKET_DATA_SANDBOX_HOST, dataUrl),
  ];
  return {
    async pre({ url, init }) {
      const match = routes.find(([from]) => url.startsWith(from));
      return match ? { url: match[1] + url.slice(match[0].length), init } : undefined;
    },
  };
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}
