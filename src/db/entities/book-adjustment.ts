import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { DiscrepancyEntity } from './discrepancy';

/**
 * `book_adjustments`: the audit trail of every manual correction to the books — who, why, by
 * how much. Each one is also a `fills` row (source 'adjustment', execution id
 * `adjustment:<id>`) so positions include it.
 */
export const BookAdjustmentEntity = defineEntity({
  name: 'BookAdjustment',
  tableName: 'book_adjustments',
  properties: {
    id: p.integer().primary().autoincrement(),
    portfolioName: p.string().length(255),
    symbol: p.string().length(32),
    /** Signed: positive adds shares to the portfolio, negative removes them. */
    qty: p.decimal().precision(24).scale(9),
    price: p.decimal().precision(18).scale(6),
    reason: p.text(),
    userId: p.string().length(255),
    createdAt: p.datetime(),
    /** The request that booked it (the Slack form's view id): a redelivered or repeated request books nothing more. */
    requestKey: p.string().length(160).unique().nullable(),
    discrepancy: p.manyToOne(DiscrepancyEntity).nullable().mapToPk().deleteRule('set null').index(),
  },
});

export type BookAdjustmentRecord = InferEntity<typeof BookAdjustmentEntity>;
