import { Migration } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';

/*
 * Maker-checker approval: `approvals`, one row per order that waited for an approver (the request,
 * and once decided the decision). Orders themselves only gain a status value (`pending_approval`),
 * which the existing varchar(32) column holds. MikroORM's schema generator output, one copy per dialect.
 */

const SQLITE_STATEMENTS = [
  'create table `approvals` (`id` integer not null primary key autoincrement, `trade_id` integer not null, ' +
    '`requested_by` text not null, `requested_at` datetime not null, `price_at_request` numeric(18,6) not null, ' +
    '`estimated_value` numeric(18,2) not null, `channel_id` text null, `message_ts` text null, ' +
    '`decision` text null, `decided_by` text null, `decided_at` datetime null, `reason` text null, ' +
    '`price_at_decision` numeric(18,6) null, constraint `approvals_trade_id_foreign` foreign key(`trade_id`) ' +
    'references `trades`(`id`) on delete restrict on update cascade);',
  'create index `approvals_trade_id_index` on `approvals` (`trade_id`);',
  'create unique index `approvals_trade_id_unique` on `approvals` (`trade_id`);',
  'create index `approvals_decision_index` on `approvals` (`decision`);',
];

const POSTGRES_STATEMENTS = [
  'create table "approvals" ("id" serial primary key, "trade_id" int not null, ' +
    '"requested_by" varchar(255) not null, "requested_at" timestamptz not null, ' +
    '"price_at_request" numeric(18,6) not null, "estimated_value" numeric(18,2) not null, ' +
    '"channel_id" varchar(32) null, "message_ts" varchar(32) null, "decision" varchar(16) null, ' +
    '"decided_by" varchar(255) null, "decided_at" timestamptz null, "reason" text null, ' +
    '"price_at_decision" numeric(18,6) null);',
  'alter table "approvals" add constraint "approvals_trade_id_unique" unique ("trade_id");',
  'create index "approvals_decision_index" on "approvals" ("decision");',
  'alter table "approvals" add constraint "approvals_trade_id_foreign" foreign key ("trade_id") ' +
    'references "trades" ("id") on update cascade on delete restrict;',
];

export class Migration20251204000000Approvals extends Migration {
  override async up(): Promise<void> {
    for (const sql of this.driver instanceof PostgreSqlDriver ? POSTGRES_STATEMENTS : SQLITE_STATEMENTS)
      this.addSql(sql);
  }
}
