import { type Dec, dec } from './money';
import { averageCost } from './positions';

/**
 * Pricing the books: an open position from the stored fills plus a quote gives market value,
 * unrealized P&L and today's change. Everything stays exact; rounding happens only on display.
 * A position without a price is kept, shown at cost, and named in `unpriced` so no total
 * silently pretends to cover it.
 */

export interface BookPosition {
  symbol: string;
  /** Signed: negative is short. */
  qty: Dec;
  costBasis: Dec;
  realizedPnl: Dec;
  lastFillAt: Date | null;
}

/** The part of a market snapshot valuation needs; the Broker port's Snapshot satisfies it. */
export interface PriceQuote {
  lastPrice?: Dec;
  prevClose?: Dec;
}

export interface ValuedPosition {
  symbol: string;
  qty: Dec;
  costBasis: Dec;
  avgCost?: Dec;
  lastPrice?: Dec;
  prevClose?: Dec;
  marketValue?: Dec;
  unrealizedPnl?: Dec;
  /** Percent of the cost basis, e.g. 5.23 for +5.23 %. */
  unrealizedPct?: Dec;
  /** qty × (last − previous close). */
  dayChange?: Dec;
}

export interface ValuationTotals {
  /** Open positions. */
  positions: number;
  costBasis: Dec;
  /** Over priced positions only (see `unpriced`). */
  marketValue: Dec;
  unrealizedPnl: Dec;
  unrealizedPct?: Dec;
  dayChange: Dec;
  /** Market value at the previous close of the positions that have one, for today's change in percent. */
  dayChangePct?: Dec;
  realizedPnl: Dec;
  /** Symbols held without a price: left out of market value, unrealized P&L and today's change. */
  unpriced: string[];
}

function percentOf(part: Dec, whole: Dec): Dec | undefined {
  return whole.isZero() ? undefined : part.div(whole.abs()).times(100);
}

/** A price's move from a reference (e.g. the previous close): the amount, and a fraction unless the reference is 0. */
export function changeOf(current: Dec, reference: Dec): { amount: Dec; fraction?: Dec } {
  const amount = current.minus(reference);
  return { amount, fraction: reference.isZero() ? undefined : amount.div(reference) };
}

export function valuePosition(position: BookPosition, quote: PriceQuote | undefined): ValuedPosition {
  const valued: ValuedPosition = {
    symbol: position.symbol,
    qty: position.qty,
    costBasis: position.costBasis,
    avgCost: averageCost(position),
  };
  const last = quote?.lastPrice;
  if (last === undefined) return valued;
  valued.lastPrice = last;
  valued.marketValue = position.qty.times(last);
  valued.unrealizedPnl = valued.marketValue.minus(position.costBasis);
  valued.unrealizedPct = percentOf(valued.unrealizedPnl, position.costBasis);
  if (quote?.prevClose !== undefined) {
    valued.prevClose = quote.prevClose;
    valued.dayChange = position.qty.times(last.minus(quote.prevClose));
  }
  return valued;
}

/** Sums valued open positions; `realizedPnl` covers closed positions too, so it is passed in. */
export function totalValuation(positions: readonly ValuedPosition[], realizedPnl: Dec): ValuationTotals {
  let costBasis = dec(0);
  let pricedCost = dec(0);
  let marketValue = dec(0);
  let unrealizedPnl = dec(0);
  let dayChange = dec(0);
  let previousValue = dec(0);
  const unpriced: string[] = [];
  for (const p of positions) {
    costBasis = costBasis.plus(p.costBasis);
    if (p.marketValue === undefined || p.unrealizedPnl === undefined) {
      unpriced.push(p.symbol);
      continue;
    }
    pricedCost = pricedCost.plus(p.costBasis);
    marketValue = marketValue.plus(p.marketValue);
    unrealizedPnl = unrealizedPnl.plus(p.unrealizedPnl);
    if (p.dayChange !== undefined && p.prevClose !== undefined) {
      dayChange = dayChange.plus(p.dayChange);
      previousValue = previousValue.plus(p.qty.times(p.prevClose));
    }
  }
  return {
    positions: positions.length,
    costBasis,
    marketValue,
    unrealizedPnl,
    unrealizedPct: percentOf(unrealizedPnl, pricedCost),
    dayChange,
    dayChangePct: percentOf(dayChange, previousValue),
    realizedPnl,
    unpriced,
  };
}

/** Largest holdings first (by absolute market value, else cost), then by symbol, so pages are stable. */
export function byExposure(a: ValuedPosition, b: ValuedPosition): number {
  const size = (p: ValuedPosition) => (p.marketValue ?? p.costBasis).abs();
  const order = size(b).comparedTo(size(a));
  return order !== 0 ? order : a.symbol.localeCompare(b.symbol);
}
