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
  | 'reconcile.run_finished'
  | 'reconcile.acknowledged'
  | 'reconcile.books_adjusted';

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

/** Reconciliation notices share one stream: an alert is posted before it is edited or resolved. */
export const RECONCILE_STREAM = 'reconcile';

/**
 * Who delivers each topic: given the entry's payload, resolves once the outside world has been told
 * (or throws to be retried).
 */
export type NotificationHandlers = Partial<
  Record<NotificationTopic, (payload: Record<string, unknown>) => Promise<unknown>>
>;
