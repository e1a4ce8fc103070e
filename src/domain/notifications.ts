import type { TradeStatus } from './order';

/**
 * What the outside world has to be told, as stored in the outbox with the change it reports. The
 * books name what happened; the Slack layer decides how to show it. Entries of one `stream` are
 * delivered in order; a `coalesceKey` means "deliver the latest state once", so a burst of changes
 * to one order while Slack is away is one edit, not a hundred.
 */
export interface Notification {
  topic: NotificationTopic;
  stream: string;
  coalesceKey?: string;
  payload: Record<string, unknown>;
}

export type NotificationTopic =
  | 'trade.changed'
  | 'trade.finished'
  | 'trader.changed'
  | 'approval.requested'
  | 'approval.decided'
  | 'reconcile.run_finished'
  | 'reconcile.acknowledged'
  | 'reconcile.books_adjusted'
  | 'digest.scheduled';

export interface TradeChangedPayload {
  tradeId: number;
}

export interface TradeFinishedPayload {
  tradeId: number;
  status: TradeStatus;
}

export interface TraderChangedPayload {
  userId: string;
}

/** One order's confirmation shows its latest state: the row is read when the message is drawn. */
export function tradeChanged(tradeId: number): Notification {
  const stream = `trade:${tradeId}`;
  return {
    topic: 'trade.changed',
    stream,
    coalesceKey: `trade.changed:${tradeId}`,
    payload: { tradeId } satisfies TradeChangedPayload,
  };
}

/** A final state: one notice, after the confirmation shows it (same stream, so in order). */
export function tradeFinished(tradeId: number, status: TradeStatus): Notification {
  return {
    topic: 'trade.finished',
    stream: `trade:${tradeId}`,
    payload: { tradeId, status } satisfies TradeFinishedPayload,
  };
}

/** Something a trader sees on their own surfaces (the Home tab) changed. */
export function traderChanged(userId: string): Notification {
  return {
    topic: 'trader.changed',
    stream: `trader:${userId}`,
    coalesceKey: `trader.changed:${userId}`,
    payload: { userId } satisfies TraderChangedPayload,
  };
}

/** The closing digest of one New York trading date, claimed by this instance, still to be posted. */
export interface DigestScheduledPayload {
  tradingDate: string;
  channelId: string;
}

/** One stream per day: a day's digest never waits behind another's retries. */
export function digestScheduled(tradingDate: string, channelId: string): Notification {
  return {
    topic: 'digest.scheduled',
    stream: `digest:${tradingDate}`,
    payload: { tradingDate, channelId } satisfies DigestScheduledPayload,
  };
}

export interface ApprovalPayload {
  tradeId: number;
}

/** A large order waits for an approver: its request is posted to the approvals channel. */
export function approvalRequested(tradeId: number): Notification {
  return { topic: 'approval.requested', stream: `approval:${tradeId}`, payload: { tradeId } satisfies ApprovalPayload };
}

/** A request was decided: its message shows the outcome, and its thread says who and why (after the post). */
export function approvalDecided(tradeId: number): Notification {
  return { topic: 'approval.decided', stream: `approval:${tradeId}`, payload: { tradeId } satisfies ApprovalPayload };
}

/** Reconciliation notices share one stream: an alert is posted before it is edited or resolved. */
export const RECONCILE_STREAM = 'reconcile';

/**
 * Who delivers each topic: given the entry's payload, resolves once the outside world has been told
 * (or throws to be retried).
 */
export type NotificationHandlers = Partial<
  Record<NotificationTopic, (payload: Record<string, unknown>) => Promise<unknown>>
>;
