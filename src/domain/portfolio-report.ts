import type { EquityTrend } from './equity-trend';
import type { BrokerAccount, MarketClock } from './market';
import type { MarketDescription } from './market-hours';
import type { Dec } from './money';
import type { OrderType, Side, TradeStatus } from './order';
import type { RepeatableOrder } from './order-prefill';
import type { ValuationTotals, ValuedPosition } from './portfolio-valuation';

/**
 * What the portfolio views are built from: portfolios priced live, the account, the market, the
 * broker's positions beside the books, an account's equity trend and the latest orders. Each says
 * what could not be had (no quote, Alpaca down, ledger-only mode) instead of failing.
 */

export interface PortfolioRef {
  /** Null for positions whose portfolio has no `portfolios` row (fills recorded under an unknown name). */
  id: number | null;
  name: string;
}

export type PricingStatus =
  /** Prices from Alpaca snapshots; `missing` lists symbols Alpaca had no snapshot for. */
  | { source: 'alpaca'; missing: string[] }
  /** Ledger-only mode: there is no market data; positions are shown at cost. */
  | { source: 'ledger' }
  /** Alpaca did not answer: positions are shown at cost. */
  | { source: 'unavailable'; error: string };

export interface PricedPortfolio extends PortfolioRef {
  /** Open positions, largest first. */
  positions: ValuedPosition[];
  totals: ValuationTotals;
}

export type AccountStatus =
  | { kind: 'ok'; account: BrokerAccount; todayPnl: Dec; todayPnlPct?: Dec }
  | { kind: 'ledger' }
  | { kind: 'unavailable'; error: string }
  /** The viewer may not see the broker account (TRADER_USER_IDS is set and they are neither trader nor admin). */
  | { kind: 'restricted' };

export type MarketStatus =
  | { kind: 'ok'; market: MarketDescription; clock: MarketClock }
  | { kind: 'unavailable'; error: string };

export interface PortfolioOverview {
  portfolios: PricedPortfolio[];
  /** Every portfolio together. */
  totals: ValuationTotals;
  account: AccountStatus;
  pricing: PricingStatus;
}

export interface PortfolioDetail extends PricedPortfolio {
  recentOrders: OrderSummary[];
  pricing: PricingStatus;
}

export type PortfolioLookup =
  | { kind: 'found'; detail: PortfolioDetail }
  /** `suggestions` are existing names close to what was asked; `known` says whether any portfolio exists at all. */
  | { kind: 'not_found'; query: string; suggestions: string[]; known: number };

export interface AccountReport {
  account: AccountStatus;
  market: MarketStatus;
}

export interface PositionComparisonRow {
  symbol: string;
  books: Dec;
  /** Undefined when the broker's positions could not be had. */
  broker?: Dec;
  /** broker − books. */
  difference?: Dec;
  brokerPrice?: Dec;
  brokerMarketValue?: Dec;
}

export interface PositionComparison {
  /** Mismatches first, then by symbol. */
  rows: PositionComparisonRow[];
  mismatches: number;
  broker: { kind: 'ok' } | { kind: 'ledger' } | { kind: 'unavailable'; error: string };
}

export type TrendStatus =
  | { kind: 'restricted' }
  | { kind: 'ok'; trend: EquityTrend }
  | { kind: 'empty' }
  | { kind: 'ledger' }
  | { kind: 'unavailable'; error: string }
  /** Not cached and not asked for in this render: the caller loads it next. */
  | { kind: 'pending' };

export interface HomeReport {
  userId: string;
  market: MarketStatus;
  account: AccountStatus;
  trend: TrendStatus;
  portfolios: PortfolioRef[];
  /** The portfolio picked on the Home tab; undefined when there is none yet. */
  selected?: PortfolioDetail;
  recentOrders: OrderSummary[];
  /** The user's latest distinct orders, newest first, offered as prefilled forms. */
  repeatable?: RepeatableOrder[];
  generatedAt: Date;
}

/** An order as the portfolio views list it: what was asked, where it stands, what filled. */
export interface OrderSummary {
  tradeId: string;
  symbol: string;
  side: Side;
  quantity: Dec | null;
  notional: Dec | null;
  orderType: OrderType | null;
  limitPrice: Dec | null;
  stopPrice: Dec | null;
  status: TradeStatus;
  filledQty: Dec | null;
  filledAvgPrice: Dec | null;
  gmv: Dec | null;
  portfolioName: string;
  userId: string;
  placedAt: Date;
  /** Recorded without a broker (ledger-only mode or the earlier OMS). */
  bookOnly: boolean;
  errorMessage: string | null;
}
