import { LockMode, raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { type Dec, dec, decToString } from '../../domain/money';
import { portfolioNameKey } from '../../domain/portfolio-name';
import {
  applyFill,
  FLAT_POSITION,
  MONEY_SCALE,
  type PositionFill,
  type PositionState,
  QTY_SCALE,
  replayFills,
} from '../../domain/positions';
import type { Fill } from '../../domain/trade';
import { FillEntity, PositionEntity, type PositionRecord, type StoredSide } from '../entities';
import { isPostgres, type Orm } from '../orm';

/** What the books hold of one symbol in one portfolio (closed positions included: they carry realized P&L). */
export interface StoredPosition {
  portfolioKey: string;
  symbol: string;
  qty: Dec;
  costBasis: Dec;
  realizedPnl: Dec;
  fillCount: number;
  lastFillAt: Date;
}

/** One symbol summed over every portfolio. */
export interface SymbolTotal {
  symbol: string;
  qty: Dec;
  costBasis: Dec;
  realizedPnl: Dec;
  /** Portfolios with a non-zero quantity. */
  portfolios: number;
  lastFillAt: Date;
}

/** A fill as just inserted, with its row id: ties in filled_at are ordered by id. */
export type InsertedFill = Pick<Fill, 'id' | 'symbol' | 'side' | 'qty' | 'price' | 'portfolioName' | 'filledAt'>;

/**
 * SQLite keeps NUMERIC as a binary REAL, so a stored 0.1 comes back as the nearest double.
 * Every decimal read is rounded to its column's scale, which restores the exact value written
 * for anything up to 15 significant digits.
 */
const atScale = (value: string | number, scale: number): Dec => dec(String(value)).toDecimalPlaces(scale);

/**
 * Raw rows: a datetime is epoch milliseconds on SQLite (a number, or text from an aggregate) and a
 * Date on PostgreSQL.
 */
type RawDate = Date | number | string;
const asDate = (value: RawDate): Date =>
  value instanceof Date ? value : new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

/**
 * Lists read raw rows rather than entities: thousands of positions are read per report, and
 * hydrating entities for them would cost more than the query.
 */
const POSITION_COLUMNS = [
  'p.portfolio_key',
  'p.symbol',
  'p.qty',
  'p.cost_basis',
  'p.realized_pnl',
  'p.fill_count',
  'p.last_fill_at',
];

interface PositionRow {
  portfolio_key: string;
  symbol: string;
  qty: string | number;
  cost_basis: string | number;
  realized_pnl: string | number;
  fill_count: string | number;
  last_fill_at: RawDate;
}

function fromRow(row: PositionRow): StoredPosition {
  return {
    portfolioKey: row.portfolio_key,
    symbol: row.symbol,
    qty: atScale(row.qty, QTY_SCALE),
    costBasis: atScale(row.cost_basis, MONEY_SCALE),
    realizedPnl: atScale(row.realized_pnl, MONEY_SCALE),
    fillCount: Number(row.fill_count),
    lastFillAt: asDate(row.last_fill_at),
  };
}

function stateOf(row: PositionRecord): PositionState {
  return {
    qty: atScale(row.qty, QTY_SCALE),
    costBasis: atScale(row.costBasis, MONEY_SCALE),
    realizedPnl: atScale(row.realizedPnl, MONEY_SCALE),
    fillCount: row.fillCount,
    lastFillAt: row.lastFillAt,
  };
}

function columnsOf(state: PositionState, lastFillId: number, now: Date) {
  return {
    qty: decToString(state.qty),
    costBasis: decToString(state.costBasis),
    realizedPnl: decToString(state.realizedPnl),
    fillCount: state.fillCount,
    lastFillAt: state.lastFillAt ?? now,
    lastFillId,
    updatedAt: now,
  };
}

const FILL_COLUMNS = ['f.id', 'f.symbol', 'f.side', 'f.qty', 'f.price', 'f.filled_at', 'f.portfolio_name'];

interface FillRow {
  id: number;
  symbol: string;
  side: StoredSide;
  qty: string | number;
  price: string | number;
  filled_at: RawDate;
  portfolio_name: string;
}

function toPositionFill(row: FillRow): PositionFill {
  return {
    side: row.side === 'BUY' ? 'buy' : 'sell',
    qty: atScale(row.qty, QTY_SCALE),
    price: atScale(row.price, MONEY_SCALE),
    filledAt: asDate(row.filled_at),
  };
}

/**
 * Fills of one portfolio and symbol in fold order. Names are matched by key, so every spelling of
 * the portfolio counts.
 */
async function fillsInOrder(
  em: EntityManager,
  portfolioKey: string,
  symbol: string,
): Promise<{ fills: PositionFill[]; lastId: number }> {
  const rows = await em
    .createQueryBuilder(FillEntity, 'f')
    .select(FILL_COLUMNS)
    .where({ symbol })
    .orderBy({ filledAt: 'asc', id: 'asc' })
    .execute<FillRow[]>('all', false);
  const mine = rows.filter((row) => portfolioNameKey(row.portfolio_name) === portfolioKey);
  return { fills: mine.map(toPositionFill), lastId: mine.at(-1)?.id ?? 0 };
}

/**
 * Brings the position of `fill` up to date. Call it in the transaction that inserted the fill,
 * so a fill and its effect on the books commit together. The position row is locked (PostgreSQL;
 * SQLite has one writer), so concurrent fills of one position apply one after the other. A fill
 * older than the last one applied (late delivery, backfill) makes the position replay its fills
 * in (filled_at, id) order instead, so the books never depend on arrival order.
 */
export async function applyFillToPositions(
  em: EntityManager,
  fill: InsertedFill,
  now: Date = new Date(),
): Promise<void> {
  const portfolioKey = portfolioNameKey(fill.portfolioName);
  const key = { portfolioKey, symbol: fill.symbol };
  await em
    .createQueryBuilder(PositionEntity)
    .insert({ ...key, ...columnsOf(FLAT_POSITION, 0, now), lastFillAt: new Date(0) })
    .onConflict(['portfolioKey', 'symbol'])
    .ignore()
    .execute('run');
  const row = await em.findOneOrFail(PositionEntity, key, {
    ...(isPostgres(em) ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {}),
    refresh: true,
  });
  const inOrder =
    row.fillCount === 0 ||
    fill.filledAt.getTime() > row.lastFillAt.getTime() ||
    (fill.filledAt.getTime() === row.lastFillAt.getTime() && fill.id > row.lastFillId);
  if (inOrder) {
    const next = applyFill(stateOf(row), {
      side: fill.side,
      qty: fill.qty,
      price: fill.price,
      filledAt: fill.filledAt,
    });
    await em.nativeUpdate(PositionEntity, { id: row.id }, columnsOf(next, fill.id, now));
    return;
  }
  const { fills, lastId } = await fillsInOrder(em, portfolioKey, fill.symbol);
  await em.nativeUpdate(PositionEntity, { id: row.id }, columnsOf(replayFills(fills), lastId, now));
}

/** Reads of `positions` (kept by applyFillToPositions) and the rebuild from `fills`. */
export class PositionRepository {
  constructor(
    private readonly orm: Orm,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Every position of one portfolio, open and closed, by symbol. */
  async listForPortfolio(portfolioName: string): Promise<StoredPosition[]> {
    const rows = await this.orm.em
      .fork()
      .createQueryBuilder(PositionEntity, 'p')
      .select(POSITION_COLUMNS)
      .where({ portfolioKey: portfolioNameKey(portfolioName) })
      .orderBy({ symbol: 'asc' })
      .execute<PositionRow[]>('all', false);
    return rows.map(fromRow);
  }

  /** Open positions of every portfolio (closed ones are left in the database). */
  async listOpen(): Promise<StoredPosition[]> {
    const rows = await this.orm.em
      .fork()
      .createQueryBuilder(PositionEntity, 'p')
      .select(POSITION_COLUMNS)
      .where({ qty: { $ne: '0' } })
      .orderBy({ portfolioKey: 'asc', symbol: 'asc' })
      .execute<PositionRow[]>('all', false);
    return rows.map(fromRow);
  }

  /** Realized P&L to date per portfolio key, closed positions included. */
  async realizedByPortfolio(): Promise<Map<string, Dec>> {
    const rows = await this.orm.em
      .fork()
      .createQueryBuilder(PositionEntity, 'p')
      .select(['p.portfolio_key', raw('sum(p.realized_pnl) as realized')])
      .groupBy('p.portfolio_key')
      .execute<{ portfolio_key: string; realized: string | number | null }[]>('all', false);
    return new Map(rows.map((r) => [r.portfolio_key, atScale(r.realized ?? 0, MONEY_SCALE)]));
  }

  /**
   * Per symbol over all portfolios, for `/portfolio positions` and reconciliation; symbols with a
   * zero total and no history are absent.
   */
  async totalsBySymbol(): Promise<SymbolTotal[]> {
    const rows = await this.orm.em
      .fork()
      .createQueryBuilder(PositionEntity, 'p')
      .select([
        'p.symbol',
        raw('sum(p.qty) as qty'),
        raw('sum(p.cost_basis) as cost_basis'),
        raw('sum(p.realized_pnl) as realized_pnl'),
        raw('sum(case when p.qty <> 0 then 1 else 0 end) as portfolios'),
        raw('max(p.last_fill_at) as last_fill_at'),
      ])
      .groupBy('p.symbol')
      .orderBy({ symbol: 'asc' })
      .execute<
        {
          symbol: string;
          qty: string | number;
          cost_basis: string | number;
          realized_pnl: string | number;
          portfolios: string | number;
          last_fill_at: RawDate;
        }[]
      >('all', false);
    return rows.map((r) => ({
      symbol: r.symbol,
      // Sums of REALs on SQLite carry float noise; rounding to the column scale removes it.
      qty: atScale(r.qty, QTY_SCALE),
      costBasis: atScale(r.cost_basis, MONEY_SCALE),
      realizedPnl: atScale(r.realized_pnl, MONEY_SCALE),
      portfolios: Number(r.portfolios),
      lastFillAt: asDate(r.last_fill_at),
    }));
  }

  /**
   * Recomputes every position from `fills` (one portfolio at a time, so memory stays bounded by
   * the largest portfolio) and replaces the table in one transaction. Returns the positions written.
   * Applying fills one by one and rebuilding give equal books; tests hold them to that.
   */
  async rebuild(): Promise<number> {
    return this.orm.em.fork().transactional(async (em) => {
      const names = await em
        .createQueryBuilder(FillEntity, 'f')
        .select('f.portfolio_name')
        .distinct()
        .execute<{ portfolio_name: string }[]>('all', false);
      const spellings = new Map<string, string[]>();
      for (const { portfolio_name: name } of names) {
        const key = portfolioNameKey(name);
        spellings.set(key, [...(spellings.get(key) ?? []), name]);
      }
      await em.nativeDelete(PositionEntity, {});
      const now = this.now();
      let written = 0;
      for (const [portfolioKey, portfolioNames] of spellings) {
        const rows = await em
          .createQueryBuilder(FillEntity, 'f')
          .select(FILL_COLUMNS)
          .where({ portfolioName: { $in: portfolioNames } })
          .orderBy({ symbol: 'asc', filledAt: 'asc', id: 'asc' })
          .execute<FillRow[]>('all', false);
        const bySymbol = new Map<string, { state: PositionState; lastId: number }>();
        for (const row of rows) {
          const current = bySymbol.get(row.symbol) ?? { state: FLAT_POSITION, lastId: 0 };
          bySymbol.set(row.symbol, { state: applyFill(current.state, toPositionFill(row)), lastId: row.id });
        }
        const inserts = [...bySymbol].map(([symbol, { state, lastId }]) => ({
          portfolioKey,
          symbol,
          ...columnsOf(state, lastId, now),
        }));
        for (let i = 0; i < inserts.length; i += 400) {
          await em
            .createQueryBuilder(PositionEntity)
            .insert(inserts.slice(i, i + 400))
            .execute('run');
        }
        written += inserts.length;
      }
      return written;
    });
  }
}
