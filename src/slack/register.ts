import type { App } from '@slack/bolt';
import { approveOrderAction, rejectOrderAction, rejectOrderSubmission } from './approvals/approval-actions';
import { APPROVE_ORDER_ACTION, REJECT_MODAL_CALLBACK_ID, REJECT_ORDER_ACTION } from './approvals/approval-message';
import { TRADE_AGAIN_ACTIONS } from './block-kit/trade-again';
import type { ListenerDeps } from './deps';
import { digestForSlack } from './digest/digest-command';
import { appHomeOpened } from './home/app-home-opened';
import { homePageAction, homePickPortfolioAction, homeRefreshAction } from './home/home-actions';
import { HOME_ACTIONS, HOME_RECONCILE_NOW_ACTION_ID } from './home/home-view';
import { portfolioCommand } from './portfolio/portfolio-command';
import { PORTFOLIO_PAGE_ACTIONS } from './portfolio/portfolio-messages';
import { portfolioPageAction } from './portfolio/portfolio-page';
import { RECONCILE_ADOPT_CALLBACK_ID } from './reconcile/adopt-modal';
import { adoptBrokerQuantitySubmission } from './reconcile/adopt-submission';
import {
  acknowledgeAlertAction,
  adoptBrokerQuantityAction,
  homeReconcileNowAction,
  recheckAlertAction,
  runReconcileFromSlack,
} from './reconcile/reconcile-actions';
import {
  RECONCILE_ACKNOWLEDGE_ACTION_ID,
  RECONCILE_ADOPT_ACTION_ID,
  RECONCILE_RECHECK_ACTION_ID,
} from './reconcile/reconcile-alert';
import { cancelOrderAction } from './trade/cancel-order';
import { newTradeFromHomeAction } from './trade/new-trade-button';
import { OrderFormRedraws } from './trade/order-form-redraw';
import { CANCEL_ORDER_ACTION_ID } from './trade/order-message';
import {
  ORDER_TYPE_ACTION_ID,
  SYMBOL_ACTION_ID,
  TIME_IN_FORCE_ACTION_ID,
  TRADE_MODAL_CALLBACK_ID,
} from './trade/order-modal';
import { tradeModalSubmission } from './trade/order-submission';
import { orderTypeChangedAction } from './trade/order-type-changed';
import { symbolEnteredAction } from './trade/symbol-entered';
import { symbolSuggestions } from './trade/symbol-suggestions';
import { tradeAgainAction } from './trade/trade-again';
import { tradeCommand } from './trade/trade-command';

/**
 * Every command, action, view submission and event the app answers, and the one place that ties a
 * surface's button to another surface's handler (the Home tab's "New trade" and "Reconcile now",
 * `/portfolio reconcile`), so no surface imports another.
 */
export function registerListeners(app: App, services: Omit<ListenerDeps, 'reconcileNow' | 'digestFor'>): void {
  const deps: ListenerDeps = {
    ...services,
    reconcileNow: (args) => runReconcileFromSlack(deps, args),
    digestFor: (userId) => digestForSlack(deps, app.client, userId),
  };

  app.command('/trade', tradeCommand(deps));
  app.view(TRADE_MODAL_CALLBACK_ID, tradeModalSubmission(deps));
  app.options(SYMBOL_ACTION_ID, symbolSuggestions(deps));
  // One per app: it remembers each open form's newest change, whichever field made it.
  const orderFormRedraws = new OrderFormRedraws(deps);
  app.action(SYMBOL_ACTION_ID, symbolEnteredAction(orderFormRedraws));
  app.action(ORDER_TYPE_ACTION_ID, orderTypeChangedAction(orderFormRedraws));
  app.action(TIME_IN_FORCE_ACTION_ID, orderTypeChangedAction(orderFormRedraws));
  app.action(TRADE_AGAIN_ACTIONS, tradeAgainAction(deps));
  app.action(CANCEL_ORDER_ACTION_ID, cancelOrderAction(deps));
  app.action(HOME_ACTIONS.newTrade, newTradeFromHomeAction(deps));

  app.command('/portfolio', portfolioCommand(deps));
  app.action(PORTFOLIO_PAGE_ACTIONS.previous, portfolioPageAction(deps));
  app.action(PORTFOLIO_PAGE_ACTIONS.next, portfolioPageAction(deps));

  app.event('app_home_opened', appHomeOpened(deps));
  app.action(HOME_ACTIONS.pickPortfolio, homePickPortfolioAction(deps));
  app.action(HOME_ACTIONS.refresh, homeRefreshAction(deps));
  app.action(HOME_ACTIONS.previousPage, homePageAction(deps));
  app.action(HOME_ACTIONS.nextPage, homePageAction(deps));

  app.action(RECONCILE_ACKNOWLEDGE_ACTION_ID, acknowledgeAlertAction(deps));
  app.action(RECONCILE_RECHECK_ACTION_ID, recheckAlertAction(deps));
  app.action(RECONCILE_ADOPT_ACTION_ID, adoptBrokerQuantityAction(deps));
  app.action(HOME_RECONCILE_NOW_ACTION_ID, homeReconcileNowAction(deps));
  app.view(RECONCILE_ADOPT_CALLBACK_ID, adoptBrokerQuantitySubmission(deps));

  // The same buttons on the approvals channel's requests and on approvers' Home tabs.
  app.action(APPROVE_ORDER_ACTION, approveOrderAction(deps));
  app.action(REJECT_ORDER_ACTION, rejectOrderAction(deps));
  app.view(REJECT_MODAL_CALLBACK_ID, rejectOrderSubmission(deps));
}
