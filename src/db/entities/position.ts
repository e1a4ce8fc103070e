import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

/**
 * `positions`: one row per (portfolio, symbol), kept up to date in the same transaction as every
 * fill insert (average cost is path dependent, so it cannot be a GROUP BY over fills). Rows that
 * went back to zero stay: they carry the realized P&L. portfolio_key is portfolioNameKey of the
 * name, like portfolios.name_key, because fills spell names as the trade did.
 */
export const PositionEntity = defineEntity({
  name: 'Position',
  tableName: 'positions',
  properties: {
    id: p.integer().primary().autoincrement(),
    portfolioKey: p.string().length(255),
    symbol: p.string().length(32).index(),
    qty: p.decimal().precision(24).scale(9),
    costBasis: p.decimal().precision(24).scale(6),
    realizedPnl: p.decimal().precision(24).scale(6),
    fillCount: p.integer(),
    /** With last_fill_at, where the last applied fill sits in (filled_at, id) order. */
    lastFillAt: p.datetime(),
    lastFillId: p.integer(),
    updatedAt: p.datetime(),
  },
  uniques: [{ properties: ['portfolioKey', 'symbol'] }],
});

export type PositionRecord = InferEntity<typeof PositionEntity>;
