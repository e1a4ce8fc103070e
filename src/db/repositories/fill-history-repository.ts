import type { EntityManager } from '@mikro-orm/knex';
import { type Dec, dec } from '../../domain/money';
import { portfolioNameKey } from '../../domain/portfolio-name';
import { MONEY_SCALE, QTY_SCALE } from '../../domain/positions';
import type { ValueFill } from '../../domain/value-history';
import { FillEntity, type StoredSide } from '../entities';
import type { Orm } from '../orm';
import { isPostgres } from '../orm';

/** One portfolio's fills for valuing it over a period: what it held before, then what it traded. */
export interface PortfolioFillHistory {
  portfolioKey: string;
  /** A spelling its fills use (callers show the portfolio's own name when they have it). */
  portfolioName: string;
  /** In (filled_at, id) order; holdings from before the period come first, one net fill per symbol. */
  fills: ValueFill[];
}

/** SQLite keeps NUMERIC as REAL: reads are rounded to the column's scale (see position-repository). */
const atScale = (value: string | number, scale: number): Dec => dec(String(value)).toDecimalPlaces(scale);

/** A datetime is epoch milliseconds on SQLite (a number) and a Date on PostgreSQL. */
type RawDate = Date | number | string;
const asDate = (value: RawDate): Date =>
  value instanceof Date ? value : new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

interface OpeningRow {
  portfolio_name: string;
  symbol: string;
  net_qty: string | number;
  price: string | number;
  filled_at: RawDate;
}

interface FillRow {
  portfolio_name: string;
  symbol: string;
  side: StoredSide;
  qty: string | number;
  price: string | number;
  filled_at: RawDate;
}

/**
 * Per portfolio name and symbol, the net quantity of every fill before `since` and the price of
 * the last of them (window functions: SQLite ≥ 3.25 and PostgreSQL both have them), so a month's
 * chart reads one row per position held before the month instead of the whole history.
 */
const OPENING_SQL = `
  select portfolio_name, symbol, net_qty, price, filled_at from (
    select f.portfolio_name, f.symbol, f.price, f.filled_at,
      sum(case when f.side = 'BUY' then f.qty else -f.qty end)
        over (partition by f.portfolio_name, f.symbol) as net_qty,
      row_number() over (partition by f.portfolio_name, f.symbol order by f.filled_at desc, f.id desc) as rn
    from fills f
    where f.filled_at < ?
  ) latest
  where rn = 1`;

/** Fills read for valuations over time (the performance chart). */
export class FillHistoryRepository {
  constructor(private readonly orm: Orm) {}

  /**
   * Every portfolio with fills, keyed by portfolioNameKey (every spelling of a name is one
   * portfolio): its holdings before `since` as one net fill per symbol still held (at the price
   * and time of its last fill), then each fill from `since` on.
   */
  async historySince(since: Date): Promise<Map<string, PortfolioFillHistory>> {
    const em = this.orm.em.fork() as EntityManager;
    const postgres = isPostgres(em);
    const opening = await em
      .getConnection()
      .execute<OpeningRow[]>(OPENING_SQL, [postgres ? since : since.getTime()], 'all');
    const recent = await em
      .createQueryBuilder(FillEntity, 'f')
      .select(['f.portfolio_name', 'f.symbol', 'f.side', 'f.qty', 'f.price', 'f.filled_at'])
      .where({ filledAt: { $gte: since } })
      .orderBy({ filledAt: 'asc', id: 'asc' })
      .execute<FillRow[]>('all', false);

    const histories = new Map<string, PortfolioFillHistory & { opening: Map<string, OpeningHolding> }>();
    const historyOf = (name: string) => {
      const key = portfolioNameKey(name);
      let history = histories.get(key);
      if (!history) {
        history = { portfolioKey: key, portfolioName: name, fills: [], opening: new Map() };
        histories.set(key, history);
      }
      return history;
    };
    for (const row of opening) {
      const history = historyOf(row.portfolio_name);
      const filledAt = asDate(row.filled_at);
      const before = history.opening.get(row.symbol);
      const qty = atScale(row.net_qty, QTY_SCALE).plus(before?.qty ?? 0);
      // Spellings of one name are one portfolio: the latest fill among them prices the holding.
      const latest = !before || filledAt >= before.filledAt;
      history.opening.set(row.symbol, {
        qty,
        price: latest ? atScale(row.price, MONEY_SCALE) : before.price,
        filledAt: latest ? filledAt : before.filledAt,
      });
    }
    for (const history of histories.values()) {
      history.fills = [...history.opening]
        .filter(([, holding]) => !holding.qty.isZero())
        .map(([symbol, h]) => ({
          symbol,
          side: h.qty.isNegative() ? ('sell' as const) : ('buy' as const),
          qty: h.qty.abs(),
          price: h.price,
          filledAt: h.filledAt,
        }))
        .sort((a, b) => a.filledAt.getTime() - b.filledAt.getTime() || a.symbol.localeCompare(b.symbol));
    }
    for (const row of recent) {
      const history = historyOf(row.portfolio_name);
      history.portfolioName = row.portfolio_name;
      history.fills.push({
        symbol: row.symbol,
        side: row.side === 'BUY' ? 'buy' : 'sell',
        qty: atScale(row.qty, QTY_SCALE),
        price: atScale(row.price, MONEY_SCALE),
        filledAt: asDate(row.filled_at),
      });
    }
    return new Map([...histories].map(([key, { opening: _opening, ...history }]) => [key, history] as const));
  }
}

interface OpeningHolding {
  qty: Dec;
  price: Dec;
  filledAt: Date;
}
