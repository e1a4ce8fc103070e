import type { App } from '@slack/bolt';
import type { ListenerDeps } from '..';
import { TRADE_MODAL_CALLBACK_ID } from '../../views/trade-modal';
import { registerReconcileViews } from './reconcile-adopt';
import { tradeModalSubmission } from './trade-modal';

export function registerViews(app: App, deps: ListenerDeps): void {
  app.view(TRADE_MODAL_CALLBACK_ID, tradeModalSubmission(deps));
  registerReconcileViews(app, deps);
}
