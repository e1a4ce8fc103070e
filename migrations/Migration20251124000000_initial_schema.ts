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

/**
 * Columns some deployments of the earlier OMS added by hand (part of the Alpaca plan), with how
 * each is carried over when present: its value in our type, per dialect. `c` is the quoted column.
 */
const HAND_ADDED_ALPACA_COLUMNS: Record<string, { postgres: string; postgresUsing: (c: string) => string }> = {
  alpaca_order_id: { postgres: 'varchar(64)', postgresUsing: (c) => `nullif(trim(${c}::text), '')` },
  alpaca_filled_price: { postgres: 'numeric(18,6)', postgresUsing: (c) => `round(${c}::numeric, 6)` },
  alpaca_filled_qty: { postgres: 'numeric(24,9)', postgresUsing: (c) => `${c}::numeric` },
  alpaca_status: { postgres: 'varchar(32)', postgresUsing: (c) => `lower(${c}::text)` },
  alpaca_filled_at: { postgres: 'timestamptz', postgresUsing: (c) => c },
};

/**
 * What a legacy row's status is: the earlier OMS recorded done trades; a row it sent to Alpaca by
 * hand says what Alpaca last said (an order still working stays open, for the stream to finish).
 */
const LEGACY_STATUS = `case
    when "alpaca_order_id" is null then 'filled'
    when "alpaca_status" in ('filled', 'canceled', 'expired', 'rejected') then "alpaca_status"
    when "alpaca_status" = 'cancelled' then 'canceled'
    when "alpaca_status" in ('done_for_day', 'replaced') then 'canceled'
    when "alpaca_status" = 'partially_filled' then 'partially_filled'
    when "alpaca_filled_qty" is not null and "alpaca_filled_qty" >= "quantity" then 'filled'
    else 'accepted' end`;

/**
 * SQLite cannot change a column's type, so the earlier OMS's table is rebuilt and every row copied
 * with its id. Whatever indexes it had go with the old table; the hand-added Alpaca columns it has
 * are copied, the others start NULL.
 */
function sqliteUpgradeLegacyTrades(existing: ReadonlySet<string>): string[] {
  const carried = Object.keys(HAND_ADDED_ALPACA_COLUMNS).filter((c) => existing.has(c));
  const carriedValue = (c: string) =>
    c === 'alpaca_filled_at'
      ? sqliteEpochMs(`\`${c}\``)
      : c === 'alpaca_status'
        ? `lower(\`${c}\`)`
        : c === 'alpaca_order_id'
          ? `nullif(trim(\`${c}\`), '')`
          : `\`${c}\``;
  const when = (column: string) => `coalesce(\`${column}\`, \`created_at\`, \`timestamp\`, 'now')`;
  return [
    'alter table `trades` rename to `legacy_trades`;',
    ...SQLITE_CREATE_TRADES,
    'insert into `trades` (`id`, `trade_id`, `symbol`, `quantity`, `gmv`, `side`, `portfolio_name`, `user_id`, ' +
      `\`timestamp\`, \`created_at\`, \`extended_hours\`, \`status\`, \`updated_at\`, \`source\`` +
      carried.map((c) => `, \`${c}\``).join('') +
      ')\n' +
      "   select `id`, `trade_id`, coalesce(`symbol`, '?'), `quantity`, `gmv`, upper(`side`), " +
      "coalesce(`portfolio_name`, 'Default Portfolio'), coalesce(`user_id`, 'unknown'), " +
      `${sqliteEpochMs(when('timestamp'))}, ${sqliteEpochMs(when('created_at'))}, false, 'filled', ` +
      `${sqliteEpochMs(when('created_at'))}, 'legacy'` +
      carried.map((c) => `, ${carriedValue(c)}`).join('') +
      '\n   from `legacy_trades` order by `id`;',
    'drop table `legacy_trades`;',
    `update \`trades\` set \`status\` = ${LEGACY_STATUS};`,
  ];
}

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

/** A column of the earlier OMS's `trades` as PostgreSQL describes it. */
interface LegacyColumn {
  name: string;
  /** information_schema's data_type, e.g. "timestamp without time zone", "USER-DEFINED". */
  dataType: string;
  /** The type's own name, e.g. "tradeside" for the earlier OMS's native enum. */
  udtName: string;
}

/** `"timestamp"` in our type, whatever the earlier OMS stored it as (naive values were UTC). */
function postgresTimestamp(column: LegacyColumn): string {
  const c = `"${column.name}"`;
  if (column.dataType === 'timestamp with time zone') return `alter column ${c} type timestamptz`;
  if (column.dataType === 'timestamp without time zone')
    return `alter column ${c} type timestamptz using ${c} at time zone 'UTC'`;
  return `alter column ${c} type timestamptz using ${c}::text::timestamptz`;
}

/**
 * The earlier OMS's table is altered in place to the entity's shape, whatever it has: its
 * constraints and indexes are looked up by what they are (names differ between the ways it was
 * created — SQLAlchemy's ix_trades_* unique index, a hand-written UNIQUE constraint), `side` may be
 * the native enum type `tradeside`, timestamps with or without a zone, and some of the Alpaca
 * columns may already be there. The id (serial, primary key) and its sequence stay as they are.
 */
function postgresUpgradeLegacyTrades(columns: readonly LegacyColumn[]): string[] {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const column = (name: string): LegacyColumn => byName.get(name) ?? { name, dataType: 'text', udtName: 'text' };
  const alpaca = Object.entries(HAND_ADDED_ALPACA_COLUMNS).map(([name, spec]) => {
    const c = `"${name}"`;
    if (!byName.has(name)) return `add column ${c} ${spec.postgres} null`;
    if (name === 'alpaca_filled_at') return postgresTimestamp(column(name));
    return `alter column ${c} type ${spec.postgres} using ${spec.postgresUsing(c)}`;
  });
  return [
    `alter table "trades"
       alter column "trade_id" type varchar(255),
       alter column "symbol" type varchar(32),
       alter column "side" type text using upper("side"::text),
       alter column "quantity" type numeric(24,9), alter column "quantity" drop not null,
       alter column "gmv" type numeric(18,2), alter column "gmv" drop not null,
       alter column "portfolio_name" type varchar(255),
       alter column "user_id" type varchar(255),
       ${postgresTimestamp(column('timestamp'))},
       alter column "created_at" drop default,
       ${postgresTimestamp(column('created_at'))},
       ${alpaca.join(',\n       ')},
       add column "client_order_id" varchar(128) null,
       add column "order_type" varchar(16) null,
       add column "time_in_force" varchar(8) null,
       add column "limit_price" numeric(18,6) null,
       add column "stop_price" numeric(18,6) null,
       add column "notional" numeric(18,2) null,
       add column "extended_hours" boolean not null default false,
       add column "status" varchar(32) null,
       add column "error_code" varchar(64) null,
       add column "error_message" text null,
       add column "slack_channel_id" varchar(32) null,
       add column "slack_message_ts" varchar(32) null,
       add column "market_open_at_submit" boolean null,
       add column "submitted_at" timestamptz null,
       add column "updated_at" timestamptz null,
       add column "source" varchar(16) null;`,
    `update "trades" set
       "symbol" = coalesce("symbol", '?'),
       "portfolio_name" = coalesce("portfolio_name", 'Default Portfolio'),
       "user_id" = coalesce("user_id", 'unknown'),
       "timestamp" = coalesce("timestamp", "created_at", now()),
       "created_at" = coalesce("created_at", "timestamp", now()),
       "updated_at" = coalesce("created_at", "timestamp", now()),
       "status" = ${LEGACY_STATUS},
       "source" = 'legacy';`,
    `alter table "trades"
       alter column "symbol" set not null, alter column "portfolio_name" set not null,
       alter column "user_id" set not null, alter column "side" set not null,
       alter column "timestamp" set not null, alter column "created_at" set not null,
       alter column "updated_at" set not null, alter column "status" set not null,
       alter column "source" set not null,
       add constraint "trades_side_check" check ("side" in ('BUY', 'SELL'));`,
    'alter table "trades" add constraint "trades_trade_id_unique" unique ("trade_id");',
    ...postgresTradeAdditions(),
  ];
}

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
      ? [...(upgrading ? await this.postgresUpgrade() : POSTGRES_CREATE_TRADES), ...POSTGRES_CREATE_OTHERS]
      : [...(upgrading ? await this.sqliteUpgrade() : SQLITE_CREATE_TRADES), ...SQLITE_CREATE_OTHERS];
    // Run in order now (not addSql) because the backfill below reads the upgraded table.
    for (const sql of statements) await this.execute(sql);

    if (upgrading) await this.backfillLegacy(postgres);
  }

  private async sqliteUpgrade(): Promise<string[]> {
    const columns = await this.execute("select name from pragma_table_info('trades')");
    return sqliteUpgradeLegacyTrades(new Set(columns.map((c) => String(c.name))));
  }

  /**
   * Drops every constraint but the primary key and every index, whatever they are called (the
   * entity's own are created afterwards), then returns the statements that alter the table.
   */
  private async postgresUpgrade(): Promise<string[]> {
    const constraints = await this.execute(
      `select conname from pg_constraint where conrelid = 'trades'::regclass and contype <> 'p'`,
    );
    for (const row of constraints) await this.execute(`alter table "trades" drop constraint "${row.conname}"`);
    const indexes = await this.execute(
      `select indexname from pg_indexes where schemaname = current_schema() and tablename = 'trades' ` +
        `and indexname not in (select conname from pg_constraint where conrelid = 'trades'::regclass)`,
    );
    for (const row of indexes) await this.execute(`drop index "${row.indexname}"`);
    const columns = await this.execute(
      `select column_name, data_type, udt_name from information_schema.columns ` +
        `where table_schema = current_schema() and table_name = 'trades'`,
    );
    const legacy = columns.map((c) => ({
      name: String(c.column_name),
      dataType: String(c.data_type),
      udtName: String(c.udt_name),
    }));
    const side = legacy.find((c) => c.name === 'side');
    const statements = postgresUpgradeLegacyTrades(legacy);
    // The native enum `side` was (tradeside) is no longer used once the column is text.
    if (side?.dataType === 'USER-DEFINED') {
      statements.push(
        `do $$ begin if not exists (select 1 from pg_attribute where atttypid = '"${side.udtName}"'::regtype ` +
          `and attnum > 0 and not attisdropped) then drop type "${side.udtName}"; end if; end $$;`,
      );
    }
    return statements;
  }

  private async backfillLegacy(postgres: boolean): Promise<void> {
    // SQLite divides integers as integers; PostgreSQL's numeric division is exact, then rounded.
    const bookedPrice = postgres
      ? 'round("gmv" / nullif("quantity", 0), 6)'
      : 'round(cast("gmv" as real) / nullif("quantity", 0), 6)';
    // A row the earlier OMS sent to Alpaca holds what Alpaca filled; any other is a done trade at its GMV.
    const sentToAlpaca = '"alpaca_order_id" is not null';
    const qty =
      `case when ${sentToAlpaca} and ("alpaca_filled_qty" is not null or "status" <> 'filled') ` +
      `then "alpaca_filled_qty" else "quantity" end`;
    const price = `coalesce(case when ${sentToAlpaca} then round("alpaca_filled_price", 6) end, ${bookedPrice}, 0)`;
    const filledAt = `case when ${sentToAlpaca} then coalesce("alpaca_filled_at", "timestamp") else "timestamp" end`;
    await this.execute(
      'insert into "fills" ("execution_id", "trade_id", "symbol", "side", "qty", "price", "portfolio_name", ' +
        '"filled_at", "source", "created_at")\n' +
        `       select 'legacy:' || "trade_id", "id", "symbol", "side", ${qty}, ${price}, "portfolio_name", ` +
        `${filledAt}, 'legacy', "created_at"\n` +
        `       from "trades" where "source" = 'legacy' and ${qty} <> 0 order by "id"`,
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
