import { summarizeEquity } from '../../../src/domain/equity-trend';
import { describeMarket } from '../../../src/domain/market-hours';
import { dec } from '../../../src/domain/money';
import type {
  AccountStatus,
  HomeReport,
  MarketStatus,
  OrderSummary,
  PortfolioDetail,
  PricingStatus,
} from '../../../src/domain/portfolio-report';
import {
  byExposure,
  totalValuation,
  type ValuedPosition,
  valuePosition,
} from '../../../src/domain/portfolio-valuation';

export const NOW = new Date('2026-01-09T20:00:00Z');

/** n positions: symbols S0000…, quantity i+1 bought at 100 + i, priced at 110 + i (previous close 105 + i). */
export function valuedPositions(n: number, options: { unpricedEvery?: number } = {}): ValuedPosition[] {
  return Array.from({ length: n }, (_, i) => {
    const qty = dec(i + 1);
    const priced = !options.unpricedEvery || i % options.unpricedEvery !== 0;
    return valuePosition(
      {
        symbol: `S${String(i).padStart(4, '0')}`,
        qty,
        costBasis: qty.times(100 + i),
        realizedPnl: dec(0),
        lastFillAt: NOW,
      },
      priced ? { lastPrice: dec(110 + i), prevClose: dec(105 + i) } : undefined,
    );
  }).sort(byExposure);
}

export function order(overrides: Partial<OrderSummary> = {}): OrderSummary {
  return {
    tradeId: 't-1',
    symbol: 'AAPL',
    side: 'buy',
    quantity: dec(10),
    notional: null,
    orderType: 'market',
    limitPrice: null,
    stopPrice: null,
    status: 'filled',
    filledQty: dec(10),
    filledAvgPrice: dec('189.42'),
    gmv: null,
    portfolioName: 'Growth',
    userId: 'U0TESTUSER',
    placedAt: new Date('2026-01-09T15:31:00Z'),
    bookOnly: false,
    errorMessage: null,
    ...overrides,
  };
}

export function detail(n: number, overrides: Partial<PortfolioDetail> = {}): PortfolioDetail {
  const positions = valuedPositions(n);
  return {
    id: 1,
    name: 'Growth',
    positions,
    totals: totalValuation(positions, dec('12.5')),
    recentOrders: [
      order(),
      order({
        status: 'partially_filled',
        filledQty: dec(4),
        filledAvgPrice: dec('415.1'),
        symbol: 'MSFT',
        side: 'sell',
      }),
    ],
    pricing: { source: 'alpaca', missing: [] } satisfies PricingStatus,
    ...overrides,
  };
}

export const OPEN_MARKET: MarketStatus = {
  kind: 'ok',
  clock: {
    isOpen: true,
    timestamp: NOW,
    nextOpen: new Date('2026-01-12T14:30:00Z'),
    nextClose: new Date('2026-01-09T21:00:00Z'),
  },
  market: describeMarket(
    { isOpen: true, nextOpen: new Date('2026-01-12T14:30:00Z'), nextClose: new Date('2026-01-09T21:00:00Z') },
    NOW,
  ),
};

export const ACCOUNT_OK: AccountStatus = {
  kind: 'ok',
  account: {
    accountNumber: 'PA3STANDIN00',
    status: 'ACTIVE',
    currency: 'USD',
    cash: dec('50000'),
    equity: dec('101234.56'),
    lastEquity: dec('100000'),
    buyingPower: dec('150000'),
    portfolioValue: dec('101234.56'),
    patternDayTrader: false,
    tradingBlocked: false,
  },
  todayPnl: dec('1234.56'),
  todayPnlPct: dec('1.23456'),
};

export function homeReport(n: number, overrides: Partial<HomeReport> = {}): HomeReport {
  const trend = summarizeEquity(
    Array.from({ length: 22 }, (_, i) => ({
      at: new Date(Date.UTC(2025, 11, 10 + i, 21)),
      equity: dec(100_000 + Math.round(Math.sin(i / 3) * 1500)),
    })),
  )!;
  return {
    userId: 'U0TESTUSER',
    market: OPEN_MARKET,
    account: ACCOUNT_OK,
    trend: { kind: 'ok', trend },
    portfolios: [
      { id: 1, name: 'Growth' },
      { id: 2, name: 'Income' },
    ],
    selected: detail(n),
    recentOrders: [order(), order({ status: 'rejected', symbol: 'TSLA', filledQty: null, filledAvgPrice: null })],
    generatedAt: NOW,
    ...overrides,
  };
}
