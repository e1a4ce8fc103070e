import { Migration } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { normalizePortfolioName, portfolioNameKey } from '../src/domain/portfolio-name';
import { foldFillsIntoPositions } from './fold-positions';

/*
 * Portfolio names in normal form (src/domain/portfolio-name.ts): names that only look different
 * ("Grow\u200Bth" and "Growth", a decomposed and a composed "Café", "Growth  Fund" and "Growth
 * Fund") become one name. Uses the application's own functions, as the earlier migrations do, so
 * the stored names and keys are exactly what the application computes. No schema change.
 *
 * - Two portfolios whose names now share a key are merged into the one created first (the lowest
 *   id, matching "spelled and owned as first used"); a Home tab that showed the later one shows the
 *   first. Keeping both is not an option: every name the app is given is normalised before it is
 *   matched, so the later one could never be found again, while its fills, keyed by name, already
 *   count towards the first one's positions. Nothing is lost: no fill changes but its spelling.
 * - The copies of the name in trades, fills and book_adjustments are rewritten where normalising
 *   changes them (their case is kept: lookups ignore case).
 * - Positions are keyed by the name key; when any fill's key changes, positions are folded again
 *   from fills, as migration 20251125 first did. Databases whose names were already normal are
 *   left untouched.
 */

/** The key every earlier version computed: positions written before this migration use it. */
const previousKey = (name: string) => name.trim().toLowerCase();

export class Migration20251202000000NormalizePortfolioNames extends Migration {
  override async up(): Promise<void> {
    await this.mergePortfolios();
    // Reads the fills' spellings as they are, so it runs before they are rewritten.
    await this.refoldPositions(this.driver instanceof PostgreSqlDriver);
    for (const table of ['trades', 'fills', 'book_adjustments']) await this.normalizeCopies(table);
  }

  private async mergePortfolios(): Promise<void> {
    const rows = (await this.execute('select "id", "name", "name_key" from "portfolios" order by "id"')) as {
      id: number;
      name: string;
      name_key: string;
    }[];
    const kept = new Map<string, number>();
    const renamed: { id: number; name: string; nameKey: string }[] = [];
    for (const row of rows) {
      const name = normalizePortfolioName(row.name);
      const nameKey = portfolioNameKey(name);
      const into = kept.get(nameKey);
      if (into !== undefined) {
        await this.execute('update "user_preferences" set "home_portfolio_id" = ? where "home_portfolio_id" = ?', [
          into,
          row.id,
        ]);
        await this.execute('delete from "portfolios" where "id" = ?', [row.id]);
        continue;
      }
      kept.set(nameKey, row.id);
      if (name !== row.name || nameKey !== row.name_key) renamed.push({ id: row.id, name, nameKey });
    }
    // Through a placeholder key first: a new key may still be another row's old key until that row
    // is renamed too. Stored keys are trimmed, so none starts with a space.
    for (const row of renamed)
      await this.execute('update "portfolios" set "name_key" = ? where "id" = ?', [` ${row.id}`, row.id]);
    for (const row of renamed)
      await this.execute('update "portfolios" set "name" = ?, "name_key" = ? where "id" = ?', [
        row.name,
        row.nameKey,
        row.id,
      ]);
  }

  private async refoldPositions(postgres: boolean): Promise<void> {
    const names = (
      (await this.execute('select distinct "portfolio_name" from "fills"')) as { portfolio_name: string }[]
    ).map((row) => row.portfolio_name);
    // Every spelling keeps its key: the positions already stored are keyed and grouped right.
    if (names.every((name) => previousKey(name) === portfolioNameKey(name))) return;
    const spellings = new Map<string, string[]>();
    for (const name of names) {
      const key = portfolioNameKey(name);
      spellings.set(key, [...(spellings.get(key) ?? []), name]);
    }
    await this.execute('delete from "positions"');
    await foldFillsIntoPositions(this, spellings, postgres ? new Date() : Date.now());
  }

  private async normalizeCopies(table: string): Promise<void> {
    const names = (await this.execute(`select distinct "portfolio_name" from "${table}"`)) as {
      portfolio_name: string;
    }[];
    for (const { portfolio_name: name } of names) {
      const normal = normalizePortfolioName(name);
      if (normal !== name)
        await this.execute(`update "${table}" set "portfolio_name" = ? where "portfolio_name" = ?`, [normal, name]);
    }
  }
}
