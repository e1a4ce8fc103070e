import { normalizePortfolioName, portfolioNameKey } from '../../domain/portfolio-name';
import { PortfolioEntity, type PortfolioRecord } from '../entities';
import type { Orm } from '../orm';

export interface Portfolio {
  id: number;
  /** As first spelled by whoever created it, in normal form (normalizePortfolioName). */
  name: string;
  createdBy: string;
  createdAt: Date;
}

function toPortfolio(row: PortfolioRecord): Portfolio {
  return { id: row.id, name: row.name, createdBy: row.createdBy, createdAt: row.createdAt };
}

/**
 * Queries on `portfolios`. Every call runs on its own forked EntityManager. Portfolios are never
 * renamed or deleted, so one found is remembered: placing an order spends no query on its portfolio.
 */
export class PortfolioRepository {
  private readonly known = new Map<string, Portfolio>();

  constructor(
    private readonly orm: Orm,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Returns the portfolio with this name, creating it (as `userId`, named in normal form) when none
   * matches by key. Concurrent calls for one name create it once: the unique name_key decides.
   */
  async ensure(name: string, userId: string): Promise<Portfolio> {
    const nameKey = portfolioNameKey(name);
    if (nameKey === '') throw new Error('A portfolio name cannot be empty');
    const cached = this.known.get(nameKey);
    if (cached) return cached;
    const em = this.orm.em.fork();
    await em
      .createQueryBuilder(PortfolioEntity)
      .insert({ name: normalizePortfolioName(name), nameKey, createdBy: userId, createdAt: this.now() })
      .onConflict('nameKey')
      .ignore()
      .execute('run');
    return this.remember(nameKey, await em.findOneOrFail(PortfolioEntity, { nameKey }));
  }

  async findByName(name: string): Promise<Portfolio | null> {
    const nameKey = portfolioNameKey(name);
    const cached = this.known.get(nameKey);
    if (cached) return cached;
    const row = await this.orm.em.fork().findOne(PortfolioEntity, { nameKey });
    return row ? this.remember(nameKey, row) : null;
  }

  private remember(nameKey: string, row: PortfolioRecord): Portfolio {
    const portfolio = toPortfolio(row);
    this.known.set(nameKey, portfolio);
    return portfolio;
  }

  /** Every portfolio, alphabetically (case-insensitive). */
  async list(): Promise<Portfolio[]> {
    const rows = await this.orm.em.fork().find(PortfolioEntity, {}, { orderBy: { nameKey: 'asc' } });
    return rows.map(toPortfolio);
  }
}
