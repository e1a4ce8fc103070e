import type * as Market from '../domain/market';
import type { Dec } from '../domain/money';
import type { OrderIntent, OrderType, Side, TimeInForce } from '../domain/order';

/**
 * The broker port: everything the services need from Alpaca, in domain terms (decimals, not
 * strings; our own status names). The Alpaca adapter and the ledger-only broker implement it.
 * Every method throws BrokerError on failure, never an SDK error.
 */

/** Alpaca's order statuses, kept verbatim (the books map them to TradeStatus). */
export type BrokerOrderStatus =
  | 'new'
  | 'accepted'
  | 'pending_new'
  | 'accepted_for_bidding'
  | 'partially_filled'
  | 'filled'
  | 'done_for_day'
  | 'canceled'
  | 'expired'
  | 'replaced'
  | 'pending_cancel'
  | 'pending_replace'
  | 'stopped'
  | 'rejected'
  | 'suspended'
  | 'calculated'
  | 'held';

export interface BrokerOrder {
  id: string;
  clientOrderId: string;
  symbol: string;
  side: Side;
  type: OrderType | string;
  timeInForce: TimeInForce | string;
  status: BrokerOrderStatus;
  qty?: Dec;
  notional?: Dec;
  filledQty: Dec;
  filledAvgPrice?: Dec;
  limitPrice?: Dec;
  stopPrice?: Dec;
  extendedHours: boolean;
  createdAt: Date;
  updatedAt: Date;
  submittedAt?: Date;
  filledAt?: Date;
  canceledAt?: Date;
  failedAt?: Date;
}

/** One event from the trade_updates stream. `execution` is present on fill / partial_fill. */
export interface TradeUpdateEvent {
  event: string;
  at: Date;
  order: BrokerOrder;
  execution?: { id: string; qty: Dec; price: Dec; positionQty?: Dec };
}

export interface ListOrdersQuery {
  status: 'open' | 'closed' | 'all';
  /** Orders submitted after this moment (exclusive). */
  after?: Date;
  /** Orders submitted before this moment (exclusive): with `after`, a window to page through newest first. */
  until?: Date;
  limit?: number;
}

export interface TradeUpdateSubscription {
  /** Resolves once the stream is authorized and listening. */
  ready: Promise<void>;
  connected(): boolean;
  close(): Promise<void>;
}

export interface TradeUpdateHandlers {
  onUpdate(update: TradeUpdateEvent): void | Promise<void>;
  onConnectionChange?(connected: boolean): void;
}

export interface Broker {
  /**
   * 'alpaca' or 'ledger' — the ledger-only broker makes no network calls: it answers the clock and
   * symbol checks locally, returns empty lists, and refuses orders and the account with
   * LedgerOnlyError.
   */
  readonly kind: 'alpaca' | 'ledger';
  getAccount(): Promise<Market.BrokerAccount>;
  getClock(): Promise<Market.MarketClock>;
  getAsset(symbol: string): Promise<Market.BrokerAsset>;
  listAssets(): Promise<Market.BrokerAsset[]>;
  getSnapshots(symbols: readonly string[]): Promise<Map<string, Market.Snapshot>>;
  submitOrder(intent: OrderIntent): Promise<BrokerOrder>;
  /** Returns undefined when the broker has no order with this client_order_id. */
  getOrderByClientOrderId(clientOrderId: string): Promise<BrokerOrder | undefined>;
  getOrder(orderId: string): Promise<BrokerOrder>;
  listOrders(query: ListOrdersQuery): Promise<BrokerOrder[]>;
  cancelOrder(orderId: string): Promise<void>;
  listPositions(): Promise<Market.BrokerPosition[]>;
  getPortfolioHistory(period: '1M' | '1W' | '3M'): Promise<Market.PortfolioHistoryPoint[]>;
  /**
   * Daily bars of each symbol for the sessions from `start` to `end` (New York dates, YYYY-MM-DD,
   * inclusive), oldest first; a symbol without bars is absent. Unadjusted prices: the books hold
   * the share counts actually traded.
   */
  getDailyBars(symbols: readonly string[], start: string, end: string): Promise<Map<string, Market.DailyBar[]>>;
  /** The trading days between two New York dates (YYYY-MM-DD, inclusive): holidays are the weekdays missing. */
  getCalendar(start: string, end: string): Promise<Market.TradingDay[]>;
  streamTradeUpdates(handlers: TradeUpdateHandlers): TradeUpdateSubscription;
}

/** The one "ledger-only?" switch (USE_ALPACA=false): the broker app.ts built says which it is. */
export function isLedgerOnly(broker: Pick<Broker, 'kind'>): boolean {
  return broker.kind === 'ledger';
}
