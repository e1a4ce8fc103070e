import { Migration } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';

/*
 * The first schema: trades (the earlier OMS's table, extended), fills and portfolios.
 *
 * The CREATE statements are MikroORM's own schema generator output for the entities as they
 * stood when this migration was written, one copy per dialect, so a fresh database matches the
 * entities exactly. They are frozen here on purpose: later entity changes get later migrations.
 *
 * A database created by the earlier OMS already has `trades` (and no migrations table). It is
 * upgraded in place: PostgreSQL alters the table; SQLite cannot change column types, so it
 * rebuilds the table and copies every row with its id. Old rows get NULL broker fields,
 * status 'filled', source 'legacy', one backfilled fill each (so positions include them) and a
 * portfolio row per distinct portfolio name. The earlier OMS wrote naive timestamps in UTC.
 */

const SQLITE_CREATE_TRADES = [
  'create table `trades` (`id` integer not null primary key autoincrement, `trade_id` text not null, ' +
    '`symbol` text not null, `quantity` numeric(24,9) null, `gmv` numeric(18,2) null, ' +
    "`side` text check (`side` in ('BUY', 'SELL')) not null, `portfolio_name` text not null, " +
    '`user_id` text not null, `timestamp` datetime not null, `created_at` datetime not null, ' +
    '`alpaca_order_id` text null, `alpaca_filled_price` numeric(18,6) null, ' +
    '`alpaca_filled_qty` numeric(24,9) null, `alpaca_status` text null, ' +
    '`alpaca_filled_at` datetime null, `client_order_id` text null, `order_type` text null, ' +
    '`time_in_force` text null, `limit_price` numeric(18,6) null, `stop_price` numeric(18,6) null, ' +
    '`notional` numeric(18,2) null, `extended_hours` integer not null default false, ' +
    '`status` text not null, `error_code` text null, `error_message` text null, ' +
    '`slack_channel_id` text null, `slack_message_ts` text null, `market_open_at_submit` integer null, ' +
    '`submitted_at` datetime null, `updated_at` datetime not null, `source` text not null);',
  'create unique index `trades_trade_id_unique` on `trades` (`trade_id`);',
  'create unique index `trades_alpaca_order_id_unique` on `trades` (`alpaca_order_id`);',
  'create unique index `trades_client_order_id_unique` on `trades` (`client_order_id`);',
  'create index `trades_status_index` on `trades` (`status`);',
];

const SQLITE_CREATE_OTHERS = [
  'create table `portfolios` (`id` integer not null primary key autoincrement, `name` text not null, ' +
    '`name_key` text not null, `created_by` text not null, `created_at` datetime not null);',
  'create unique index `portfolios_name_key_unique` on `portfolios` (`name_key`);',
  'create table `fills` (`id` integer not null primary key autoincrement, ' +
    '`execution_id` text not null, `trade_id` integer null, `symbol` text not null, ' +
    "`side` text check (`side` in ('BUY', 'SELL')) not null, `qty` numeric(24,9) not null, " +
    '`price` numeric(18,6) not null, `portfolio_name` text not null, `filled_at` datetime not null, ' +
    '`source` text not null, `created_at` datetime not null, constraint `fills_trade_id_foreign` ' +
    'foreign key(`trade_id`) references `trades`(`id`) on delete restrict on update cascade);',
  'create unique index `fills_execution_id_unique` on `fills` (`execution_id`);',
  'create index `fills_trade_id_index` on `fills` (`trade_id`);',
  'create index `fills_portfolio_name_symbol_index` on `fills` (`portfolio_name`, `symbol`);',
];

/** SQLite stores MikroORM dates as epoch milliseconds; the earlier OMS stored ISO-8601 / SQL text in UTC. */
const sqliteEpochMs = (column: string) => `cast(round((julianday(${column}) - 2440587.5) * 86400000) as integer)`;

const SQLITE_UPGRADE_LEGACY_TRADES = [
  'alter table `trades` rename to `legacy_trades`;',
  ...SQLITE_CREATE_TRADES,
  'insert into `trades` (`id`, `trade_id`, `symbol`, `quantity`, `gmv`, `side`, `portfolio_name`, `user_id`, ' +
    '`timestamp`, `created_at`, `extended_hours`, `status`, `updated_at`, `source`)\n' +
    '   select `id`, `trade_id`, `symbol`, `quantity`, `gmv`, `side`, `portfolio_name`, `user_id`, ' +
    `${sqliteEpochMs('`timestamp`')},\n` +
    `          ${sqliteEpochMs('coalesce(`created_at`, `timestamp`)')}, false, 'filled', ` +
    `${sqliteEpochMs('coalesce(`created_at`, `timestamp`)')}, 'legacy'\n` +
    '   from `legacy_trades` order by `id`;',
  'drop table `legacy_trades`;',
];

const POSTGRES_CREATE_TRADES = [
  'create table "trades" ("id" serial primary key, "trade_id" varchar(255) not null, ' +
    '"symbol" varchar(32) not null, "quantity" numeric(24,9) null, "gmv" numeric(18,2) null, ' +
    `"side" text check ("side" in ('BUY', 'SELL')) not null, "portfolio_name" varchar(255) not null, ` +
    '"user_id" varchar(255) not null, "timestamp" timestamptz not null, ' +
    '"created_at" timestamptz not null, "alpaca_order_id" varchar(64) null, ' +
    '"alpaca_filled_price" numeric(18,6) null, "alpaca_filled_qty" numeric(24,9) null, ' +
    '"alpaca_status" varchar(32) null, "alpaca_filled_at" timestamptz null, ' +
    '"client_order_id" varchar(128) null, "order_type" varchar(16) null, ' +
    '"time_in_force" varchar(8) null, "limit_price" numeric(18,6) null, "stop_price" numeric(18,6) null, ' +
    '"notional" numeric(18,2) null, "extended_hours" boolean not null default false, ' +
    '"status" varchar(32) not null, "error_code" varchar(64) null, "error_message" text null, ' +
    '"slack_channel_id" varchar(32) null, "slack_message_ts" varchar(32) null, ' +
    '"market_open_at_submit" boolean null, "submitted_at" timestamptz null, ' +
    '"updated_at" timestamptz not null, "source" varchar(16) not null);',
  'alter table "trades" add constraint "trades_trade_id_unique" unique ("trade_id");',
  ...postgresTradeAdditions(),
];

/** Constraints and indexes on columns the earlier OMS did not have: shared by the fresh and the upgrade path. */
function postgresTradeAdditions(): string[] {
  return [
    'alter table "trades" add constraint "trades_alpaca_order_id_unique" unique ("alpaca_order_id");',
    'alter table "trades" add constraint "trades_client_order_id_unique" unique ("client_order_id");',
    'create index "trades_status_index" on "trades" ("status");',
  ];
}

const POSTGRES_CREATE_OTHERS = [
  'create table "portfolios" ("id" serial primary key, "name" varchar(255) not null, ' +
    '"name_key" varchar(255) not null, "created_by" varchar(255) not null, ' +
    '"created_at" timestamptz not null);',
  'alter table "portfolios" add constraint "portfolios_name_key_unique" unique ("name_key");',
  'create table "fills" ("id" serial primary key, "execution_id" varchar(128) not null, ' +
    '"trade_id" int null, "symbol" varchar(32) not null, ' +
    `"side" text check ("side" in ('BUY', 'SELL')) not null, "qty" numeric(24,9) not null, ` +
    '"price" numeric(18,6) not null, "portfolio_name" varchar(255) not null, "filled_at" timestamptz not null, ' +
    '"source" varchar(16) not null, "created_at" timestamptz not null);',
  'alter table "fills" add constraint "fills_execution_id_unique" unique ("execution_id");',
  'create index "fills_trade_id_index" on "fills" ("trade_id");',
  'create index "fills_portfolio_name_symbol_index" on "fills" ("portfolio_name", "symbol");',
  'alter table "fills" add constraint "fills_trade_id_foreign" foreign key ' +
    '("trade_id") references "trades" ("id") on update cascade on delete restrict;',
];

/**
 * The earlier OMS's table already has the right id (serial, trades_pkey); everything else is
 * altered to the entity's shape. Its side check is replaced by the one the fresh path creates.
 */
const POSTGRES_UPGRADE_LEGACY_TRADES = [
  'alter table "trades" rename constraint "trades_trade_id_key" to "trades_trade_id_unique";',
  'alter table "trades" drop constraint "trades_side_check";',
  'update "trades" set "created_at" = "timestamp" where "created_at" is null;',
  `alter table "trades"
     alter column "symbol" type varchar(32),
     alter column "side" type text,
     add constraint "trades_side_check" check ("side" in ('BUY', 'SELL')),
     alter column "quantity" type numeric(24,9), alter column "quantity" drop not null,
     alter column "gmv" type numeric(18,2), alter column "gmv" drop not null,
     alter column "timestamp" type timestamptz using "timestamp" at time zone 'UTC',
     alter column "created_at" drop default,
     alter column "created_at" type timestamptz using "created_at" at time zone 'UTC',
     alter column "created_at" set not null,
     add column "alpaca_order_id" varchar(64) null,
     add column "alpaca_filled_price" numeric(18,6) null,
     add column "alpaca_filled_qty" numeric(24,9) null,
     add column "alpaca_status" varchar(32) null,
     add column "alpaca_filled_at" timestamptz null,
     add column "client_order_id" varchar(128) null,
     add column "order_type" varchar(16) null,
     add column "time_in_force" varchar(8) null,
     add column "limit_price" numeric(18,6) null,
     add column "stop_price" numeric(18,6) null,
     add column "notional" numeric(18,2) null,
     add column "extended_hours" boolean not null default false,
     add column "status" varchar(32) not null default 'filled',
     add column "error_code" varchar(64) null,
     add column "error_message" text null,
     add column "slack_channel_id" varchar(32) null,
     add column "slack_message_ts" varchar(32) null,
     add column "market_open_at_submit" boolean null,
     add column "submitted_at" timestamptz null,
     add column "updated_at" timestamptz null,
     add column "source" varchar(16) not null default 'legacy';`,
  'update "trades" set "updated_at" = "created_at";',
  // The defaults only labelled the existing rows; new rows always say what they are.
  'alter table "trades" alter column "updated_at" set not null, alter column "status" drop default, ' +
    'alter column "source" drop default;',
  ...postgresTradeAdditions(),
];

export class Migration20251124000000InitialSchema extends Migration {
  override async up(): Promise<void> {
    const postgres = this.driver instanceof PostgreSqlDriver;
    const legacyTable = await this.execute(
      postgres
        ? `select 1 from pg_catalog.pg_tables where tablename = 'trades' and schemaname = current_schema()`
        : `select 1 from sqlite_master where type = 'table' and name = 'trades'`,
    );
    const upgrading = legacyTable.length > 0;

    const statements = postgres
      ? [...(upgrading ? POSTGRES_UPGRADE_LEGACY_TRADES : POSTGRES_CREATE_TRADES), ...POSTGRES_CREATE_OTHERS]
      : [...(upgrading ? SQLITE_UPGRADE_LEGACY_TRADES : SQLITE_CREATE_TRADES), ...SQLITE_CREATE_OTHERS];
    // Run in order now (not addSql) because the backfill below reads the upgraded table.
    for (const sql of statements) await this.execute(sql);

    if (upgrading) await this.backfillLegacy(postgres);
  }

  private async backfillLegacy(postgres: boolean): Promise<void> {
    // SQLite divides integers as integers; PostgreSQL's numeric division is exact, then rounded.
    const price = postgres ? 'round("gmv" / "quantity", 6)' : 'round(cast("gmv" as real) / "quantity", 6)';
    await this.execute(
      'insert into "fills" ("execution_id", "trade_id", "symbol", "side", "qty", "price", "portfolio_name", ' +
        '"filled_at", "source", "created_at")\n' +
        `       select 'legacy:' || "trade_id", "id", "symbol", "side", "quantity", ${price}, "portfolio_name", ` +
        `"timestamp", 'legacy', "created_at"\n` +
        `       from "trades" where "source" = 'legacy' and "quantity" <> 0 order by "id"`,
    );

    // Portfolio keys are computed here with the same rule the app uses (trim + lower-case), not
    // with SQL lower(), whose idea of case differs between SQLite and PostgreSQL outside ASCII.
    const firstUses = await this.execute(
      'select "portfolio_name", "user_id", "created_at" from "trades" where "id" ' +
        'in (select min("id") from "trades" group by "portfolio_name") order by "id"',
    );
    const portfolios = new Map<string, { name: string; name_key: string; created_by: string; created_at: unknown }>();
    for (const row of firstUses) {
      const name = String(row.portfolio_name).trim();
      const nameKey = name.toLowerCase();
      if (!portfolios.has(nameKey)) {
        portfolios.set(nameKey, {
          name,
          name_key: nameKey,
          created_by: String(row.user_id),
          created_at: row.created_at,
        });
      }
    }
    if (portfolios.size > 0) {
      await this.execute(
        this.getKnex()
          .insert([...portfolios.values()])
          .into('portfolios'),
      );
    }
  }
}
