import type { App } from '@slack/bolt';
import type { ListenerDeps } from '..';
import { HOME_ACTIONS } from '../../views/home-view';
import { CANCEL_ORDER_ACTION_ID } from '../../views/order-message';
import { PORTFOLIO_PAGE_ACTIONS } from '../../views/portfolio-messages';
import { SYMBOL_ACTION_ID } from '../../views/trade-modal';
import { cancelOrderAction } from './cancel-order';
import { homeNewTradeAction, homePageAction, homePickPortfolioAction, homeRefreshAction } from './home';
import { portfolioPageAction } from './portfolio-page';
import { registerReconcileActions } from './reconcile';
import { symbolEnteredAction } from './symbol-entered';

export function registerActions(app: App, deps: ListenerDeps): void {
  app.action(SYMBOL_ACTION_ID, symbolEnteredAction(deps));
  app.action(CANCEL_ORDER_ACTION_ID, cancelOrderAction(deps));
  app.action(PORTFOLIO_PAGE_ACTIONS.previous, portfolioPageAction(deps));
  app.action(PORTFOLIO_PAGE_ACTIONS.next, portfolioPageAction(deps));
  app.action(HOME_ACTIONS.pickPortfolio, homePickPortfolioAction(deps));
  app.action(HOME_ACTIONS.refresh, homeRefreshAction(deps));
  app.action(HOME_ACTIONS.newTrade, homeNewTradeAction(deps));
  app.action(HOME_ACTIONS.previousPage, homePageAction(deps));
  app.action(HOME_ACTIONS.nextPage, homePageAction(deps));
  registerReconcileActions(app, deps);
}
