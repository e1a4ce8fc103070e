import type {
  NotificationHandlers,
  TradeChangedPayload,
  TradeFinishedPayload,
  TraderChangedPayload,
} from '../domain/notifications';
import type { RunFinishedPayload } from '../domain/reconciliation';
import type { HomeTab } from './home/home-tab';
import type { SlackReconcileNotifier } from './reconcile/reconcile-notifier';
import type { SlackOrderMessenger } from './trade/order-messenger';

/** How Slack is told about each kind of notification in the outbox. */
export function slackNotificationHandlers(parts: {
  messenger: SlackOrderMessenger;
  home: HomeTab;
  alerts: SlackReconcileNotifier;
}): NotificationHandlers {
  return {
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
  };
}
