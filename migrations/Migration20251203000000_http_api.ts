import { Migration } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';

/*
 * The HTTP API: `api_keys` (hashes of the keys `npm run api-key` makes), `api_requests` (what each
 * Idempotency-Key was first used for) and `trades.error_kind` (what kind of refusal, which the
 * API's status code follows). MikroORM's schema generator output, one copy per dialect.
 */

const SQLITE_STATEMENTS = [
  'create table `api_keys` (`id` integer not null primary key autoincrement, `name` text not null, ' +
    '`prefix` text not null, `hash` text not null, `created_at` datetime not null, ' +
    '`last_used_at` datetime null, `revoked_at` datetime null);',
  'create unique index `api_keys_prefix_unique` on `api_keys` (`prefix`);',
  'create table `api_requests` (`id` integer not null primary key autoincrement, `key_hash` text not null, ' +
    '`request_hash` text not null, `client_order_id` text not null, `outcome` text null, ' +
    '`created_at` datetime not null);',
  'create unique index `api_requests_key_hash_unique` on `api_requests` (`key_hash`);',
  'alter table `trades` add column `error_kind` text null;',
];

const POSTGRES_STATEMENTS = [
  'create table "api_keys" ("id" serial primary key, "name" varchar(100) not null, ' +
    '"prefix" varchar(32) not null, "hash" varchar(64) not null, "created_at" timestamptz not null, ' +
    '"last_used_at" timestamptz null, "revoked_at" timestamptz null);',
  'alter table "api_keys" add constraint "api_keys_prefix_unique" unique ("prefix");',
  'create table "api_requests" ("id" serial primary key, "key_hash" varchar(64) not null, ' +
    '"request_hash" varchar(64) not null, "client_order_id" varchar(128) not null, ' +
    '"outcome" varchar(32) null, "created_at" timestamptz not null);',
  'alter table "api_requests" add constraint "api_requests_key_hash_unique" unique ("key_hash");',
  'alter table "trades" add column "error_kind" varchar(32) null;',
];

export class Migration20251203000000HttpApi extends Migration {
  override async up(): Promise<void> {
    for (const sql of this.driver instanceof PostgreSqlDriver ? POSTGRES_STATEMENTS : SQLITE_STATEMENTS)
      this.addSql(sql);
  }
}
