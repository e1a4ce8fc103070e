import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

/**
 * `digests`: the closing digest of each New York trading date, claimed by one instance (the row's
 * insert, with the outbox entry that posts it) and marked once Slack has it.
 */
export const DigestEntity = defineEntity({
  name: 'Digest',
  tableName: 'digests',
  properties: {
    tradingDate: p.string().length(10).primary(),
    channelId: p.string().length(32),
    claimedBy: p.string().length(64),
    claimedAt: p.datetime(),
    /** When a delivery began posting (cleared if Slack refused): another delivery waits until it lapses. */
    postingAt: p.datetime().nullable(),
    messageTs: p.string().length(32).nullable(),
    postedAt: p.datetime().nullable(),
  },
});

export type DigestRecord = InferEntity<typeof DigestEntity>;
