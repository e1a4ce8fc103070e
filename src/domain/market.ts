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

export interface BrokerPosition {
  symbol: string;
  qty: Dec;
  avgEntryPrice: Dec;
  marketValue?: Dec;
  currentPrice?: Dec;
  lastdayPrice?: Dec;
  unrealizedPl?: Dec;
}

export interface PortfolioHistoryPoint {
  at: Date;
  equity: Dec;
}
