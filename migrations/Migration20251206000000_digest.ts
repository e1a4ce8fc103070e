import { Migration } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';

/*
 * The closing digest: `digests`, one row per New York trading date, inserted (claimed) in the same
 * transaction as the outbox entry that posts it. The primary key is what makes "once per trading
 * day" hold with two instances and across restarts. MikroORM's schema generator output, one copy
 * per dialect.
 */

const SQLITE_STATEMENTS = [
  'create table `digests` (`trading_date` text not null primary key, `channel_id` text not null, ' +
    '`claimed_by` text not null, `claimed_at` datetime not null, `posting_at` datetime null, ' +
    '`message_ts` text null, `posted_at` datetime null);',
];

const POSTGRES_STATEMENTS = [
  'create table "digests" ("trading_date" varchar(10) not null, "channel_id" varchar(32) not null, ' +
    '"claimed_by" varchar(64) not null, "claimed_at" timestamptz not null, "posting_at" timestamptz null, ' +
    '"message_ts" varchar(32) null, ' +
    '"posted_at" timestamptz null, constraint "digests_pkey" primary key ("trading_date"));',
];

export class Migration20251206000000Digest extends Migration {
  override async up(): Promise<void> {
    for (const sql of this.driver instanceof PostgreSqlDriver ? POSTGRES_STATEMENTS : SQLITE_STATEMENTS)
      this.addSql(sql);
  }
}
