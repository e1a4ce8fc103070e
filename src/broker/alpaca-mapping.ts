import type { marketData, streaming, trading } from '@alpacahq/alpaca-trade-api';
import type * as Market from '../domain/market';
import { newYorkDate } from '../domain/market-hours';
import { type Dec, dec, decToString } from '../domain/money';
import type { OrderIntent, Side } from '../domain/order';
import type { BrokerOrder, BrokerOrderStatus, TradeUpdateEvent } from './broker';

/**
 * SDK models → port types. Trading decimals arrive as strings; market-data prices as numbers
 * (the SDK parses them itself); some fields are null or absent. Every amount goes through dec()
 * here so nothing downstream touches a float.
 */

/** A decimal from whatever the SDK hands over; undefined for null, absent or blank. */
function optionalDec(value: unknown): Dec | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? dec(value) : undefined;
  if (typeof value === 'string' && value.trim() !== '') return dec(value.trim());
  return undefined;
}

function requiredDec(value: unknown, fallback = '0'): Dec {
  return optionalDec(value) ?? dec(fallback);
}

/** A market-data price where 0 means "no quote" (IEX shows 0 bid/ask outside its book). */
function optionalPrice(value: unknown): Dec | undefined {
  const price = optionalDec(value);
  return price?.isPositive() && !price.isZero() ? price : undefined;
}

function optionalDate(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value === 'string' || typeof value === 'number') {
    const parsed = new Date(value);
    return Number.isNaN(parsed.getTime()) ? undefined : parsed;
  }
  return undefined;
}

export function mapAccount(account: trading.Account): Market.BrokerAccount {
  return {
    accountNumber: account.accountNumber ?? account.id,
    status: account.status,
    currency: account.currency ?? 'USD',
    cash: requiredDec(account.cash),
    equity: requiredDec(account.equity),
    lastEquity: requiredDec(account.lastEquity),
    buyingPower: requiredDec(account.buyingPower),
    portfolioValue: requiredDec(account.portfolioValue ?? account.equity),
    // Not in the SDK's typed model; its mapper keeps the raw wire key.
    patternDayTrader: account.pattern_day_trader === true,
    // Either flag stops new orders, so the UI treats them the same.
    tradingBlocked: account.tradingBlocked === true || account.accountBlocked === true,
  };
}

export function mapClock(clock: trading.LegacyClock): Market.MarketClock {
  return { isOpen: clock.isOpen, timestamp: clock.timestamp, nextOpen: clock.nextOpen, nextClose: clock.nextClose };
}

/** The SDK parses `date` as UTC midnight of the New York date: its ISO date is that date. */
export function mapCalendar(days: trading.LegacyCalendarDay[]): Market.TradingDay[] {
  return days.map((d) => ({ date: d.date.toISOString().slice(0, 10), open: d.open, close: d.close }));
}

export function mapAsset(asset: trading.Assets): Market.BrokerAsset {
  return {
    symbol: asset.symbol,
    name: asset.name,
    exchange: asset.exchange,
    tradable: asset.tradable,
    fractionable: asset.fractionable,
    shortable: asset.shortable,
    status: asset.status === 'active' ? 'active' : 'inactive',
  };
}

export function mapOrder(order: trading.Order): BrokerOrder {
  const createdAt = optionalDate(order.createdAt) ?? optionalDate(order.submittedAt) ?? new Date(0);
  return {
    id: order.id ?? '',
    clientOrderId: order.clientOrderId ?? '',
    symbol: order.symbol ?? '',
    side: (order.side ?? 'buy') as Side,
    type: order.type ?? order.orderType ?? 'market',
    timeInForce: order.timeInForce,
    status: (order.status ?? 'new') as BrokerOrderStatus,
    qty: optionalDec(order.qty),
    notional: optionalDec(order.notional),
    filledQty: requiredDec(order.filledQty),
    filledAvgPrice: optionalDec(order.filledAvgPrice),
    limitPrice: optionalDec(order.limitPrice),
    stopPrice: optionalDec(order.stopPrice),
    extendedHours: order.extendedHours === true,
    createdAt,
    updatedAt: optionalDate(order.updatedAt) ?? createdAt,
    submittedAt: optionalDate(order.submittedAt),
    filledAt: optionalDate(order.filledAt),
    canceledAt: optionalDate(order.canceledAt),
    failedAt: optionalDate(order.failedAt),
  };
}

export function mapPosition(position: trading.Position): Market.BrokerPosition {
  return {
    symbol: position.symbol,
    qty: requiredDec(position.qty),
    avgEntryPrice: requiredDec(position.avgEntryPrice),
    marketValue: optionalDec(position.marketValue),
    currentPrice: optionalDec(position.currentPrice),
    lastdayPrice: optionalDec(position.lastdayPrice),
    unrealizedPl: optionalDec(position.unrealizedPl),
  };
}

/** Null when Alpaca has no data for the symbol (it sends `"XYZ": null`). */
export function mapSnapshot(
  symbol: string,
  snapshot: marketData.StockSnapshot | null | undefined,
): Market.Snapshot | undefined {
  if (!snapshot) return undefined;
  return {
    symbol,
    lastPrice: optionalPrice(snapshot.latestTrade?.p),
    bid: optionalPrice(snapshot.latestQuote?.bp),
    ask: optionalPrice(snapshot.latestQuote?.ap),
    prevClose: optionalPrice(snapshot.prevDailyBar?.c),
    dayOpen: optionalPrice(snapshot.dailyBar?.o),
    updatedAt: optionalDate(snapshot.latestTrade?.t) ?? optionalDate(snapshot.latestQuote?.t),
  };
}

/** A daily bar is stamped at New York midnight of its session, so its New York date names the session. */
export function mapDailyBar(bar: marketData.StockBar): Market.DailyBar | undefined {
  const close = optionalPrice(bar.c);
  const at = optionalDate(bar.t);
  return close && at ? { date: newYorkDate(at), close } : undefined;
}

export function mapTradeUpdate(update: streaming.TradeUpdate): TradeUpdateEvent {
  const qty = optionalDec(update.qty);
  const price = optionalDec(update.price);
  return {
    event: update.event,
    at: optionalDate(update.timestamp) ?? new Date(),
    order: mapOrder(update.order),
    execution:
      update.executionId && qty && price
        ? { id: update.executionId, qty, price, positionQty: optionalDec(update.positionQty) }
        : undefined,
  };
}

export function mapPortfolioHistory(history: trading.PortfolioHistory): Market.PortfolioHistoryPoint[] {
  const points: Market.PortfolioHistoryPoint[] = [];
  history.timestamp.forEach((seconds, i) => {
    // Alpaca sends null equity for days before the account held anything.
    const equity = optionalDec(history.equity[i]);
    if (equity) points.push({ at: new Date(seconds * 1000), equity });
  });
  return points;
}

export function toPostOrderRequest(intent: OrderIntent): trading.PostOrderRequest {
  return {
    symbol: intent.symbol,
    side: intent.side,
    type: intent.type,
    timeInForce: intent.timeInForce,
    clientOrderId: intent.clientOrderId,
    qty: intent.qty && decToString(intent.qty),
    notional: intent.notional && decToString(intent.notional),
    limitPrice: intent.limitPrice && decToString(intent.limitPrice),
    stopPrice: intent.stopPrice && decToString(intent.stopPrice),
    extendedHours: intent.extendedHours || undefined,
  };
}
