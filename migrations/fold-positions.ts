import type { Migration } from '@mikro-orm/migrations';
import { dec } from '../src/domain/money';
import { applyFill, FLAT_POSITION, MONEY_SCALE, type PositionState, QTY_SCALE } from '../src/domain/positions';

interface FillRow {
  id: number;
  symbol: string;
  side: 'BUY' | 'SELL';
  qty: string | number;
  price: string | number;
  /** Epoch milliseconds on SQLite, a Date on PostgreSQL: written back as read. */
  filled_at: number | Date;
}

/**
 * Inserts the `positions` rows of every portfolio from its stored fills, by the same average-cost
 * rules the application applies fill by fill. `spellings` maps each position key to every
 * portfolio_name spelling that belongs to it. One portfolio at a time, so memory is bounded by the
 * largest. Raw SQL over the columns positions had when it was created, so later schema changes
 * cannot break the migrations that call it.
 */
export async function foldFillsIntoPositions(
  migration: Pick<Migration, 'execute' | 'getKnex'>,
  spellings: ReadonlyMap<string, string[]>,
  now: number | Date,
): Promise<void> {
  for (const [portfolioKey, portfolioNames] of spellings) {
    const fills = (await migration.execute(
      'select "id", "symbol", "side", "qty", "price", "filled_at" from "fills" where "portfolio_name" ' +
        `in (${portfolioNames.map(() => '?').join(', ')}) order by "symbol", "filled_at", "id"`,
      portfolioNames,
    )) as FillRow[];
    const bySymbol = new Map<string, { state: PositionState; last: FillRow }>();
    for (const fill of fills) {
      const state = applyFill(bySymbol.get(fill.symbol)?.state ?? FLAT_POSITION, {
        side: fill.side === 'BUY' ? 'buy' : 'sell',
        qty: dec(String(fill.qty)).toDecimalPlaces(QTY_SCALE),
        price: dec(String(fill.price)).toDecimalPlaces(MONEY_SCALE),
        filledAt: new Date(fill.filled_at),
      });
      bySymbol.set(fill.symbol, { state, last: fill });
    }
    const rows = [...bySymbol].map(([symbol, { state, last }]) => ({
      portfolio_key: portfolioKey,
      symbol,
      qty: state.qty.toFixed(),
      cost_basis: state.costBasis.toFixed(),
      realized_pnl: state.realizedPnl.toFixed(),
      fill_count: state.fillCount,
      last_fill_at: last.filled_at,
      last_fill_id: last.id,
      updated_at: now,
    }));
    for (let i = 0; i < rows.length; i += 200)
      await migration.execute(
        migration
          .getKnex()
          .insert(rows.slice(i, i + 200))
          .into('positions'),
      );
  }
}
