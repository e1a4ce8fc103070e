import { Migration } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';

/*
 * Reconciliation: `reconcile_runs` (every run, its outcome and counts), `discrepancies` (what
 * the runs found, with first/last seen, resolution, acknowledgement and the Slack alert they
 * belong to) and `book_adjustments` (the audit trail of manual corrections to the books).
 *
 * The statements are MikroORM's schema generator output for the entities as they stood when
 * this migration was written, one copy per dialect. Nothing existing changes: the new fill
 * source 'adjustment' fits the existing string column.
 */

const SQLITE_STATEMENTS = [
  'create table `reconcile_runs` (`id` integer not null primary key autoincrement, ' +
    '`started_at` datetime not null, `finished_at` datetime null, `outcome` text null, ' +
    '`trigger` text not null, `symbols_checked` integer not null, `orders_checked` integer not null, ' +
    '`open_discrepancies` integer not null, `new_discrepancies` integer not null, ' +
    '`resolved_discrepancies` integer not null, `orders_repaired` integer not null, ' +
    '`orders_adopted` integer not null, `orders_external` integer not null, ' +
    '`broker_requests` integer not null, `error` text null);',
  'create table `discrepancies` (`id` integer not null primary key autoincrement, ' +
    '`key` text not null, `kind` text not null, `symbol` text not null, `details` text not null, ' +
    '`books_qty` numeric(24,9) null, `broker_qty` numeric(24,9) null, `difference` numeric(24,9) null, ' +
    '`first_seen_at` datetime not null, `last_seen_at` datetime not null, ' +
    '`resolved_at` datetime null, `acknowledged_by` text null, `acknowledged_at` datetime null, ' +
    '`slack_channel_id` text null, `slack_message_ts` text null, `last_run_id` integer null, ' +
    'constraint `discrepancies_last_run_id_foreign` foreign key(`last_run_id`) ' +
    'references `reconcile_runs`(`id`) on delete set null on update cascade);',
  'create unique index `discrepancies_key_unique` on `discrepancies` (`key`);',
  'create index `discrepancies_resolved_at_index` on `discrepancies` (`resolved_at`);',
  'create index `discrepancies_last_run_id_index` on `discrepancies` (`last_run_id`);',
  'create index `discrepancies_slack_channel_id_slack_message_ts_index` ' +
    'on `discrepancies` (`slack_channel_id`, `slack_message_ts`);',
  'create table `book_adjustments` (`id` integer not null primary key autoincrement, ' +
    '`portfolio_name` text not null, `symbol` text not null, `qty` numeric(24,9) not null, ' +
    '`price` numeric(18,6) not null, `reason` text not null, `user_id` text not null, ' +
    '`created_at` datetime not null, `discrepancy_id` integer null, ' +
    'constraint `book_adjustments_discrepancy_id_foreign` foreign key(`discrepancy_id`) ' +
    'references `discrepancies`(`id`) on delete set null on update cascade);',
  'create index `book_adjustments_discrepancy_id_index` on `book_adjustments` (`discrepancy_id`);',
];

const POSTGRES_STATEMENTS = [
  'create table "reconcile_runs" ("id" serial primary key, "started_at" timestamptz not null, ' +
    '"finished_at" timestamptz null, "outcome" varchar(16) null, "trigger" varchar(16) not null, ' +
    '"symbols_checked" int not null, "orders_checked" int not null, "open_discrepancies" int not null, ' +
    '"new_discrepancies" int not null, "resolved_discrepancies" int not null, ' +
    '"orders_repaired" int not null, "orders_adopted" int not null, "orders_external" int not null, ' +
    '"broker_requests" int not null, "error" text null);',
  'create table "discrepancies" ("id" serial primary key, "key" varchar(160) not null, ' +
    '"kind" varchar(32) not null, "symbol" varchar(32) not null, "details" text not null, ' +
    '"books_qty" numeric(24,9) null, "broker_qty" numeric(24,9) null, "difference" numeric(24,9) null, ' +
    '"first_seen_at" timestamptz not null, "last_seen_at" timestamptz not null, ' +
    '"resolved_at" timestamptz null, "acknowledged_by" varchar(255) null, ' +
    '"acknowledged_at" timestamptz null, "slack_channel_id" varchar(32) null, ' +
    '"slack_message_ts" varchar(32) null, "last_run_id" int null);',
  'alter table "discrepancies" add constraint "discrepancies_key_unique" unique ("key");',
  'create index "discrepancies_resolved_at_index" on "discrepancies" ("resolved_at");',
  'create index "discrepancies_last_run_id_index" on "discrepancies" ("last_run_id");',
  'create index "discrepancies_slack_channel_id_slack_message_ts_index" ' +
    'on "discrepancies" ("slack_channel_id", "slack_message_ts");',
  'create table "book_adjustments" ("id" serial primary key, "portfolio_name" varchar(255) not null, ' +
    '"symbol" varchar(32) not null, "qty" numeric(24,9) not null, "price" numeric(18,6) not null, ' +
    '"reason" text not null, "user_id" varchar(255) not null, "created_at" timestamptz not null, ' +
    '"discrepancy_id" int null);',
  'create index "book_adjustments_discrepancy_id_index" on "book_adjustments" ("discrepancy_id");',
  'alter table "discrepancies" add constraint "discrepancies_last_run_id_foreign" foreign key ' +
    '("last_run_id") references "reconcile_runs" ("id") on update cascade on delete set null;',
  'alter table "book_adjustments" add constraint "book_adjustments_discrepancy_id_foreign" ' +
    'foreign key ("discrepancy_id") references "discrepancies" ("id") on update cascade on delete set null;',
];

export class Migration20251126000000Reconciliation extends Migration {
  override async up(): Promise<void> {
    for (const sql of this.driver instanceof PostgreSqlDriver ? POSTGRES_STATEMENTS : SQLITE_STATEMENTS)
      this.addSql(sql);
  }
}
