import type { App } from '@slack/bolt';
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import type { InFlightWork } from '../../lifecycle';
import type { PortfolioService } from '../../services/portfolio-service';
import type { ReconcileService } from '../../services/reconcile-service';
import type { TradeService } from '../../services/trade-service';
import type { HomeTab } from '../home-tab';
import { registerActions } from './actions';
import { registerCommands } from './commands';
import { registerEvents } from './events';
import { registerViews } from './views';

/** What listeners may call. Listeners ack first, parse, call one service, then render. */
export interface ListenerDeps {
  config: Config;
  logger: Logger;
  inFlight: InFlightWork;
  trade: TradeService;
  portfolio: PortfolioService;
  home: HomeTab;
  reconcile: ReconcileService;
}

export function registerListeners(app: App, deps: ListenerDeps): void {
  registerCommands(app, deps);
  registerViews(app, deps);
  registerActions(app, deps);
  registerEvents(app, deps);
}

export function isAdmin(deps: ListenerDeps, userId: string): boolean {
  return deps.config.adminUserIds.includes(userId);
}

/** The broker account and positions are for traders and admins; with no TRADER_USER_IDS every member trades. */
export function mayViewAccount(deps: ListenerDeps, userId: string): boolean {
  return deps.trade.mayTrade(userId) || isAdmin(deps, userId);
}
