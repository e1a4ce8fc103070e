import { newYorkMidnight } from './market-hours';
import { type Dec, dec } from './money';
import { type TradeStatus, wasPlaced } from './order';
import type { AccountStatus, PricingStatus, TrendStatus } from './portfolio-report';
import type { ValuationTotals, ValuedPosition } from './portfolio-valuation';
import type { BooksStatus } from './reconciliation';
import type { TraderPnlReport } from './trader-pnl';

/**
 * The closing digest: the day in one message — the account, each portfolio, each trader, the day's
 * orders, whether the books match the broker, and what moved most. A view model only: the Slack
 * layer draws it, the digest service fills it.
 */

export interface DigestPortfolio {
  name: string;
  /** Market value of priced positions. */
  value: Dec;
  dayPnl: Dec;
  unrealizedPnl: Dec;
  realizedPnl: Dec;
  /** Held symbols without a price: left out of value and P&L. */
  unpriced: string[];
}

export interface DigestOrderCounts {
  /** Orders of that New York day sent to the broker (or the ledger): as the per-trader figures count them. */
  placed: number;
  /** Where the placed orders stand now, most common first (statuses with none left out). */
  byStatus: { status: TradeStatus; count: number }[];
  /** Orders recorded that day but never sent: failed, refused, awaiting approval or ended there. */
  notPlaced: { status: TradeStatus; count: number }[];
}

/** One group of the day's orders, as the repository counts them. */
export interface DigestOrderCount {
  status: TradeStatus;
  errorCode: string | null;
  count: number;
}

export interface DigestMover {
  symbol: string;
  lastPrice: Dec;
  prevClose: Dec;
  /** Percent, e.g. 2.5 for +2.5 %. */
  changePct: Dec;
}

export type DigestTraders = { kind: 'ok'; report: TraderPnlReport } | { kind: 'unavailable'; error: string };

export interface DigestReport {
  /** The New York trading date it covers, YYYY-MM-DD. */
  tradingDate: string;
  generatedAt: Date;
  account: AccountStatus;
  portfolios: DigestPortfolio[];
  totals: ValuationTotals;
  pricing: PricingStatus;
  traders: DigestTraders;
  orders: DigestOrderCounts;
  /** Undefined before any reconciliation (or in ledger-only mode). */
  books?: BooksStatus & { openAlert?: { channelId: string; messageTs: string } };
  movers: DigestMover[];
  /** The month of equity, for the text sparkline that stands in when the chart is missing. */
  trend: TrendStatus;
}

export const TOP_MOVERS = 5;

/** [start, end) of a New York calendar day. */
export function newYorkDayWindow(date: string): { from: Date; to: Date } {
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return { from: newYorkMidnight(date), to: newYorkMidnight(next.toISOString().slice(0, 10)) };
}

function byCount(counts: readonly DigestOrderCount[]): { status: TradeStatus; count: number }[] {
  const totals = new Map<TradeStatus, number>();
  for (const c of counts) totals.set(c.status, (totals.get(c.status) ?? 0) + c.count);
  return [...totals.entries()]
    .filter(([, count]) => count > 0)
    .map(([status, count]) => ({ status, count }))
    .sort((a, b) => b.count - a.count || a.status.localeCompare(b.status));
}

export function countOrders(counts: readonly DigestOrderCount[]): DigestOrderCounts {
  const byStatus = byCount(counts.filter((c) => wasPlaced(c.status, c.errorCode)));
  const notPlaced = byCount(counts.filter((c) => !wasPlaced(c.status, c.errorCode)));
  return { placed: byStatus.reduce((sum, s) => sum + s.count, 0), byStatus, notPlaced };
}

/** Held symbols by today's move, largest either way first; a symbol held in several portfolios counts once. */
export function topMovers(positions: readonly ValuedPosition[], limit = TOP_MOVERS): DigestMover[] {
  const bySymbol = new Map<string, DigestMover>();
  for (const p of positions) {
    if (p.qty.isZero() || bySymbol.has(p.symbol)) continue;
    if (p.lastPrice === undefined || p.prevClose === undefined || p.prevClose.isZero()) continue;
    const changePct = p.lastPrice.minus(p.prevClose).div(p.prevClose).times(100);
    bySymbol.set(p.symbol, { symbol: p.symbol, lastPrice: p.lastPrice, prevClose: p.prevClose, changePct });
  }
  return [...bySymbol.values()]
    .sort((a, b) => b.changePct.abs().comparedTo(a.changePct.abs()) || a.symbol.localeCompare(b.symbol))
    .slice(0, limit);
}

export function digestPortfolio(p: { name: string; totals: ValuationTotals }): DigestPortfolio {
  return {
    name: p.name,
    value: p.totals.marketValue,
    dayPnl: p.totals.dayChange,
    unrealizedPnl: p.totals.unrealizedPnl,
    realizedPnl: p.totals.realizedPnl ?? dec(0),
    unpriced: [...p.totals.unpriced],
  };
}
