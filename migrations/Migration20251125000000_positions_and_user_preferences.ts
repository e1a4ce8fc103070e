import { Migration } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { foldFillsIntoPositions } from './fold-positions';

/*
 * `positions`: average-cost positions per (portfolio, symbol), kept in step with `fills` by the
 * application; `user_preferences`: per-user choices such as the Home tab's portfolio.
 *
 * The CREATE statements are MikroORM's schema generator output for the entities as they stood
 * when this migration was written, one copy per dialect. Fills already stored (an upgraded
 * earlier-OMS database, or trades recorded before this migration) are folded into positions here,
 * by the same average-cost rules the application applies fill by fill.
 */

const SQLITE_STATEMENTS = [
  'create table `positions` (`id` integer not null primary key autoincrement, ' +
    '`portfolio_key` text not null, `symbol` text not null, `qty` numeric(24,9) not null, ' +
    '`cost_basis` numeric(24,6) not null, `realized_pnl` numeric(24,6) not null, ' +
    '`fill_count` integer not null, `last_fill_at` datetime not null, `last_fill_id` integer not null, ' +
    '`updated_at` datetime not null);',
  'create index `positions_symbol_index` on `positions` (`symbol`);',
  'create unique index `positions_portfolio_key_symbol_unique` on `positions` (`portfolio_key`, `symbol`);',
  'create table `user_preferences` (`user_id` text not null, `home_portfolio_id` integer null, ' +
    '`updated_at` datetime not null, ' +
    'constraint `user_preferences_home_portfolio_id_foreign` foreign key(`home_portfolio_id`) ' +
    'references `portfolios`(`id`) on delete set null on update cascade, primary key (`user_id`));',
  'create index `user_preferences_home_portfolio_id_index` on `user_preferences` (`home_portfolio_id`);',
];

const POSTGRES_STATEMENTS = [
  'create table "positions" ("id" serial primary key, "portfolio_key" varchar(255) not null, ' +
    '"symbol" varchar(32) not null, "qty" numeric(24,9) not null, "cost_basis" numeric(24,6) not null, ' +
    '"realized_pnl" numeric(24,6) not null, "fill_count" int not null, ' +
    '"last_fill_at" timestamptz not null, "last_fill_id" int not null, ' +
    '"updated_at" timestamptz not null);',
  'create index "positions_symbol_index" on "positions" ("symbol");',
  'alter table "positions" add constraint "positions_portfolio_key_symbol_unique" unique ("portfolio_key", "symbol");',
  'create table "user_preferences" ("user_id" varchar(255) not null, "home_portfolio_id" int null, ' +
    '"updated_at" timestamptz not null, constraint "user_preferences_pkey" primary key ("user_id"));',
  'alter table "user_preferences" add constraint "user_preferences_home_portfolio_id_foreign" ' +
    'foreign key ("home_portfolio_id") references "portfolios" ("id") on update cascade on delete set null;',
];

export class Migration20251125000000PositionsAndUserPreferences extends Migration {
  override async up(): Promise<void> {
    const postgres = this.driver instanceof PostgreSqlDriver;
    for (const sql of postgres ? POSTGRES_STATEMENTS : SQLITE_STATEMENTS) await this.execute(sql);
    await this.foldExistingFills(postgres);
  }

  private async foldExistingFills(postgres: boolean): Promise<void> {
    const names = await this.execute('select distinct "portfolio_name" from "fills"');
    const spellings = new Map<string, string[]>();
    for (const row of names) {
      const name = String(row.portfolio_name);
      // The application's rule for portfolio keys when this was written (trim + lower-case), not SQL
      // lower(); Migration20251202000000_normalize_portfolio_names re-keys them by today's rule.
      const key = name.trim().toLowerCase();
      spellings.set(key, [...(spellings.get(key) ?? []), name]);
    }
    await foldFillsIntoPositions(this, spellings, postgres ? new Date() : Date.now());
  }
}
