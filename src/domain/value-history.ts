import { newYorkDate } from './market-hours';
import { type Dec, dec } from './money';
import type { Side } from './order';

/**
 * A portfolio's market value at each day's close, rebuilt from its fills and daily closing
 * prices: what the chart behind the closing digest draws. Pure: callers fetch fills and bars.
 */

/** A New York calendar date, YYYY-MM-DD: the day a daily bar (and a fill) belongs to. */
export type TradingDate = string;

export interface ValueFill {
  symbol: string;
  side: Side;
  qty: Dec;
  price: Dec;
  filledAt: Date;
}

/** Closing prices per symbol, by trading date. */
export type ClosesBySymbol = ReadonlyMap<string, ReadonlyMap<TradingDate, Dec>>;

export interface ValuePoint {
  date: TradingDate;
  /** Σ held quantity × price; short holdings count negative. */
  value: Dec;
  /**
   * Held symbols with no close on or before this day (a symbol without bars: ledger mode, no
   * data on the feed), valued at their latest fill price instead.
   */
  atFillPrice: string[];
}

/** The calendar date `days` after (or before, when negative) a date. */
export function addDays(date: TradingDate, days: number): TradingDate {
  const [y = 1970, m = 1, d = 1] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** Monday–Friday between two dates, inclusive: the days to draw when there are no bars at all (ledger mode). */
export function weekdaysBetween(start: TradingDate, end: TradingDate): TradingDate[] {
  const days: TradingDate[] = [];
  for (let date = start; date <= end; date = addDays(date, 1)) {
    const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
    if (weekday >= 1 && weekday <= 5) days.push(date);
  }
  return days;
}

/** Every date any symbol has a close for, within [start, end], ascending: the market's trading days. */
export function barDates(closes: ClosesBySymbol, start: TradingDate, end: TradingDate): TradingDate[] {
  const dates = new Set<TradingDate>();
  for (const byDate of closes.values())
    for (const date of byDate.keys()) if (date >= start && date <= end) dates.add(date);
  return [...dates].sort();
}

/** The last close of one symbol on or before each asked day, walking its dates once (days ascend). */
class CloseCursor {
  private readonly dates: TradingDate[];
  private index = -1;

  constructor(private readonly byDate: ReadonlyMap<TradingDate, Dec>) {
    this.dates = [...byDate.keys()].sort();
  }

  onOrBefore(day: TradingDate): Dec | undefined {
    while (this.index + 1 < this.dates.length && this.dates[this.index + 1]! <= day) this.index++;
    return this.index < 0 ? undefined : this.byDate.get(this.dates[this.index]!);
  }
}

/**
 * The value of the holdings at each day's close. A fill counts from its New York date on (a fill
 * on a weekend or holiday counts from the next day drawn); a held symbol is priced at that day's
 * close, else its last earlier close (a halt, a feed gap, the first day of a period whose bars
 * start later), else — no close known at all yet — its latest fill price so far, so a line never
 * drops to zero for want of a bar. `fills` must be in time order (filled_at, then id), as stored;
 * `days` ascending. Fills before the first day set the opening holdings.
 */
export function portfolioValueHistory(
  fills: readonly ValueFill[],
  closes: ClosesBySymbol,
  days: readonly TradingDate[],
): ValuePoint[] {
  const held = new Map<string, Dec>();
  const lastFillPrice = new Map<string, Dec>();
  const cursors = new Map<string, CloseCursor>();
  const cursorOf = (symbol: string) => {
    let cursor = cursors.get(symbol);
    if (!cursor) {
      cursor = new CloseCursor(closes.get(symbol) ?? new Map());
      cursors.set(symbol, cursor);
    }
    return cursor;
  };

  const points: ValuePoint[] = [];
  let next = 0;
  for (const day of days) {
    for (; next < fills.length && newYorkDate(fills[next]!.filledAt) <= day; next++) {
      const fill = fills[next]!;
      const signed = fill.side === 'buy' ? fill.qty : fill.qty.negated();
      held.set(fill.symbol, (held.get(fill.symbol) ?? dec(0)).plus(signed));
      lastFillPrice.set(fill.symbol, fill.price);
    }
    let value = dec(0);
    const atFillPrice: string[] = [];
    for (const [symbol, qty] of held) {
      if (qty.isZero()) continue;
      const close = cursorOf(symbol).onOrBefore(day);
      const price = close ?? lastFillPrice.get(symbol)!;
      if (!close) atFillPrice.push(symbol);
      value = value.plus(qty.times(price));
    }
    points.push({ date: day, value, atFillPrice: atFillPrice.sort() });
  }
  return points;
}
