import { Migration } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { dec } from '../src/domain/money';
import { applyFill, FLAT_POSITION, MONEY_SCALE, QTY_SCALE, type PositionState } from '../src/domain/positions';

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
  'create table `positions` (`id` integer not null primary key autoincrement, `portfolio_key` text not null, `symbol` text not null, `qty` numeric(24,9) not null, `cost_basis` numeric(24,6) not null, `realized_pnl` numeric(24,6) not null, `fill_count` integer not null, `last_fill_at` datetime not null, `last_fill_id` integer not null, `updated_at` datetime not null);',
  'create index `positions_symbol_index` on `positions` (`symbol`);',
  'create unique index `positions_portfolio_key_symbol_unique` on `positions` (`portfolio_key`, `symbol`);',
  'create table `user_preferences` (`user_id` text not null, `home_portfolio_id` integer null, `updated_at` datetime not null, constraint `user_preferences_home_portfolio_id_foreign` foreign key(`home_portfolio_id`) references `portfolios`(`id`) on delete set null on update cascade, primary key (`user_id`));',
  'create index `user_preferences_home_portfolio_id_index` on `user_preferences` (`home_portfolio_id`);',
];

const POSTGRES_STATEMENTS = [
  'create table "positions" ("id" serial primary key, "portfolio_key" varchar(255) not null, "symbol" varchar(32) not null, "qty" numeric(24,9) not null, "cost_basis" numeric(24,6) not null, "realized_pnl" numeric(24,6) not null, "fill_count" int not null, "last_fill_at" timestamptz not null, "last_fill_id" int not null, "updated_at" timestamptz not null);',
  'create index "positions_symbol_index" on "positions" ("symbol");',
  'alter table "positions" add constraint "positions_portfolio_key_symbol_unique" unique ("portfolio_key", "symbol");',
  'create table "user_preferences" ("user_id" varchar(255) not null, "home_portfolio_id" int null, "updated_at" timestamptz not null, constraint "user_preferences_pkey" primary key ("user_id"));',
  'alter table "user_preferences" add constraint "user_preferences_home_portfolio_id_foreign" foreign key ("home_portfolio_id") references "portfolios" ("id") on update cascade on delete set null;',
];

interface FillRow {
  id: number;
  symbol: string;
  side: 'BUY' | 'SELL';
  qty: string | number;
  price: string | number;
  /** Epoch milliseconds on SQLite, a Date on PostgreSQL: written back as read. */
  filled_at: number | Date;
}

export class Migration20251125000000PositionsAndUserPreferences extends Migration {
  override async up(): Promise<void> {
    const postgres = this.driver instanceof PostgreSqlDriver;
    for (const sql of postgres ? POSTGRES_STATEMENTS : SQLITE_STATEMENTS) await this.execute(sql);
    await this.foldExistingFills(postgres);
  }

  /** One portfolio at a time (all spellings of its name together), so memory is bounded by the largest. */
  private async foldExistingFills(postgres: boolean): Promise<void> {
    const names = await this.execute('select distinct "portfolio_name" from "fills"');
    const spellings = new Map<string, string[]>();
    for (const row of names) {
      const name = String(row.portfolio_name);
      // The application's rule for portfolio keys (trim + lower-case), not SQL lower().
      const key = name.trim().toLowerCase();
      spellings.set(key, [...(spellings.get(key) ?? []), name]);
    }
    const now = postgres ? new Date() : Date.now();
    for (const [portfolioKey, portfolioNames] of spellings) {
      const fills = (await this.execute(
        `select "id", "symbol", "side", "qty", "price", "filled_at" from "fills" where "portfolio_name" in (${portfolioNames.map(() => '?').join(', ')}) order by "symbol", "filled_at", "id"`,
        portfolioNames,
      )) as FillRow[];
      const bySymbol = new Map<string, { state: PositionState; last: FillRow }>();
      for (const fill of fills) {
        const state = applyFill(bySymbol.get(fill.symbol)?.state ?? FLAT_POSITION, {
          side: fill.side === 'BUY' ? 'buy' : 'sell',
          qty: dec(String(fill.qty)).toDecimalPlaces(QTY_SCALE),
          price: dec(String(fill.price)).toDecimalPlaces(MONEY_SCALE),
          filledAt: new Date(fill.filled_at),
        });
        bySymbol.set(fill.symbol, { state, last: fill });
      }
      const rows = [...bySymbol].map(([symbol, { state, last }]) => ({
        portfolio_key: portfolioKey,
        symbol,
        qty: state.qty.toFixed(),
        cost_basis: state.costBasis.toFixed(),
        realized_pnl: state.realizedPnl.toFixed(),
        fill_count: state.fillCount,
        last_fill_at: last.filled_at,
        last_fill_id: last.id,
        updated_at: now,
      }));
      for (let i = 0; i < rows.length; i += 200) await this.execute(this.getKnex().insert(rows.slice(i, i + 200)).into('positions'));
    }
  }
}
