import { Migration } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';

/*
 * Order safety: `outbox` (what Slack still has to be told, written with the change it reports),
 * the submission lease and the broker's last-applied `updated_at` on `trades`, and the request key
 * that makes a book adjustment idempotent. MikroORM's schema generator output, one copy per dialect.
 */

const SQLITE_STATEMENTS = [
  'create table `outbox` (`id` integer not null primary key autoincrement, `topic` text not null, ' +
    '`stream` text not null, `coalesce_key` text null, `payload` text not null, ' +
    '`version` integer not null, `attempts` integer not null, `available_at` datetime not null, ' +
    '`lease_owner` text null, `lease_until` datetime null, `last_error` text null, ' +
    '`created_at` datetime not null, `updated_at` datetime not null);',
  'create index `outbox_stream_index` on `outbox` (`stream`);',
  'create unique index `outbox_coalesce_key_unique` on `outbox` (`coalesce_key`);',
  'create index `outbox_available_at_index` on `outbox` (`available_at`);',
  'alter table `book_adjustments` add column `request_key` text null;',
  'create unique index `book_adjustments_request_key_unique` on `book_adjustments` (`request_key`);',
  'alter table `trades` add column `alpaca_updated_at` datetime null;',
  'alter table `trades` add column `submit_lease_owner` text null;',
  'alter table `trades` add column `submit_lease_until` datetime null;',
];

const POSTGRES_STATEMENTS = [
  'create table "outbox" ("id" serial primary key, "topic" varchar(64) not null, ' +
    '"stream" varchar(200) not null, "coalesce_key" varchar(200) null, "payload" text not null, ' +
    '"version" int not null, "attempts" int not null, "available_at" timestamptz not null, ' +
    '"lease_owner" varchar(64) null, "lease_until" timestamptz null, "last_error" text null, ' +
    '"created_at" timestamptz not null, "updated_at" timestamptz not null);',
  'create index "outbox_stream_index" on "outbox" ("stream");',
  'alter table "outbox" add constraint "outbox_coalesce_key_unique" unique ("coalesce_key");',
  'create index "outbox_available_at_index" on "outbox" ("available_at");',
  'alter table "book_adjustments" add column "request_key" varchar(160) null;',
  'alter table "book_adjustments" add constraint "book_adjustments_request_key_unique" unique ("request_key");',
  'alter table "trades" add column "alpaca_updated_at" timestamptz null, ' +
    'add column "submit_lease_owner" varchar(64) null, add column "submit_lease_until" timestamptz null;',
];

export class Migration20251201000000OrderSafety extends Migration {
  override async up(): Promise<void> {
    for (const sql of this.driver instanceof PostgreSqlDriver ? POSTGRES_STATEMENTS : SQLITE_STATEMENTS)
      this.addSql(sql);
  }
}
