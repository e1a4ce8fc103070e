import type { Dec } from './money';

/** What the broker tells about the account, the market and its instruments, in domain terms (decimals, dates). */

export interface BrokerAccount {
  accountNumber: string;
  status: string;
  currency: string;
  cash: Dec;
  equity: Dec;
  lastEquity: Dec;
  buyingPower: Dec;
  portfolioValue: Dec;
  patternDayTrader: boolean;
  tradingBlocked: boolean;
}

export interface MarketClock {
  isOpen: boolean;
  timestamp: Date;
  nextOpen: Date;
  nextClose: Date;
}

export interface BrokerAsset {
  symbol: string;
  name: string;
  exchange: string;
  tradable: boolean;
  fractionable: boolean;
  shortable: boolean;
  status: 'active' | 'inactive';
}

export interface Snapshot {
  symbol: string;
  lastPrice?: Dec;
  bid?: Dec;
  ask?: Dec;
  prevClose?: Dec;
  dayOpen?: Dec;
  updatedAt?: Date;
}

/** The price to value an order at: the last trade, else the ask, else the bid; a 0 (no trade, no quote) is none. */
export function referencePrice(snapshot: Pick<Snapshot, 'lastPrice' | 'bid' | 'ask'> | undefined): Dec | undefined {
  return [snapshot?.lastPrice, snapshot?.ask, snapshot?.bid].find((price) => price?.gt(0));
}

export interface BrokerPosition {
  symbol: string;
  qty: Dec;
  avgEntryPrice: Dec;
  marketValue?: Dec;
  currentPrice?: Dec;
  lastdayPrice?: Dec;
  unrealizedPl?: Dec;
}

/** A day the market trades, as Alpaca's calendar lists it (New York date, regular session times). */
export interface TradingDay {
  /** YYYY-MM-DD, New York. */
  date: string;
  /** HH:MM, New York. */
  open: string;
  close: string;
}

/** One symbol's daily bar, reduced to what valuations need. */
export interface DailyBar {
  /** YYYY-MM-DD, New York: the session the bar covers. */
  date: string;
  close: Dec;
}

export interface PortfolioHistoryPoint {
  at: Date;
  equity: Dec;
}
