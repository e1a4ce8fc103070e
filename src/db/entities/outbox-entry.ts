import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

/**
 * `outbox`: what the outside world (Slack) still has to be told, written in the same transaction
 * as the change it reports, delivered later by the outbox worker. Entries of one `stream` are
 * delivered in id order; an entry with a `coalesce_key` is one pending delivery of "the latest
 * state", bumped (`version`) rather than duplicated while it waits. A lease (owner + until) lets
 * one instance deliver an entry at a time.
 */
export const OutboxEntryEntity = defineEntity({
  name: 'OutboxEntry',
  tableName: 'outbox',
  properties: {
    id: p.integer().primary().autoincrement(),
    topic: p.string().length(64),
    stream: p.string().length(200).index(),
    coalesceKey: p.string().length(200).unique().nullable(),
    payload: p.text(),
    version: p.integer(),
    attempts: p.integer(),
    availableAt: p.datetime().index(),
    leaseOwner: p.string().length(64).nullable(),
    leaseUntil: p.datetime().nullable(),
    lastError: p.text().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});

export type OutboxEntryRecord = InferEntity<typeof OutboxEntryEntity>;
