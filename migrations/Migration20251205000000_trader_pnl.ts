import { Migration } from '@mikro-orm/migrations';

/*
 * P&L per trader reads every fill in the order positions fold them (filled_at, then id): this index
 * hands them over in that order, so neither database sorts 100,000 rows per report. The same
 * statement on SQLite and PostgreSQL.
 */
export class Migration20251205000000TraderPnl extends Migration {
  override async up(): Promise<void> {
    this.addSql('create index "fills_filled_at_id_index" on "fills" ("filled_at", "id");');
  }
}
