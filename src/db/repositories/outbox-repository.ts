import { raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import type { Notification, NotificationTopic } from '../../domain/notifications';
import { OutboxEntryEntity, type OutboxEntryRecord } from '../entities';
import type { Orm } from '../orm';
import type { RawSession } from './raw-statements';

export interface OutboxEntry {
  id: number;
  topic: NotificationTopic;
  stream: string;
  coalesceKey: string | null;
  payload: Record<string, unknown>;
  version: number;
  attempts: number;
  availableAt: Date;
  createdAt: Date;
  lastError: string | null;
}

function toEntry(row: OutboxEntryRecord): OutboxEntry {
  return {
    id: row.id,
    topic: row.topic as NotificationTopic,
    stream: row.stream,
    coalesceKey: row.coalesceKey ?? null,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    version: row.version,
    attempts: row.attempts,
    availableAt: row.availableAt,
    createdAt: row.createdAt,
    lastError: row.lastError ?? null,
  };
}

/**
 * Writes notifications in the caller's transaction, so they commit (or not) with the change they
 * report. A coalescing notification already waiting is bumped instead of duplicated: it keeps its
 * place in its stream and its retry schedule, and the next delivery shows the latest state.
 */
export async function appendNotifications(
  em: EntityManager,
  notifications: readonly Notification[],
  now: Date,
): Promise<number> {
  if (notifications.length === 0) return 0;
  const rows = notifications.map((n) => ({
    topic: n.topic,
    stream: n.stream,
    coalesceKey: n.coalesceKey ?? null,
    payload: JSON.stringify(n.payload),
    version: 1,
    attempts: 0,
    availableAt: now,
    createdAt: now,
    updatedAt: now,
  }));
  // One statement for all of them: rows without a coalesce key never conflict (NULLs are distinct).
  await em
    .createQueryBuilder(OutboxEntryEntity)
    .insert(rows)
    .onConflict('coalesceKey')
    .merge({ version: raw('"outbox"."version" + 1'), payload: raw('excluded."payload"'), updatedAt: now })
    .execute('run');
  return notifications.length;
}

const APPEND_NOTIFICATION_SQL =
  'insert into "outbox" ("topic", "stream", "coalesce_key", "payload", "version", "attempts", ' +
  '"available_at", "created_at", "updated_at") values (?, ?, ?, ?, 1, 0, ?, ?, ?) ' +
  'on conflict ("coalesce_key") do update set "version" = "outbox"."version" + 1, ' +
  '"payload" = excluded."payload", "updated_at" = excluded."updated_at"';

/** appendNotifications for a raw transaction (see raw-statements): the same rows, the same bump. */
export async function appendNotificationsRaw(
  session: RawSession,
  notifications: readonly Notification[],
  now: Date,
): Promise<number> {
  for (const n of notifications) {
    await session.run('append_notification', APPEND_NOTIFICATION_SQL, [
      n.topic,
      n.stream,
      n.coalesceKey ?? null,
      JSON.stringify(n.payload),
      now,
      now,
      now,
    ]);
  }
  return notifications.length;
}

/**
 * The outbox's delivery side. An instance claims an entry with a lease (a compare-and-set on
 * lease_until), so several instances never deliver the same entry at once; only the oldest entry
 * of each stream is claimable, so a stream is delivered in order.
 */
export class OutboxRepository {
  constructor(
    private readonly orm: Orm,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Claims up to `limit` deliverable stream heads for `owner` until now + leaseMs. Entries leased
   * by `takeOverFrom` (holders known to be dead) are claimable as if their lease had expired.
   */
  async claim(
    owner: string,
    limit: number,
    leaseMs: number,
    takeOverFrom: readonly string[] = [],
  ): Promise<OutboxEntry[]> {
    const em = this.orm.em.fork();
    const now = this.now();
    const free = [
      { leaseUntil: null },
      { leaseUntil: { $lt: now } },
      ...(takeOverFrom.length > 0 ? [{ leaseOwner: { $in: [...takeOverFrom] } }] : []),
    ];
    const heads = await em
      .createQueryBuilder(OutboxEntryEntity, 'o')
      .select('*')
      .where({ availableAt: { $lte: now }, $or: free })
      .andWhere('not exists (select 1 from "outbox" as "p" where "p"."stream" = "o"."stream" and "p"."id" < "o"."id")')
      .orderBy({ id: 'asc' })
      .limit(limit)
      .getResultList();
    const claimed: OutboxEntry[] = [];
    for (const head of heads) {
      const won = await em.nativeUpdate(
        OutboxEntryEntity,
        { id: head.id, version: head.version, $or: free },
        { leaseOwner: owner, leaseUntil: new Date(now.getTime() + leaseMs), updatedAt: now },
      );
      if (won > 0) claimed.push(toEntry(head));
    }
    return claimed;
  }

  /**
   * Delivered: the entry goes, unless it was bumped while it was being delivered, in which case
   * it is released for another delivery of the newer state. False when it was bumped.
   */
  async complete(entry: OutboxEntry, owner: string): Promise<boolean> {
    const em = this.orm.em.fork();
    const deleted = await em.nativeDelete(OutboxEntryEntity, {
      id: entry.id,
      version: entry.version,
      leaseOwner: owner,
    });
    if (deleted > 0) return true;
    await em.nativeUpdate(
      OutboxEntryEntity,
      { id: entry.id, leaseOwner: owner },
      {
        leaseOwner: null,
        leaseUntil: null,
        availableAt: this.now(),
        attempts: 0,
        lastError: null,
        updatedAt: this.now(),
      },
    );
    return false;
  }

  /**
   * Not delivered: tried again at `retryAt`. With `keepLease`, the lease stays until it expires
   * (a delivery abandoned on timeout may still be running: nobody else starts one meanwhile).
   */
  async reschedule(entry: OutboxEntry, owner: string, retryAt: Date, error: string, keepLease = false): Promise<void> {
    await this.orm.em.fork().nativeUpdate(
      OutboxEntryEntity,
      { id: entry.id, leaseOwner: owner },
      {
        leaseOwner: null,
        ...(keepLease ? {} : { leaseUntil: null }),
        availableAt: retryAt,
        attempts: entry.attempts + 1,
        lastError: error.slice(0, 2000),
        updatedAt: this.now(),
      },
    );
  }

  /** Given up (a permanent failure): removed so the rest of its stream can go. */
  async discard(entry: OutboxEntry, owner: string): Promise<void> {
    await this.orm.em.fork().nativeDelete(OutboxEntryEntity, { id: entry.id, leaseOwner: owner });
  }

  /** After a failure streak ends, entries waiting out a back-off are tried now rather than later. */
  async retryBackedOffNow(): Promise<number> {
    const now = this.now();
    return this.orm.em
      .fork()
      .nativeUpdate(
        OutboxEntryEntity,
        { attempts: { $gt: 0 }, availableAt: { $gt: now }, leaseOwner: null },
        { availableAt: now, updatedAt: now },
      );
  }

  /** Who holds a live lease on some entry: a crashed holder's entries need not wait for their leases to run out. */
  async leaseHolders(): Promise<string[]> {
    const rows = await this.orm.em
      .fork()
      .find(
        OutboxEntryEntity,
        { leaseUntil: { $gt: this.now() }, leaseOwner: { $ne: null } },
        { fields: ['leaseOwner'] },
      );
    return [...new Set(rows.map((r) => r.leaseOwner).filter((o): o is string => typeof o === 'string'))];
  }

  async count(): Promise<number> {
    return this.orm.em.fork().count(OutboxEntryEntity, {});
  }
}
