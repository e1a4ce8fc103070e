import { LRUCache } from 'lru-cache';
import { BrokerError } from '../domain/errors';
import type * as Market from '../domain/market';
import type { OrderIntent } from '../domain/order';
import type { Broker, BrokerOrder, ListOrdersQuery, TradeUpdateHandlers, TradeUpdateSubscription } from './broker';

export interface CacheTtls {
  assetsMs: number;
  unknownSymbolMs: number;
  clockMs: number;
  snapshotMs: number;
  accountMs: number;
}

/**
 * Assets change rarely (listings, fractionability) so a daily refresh is enough; the clock
 * flips twice a day and is also expired at its own next open/close; quotes and the account
 * move constantly but the modal only needs them fresh to within seconds.
 */
export const DEFAULT_CACHE_TTLS: CacheTtls = {
  assetsMs: 24 * 60 * 60 * 1000,
  unknownSymbolMs: 60 * 1000,
  clockMs: 30 * 1000,
  snapshotMs: 15 * 1000,
  accountMs: 5 * 1000,
};

export interface CacheSizes {
  assets: number;
  unknownSymbols: number;
  snapshots: number;
}

/**
 * Any member can type any symbol, so every cache keyed by symbol is bounded and drops its least
 * recently used entries first. The daily asset list already holds every active US equity, so
 * assets looked up one by one and unknown symbols are the rare misses; quotes keep several
 * full portfolio pages (a page asks for up to MAX_SYMBOLS_PER_SNAPSHOT_REQUEST symbols), a few
 * megabytes at most.
 */
export const DEFAULT_CACHE_SIZES: CacheSizes = {
  assets: 1_000,
  unknownSymbols: 1_000,
  snapshots: 5_000,
};

/** Expiry is kept here, on the injected clock; the LRU only bounds the count. */
interface Entry<T> {
  value: T;
  expiresAt: number;
}

/** One cached value plus the request filling it, so concurrent callers share one call. */
class CachedValue<T> {
  private entry?: Entry<T>;
  private inFlight?: Promise<T>;

  constructor(private readonly now: () => number) {}

  fresh(): T | undefined {
    return this.entry && this.entry.expiresAt > this.now() ? this.entry.value : undefined;
  }

  get(load: () => Promise<T>, expiresAt: (value: T, loadedAt: number) => number): Promise<T> {
    const cached = this.entry && this.entry.expiresAt > this.now() ? this.entry : undefined;
    if (cached) return Promise.resolve(cached.value);
    this.inFlight ??= load().then(
      (value) => {
        this.entry = { value, expiresAt: expiresAt(value, this.now()) };
        this.inFlight = undefined;
        return value;
      },
      (err: unknown) => {
        this.inFlight = undefined;
        throw err;
      },
    );
    return this.inFlight;
  }

  invalidate(): void {
    this.entry = undefined;
  }
}

/**
 * Puts the broker behind short-lived caches so validating a Slack form never waits on Alpaca
 * and a burst of users stays far below the 200 requests/minute limit. Orders, positions,
 * history and the stream pass straight through: their answers must be current.
 */
export class CachedBroker implements Broker {
  readonly kind: Broker['kind'];
  private readonly ttl: CacheTtls;
  private readonly now: () => number;
  private readonly account: CachedValue<Market.BrokerAccount>;
  private readonly clock: CachedValue<Market.MarketClock>;
  private readonly assetList: CachedValue<Market.BrokerAsset[]>;
  private assetIndex?: { list: Market.BrokerAsset[]; bySymbol: Map<string, Market.BrokerAsset> };
  private readonly assets: LRUCache<string, CachedValue<Market.BrokerAsset>>;
  private readonly unknownSymbols: LRUCache<string, Entry<BrokerError>>;
  private readonly snapshots: LRUCache<string, Entry<Market.Snapshot | undefined>>;
  private readonly snapshotsInFlight: LRUCache<string, Promise<Market.Snapshot | undefined>>;

  constructor(
    private readonly inner: Broker,
    options: { now?: () => number; ttl?: Partial<CacheTtls>; maxEntries?: Partial<CacheSizes> } = {},
  ) {
    this.kind = inner.kind;
    this.now = options.now ?? Date.now;
    this.ttl = { ...DEFAULT_CACHE_TTLS, ...options.ttl };
    const max = { ...DEFAULT_CACHE_SIZES, ...options.maxEntries };
    this.assets = new LRUCache({ max: max.assets });
    this.unknownSymbols = new LRUCache({ max: max.unknownSymbols });
    this.snapshots = new LRUCache({ max: max.snapshots });
    this.snapshotsInFlight = new LRUCache({ max: max.snapshots });
    this.account = new CachedValue(this.now);
    this.clock = new CachedValue(this.now);
    this.assetList = new CachedValue(this.now);
  }

  getAccount(): Promise<Market.BrokerAccount> {
    return this.account.get(
      () => this.inner.getAccount(),
      (_, at) => at + this.ttl.accountMs,
    );
  }

  getClock(): Promise<Market.MarketClock> {
    return this.clock.get(
      () => this.inner.getClock(),
      // Never serve "closed" past the open (or "open" past the close).
      (clock, at) => Math.min(at + this.ttl.clockMs, (clock.isOpen ? clock.nextClose : clock.nextOpen).getTime()),
    );
  }

  listAssets(): Promise<Market.BrokerAsset[]> {
    return this.assetList.get(
      () => this.inner.listAssets(),
      (_, at) => at + this.ttl.assetsMs,
    );
  }

  getAsset(symbol: string): Promise<Market.BrokerAsset> {
    const key = symbol.trim().toUpperCase();
    const listed = this.listedAsset(key);
    if (listed) return Promise.resolve(listed);

    const unknown = this.unknownSymbols.get(key);
    if (unknown && unknown.expiresAt > this.now()) return Promise.reject(unknown.value);
    this.unknownSymbols.delete(key);

    let cached = this.assets.get(key);
    if (!cached) {
      cached = new CachedValue(this.now);
      this.assets.set(key, cached);
    }
    return cached
      .get(
        () => this.inner.getAsset(key),
        (_, at) => at + this.ttl.assetsMs,
      )
      .catch((err: unknown) => {
        if (err instanceof BrokerError && err.kind === 'invalid_symbol') {
          this.unknownSymbols.set(key, { value: err, expiresAt: this.now() + this.ttl.unknownSymbolMs });
          // The refusal is remembered above; an empty slot here would only push out real assets.
          if (this.assets.peek(key) === cached) this.assets.delete(key);
        }
        throw err;
      });
  }

  /**
   * Quotes younger than the TTL come from the cache; the rest are asked for in one batch, and a
   * symbol another caller is already fetching is awaited rather than asked for again.
   */
  async getSnapshots(symbols: readonly string[]): Promise<Map<string, Market.Snapshot>> {
    const wanted = [...new Set(symbols.map((s) => s.trim().toUpperCase()).filter(Boolean))];
    const now = this.now();
    // Held here, not read back from the bounded caches, which may drop them before we answer.
    const answers = new Map<string, Market.Snapshot | undefined | Promise<Market.Snapshot | undefined>>();
    const missing: string[] = [];
    for (const symbol of wanted) {
      const cached = this.snapshots.get(symbol);
      const pending = this.snapshotsInFlight.get(symbol);
      if (cached && cached.expiresAt > now) answers.set(symbol, cached.value);
      else if (pending) answers.set(symbol, pending);
      else missing.push(symbol);
    }
    if (missing.length > 0) {
      const batch = this.inner.getSnapshots(missing);
      for (const symbol of missing) {
        const single = batch.then((found) => found.get(symbol));
        answers.set(symbol, single);
        this.snapshotsInFlight.set(symbol, single);
        // Only the request still on record settles the symbol: one evicted meanwhile may be older.
        const settle = () => {
          if (this.snapshotsInFlight.peek(symbol) !== single) return false;
          this.snapshotsInFlight.delete(symbol);
          return true;
        };
        single.then(
          (snapshot) =>
            settle() && this.snapshots.set(symbol, { value: snapshot, expiresAt: this.now() + this.ttl.snapshotMs }),
          settle,
        );
      }
    }
    const result = new Map<string, Market.Snapshot>();
    for (const symbol of wanted) {
      const snapshot = await answers.get(symbol);
      if (snapshot) result.set(symbol, snapshot);
    }
    return result;
  }

  /**
   * Quotes asked of Alpaca now, whatever the cache holds (and then cached): for a decision that must
   * not rest on a price up to the TTL old, such as approving a large order.
   */
  async getFreshSnapshots(symbols: readonly string[]): Promise<Map<string, Market.Snapshot>> {
    for (const symbol of symbols) {
      const key = symbol.trim().toUpperCase();
      this.snapshots.delete(key);
      this.snapshotsInFlight.delete(key);
    }
    return this.getSnapshots(symbols);
  }

  async submitOrder(intent: OrderIntent): Promise<BrokerOrder> {
    try {
      return await this.inner.submitOrder(intent);
    } finally {
      // Buying power has moved (or may have): the next form must not show the old figure.
      this.account.invalidate();
    }
  }

  getOrderByClientOrderId(clientOrderId: string): Promise<BrokerOrder | undefined> {
    return this.inner.getOrderByClientOrderId(clientOrderId);
  }

  getOrder(orderId: string): Promise<BrokerOrder> {
    return this.inner.getOrder(orderId);
  }

  listOrders(query: ListOrdersQuery): Promise<BrokerOrder[]> {
    return this.inner.listOrders(query);
  }

  async cancelOrder(orderId: string): Promise<void> {
    try {
      await this.inner.cancelOrder(orderId);
    } finally {
      this.account.invalidate();
    }
  }

  listPositions(): Promise<Market.BrokerPosition[]> {
    return this.inner.listPositions();
  }

  getPortfolioHistory(period: '1M' | '1W' | '3M'): Promise<Market.PortfolioHistoryPoint[]> {
    return this.inner.getPortfolioHistory(period);
  }

  /** Not cached here: its one caller, the performance chart, keeps what it builds from them. */
  getDailyBars(symbols: readonly string[], start: string, end: string): Promise<Map<string, Market.DailyBar[]>> {
    return this.inner.getDailyBars(symbols, start, end);
  }

  getCalendar(start: string, end: string): Promise<Market.TradingDay[]> {
    return this.inner.getCalendar(start, end);
  }

  streamTradeUpdates(handlers: TradeUpdateHandlers): TradeUpdateSubscription {
    return this.inner.streamTradeUpdates(handlers);
  }

  private listedAsset(symbol: string): Market.BrokerAsset | undefined {
    const list = this.assetList.fresh();
    if (!list) return undefined;
    if (this.assetIndex?.list !== list) {
      this.assetIndex = { list, bySymbol: new Map(list.map((a) => [a.symbol.toUpperCase(), a])) };
    }
    return this.assetIndex.bySymbol.get(symbol);
  }
}
