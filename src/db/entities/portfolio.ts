import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

/** `portfolios`: names that look the same are one name, so uniqueness is on name_key (portfolioNameKey). */
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
