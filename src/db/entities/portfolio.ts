import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** `portfolios`: names are case-insensitive, so uniqueness is on the trimmed lower-cased name_key. */
export const PortfolioEntity = defineEntity({
  name: 'Portfolio',
  tableName: 'portfolios',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(255),
    nameKey: p.string().length(255).unique(),
    createdBy: p.string().length(255),
    createdAt: p.datetime(),
  },
});

export type PortfolioRecord = InferEntity<typeof PortfolioEntity>;
