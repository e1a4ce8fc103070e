import type { Broker } from '../broker/broker';
import type { OrderHistoryRepository } from '../db/repositories/order-history-repository';
import type { PortfolioRepository } from '../db/repositories/portfolio-repository';
import type { PositionRepository, StoredPosition } from '../db/repositories/position-repository';
import type { UserPreferenceRepository } from '../db/repositories/user-preference-repository';
import { summarizeEquity } from '../domain/equity-trend';
import { describeError, LedgerOnlyError } from '../domain/errors';
import type { MarketClock, Snapshot } from '../domain/market';
import { describeMarket } from '../domain/market-hours';
import { type Dec, dec } from '../domain/money';
import { suggestNames } from '../domain/portfolio-command';
import { portfolioNameKey } from '../domain/portfolio-name';
import type {
  AccountReport,
  AccountStatus,
  HomeReport,
  MarketStatus,
  PortfolioDetail,
  PortfolioLookup,
  PortfolioOverview,
  PortfolioRef,
  PositionComparison,
  PositionComparisonRow,
  PricedPortfolio,
  PricingStatus,
  TrendStatus,
} from '../domain/portfolio-report';
import { byExposure, totalValuation, valuePosition } from '../domain/portfolio-valuation';

/**
 * Named portfolios priced live, the account, and the broker's positions beside the books. Knows
 * nothing of Slack. Every report says what it could not get (no quote for a symbol, Alpaca down,
 * ledger-only mode) instead of failing, and one report costs at most one broker request of each
 * kind — the account, the positions, one batch of snapshots — whatever the number of positions.
 */

export interface PortfolioServiceOptions {
  now?: () => Date;
  /** Orders listed under a portfolio and on the Home tab. */
  recentOrders?: number;
  /** The month of daily equity changes once a day; a few minutes of staleness cost nothing. */
  trendTtlMs?: number;
}

const DEFAULT_RECENT_ORDERS = 5;
/** The Home tab's one-click "trade again" forms: the user's latest distinct orders. */
const REPEATABLE_ORDERS = 5;
const DEFAULT_TREND_TTL_MS = 10 * 60_000;
const TREND_RETRY_MS = 60_000;

export class PortfolioService {
  private readonly now: () => Date;
  private readonly recentOrderCount: number;
  private readonly trendTtlMs: number;
  private clock?: MarketClock;
  private trendCache?: { status: TrendStatus; expiresAt: number };
  private trendInFlight?: Promise<TrendStatus>;

  constructor(
    private readonly broker: Broker,
    private readonly portfolios: PortfolioRepository,
    private readonly positions: PositionRepository,
    private readonly orders: OrderHistoryRepository,
    private readonly preferences: UserPreferenceRepository,
    options: PortfolioServiceOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.recentOrderCount = options.recentOrders ?? DEFAULT_RECENT_ORDERS;
    this.trendTtlMs = options.trendTtlMs ?? DEFAULT_TREND_TTL_MS;
  }

  get ledgerOnly(): boolean {
    return this.broker.kind === 'ledger';
  }

  /** `/portfolio`: every portfolio priced, with the account. Two broker requests: account and one snapshot batch. */
  async overview(): Promise<PortfolioOverview> {
    const [refs, open, realized] = await Promise.all([
      this.portfolioRefs(),
      this.positions.listOpen(),
      this.positions.realizedByPortfolio(),
    ]);
    const [account, { quotes, pricing }] = await Promise.all([
      this.accountStatus(),
      this.prices(open.map((p) => p.symbol)),
    ]);
    const byKey = groupByKey(open);
    const everyKey = new Set([...refs.keys(), ...byKey.keys(), ...realized.keys()]);
    const portfolios = [...everyKey]
      .map((key) =>
        this.price(refs.get(key) ?? { id: null, name: key }, byKey.get(key) ?? [], realized.get(key) ?? dec(0), quotes),
      )
      .sort((a, b) => a.name.localeCompare(b.name, 'en', { sensitivity: 'base' }));
    const allPositions = portfolios.flatMap((p) => p.positions);
    const totals = totalValuation(
      allPositions,
      portfolios.reduce((sum, p) => sum.plus(p.totals.realizedPnl), dec(0)),
    );
    return { portfolios, totals: { ...totals, unpriced: [...new Set(totals.unpriced)] }, account, pricing };
  }

  /** `/portfolio <name>`: case-insensitive; a miss comes back with the closest names. One broker request. */
  async portfolio(name: string): Promise<PortfolioLookup> {
    const found = await this.portfolios.findByName(name);
    if (found) return { kind: 'found', detail: await this.detail({ id: found.id, name: found.name }) };
    const held = (await this.positions.listForPortfolio(name)).length > 0;
    if (held) return { kind: 'found', detail: await this.detail({ id: null, name: name.trim() }) };
    const known = [...(await this.portfolioRefs()).values()].map((p) => p.name);
    return { kind: 'not_found', query: name, suggestions: suggestNames(name, known), known: known.length };
  }

  /** `/portfolio account`: the account and the market clock. */
  async account(): Promise<AccountReport> {
    const [account, market] = await Promise.all([this.accountStatus(), this.marketStatus()]);
    return { account, market };
  }

  /** `/portfolio positions`: the broker's positions beside the books' total per symbol. One broker request. */
  async compareWithBroker(): Promise<PositionComparison> {
    const [totals, fromBroker] = await Promise.all([
      this.positions.totalsBySymbol(),
      this.ledgerOnly ? Promise.resolve(undefined) : settle(this.broker.listPositions()),
    ]);
    const books = new Map(totals.filter((t) => !t.qty.isZero()).map((t) => [t.symbol, t.qty]));
    const held = new Map((fromBroker?.ok ? fromBroker.value : []).map((p) => [p.symbol, p]));
    const rows = [...new Set([...books.keys(), ...held.keys()])].map((symbol): PositionComparisonRow => {
      const booksQty = books.get(symbol) ?? dec(0);
      const position = held.get(symbol);
      if (!fromBroker?.ok) return { symbol, books: booksQty };
      const brokerQty = position?.qty ?? dec(0);
      return {
        symbol,
        books: booksQty,
        broker: brokerQty,
        difference: brokerQty.minus(booksQty),
        brokerPrice: position?.currentPrice,
        brokerMarketValue: position?.marketValue,
      };
    });
    const differs = (row: PositionComparisonRow) => (row.difference !== undefined && !row.difference.isZero() ? 1 : 0);
    rows.sort((a, b) => differs(b) - differs(a) || a.symbol.localeCompare(b.symbol));
    return {
      rows,
      mismatches: rows.filter(differs).length,
      broker:
        fromBroker === undefined
          ? { kind: 'ledger' }
          : fromBroker.ok
            ? { kind: 'ok' }
            : { kind: 'unavailable', error: fromBroker.error },
    };
  }

  /**
   * Everything the Home tab shows. The equity trend comes from the cache unless `loadTrend` is
   * set; when it is stale the report says `pending` so the caller can publish at once and load it
   * after — keeping each render within the account + snapshots (+ clock, twice a day) budget.
   */
  async home(userId: string, options: { loadTrend?: boolean } = {}): Promise<HomeReport> {
    const [refs, preferredId, recentOrders, repeatable] = await Promise.all([
      this.portfolioRefs(),
      this.preferences.homePortfolioId(userId),
      this.orders.recentForUser(userId, this.recentOrderCount),
      this.orders.recentDistinctForUser(userId, REPEATABLE_ORDERS),
    ]);
    const portfolios = [...refs.values()].filter((p): p is PortfolioRef & { id: number } => p.id !== null);
    const lastTraded = recentOrders[0] ? refs.get(portfolioNameKey(recentOrders[0].portfolioName)) : undefined;
    const chosen = portfolios.find((p) => p.id === preferredId) ?? lastTraded ?? portfolios[0];
    const [market, account, selected, trend] = await Promise.all([
      this.marketStatus(),
      this.accountStatus(),
      chosen ? this.detail(chosen) : Promise.resolve(undefined),
      options.loadTrend ? this.equityTrend() : Promise.resolve(this.cachedTrend()),
    ]);
    return {
      userId,
      market,
      account,
      trend,
      portfolios,
      selected,
      recentOrders,
      repeatable,
      generatedAt: this.now(),
    };
  }

  /** Remembers the Home tab's portfolio for this user. False when the portfolio no longer exists. */
  async chooseHomePortfolio(userId: string, portfolioId: number): Promise<boolean> {
    const exists = [...(await this.portfolioRefs()).values()].some((p) => p.id === portfolioId);
    if (exists) await this.preferences.setHomePortfolio(userId, portfolioId);
    return exists;
  }

  /** A month of account equity, cached for a few minutes; concurrent callers share one request. */
  async equityTrend(): Promise<TrendStatus> {
    const cached = this.cachedTrend();
    if (cached.kind !== 'pending') return cached;
    this.trendInFlight ??= this.loadTrend().finally(() => {
      this.trendInFlight = undefined;
    });
    return this.trendInFlight;
  }

  private cachedTrend(): TrendStatus {
    if (this.ledgerOnly) return { kind: 'ledger' };
    return this.trendCache && this.trendCache.expiresAt > this.now().getTime()
      ? this.trendCache.status
      : { kind: 'pending' };
  }

  private async loadTrend(): Promise<TrendStatus> {
    try {
      const points = await this.broker.getPortfolioHistory('1M');
      const trend = summarizeEquity(points);
      const status: TrendStatus = trend ? { kind: 'ok', trend } : { kind: 'empty' };
      this.trendCache = { status, expiresAt: this.now().getTime() + this.trendTtlMs };
      return status;
    } catch (err) {
      const status: TrendStatus = { kind: 'unavailable', error: describeError(err) };
      // Kept briefly, so an outage is not asked again by every Home tab opened meanwhile.
      this.trendCache = { status, expiresAt: this.now().getTime() + TREND_RETRY_MS };
      return status;
    }
  }

  private async detail(ref: PortfolioRef): Promise<PortfolioDetail> {
    const [stored, recentOrders] = await Promise.all([
      this.positions.listForPortfolio(ref.name),
      this.orders.recentForPortfolio(ref.name, this.recentOrderCount),
    ]);
    const open = stored.filter((p) => !p.qty.isZero());
    const realized = stored.reduce((sum, p) => sum.plus(p.realizedPnl), dec(0));
    const { quotes, pricing } = await this.prices(open.map((p) => p.symbol));
    return { ...this.price(ref, open, realized, quotes), recentOrders, pricing };
  }

  private price(
    ref: PortfolioRef,
    open: readonly StoredPosition[],
    realized: Dec,
    quotes: Map<string, Snapshot>,
  ): PricedPortfolio {
    const positions = open.map((p) => valuePosition(p, quotes.get(p.symbol))).sort(byExposure);
    return { ...ref, positions, totals: totalValuation(positions, realized) };
  }

  /** One batched snapshot request for every symbol shown. */
  private async prices(symbols: readonly string[]): Promise<{ quotes: Map<string, Snapshot>; pricing: PricingStatus }> {
    if (this.ledgerOnly) return { quotes: new Map(), pricing: { source: 'ledger' } };
    const wanted = [...new Set(symbols)];
    if (wanted.length === 0) return { quotes: new Map(), pricing: { source: 'alpaca', missing: [] } };
    try {
      const quotes = await this.broker.getSnapshots(wanted);
      const missing = wanted.filter((s) => quotes.get(s)?.lastPrice === undefined).sort();
      return { quotes, pricing: { source: 'alpaca', missing } };
    } catch (err) {
      return { quotes: new Map(), pricing: { source: 'unavailable', error: describeError(err) } };
    }
  }

  private async accountStatus(): Promise<AccountStatus> {
    if (this.ledgerOnly) return { kind: 'ledger' };
    try {
      const account = await this.broker.getAccount();
      const todayPnl = account.equity.minus(account.lastEquity);
      return {
        kind: 'ok',
        account,
        todayPnl,
        todayPnlPct: account.lastEquity.isZero() ? undefined : todayPnl.div(account.lastEquity).times(100),
      };
    } catch (err) {
      if (err instanceof LedgerOnlyError) return { kind: 'ledger' };
      return { kind: 'unavailable', error: describeError(err) };
    }
  }

  /**
   * The clock only changes at the transitions it announces, so it is asked for again only after
   * the next open or close has passed: about twice a day, not once per render.
   */
  private async marketStatus(): Promise<MarketStatus> {
    const now = this.now();
    try {
      if (!this.clock || Math.min(this.clock.nextOpen.getTime(), this.clock.nextClose.getTime()) <= now.getTime()) {
        this.clock = await this.broker.getClock();
      }
      return { kind: 'ok', market: describeMarket(this.clock, now), clock: this.clock };
    } catch (err) {
      return { kind: 'unavailable', error: describeError(err) };
    }
  }

  /** Portfolios by name key: the `portfolios` rows. */
  private async portfolioRefs(): Promise<Map<string, PortfolioRef>> {
    const rows = await this.portfolios.list();
    return new Map(rows.map((p) => [portfolioNameKey(p.name), { id: p.id, name: p.name }]));
  }
}

/** A broker answer or its failure in words, so the rest of a report can still render. */
async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  try {
    return { ok: true, value: await promise };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}

function groupByKey(positions: readonly StoredPosition[]): Map<string, StoredPosition[]> {
  const byKey = new Map<string, StoredPosition[]>();
  for (const p of positions) byKey.set(p.portfolioKey, [...(byKey.get(p.portfolioKey) ?? []), p]);
  return byKey;
}
