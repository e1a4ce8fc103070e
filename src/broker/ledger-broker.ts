import { BrokerError, LedgerOnlyError } from '../domain/errors';
import type * as Market from '../domain/market';
import type { OrderIntent } from '../domain/order';
import type { Broker, BrokerOrder, ListOrdersQuery, TradeUpdateHandlers, TradeUpdateSubscription } from './broker';

/** A US ticker: 1–5 letters, optionally share class A or B (BRK.B). */
const US_TICKER = /^[A-Z]{1,5}(\.[AB])?$/;

const NEW_YORK = 'America/New_York';
const OPEN_MINUTE = 9 * 60 + 30;
const CLOSE_MINUTE = 16 * 60;

/**
 * The broker for USE_ALPACA=false: no network at all. Trades are recorded at the trader's GMV
 * by the services; this only answers what the forms need (is the symbol plausible, is the
 * market open) and refuses anything that would need a real broker.
 */
export class LedgerBroker implements Broker {
  readonly kind = 'ledger' as const;
  private readonly now: () => Date;

  constructor(options: { now?: () => Date } = {}) {
    this.now = options.now ?? (() => new Date());
  }

  getAccount(): Promise<Market.BrokerAccount> {
    return Promise.reject(new LedgerOnlyError('the account balance'));
  }

  /**
   * NYSE regular hours only: Monday–Friday 09:30–16:00 New York time. Exchange holidays and
   * early closes are ignored — without a broker there is no calendar, and the clock only feeds
   * the "market closed" banner, never an order.
   */
  async getClock(): Promise<Market.MarketClock> {
    return newYorkRegularHoursClock(this.now());
  }

  async getAsset(symbol: string): Promise<Market.BrokerAsset> {
    const normalized = symbol.trim().toUpperCase();
    if (!US_TICKER.test(normalized)) {
      throw new BrokerError(
        'invalid_symbol',
        `${symbol.trim() || 'That'} is not a US ticker symbol (1 to 5 letters, optionally a class such as BRK.B).`,
      );
    }
    // Without a broker any well-formed ticker is accepted as-is; the trader's GMV is the record.
    return {
      symbol: normalized,
      name: normalized,
      exchange: 'UNKNOWN',
      tradable: true,
      fractionable: true,
      shortable: false,
      status: 'active',
    };
  }

  /** No asset list exists without a broker; symbol type-ahead offers nothing in ledger mode. */
  async listAssets(): Promise<Market.BrokerAsset[]> {
    return [];
  }

  async getSnapshots(_symbols: readonly string[]): Promise<Map<string, Market.Snapshot>> {
    return new Map();
  }

  submitOrder(_intent: OrderIntent): Promise<BrokerOrder> {
    return Promise.reject(new LedgerOnlyError('placing an order at the broker'));
  }

  getOrderByClientOrderId(_clientOrderId: string): Promise<BrokerOrder | undefined> {
    return Promise.reject(new LedgerOnlyError('looking up a broker order'));
  }

  getOrder(_orderId: string): Promise<BrokerOrder> {
    return Promise.reject(new LedgerOnlyError('looking up a broker order'));
  }

  /** The broker holds no orders in ledger mode, so there is nothing to reconcile against. */
  async listOrders(_query: ListOrdersQuery): Promise<BrokerOrder[]> {
    return [];
  }

  cancelOrder(_orderId: string): Promise<void> {
    return Promise.reject(new LedgerOnlyError('canceling a broker order'));
  }

  async listPositions(): Promise<Market.BrokerPosition[]> {
    return [];
  }

  async getPortfolioHistory(_period: '1M' | '1W' | '3M'): Promise<Market.PortfolioHistoryPoint[]> {
    return [];
  }

  /** No market data without a broker: valuations fall back to each symbol's latest fill price. */
  async getDailyBars(
    _symbols: readonly string[],
    _start: string,
    _end: string,
  ): Promise<Map<string, Market.DailyBar[]>> {
    return new Map();
  }

  /** Without a broker there is no holiday list: every weekday trades (as the clock above assumes). */
  async getCalendar(start: string, end: string): Promise<Market.TradingDay[]> {
    const days: Market.TradingDay[] = [];
    const [year = 0, month = 1, day = 1] = start.split('-').map(Number);
    for (let offset = 0; days.length < 1000; offset++) {
      const d = addDays(year, month, day, offset);
      const date = `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
      if (date > end) break;
      if (isWeekday(d.weekday)) days.push({ date, open: '09:30', close: '16:00' });
    }
    return days;
  }

  streamTradeUpdates(_handlers: TradeUpdateHandlers): TradeUpdateSubscription {
    return { ready: Promise.resolve(), connected: () => false, close: async () => undefined };
  }
}

interface NewYorkDateTime {
  year: number;
  month: number;
  day: number;
  minuteOfDay: number;
}

const newYorkFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: NEW_YORK,
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

function newYorkParts(at: Date): NewYorkDateTime & { second: number } {
  const parts = Object.fromEntries(newYorkFormat.formatToParts(at).map((p) => [p.type, Number(p.value)]));
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    minuteOfDay: (parts.hour ?? 0) * 60 + (parts.minute ?? 0),
    second: parts.second ?? 0,
  };
}

/** The instant when New York's wall clock shows that date and minute. */
function newYorkInstant(year: number, month: number, day: number, minuteOfDay: number): Date {
  const asIfUtc = Date.UTC(year, month - 1, day, 0, minuteOfDay);
  const shown = newYorkParts(new Date(asIfUtc));
  const shownAsUtc = Date.UTC(shown.year, shown.month - 1, shown.day, 0, shown.minuteOfDay, shown.second);
  // 09:30 and 16:00 are never inside a DST jump (those happen at 02:00), so one correction is exact.
  return new Date(asIfUtc + (asIfUtc - shownAsUtc));
}

/** The calendar day `offset` days after the given one, as UTC-midnight date parts and weekday. */
function addDays(year: number, month: number, day: number, offset: number) {
  const d = new Date(Date.UTC(year, month - 1, day + offset));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: d.getUTCDay() };
}

const isWeekday = (weekday: number) => weekday >= 1 && weekday <= 5;

export function newYorkRegularHoursClock(now: Date): Market.MarketClock {
  const local = newYorkParts(now);
  const today = addDays(local.year, local.month, local.day, 0);
  const tradingToday = isWeekday(today.weekday);
  const isOpen = tradingToday && local.minuteOfDay >= OPEN_MINUTE && local.minuteOfDay < CLOSE_MINUTE;

  let openDay = today;
  if (!(tradingToday && local.minuteOfDay < OPEN_MINUTE)) {
    let offset = 1;
    while (!isWeekday(addDays(today.year, today.month, today.day, offset).weekday)) offset++;
    openDay = addDays(today.year, today.month, today.day, offset);
  }
  const closeDay = isOpen ? today : openDay;
  return {
    isOpen,
    timestamp: now,
    nextOpen: newYorkInstant(openDay.year, openDay.month, openDay.day, OPEN_MINUTE),
    nextClose: newYorkInstant(closeDay.year, closeDay.month, closeDay.day, CLOSE_MINUTE),
  };
}
