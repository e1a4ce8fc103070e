import { raw } from '@mikro-orm/core';
import type { DigestOrderCount } from '../../domain/digest';
import { digestScheduled } from '../../domain/notifications';
import type { TradeStatus } from '../../domain/order';
import { DigestEntity, DiscrepancyEntity, TradeEntity } from '../entities';
import type { Orm } from '../orm';
import { appendNotifications } from './outbox-repository';

export interface StoredDigest {
  tradingDate: string;
  channelId: string;
  claimedBy: string;
  claimedAt: Date;
  messageTs: string | null;
  postedAt: Date | null;
}

/** Where an open reconciliation alert was posted. */
export interface OpenAlert {
  channelId: string;
  messageTs: string;
  /** Open findings shown in that alert. */
  findings: number;
}

/**
 * The closing digest's books: which trading days were claimed and posted, and the day's orders by
 * status. A claim is the row's insert together with the outbox entry that posts it, so exactly one
 * instance ever claims a day, and a claimed day is posted even if Slack is away at the time.
 */
export class DigestRepository {
  constructor(
    private readonly orm: Orm,
    private readonly now: () => Date = () => new Date(),
    private readonly onNotified: () => void = () => undefined,
  ) {}

  /** True when this call claimed the day; false when it was claimed before (by anyone). */
  async claim(tradingDate: string, channelId: string, owner: string): Promise<boolean> {
    const at = this.now();
    const claimed = await this.orm.em.fork().transactional(async (em) => {
      const result = await em
        .createQueryBuilder(DigestEntity)
        .insert({ tradingDate, channelId, claimedBy: owner, claimedAt: at })
        .onConflict('tradingDate')
        .ignore()
        .execute('run');
      if (result.affectedRows === 0) return false;
      await appendNotifications(em, [digestScheduled(tradingDate, channelId)], at);
      return true;
    });
    if (claimed) this.onNotified();
    return claimed;
  }

  async find(tradingDate: string): Promise<StoredDigest | undefined> {
    const row = await this.orm.em.fork().findOne(DigestEntity, { tradingDate });
    if (!row) return undefined;
    return {
      tradingDate: row.tradingDate,
      channelId: row.channelId,
      claimedBy: row.claimedBy,
      claimedAt: row.claimedAt,
      messageTs: row.messageTs ?? null,
      postedAt: row.postedAt ?? null,
    };
  }

  /**
   * Claims the posting of a claimed, unposted day: true when no other delivery began posting it
   * less than `lapseMs` ago (one whose outcome is unknown, e.g. a timed-out post, lapses then).
   */
  async beginPosting(tradingDate: string, lapseMs: number): Promise<boolean> {
    const at = this.now();
    const updated = await this.orm.em.fork().nativeUpdate(
      DigestEntity,
      {
        tradingDate,
        messageTs: null,
        $or: [{ postingAt: null }, { postingAt: { $lt: new Date(at.getTime() - lapseMs) } }],
      },
      { postingAt: at },
    );
    return updated === 1;
  }

  /** Slack refused the post: nothing was posted, so the next delivery may post at once. */
  async endPosting(tradingDate: string): Promise<void> {
    await this.orm.em.fork().nativeUpdate(DigestEntity, { tradingDate, messageTs: null }, { postingAt: null });
  }

  async markPosted(tradingDate: string, messageTs: string): Promise<void> {
    await this.orm.em.fork().nativeUpdate(DigestEntity, { tradingDate }, { messageTs, postedAt: this.now() });
  }

  /** Orders recorded in [from, to), counted by status and error code (which tells an approval's ending). */
  async orderCountsBetween(from: Date, to: Date): Promise<DigestOrderCount[]> {
    const rows = await this.orm.em
      .fork()
      .createQueryBuilder(TradeEntity)
      .select(['status', 'errorCode', raw('count(*) as n')])
      .where({ createdAt: { $gte: from, $lt: to } })
      .groupBy(['status', 'errorCode'])
      .execute<{ status: TradeStatus; errorCode: string | null; n: number | string }[]>('all');
    return rows.map((r) => ({ status: r.status, errorCode: r.errorCode ?? null, count: Number(r.n) }));
  }

  /** The latest alert that still shows open findings, if any. */
  async latestOpenAlert(): Promise<OpenAlert | undefined> {
    const em = this.orm.em.fork();
    const [latest] = await em.find(
      DiscrepancyEntity,
      { resolvedAt: null, slackMessageTs: { $ne: null }, slackChannelId: { $ne: null } },
      { orderBy: { id: 'desc' }, limit: 1 },
    );
    if (!latest?.slackChannelId || !latest.slackMessageTs) return undefined;
    const findings = await em.count(DiscrepancyEntity, {
      resolvedAt: null,
      slackChannelId: latest.slackChannelId,
      slackMessageTs: latest.slackMessageTs,
    });
    return { channelId: latest.slackChannelId, messageTs: latest.slackMessageTs, findings };
  }
}
