import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import type { FillSource } from '../../domain/trade';
import { STORED_SIDES, TradeEntity } from './trade';

/**
 * `fills`: one row per execution, keyed by the broker's execution id (synthetic ids such as
 * `ledger:<client_order_id>` or `legacy:<trade_id>` otherwise). symbol and portfolio_name are
 * copied from the trade so positions aggregate from this one table.
 */
export const FillEntity = defineEntity({
  name: 'Fill',
  tableName: 'fills',
  properties: {
    id: p.integer().primary().autoincrement(),
    executionId: p.string().length(128).unique(),
    trade: p.manyToOne(TradeEntity).nullable().mapToPk().deleteRule('restrict').index(),
    symbol: p.string().length(32),
    side: p.enum([...STORED_SIDES]),
    qty: p.decimal().precision(24).scale(9),
    price: p.decimal().precision(18).scale(6),
    portfolioName: p.string().length(255),
    filledAt: p.datetime(),
    source: p.string().$type<FillSource>().length(16),
    createdAt: p.datetime(),
  },
  indexes: [
    { properties: ['portfolioName', 'symbol'] },
    // P&L per trader reads every fill in fold order.
    { properties: ['filledAt', 'id'] },
  ],
});

export type FillRecord = InferEntity<typeof FillEntity>;
