import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { PortfolioEntity } from './portfolio';

/** `user_preferences`: small per-user choices, e.g. the portfolio the Home tab shows. */
export const UserPreferenceEntity = defineEntity({
  name: 'UserPreference',
  tableName: 'user_preferences',
  properties: {
    userId: p.string().length(255).primary(),
    homePortfolio: p.manyToOne(PortfolioEntity).nullable().mapToPk().deleteRule('set null'),
    updatedAt: p.datetime(),
  },
});

export type UserPreferenceRecord = InferEntity<typeof UserPreferenceEntity>;
