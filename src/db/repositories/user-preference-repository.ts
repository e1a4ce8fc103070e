import { UserPreferenceEntity } from '../entities';
import type { Orm } from '../orm';

/** Per-user choices, one row per Slack user. */
export class UserPreferenceRepository {
  constructor(
    private readonly orm: Orm,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The portfolio id the user last picked on the Home tab; undefined when never picked (or since deleted). */
  async homePortfolioId(userId: string): Promise<number | undefined> {
    const row = await this.orm.em.fork().findOne(UserPreferenceEntity, { userId });
    return row?.homePortfolio ?? undefined;
  }

  async setHomePortfolio(userId: string, portfolioId: number): Promise<void> {
    await this.orm.em
      .fork()
      .createQueryBuilder(UserPreferenceEntity)
      .insert({ userId, homePortfolio: portfolioId, updatedAt: this.now() })
      .onConflict('userId')
      .merge(['homePortfolio', 'updatedAt'])
      .execute('run');
  }
}
