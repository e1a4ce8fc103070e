import type {
  ApprovalPayload,
  DigestScheduledPayload,
  NotificationHandlers,
  TradeChangedPayload,
  TradeFinishedPayload,
  TraderChangedPayload,
} from '../domain/notifications';
import type { RunFinishedPayload } from '../domain/reconciliation';
import type { SlackApprovalNotifier } from './approvals/approval-notifier';
import type { DigestPublisher } from './digest/digest-publisher';
import type { HomeTab } from './home/home-tab';
import type { SlackReconcileNotifier } from './reconcile/reconcile-notifier';
import type { SlackOrderMessenger } from './trade/order-messenger';

/** How Slack is told about each kind of notification in the outbox. */
export function slackNotificationHandlers(parts: {
  messenger: SlackOrderMessenger;
  home: HomeTab;
  alerts: SlackReconcileNotifier;
  digest: DigestPublisher;
  approvals: SlackApprovalNotifier;
}): NotificationHandlers {
  return {
    'approval.requested': (p) => parts.approvals.requested((p as unknown as ApprovalPayload).tradeId),
    'approval.decided': (p) => parts.approvals.decided((p as unknown as ApprovalPayload).tradeId),
    'trade.changed': (p) => parts.messenger.render((p as unknown as TradeChangedPayload).tradeId),
    'trade.finished': (p) => {
      const { tradeId, status } = p as unknown as TradeFinishedPayload;
      return parts.messenger.announceFinished(tradeId, status);
    },
    'trader.changed': (p) => parts.home.refresh((p as unknown as TraderChangedPayload).userId),
    'reconcile.run_finished': (p) => parts.alerts.runFinished(p as unknown as RunFinishedPayload),
    'reconcile.acknowledged': (p) =>
      parts.alerts.alertAcknowledged(p as unknown as Parameters<SlackReconcileNotifier['alertAcknowledged']>[0]),
    'reconcile.books_adjusted': (p) => parts.alerts.booksAdjusted(p as unknown as { adjustmentId: number }),
    'digest.scheduled': (p) => parts.digest.deliverScheduled(p as unknown as DigestScheduledPayload),
  };
}
