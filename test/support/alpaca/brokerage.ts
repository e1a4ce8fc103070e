import { randomUUID } from 'node:crypto';
import { Dec, dec } from '../../../src/domain/money';
import { alpacaErrors } from './errors';
import {
  formatNewYork,
  newYorkDate,
  newYorkMidnight,
  nextCloseAfter,
  nextOpenAfter,
  sessionStart,
} from './market-clock';

/**
 * The stand-in's account at "Alpaca": assets, prices, orders, fills, positions and cash, with
 * Alpaca's order rules. It knows nothing of HTTP; the server turns its results and AlpacaApiErrors
 * into responses, and every order event goes to `onTradeUpdate` (the trade_updates stream).
 */

export type OrderStatus =
  | 'new'
  | 'partially_filled'
  | 'filled'
  | 'done_for_day'
  | 'canceled'
  | 'expired'
  | 'replaced'
  | 'pending_cancel'
  | 'pending_replace'
  | 'accepted'
  | 'pending_new'
  | 'accepted_for_bidding'
  | 'stopped'
  | 'rejected'
  | 'suspended'
  | 'calculated'
  | 'held';

const CLOSED_STATUSES: readonly OrderStatus[] = ['filled', 'canceled', 'expired', 'rejected', 'replaced'];
const ORDER_TYPES = ['market', 'limit', 'stop', 'stop_limit', 'trailing_stop'] as const;
const TIMES_IN_FORCE = ['day', 'gtc', 'opg', 'cls', 'ioc', 'fok'] as const;
type OrderType = (typeof ORDER_TYPES)[number];
type TimeInForce = (typeof TIMES_IN_FORCE)[number];
type Side = 'buy' | 'sell';

/** An asset as GET /v2/assets returns it (the OpenAPI `Assets` schema). */
export interface Asset {
  id: string;
  class: 'us_equity';
  exchange: 'AMEX' | 'ARCA' | 'BATS' | 'NYSE' | 'NASDAQ' | 'NYSEARCA' | 'OTC';
  symbol: string;
  name: string;
  status: 'active' | 'inactive';
  tradable: boolean;
  marginable: boolean;
  shortable: boolean;
  easy_to_borrow: boolean;
  fractionable: boolean;
  attributes: string[];
}

/** An order exactly as Alpaca's REST API and trade_updates carry it (every field of the `Order` schema). */
export interface StandInOrder {
  id: string;
  client_order_id: string;
  created_at: string;
  updated_at: string | null;
  submitted_at: string | null;
  filled_at: string | null;
  expired_at: string | null;
  expires_at: string;
  canceled_at: string | null;
  failed_at: string | null;
  replaced_at: string | null;
  replaced_by: string | null;
  replaces: string | null;
  asset_id: string;
  symbol: string;
  asset_class: 'us_equity';
  notional: string | null;
  qty: string | null;
  filled_qty: string;
  filled_avg_price: string | null;
  order_class: '';
  order_type: string;
  type: string;
  side: Side;
  position_intent: 'buy_to_open' | 'buy_to_close' | 'sell_to_open' | 'sell_to_close';
  time_in_force: string;
  limit_price: string | null;
  stop_price: string | null;
  status: OrderStatus;
  extended_hours: boolean;
  legs: null;
  trail_percent: string | null;
  trail_price: string | null;
  hwm: string | null;
  subtag: null;
  source: null;
}

/** One trade_updates message body (`data` of a `{stream: 'trade_updates'}` frame). */
export interface TradeUpdate {
  event: 'new' | 'fill' | 'partial_fill' | 'canceled' | 'expired' | 'rejected';
  execution_id: string;
  order: StandInOrder;
  timestamp: string;
  price?: string;
  qty?: string;
  position_qty?: string;
  /** Free-form, as on Alpaca's newer trade events; sent with `rejected` when the test gives a reason. */
  reason?: string;
}

export interface PriceInput {
  last: string;
  bid?: string;
  ask?: string;
  prevClose?: string;
}

interface Quote {
  last: Dec;
  bid: Dec;
  ask: Dec;
  prevClose: Dec;
  at: Date;
  tradeId: number;
}

interface OrderState {
  sequence: number;
  id: string;
  clientOrderId: string;
  asset: Asset;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  qty?: Dec;
  notional?: Dec;
  /** For notional orders: the share count fixed at the first execution price. */
  notionalQty?: Dec;
  limitPrice?: Dec;
  stopPrice?: Dec;
  trailPrice?: Dec;
  trailPercent?: Dec;
  extendedHours: boolean;
  status: OrderStatus;
  stopTriggered: boolean;
  filledQty: Dec;
  filledValue: Dec;
  createdAt: Date;
  updatedAt: Date;
  submittedAt: Date;
  expiresAt: Date;
  filledAt?: Date;
  canceledAt?: Date;
  expiredAt?: Date;
  failedAt?: Date;
  positionIntent: StandInOrder['position_intent'];
}

interface PositionState {
  qty: Dec;
  avgEntryPrice: Dec;
}

interface FillActivity {
  executionId: string;
  order: OrderState;
  qty: Dec;
  price: Dec;
  cumulativeQty: Dec;
  leavesQty: Dec;
  status: OrderStatus;
  at: Date;
}

/** A seeded daily bar: its session's New York date and prices (open, high and low default to the close). */
export interface DailyBarInput {
  date: string;
  close: string;
  open?: string;
  high?: string;
  low?: string;
  volume?: number;
}

export interface PortfolioPoint {
  t: Date;
  equity: string;
}

export interface ListOrdersParams {
  status?: string;
  limit?: string;
  after?: string;
  until?: string;
  direction?: string;
  symbols?: string;
  side?: string;
}

export interface BrokerageOptions {
  cash: string;
  fillMode: 'immediate' | 'manual';
  accountNumber: string;
  marketOpen: boolean;
  onTradeUpdate: (update: TradeUpdate) => void;
}

const ZERO = dec(0);

function wireDecimal(value: Dec | undefined, places = 9): string | null {
  return value === undefined ? null : value.toDecimalPlaces(places).toFixed();
}

function wireNumber(value: Dec): number {
  return Number(value.toDecimalPlaces(9).toFixed());
}

function iso(at: Date | undefined): string | null {
  return at === undefined ? null : at.toISOString();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Fields of an order request, parsed from JSON that may carry decimals as strings or numbers. */
function parseDecimalField(body: Record<string, unknown>, field: string): Dec | undefined {
  const raw = body[field];
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string' && typeof raw !== 'number') throw alpacaErrors.malformedBody();
  try {
    const value = dec(raw);
    if (!value.isFinite()) throw new Error('not finite');
    return value;
  } catch {
    throw alpacaErrors.invalidParameter(`invalid ${field}`);
  }
}

export class Brokerage {
  readonly accountId = randomUUID();
  readonly createdAt = new Date();
  private readonly assets = new Map<string, Asset>();
  private readonly quotes = new Map<string, Quote>();
  private readonly withoutSnapshot = new Set<string>();
  private readonly orderList: OrderState[] = [];
  private readonly positionBook = new Map<string, PositionState>();
  private readonly fills: FillActivity[] = [];
  /** Weekdays the market is closed (New York dates): GET /v2/calendar leaves them out, as Alpaca does. */
  readonly holidays = new Set<string>();
  private cash: Dec;
  /** Equity at the previous close: the stand-in's account starts the day flat, in cash. */
  private readonly startingEquity: Dec;
  /** What buying power starts from before open buy orders are reserved; setBuyingPower moves it. */
  private buyingPowerBase: Dec;
  private marketOpen: boolean;
  private clockOverride: { nextOpen?: Date; nextClose?: Date } = {};
  private patternDayTraderBlocked = false;
  private portfolioPoints: PortfolioPoint[] = [];
  private readonly seededDailyBars = new Map<string, Record<string, unknown>[]>();
  private orderSequence = 0;
  private tradeSequence = 1000;

  constructor(private readonly options: BrokerageOptions) {
    this.cash = dec(options.cash);
    this.startingEquity = this.cash;
    this.buyingPowerBase = dec(options.cash);
    this.marketOpen = options.marketOpen;
  }

  // ---- assets and prices --------------------------------------------------------------------

  addAsset(a: Partial<Asset> & { symbol: string }): Asset {
    const symbol = a.symbol.toUpperCase();
    const existing = this.assets.get(symbol);
    const asset: Asset = {
      id: existing?.id ?? randomUUID(),
      class: 'us_equity',
      exchange: 'NASDAQ',
      name: `${symbol} Inc.`,
      status: 'active',
      tradable: true,
      marginable: true,
      shortable: true,
      easy_to_borrow: true,
      fractionable: true,
      attributes: [],
      ...a,
      symbol,
    };
    this.assets.set(symbol, asset);
    return asset;
  }

  findAsset(symbolOrId: string): Asset | undefined {
    const bySymbol = this.assets.get(symbolOrId.toUpperCase());
    if (bySymbol) return bySymbol;
    for (const asset of this.assets.values()) if (asset.id === symbolOrId) return asset;
    return undefined;
  }

  listAssets(filter: { status?: string; asset_class?: string; exchange?: string }): Asset[] {
    return [...this.assets.values()].filter(
      (a) =>
        (filter.status === undefined || a.status === filter.status) &&
        (filter.asset_class === undefined || a.class === filter.asset_class) &&
        (filter.exchange === undefined || a.exchange === filter.exchange),
    );
  }

  setPrice(symbol: string, p: PriceInput): void {
    const key = symbol.toUpperCase();
    const last = dec(p.last);
    const previous = this.quotes.get(key);
    this.quotes.set(key, {
      last,
      bid: dec(p.bid ?? p.last),
      ask: dec(p.ask ?? p.last),
      prevClose: p.prevClose !== undefined ? dec(p.prevClose) : (previous?.prevClose ?? last),
      at: new Date(),
      tradeId: ++this.tradeSequence,
    });
    this.executeResting((o) => o.asset.symbol === key);
  }

  setNoSnapshot(symbol: string): void {
    this.withoutSnapshot.add(symbol.toUpperCase());
  }

  /** The quote market data may show for a symbol: undefined when none is set or it is hidden. */
  private marketQuote(symbol: string): Quote | undefined {
    const key = symbol.toUpperCase();
    return this.withoutSnapshot.has(key) ? undefined : this.quotes.get(key);
  }

  // ---- clock ----------------------------------------------------------------------------------

  setMarketOpen(open: boolean, opts: { nextOpen?: Date; nextClose?: Date } = {}): void {
    this.marketOpen = open;
    this.clockOverride = { ...opts };
    if (!open) return;
    for (const order of this.orderList) if (order.status === 'accepted') this.route(order);
    this.executeResting(() => true);
  }

  clock(): { timestamp: string; is_open: boolean; next_open: string; next_close: string } {
    const now = new Date();
    let nextOpen: Date;
    let nextClose: Date;
    if (this.marketOpen) {
      nextClose = this.clockOverride.nextClose ?? nextCloseAfter(now);
      nextOpen = this.clockOverride.nextOpen ?? nextOpenAfter(nextClose);
    } else {
      nextOpen = this.clockOverride.nextOpen ?? nextOpenAfter(now);
      nextClose = this.clockOverride.nextClose ?? nextCloseAfter(nextOpen);
    }
    return {
      timestamp: formatNewYork(now),
      is_open: this.marketOpen,
      next_open: formatNewYork(nextOpen),
      next_close: formatNewYork(nextClose),
    };
  }

  // ---- account ----------------------------------------------------------------------------------

  setBuyingPower(amount: string): void {
    this.buyingPowerBase = dec(amount);
  }

  setPatternDayTraderBlocked(blocked: boolean): void {
    this.patternDayTraderBlocked = blocked;
  }

  private buyingPower(): Dec {
    let reserved = ZERO;
    for (const order of this.orderList) {
      if (order.side !== 'buy' || !this.isOpen(order)) continue;
      if (order.notional !== undefined && order.notionalQty === undefined) {
        reserved = reserved.plus(order.notional.minus(order.filledValue));
        continue;
      }
      const price = this.estimatePrice(order.type, 'buy', order.asset.symbol, order.limitPrice, order.stopPrice);
      if (price) reserved = reserved.plus(this.remainingQty(order).times(price));
    }
    return this.buyingPowerBase.minus(reserved);
  }

  account(): Record<string, unknown> {
    let longValue = ZERO;
    let shortValue = ZERO;
    for (const [symbol, position] of this.positionBook) {
      const value = position.qty.times(this.quotes.get(symbol)?.last ?? position.avgEntryPrice);
      if (value.isNegative()) shortValue = shortValue.plus(value);
      else longValue = longValue.plus(value);
    }
    const equity = this.cash.plus(longValue).plus(shortValue);
    const buyingPower = wireDecimal(this.buyingPower());
    return {
      id: this.accountId,
      admin_configurations: {},
      user_configurations: null,
      account_number: this.options.accountNumber,
      status: 'ACTIVE',
      crypto_status: 'ACTIVE',
      options_approved_level: 0,
      options_trading_level: 0,
      currency: 'USD',
      buying_power: buyingPower,
      regt_buying_power: buyingPower,
      daytrading_buying_power: '0',
      effective_buying_power: buyingPower,
      non_marginable_buying_power: buyingPower,
      options_buying_power: buyingPower,
      bod_dtbp: '0',
      cash: wireDecimal(this.cash),
      accrued_fees: '0',
      pending_transfer_in: '0',
      portfolio_value: wireDecimal(equity),
      pattern_day_trader: this.patternDayTraderBlocked,
      trading_blocked: false,
      transfers_blocked: false,
      account_blocked: false,
      created_at: this.createdAt.toISOString(),
      trade_suspended_by_user: false,
      multiplier: '1',
      shorting_enabled: false,
      equity: wireDecimal(equity),
      last_equity: wireDecimal(this.startingEquity),
      long_market_value: wireDecimal(longValue),
      short_market_value: wireDecimal(shortValue),
      position_market_value: wireDecimal(longValue.minus(shortValue)),
      initial_margin: '0',
      maintenance_margin: '0',
      last_maintenance_margin: '0',
      sma: '0',
      daytrade_count: 0,
      balance_asof: newYorkDate(new Date()),
      intraday_adjustments: '0',
      pending_reg_taf_fees: '0',
    };
  }

  // ---- orders -------------------------------------------------------------------------------------

  /** POST /v2/orders: validates like Alpaca, then accepts (market closed) or routes and executes. */
  submitOrder(body: unknown): StandInOrder {
    if (!isRecord(body)) throw alpacaErrors.malformedBody();
    const request = this.parseOrderRequest(body);
    this.checkOrderRules(request);
    return this.createOrder(request);
  }

  /** An order placed "elsewhere" (another tool, the dashboard): no validation, same lifecycle. */
  placeExternalOrder(o: { symbol: string; side: Side; qty: string; clientOrderId?: string }): StandInOrder {
    const clientOrderId = o.clientOrderId ?? randomUUID();
    if (this.findOrder(clientOrderId)) throw new Error(`client_order_id ${clientOrderId} already used`);
    const asset = this.findAsset(o.symbol) ?? this.addAsset({ symbol: o.symbol });
    return this.createOrder({
      clientOrderId,
      asset,
      side: o.side,
      type: 'market',
      timeInForce: 'day',
      qty: dec(o.qty),
      extendedHours: false,
    });
  }

  findOrder(idOrClientId: string): OrderState | undefined {
    return (
      this.orderList.find((o) => o.id === idOrClientId) ?? this.orderList.find((o) => o.clientOrderId === idOrClientId)
    );
  }

  orderById(id: string): StandInOrder {
    const order = this.orderList.find((o) => o.id === id);
    if (!order) throw alpacaErrors.orderNotFound();
    return this.toWire(order);
  }

  orderByClientOrderId(clientOrderId: string): StandInOrder {
    const order = this.orderList.find((o) => o.clientOrderId === clientOrderId);
    if (!order) throw alpacaErrors.orderNotFound();
    return this.toWire(order);
  }

  allOrders(): StandInOrder[] {
    return this.orderList.map((o) => this.toWire(o));
  }

  listOrders(params: ListOrdersParams): StandInOrder[] {
    const status = params.status ?? 'open';
    if (!['open', 'closed', 'all'].includes(status)) throw alpacaErrors.invalidParameter('invalid status');
    const limit = Math.min(Math.max(Number(params.limit ?? 50) || 50, 1), 500);
    const after = params.after ? Date.parse(params.after) : undefined;
    const until = params.until ? Date.parse(params.until) : undefined;
    const symbols = params.symbols ? new Set(params.symbols.split(',').map((s) => s.trim().toUpperCase())) : undefined;
    const ascending = params.direction === 'asc';
    const matching = this.orderList.filter(
      (o) =>
        (status === 'all' || (status === 'open') === this.isOpen(o)) &&
        (after === undefined || o.submittedAt.getTime() > after) &&
        (until === undefined || o.submittedAt.getTime() < until) &&
        (symbols === undefined || symbols.has(o.asset.symbol)) &&
        (params.side === undefined || o.side === params.side),
    );
    matching.sort((a, b) => (ascending ? a.sequence - b.sequence : b.sequence - a.sequence));
    return matching.slice(0, limit).map((o) => this.toWire(o));
  }

  /** DELETE /v2/orders/{id}. */
  cancelOrderRequest(id: string): void {
    const order = this.orderList.find((o) => o.id === id);
    if (!order) throw alpacaErrors.orderNotFound();
    if (!this.isOpen(order)) throw alpacaErrors.notCancelable(order.status);
    this.finish(order, 'canceled');
  }

  /** DELETE /v2/orders: one entry per open order, as the 207 Multi-Status body lists them. */
  cancelAllOrders(): { id: string; status: number; body: StandInOrder }[] {
    const open = this.orderList.filter((o) => this.isOpen(o));
    return open.map((order) => {
      this.finish(order, 'canceled');
      return { id: order.id, status: 200, body: this.toWire(order) };
    });
  }

  // ---- test control over the order lifecycle -----------------------------------------------------

  fill(idOrClientId: string, qty: string, price?: string): void {
    const order = this.requireOpenOrder(idOrClientId);
    if (order.status === 'accepted' || order.status === 'pending_new') this.route(order);
    const fillPrice = price !== undefined ? dec(price) : this.manualFillPrice(order);
    const fillQty = dec(qty);
    if (order.notional !== undefined && order.notionalQty === undefined) {
      order.notionalQty = order.notional.dividedBy(fillPrice).toDecimalPlaces(9, Dec.ROUND_DOWN);
    }
    const remaining = this.remainingQty(order);
    if (fillQty.lte(0) || fillQty.gt(remaining)) {
      throw new Error(`cannot fill ${fillQty.toFixed()} of order ${order.id}: ${remaining.toFixed()} remaining`);
    }
    this.applyFill(order, fillQty, fillPrice);
  }

  cancel(idOrClientId: string): void {
    this.finish(this.requireOpenOrder(idOrClientId), 'canceled');
  }

  reject(idOrClientId: string, reason?: string): void {
    this.finish(this.requireOpenOrder(idOrClientId), 'rejected', reason);
  }

  expire(idOrClientId: string): void {
    this.finish(this.requireOpenOrder(idOrClientId), 'expired');
  }

  // ---- positions ----------------------------------------------------------------------------------

  positionSummaries(): { symbol: string; qty: string; avg_entry_price: string }[] {
    return [...this.positionBook].map(([symbol, p]) => ({
      symbol,
      qty: p.qty.toFixed(),
      avg_entry_price: wireDecimal(p.avgEntryPrice) ?? '0',
    }));
  }

  setPosition(symbol: string, qty: string, avgEntryPrice: string): void {
    const asset = this.findAsset(symbol) ?? this.addAsset({ symbol });
    const amount = dec(qty);
    if (amount.isZero()) this.positionBook.delete(asset.symbol);
    else this.positionBook.set(asset.symbol, { qty: amount, avgEntryPrice: dec(avgEntryPrice) });
  }

  listPositions(): Record<string, unknown>[] {
    return [...this.positionBook.keys()].map((symbol) => this.positionWire(symbol));
  }

  position(symbolOrId: string): Record<string, unknown> {
    const symbol = this.findAsset(symbolOrId)?.symbol ?? symbolOrId.toUpperCase();
    if (!this.positionBook.has(symbol)) throw alpacaErrors.positionNotFound();
    return this.positionWire(symbol);
  }

  // ---- activities and history ----------------------------------------------------------------------

  fillActivities(params: {
    direction?: string;
    after?: string;
    until?: string;
    page_size?: string;
  }): Record<string, unknown>[] {
    const after = params.after ? Date.parse(params.after) : undefined;
    const until = params.until ? Date.parse(params.until) : undefined;
    const size = Math.min(Math.max(Number(params.page_size ?? 100) || 100, 1), 100);
    const selected = this.fills.filter(
      (f) => (after === undefined || f.at.getTime() > after) && (until === undefined || f.at.getTime() < until),
    );
    if (params.direction !== 'asc') selected.reverse();
    return selected.slice(0, size).map((f) => ({
      id: `${f.at.toISOString().replace(/\D/g, '').slice(0, 17)}::${f.executionId}`,
      activity_type: 'FILL',
      transaction_time: f.at.toISOString(),
      type: f.status === 'filled' ? 'fill' : 'partial_fill',
      price: wireDecimal(f.price),
      qty: f.qty.toFixed(),
      side: f.order.side,
      symbol: f.order.asset.symbol,
      leaves_qty: f.leavesQty.toFixed(),
      order_id: f.order.id,
      cum_qty: f.cumulativeQty.toFixed(),
      order_status: f.status,
    }));
  }

  setPortfolioHistory(points: PortfolioPoint[]): void {
    this.portfolioPoints = [...points].sort((a, b) => a.t.getTime() - b.t.getTime());
  }

  portfolioHistory(params: { period?: string; timeframe?: string }): Record<string, unknown> {
    const periodMs = parsePeriod(params.period ?? '1M');
    if (periodMs === undefined) throw alpacaErrors.invalidParameter('invalid period');
    const now = Date.now();
    const points = this.portfolioPoints.length
      ? this.portfolioPoints.filter((p) => p.t.getTime() >= now - periodMs && p.t.getTime() <= now)
      : [{ t: new Date(now), equity: String(this.account().equity) }];
    const equities = points.map((p) => dec(p.equity));
    const base = equities[0] ?? ZERO;
    return {
      timestamp: points.map((p) => Math.floor(p.t.getTime() / 1000)),
      equity: equities.map(wireNumber),
      profit_loss: equities.map((e) => wireNumber(e.minus(base).toDecimalPlaces(2))),
      profit_loss_pct: equities.map((e) =>
        base.isZero() ? 0 : wireNumber(e.minus(base).dividedBy(base).toDecimalPlaces(4)),
      ),
      base_value: wireNumber(base),
      timeframe: params.timeframe ?? (periodMs > 30 * 86_400_000 ? '1D' : '15Min'),
    };
  }

  // ---- market data ----------------------------------------------------------------------------------

  latestTrade(symbol: string): Record<string, unknown> | undefined {
    const q = this.marketQuote(symbol);
    return q && { t: q.at.toISOString(), x: 'V', p: wireNumber(q.last), s: 100, c: ['@'], i: q.tradeId, z: 'C' };
  }

  latestQuote(symbol: string): Record<string, unknown> | undefined {
    const q = this.marketQuote(symbol);
    return (
      q && {
        t: q.at.toISOString(),
        ax: 'V',
        ap: wireNumber(q.ask),
        as: 1,
        bx: 'V',
        bp: wireNumber(q.bid),
        bs: 1,
        c: ['R'],
        z: 'C',
      }
    );
  }

  /** Replaces a symbol's daily bar history; from then on its daily bars are exactly these. */
  setDailyBars(symbol: string, bars: readonly DailyBarInput[]): void {
    const wire = bars.map((b) => {
      const close = dec(b.close);
      const open = dec(b.open ?? b.close);
      const volume = b.volume ?? 100_000;
      return {
        // Alpaca stamps a session's daily bar at New York midnight, without fractional seconds.
        t: newYorkMidnight(b.date).toISOString().replace('.000Z', 'Z'),
        o: wireNumber(open),
        h: wireNumber(dec(b.high ?? Dec.max(open, close))),
        l: wireNumber(dec(b.low ?? Dec.min(open, close))),
        c: wireNumber(close),
        v: volume,
        n: Math.max(1, Math.round(volume / 100)),
        vw: wireNumber(open.plus(close).dividedBy(2)),
      };
    });
    this.seededDailyBars.set(
      symbol.toUpperCase(),
      wire.sort((a, b) => a.t.localeCompare(b.t)),
    );
  }

  /**
   * A symbol's bars for GET /v2/stocks/bars, oldest first: the seeded daily history when there is
   * one, else what its quote implies (yesterday's and today's sessions, or the current minute).
   */
  historicalBars(symbol: string, daily: boolean): Record<string, unknown>[] {
    const seeded = daily ? this.seededDailyBars.get(symbol.toUpperCase()) : undefined;
    if (seeded) return seeded;
    const bars = this.dailyBars(symbol);
    if (!bars) return [];
    return daily ? [bars.previous, bars.today] : [bars.minute];
  }

  dailyBars(
    symbol: string,
  ):
    | { previous: Record<string, unknown>; today: Record<string, unknown>; minute: Record<string, unknown> }
    | undefined {
    const q = this.marketQuote(symbol);
    if (!q) return undefined;
    const minute = new Date(Math.floor(q.at.getTime() / 60_000) * 60_000);
    const bar = (t: Date, open: Dec, close: Dec, volume: number) => ({
      t: t.toISOString(),
      o: wireNumber(open),
      h: wireNumber(Dec.max(open, close)),
      l: wireNumber(Dec.min(open, close)),
      c: wireNumber(close),
      v: volume,
      n: Math.max(1, Math.round(volume / 100)),
      vw: wireNumber(open.plus(close).dividedBy(2)),
    });
    return {
      previous: bar(sessionStart(q.at, 1), q.prevClose, q.prevClose, 50_000),
      today: bar(sessionStart(q.at), q.prevClose, q.last, 40_000),
      minute: bar(minute, q.last, q.last, 100),
    };
  }

  // ---- internals ------------------------------------------------------------------------------------

  private parseOrderRequest(body: Record<string, unknown>): OrderRequest {
    const symbol = body.symbol;
    if (typeof symbol !== 'string' || symbol.trim() === '') throw alpacaErrors.invalidParameter('symbol is required');
    const side = body.side;
    if (side !== 'buy' && side !== 'sell') throw alpacaErrors.invalidParameter('side must be buy or sell');
    const type = body.type ?? 'market';
    if (!ORDER_TYPES.includes(type as OrderType)) throw alpacaErrors.invalidParameter('invalid order type');
    const timeInForce = body.time_in_force;
    if (!TIMES_IN_FORCE.includes(timeInForce as TimeInForce))
      throw alpacaErrors.invalidParameter('invalid time_in_force');
    const qty = parseDecimalField(body, 'qty');
    const notional = parseDecimalField(body, 'notional');
    if (qty !== undefined && notional !== undefined)
      throw alpacaErrors.invalidParameter('qty and notional cannot both be provided');
    if (qty === undefined && notional === undefined) throw alpacaErrors.invalidParameter('qty or notional is required');
    if ((qty ?? notional)!.lte(0))
      throw alpacaErrors.invalidParameter(qty ? 'qty must be > 0' : 'notional must be > 0');
    const limitPrice = parseDecimalField(body, 'limit_price');
    const stopPrice = parseDecimalField(body, 'stop_price');
    if ((type === 'limit' || type === 'stop_limit') && limitPrice === undefined)
      throw alpacaErrors.invalidParameter('limit_price is required');
    if ((type === 'stop' || type === 'stop_limit') && stopPrice === undefined)
      throw alpacaErrors.invalidParameter('stop_price is required');
    const trailPrice = parseDecimalField(body, 'trail_price');
    const trailPercent = parseDecimalField(body, 'trail_percent');
    if (type === 'trailing_stop' && trailPrice === undefined && trailPercent === undefined) {
      throw alpacaErrors.invalidParameter('trail_price or trail_percent is required');
    }
    const clientOrderId = body.client_order_id;
    if (clientOrderId !== undefined && typeof clientOrderId !== 'string') throw alpacaErrors.malformedBody();
    if (clientOrderId !== undefined && clientOrderId.length > 128) throw alpacaErrors.clientOrderIdTooLong();
    if (clientOrderId !== undefined && this.orderList.some((o) => o.clientOrderId === clientOrderId)) {
      throw alpacaErrors.duplicateClientOrderId();
    }
    const asset = this.findAsset(symbol.trim());
    if (!asset) throw alpacaErrors.orderAssetNotFound(symbol.trim());
    if (asset.status !== 'active') throw alpacaErrors.orderAssetNotActive(asset.symbol);
    if (!asset.tradable) throw alpacaErrors.orderAssetNotTradable(asset.symbol);
    return {
      clientOrderId: clientOrderId ?? randomUUID(),
      asset,
      side,
      type: type as OrderType,
      timeInForce: timeInForce as TimeInForce,
      qty,
      notional,
      limitPrice,
      stopPrice,
      trailPrice,
      trailPercent,
      extendedHours: body.extended_hours === true,
    };
  }

  private checkOrderRules(r: OrderRequest): void {
    const fractional = r.notional !== undefined || (r.qty !== undefined && !r.qty.isInteger());
    if (fractional) {
      if (!r.asset.fractionable) throw alpacaErrors.notFractionable(r.asset.symbol);
      if (r.type !== 'market') throw alpacaErrors.fractionalNotMarket();
      if (r.timeInForce !== 'day') throw alpacaErrors.fractionalNotDay();
    }
    if (r.extendedHours) {
      if (r.type !== 'limit') throw alpacaErrors.extendedHoursNotLimit();
      if (r.timeInForce !== 'day' && r.timeInForce !== 'gtc') throw alpacaErrors.extendedHoursTimeInForce();
    }
    for (const [field, price] of [
      ['limit_price', r.limitPrice],
      ['stop_price', r.stopPrice],
    ] as const) {
      if (price && price.decimalPlaces() > (price.gte(1) ? 2 : 4)) throw alpacaErrors.subPenny(field, price.toFixed());
    }
    if (this.patternDayTraderBlocked) throw alpacaErrors.patternDayTrader();
    const crossing = this.orderList.find(
      (o) => this.isOpen(o) && o.asset.symbol === r.asset.symbol && o.side !== r.side && couldCross(r, o),
    );
    if (crossing) throw alpacaErrors.washTrade(crossing.id, crossing.type);

    const price = this.estimatePrice(r.type, r.side, r.asset.symbol, r.limitPrice, r.stopPrice);
    const costBasis = r.notional ?? (price ? r.qty!.times(price) : undefined);
    const requested = r.qty ?? (price ? r.notional!.dividedBy(price).toDecimalPlaces(9) : undefined);
    if (r.side === 'sell' && requested) {
      const existing = this.positionBook.get(r.asset.symbol)?.qty ?? ZERO;
      const held = this.heldForSells(r.asset.symbol);
      const available = Dec.max(existing.minus(held), ZERO);
      if (requested.gt(available)) {
        throw alpacaErrors.insufficientQty(
          r.asset.symbol,
          requested.toFixed(),
          available.toFixed(),
          existing.toFixed(),
          held.toFixed(),
        );
      }
    }
    if (r.side === 'buy' && costBasis) {
      const buyingPower = this.buyingPower();
      if (costBasis.gt(buyingPower))
        throw alpacaErrors.insufficientBuyingPower(wireDecimal(buyingPower)!, wireDecimal(costBasis)!);
    }
    if (costBasis?.lt(1)) throw alpacaErrors.belowMinimumCostBasis();
  }

  private createOrder(r: OrderRequest): StandInOrder {
    const now = new Date();
    const order: OrderState = {
      ...r,
      sequence: ++this.orderSequence,
      id: randomUUID(),
      status: 'pending_new',
      stopTriggered: false,
      filledQty: ZERO,
      filledValue: ZERO,
      createdAt: now,
      updatedAt: now,
      submittedAt: now,
      expiresAt: r.timeInForce === 'day' ? nextCloseAfter(now) : new Date(now.getTime() + 90 * 86_400_000),
      positionIntent: r.side === 'buy' ? 'buy_to_open' : 'sell_to_close',
    };
    this.orderList.push(order);
    if (!this.marketOpen && !order.extendedHours) {
      // Queued for the open: Alpaca holds it as `accepted` and sends no stream event until routing.
      order.status = 'accepted';
      return this.toWire(order);
    }
    const acknowledged = this.toWire(order);
    this.route(order);
    this.execute(order);
    return acknowledged;
  }

  private route(order: OrderState): void {
    order.status = 'new';
    order.updatedAt = new Date();
    this.emit('new', order);
  }

  private executeResting(matches: (o: OrderState) => boolean): void {
    for (const order of this.orderList) if (matches(order)) this.execute(order);
  }

  /** Immediate fill mode: fills a routed order that the current quote can fill, in full. */
  private execute(order: OrderState): void {
    if (this.options.fillMode !== 'immediate') return;
    if (order.status !== 'new' && order.status !== 'partially_filled') return;
    if (!this.marketOpen && !order.extendedHours) return;
    const quote = this.quotes.get(order.asset.symbol);
    if (!quote || order.type === 'trailing_stop') return;
    if ((order.type === 'stop' || order.type === 'stop_limit') && !order.stopTriggered) {
      const triggered = order.side === 'buy' ? quote.last.gte(order.stopPrice!) : quote.last.lte(order.stopPrice!);
      if (!triggered) return;
      order.stopTriggered = true;
    }
    const touch = order.side === 'buy' ? quote.ask : quote.bid;
    if (order.limitPrice && (order.side === 'buy' ? touch.gt(order.limitPrice) : touch.lt(order.limitPrice))) return;
    if (order.notional !== undefined && order.notionalQty === undefined) {
      order.notionalQty = order.notional.dividedBy(touch).toDecimalPlaces(9, Dec.ROUND_DOWN);
    }
    const remaining = this.remainingQty(order);
    if (remaining.gt(0)) this.applyFill(order, remaining, touch);
  }

  private applyFill(order: OrderState, qty: Dec, price: Dec): void {
    const at = new Date();
    order.filledQty = order.filledQty.plus(qty);
    order.filledValue = order.filledValue.plus(qty.times(price));
    order.updatedAt = at;
    const complete = this.remainingQty(order).lte(0);
    order.status = complete ? 'filled' : 'partially_filled';
    if (complete) order.filledAt = at;

    const symbol = order.asset.symbol;
    const signed = order.side === 'buy' ? qty : qty.negated();
    const held = this.positionBook.get(symbol) ?? { qty: ZERO, avgEntryPrice: ZERO };
    const newQty = held.qty.plus(signed);
    if (newQty.isZero()) {
      this.positionBook.delete(symbol);
    } else if (held.qty.isZero() || held.qty.isNegative() !== newQty.isNegative()) {
      this.positionBook.set(symbol, { qty: newQty, avgEntryPrice: price });
    } else if (newQty.abs().gt(held.qty.abs())) {
      const cost = held.avgEntryPrice.times(held.qty.abs()).plus(price.times(qty));
      this.positionBook.set(symbol, { qty: newQty, avgEntryPrice: cost.dividedBy(newQty.abs()) });
    } else {
      this.positionBook.set(symbol, { qty: newQty, avgEntryPrice: held.avgEntryPrice });
    }
    const cashDelta = order.side === 'buy' ? qty.times(price).negated() : qty.times(price);
    this.cash = this.cash.plus(cashDelta);
    this.buyingPowerBase = this.buyingPowerBase.plus(cashDelta);

    const executionId = randomUUID();
    this.fills.push({
      executionId,
      order,
      qty,
      price,
      cumulativeQty: order.filledQty,
      leavesQty: this.remainingQty(order),
      status: order.status,
      at,
    });
    this.emit(complete ? 'fill' : 'partial_fill', order, {
      execution_id: executionId,
      timestamp: at.toISOString(),
      price: wireDecimal(price)!,
      qty: qty.toFixed(),
      position_qty: newQty.toFixed(),
    });
  }

  private finish(order: OrderState, status: 'canceled' | 'rejected' | 'expired', reason?: string): void {
    const at = new Date();
    order.status = status;
    order.updatedAt = at;
    if (status === 'canceled') order.canceledAt = at;
    if (status === 'rejected') order.failedAt = at;
    if (status === 'expired') order.expiredAt = at;
    this.emit(status, order, reason === undefined ? {} : { reason });
  }

  private emit(event: TradeUpdate['event'], order: OrderState, extra: Partial<TradeUpdate> = {}): void {
    this.options.onTradeUpdate({
      event,
      execution_id: randomUUID(),
      order: this.toWire(order),
      timestamp: order.updatedAt.toISOString(),
      ...extra,
    });
  }

  private requireOpenOrder(idOrClientId: string): OrderState {
    const order = this.findOrder(idOrClientId);
    if (!order) throw new Error(`the stand-in has no order ${idOrClientId}`);
    if (!this.isOpen(order)) throw new Error(`order ${idOrClientId} is already ${order.status}`);
    return order;
  }

  private isOpen(order: OrderState): boolean {
    return !CLOSED_STATUSES.includes(order.status);
  }

  private remainingQty(order: OrderState): Dec {
    const target = order.qty ?? order.notionalQty;
    return target === undefined ? ZERO : target.minus(order.filledQty);
  }

  private heldForSells(symbol: string): Dec {
    return this.orderList
      .filter((o) => o.side === 'sell' && o.asset.symbol === symbol && this.isOpen(o))
      .reduce((sum, o) => sum.plus(this.remainingQty(o)), ZERO);
  }

  /** Alpaca's cost estimate: the limit (or stop) price, else the ask for buys and the bid for sells. */
  private estimatePrice(
    type: OrderType,
    side: Side,
    symbol: string,
    limitPrice?: Dec,
    stopPrice?: Dec,
  ): Dec | undefined {
    if (limitPrice) return limitPrice;
    if (type === 'stop' && stopPrice) return stopPrice;
    const quote = this.quotes.get(symbol);
    if (!quote) return undefined;
    return side === 'buy' ? quote.ask : quote.bid;
  }

  private manualFillPrice(order: OrderState): Dec {
    const quote = this.quotes.get(order.asset.symbol);
    const touch = quote && (order.side === 'buy' ? quote.ask : quote.bid);
    if (order.limitPrice) {
      if (!touch) return order.limitPrice;
      return order.side === 'buy' ? Dec.min(touch, order.limitPrice) : Dec.max(touch, order.limitPrice);
    }
    if (!touch) throw new Error(`no price for ${order.asset.symbol}: call setPrice() or pass a fill price`);
    return touch;
  }

  private positionWire(symbol: string): Record<string, unknown> {
    const position = this.positionBook.get(symbol)!;
    const asset = this.findAsset(symbol)!;
    const quote = this.quotes.get(symbol);
    const current = quote?.last ?? position.avgEntryPrice;
    const lastday = quote?.prevClose ?? current;
    const marketValue = position.qty.times(current);
    const costBasis = position.qty.times(position.avgEntryPrice);
    const unrealized = marketValue.minus(costBasis);
    const intraday = position.qty.times(current.minus(lastday));
    const ratio = (part: Dec, whole: Dec) => wireDecimal(whole.isZero() ? ZERO : part.dividedBy(whole.abs()), 16);
    const available = position.qty.isNegative()
      ? position.qty
      : Dec.max(position.qty.minus(this.heldForSells(symbol)), ZERO);
    return {
      asset_id: asset.id,
      symbol,
      exchange: asset.exchange,
      asset_class: 'us_equity',
      asset_marginable: asset.marginable,
      qty: position.qty.toFixed(),
      qty_available: available.toFixed(),
      avg_entry_price: wireDecimal(position.avgEntryPrice),
      side: position.qty.isNegative() ? 'short' : 'long',
      market_value: wireDecimal(marketValue),
      cost_basis: wireDecimal(costBasis),
      unrealized_pl: wireDecimal(unrealized),
      unrealized_plpc: ratio(unrealized, costBasis),
      unrealized_intraday_pl: wireDecimal(intraday),
      unrealized_intraday_plpc: ratio(intraday, position.qty.times(lastday)),
      current_price: wireDecimal(current),
      lastday_price: wireDecimal(lastday),
      change_today: ratio(current.minus(lastday), lastday),
    };
  }

  toWire(order: OrderState): StandInOrder {
    const avg = order.filledQty.isZero() ? undefined : order.filledValue.dividedBy(order.filledQty);
    return {
      id: order.id,
      client_order_id: order.clientOrderId,
      created_at: order.createdAt.toISOString(),
      updated_at: order.updatedAt.toISOString(),
      submitted_at: order.submittedAt.toISOString(),
      filled_at: iso(order.filledAt),
      expired_at: iso(order.expiredAt),
      expires_at: order.expiresAt.toISOString(),
      canceled_at: iso(order.canceledAt),
      failed_at: iso(order.failedAt),
      replaced_at: null,
      replaced_by: null,
      replaces: null,
      asset_id: order.asset.id,
      symbol: order.asset.symbol,
      asset_class: 'us_equity',
      notional: wireDecimal(order.notional),
      qty: wireDecimal(order.qty),
      filled_qty: order.filledQty.toFixed(),
      filled_avg_price: wireDecimal(avg),
      order_class: '',
      order_type: order.type,
      type: order.type,
      side: order.side,
      position_intent: order.positionIntent,
      time_in_force: order.timeInForce,
      limit_price: wireDecimal(order.limitPrice),
      stop_price: wireDecimal(order.stopPrice),
      status: order.status,
      extended_hours: order.extendedHours,
      legs: null,
      trail_percent: wireDecimal(order.trailPercent),
      trail_price: wireDecimal(order.trailPrice),
      hwm: null,
      subtag: null,
      source: null,
    };
  }
}

interface OrderRequest {
  clientOrderId: string;
  asset: Asset;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  qty?: Dec;
  notional?: Dec;
  limitPrice?: Dec;
  stopPrice?: Dec;
  trailPrice?: Dec;
  trailPercent?: Dec;
  extendedHours: boolean;
}

/**
 * Whether a new order could execute against an open opposite-side order of ours: any order
 * without a limit price (market, stop) can; two limits can when the buy limit reaches the sell's.
 */
function couldCross(incoming: OrderRequest, resting: OrderState): boolean {
  if (!incoming.limitPrice || !resting.limitPrice) return true;
  const buyLimit = incoming.side === 'buy' ? incoming.limitPrice : resting.limitPrice;
  const sellLimit = incoming.side === 'sell' ? incoming.limitPrice : resting.limitPrice;
  return buyLimit.gte(sellLimit);
}

function parsePeriod(period: string): number | undefined {
  const match = /^(\d+)([DWMA])$/.exec(period);
  if (!match) return undefined;
  const days = { D: 1, W: 7, M: 30, A: 365 }[match[2] as 'D' | 'W' | 'M' | 'A'];
  return Number(match[1]) * days * 86_400_000;
}
