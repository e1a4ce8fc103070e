import type { App } from '@slack/bolt';
import type { ListenerDeps } from '..';
import { CANCEL_ORDER_ACTION_ID } from '../../views/order-message';
import { SYMBOL_ACTION_ID } from '../../views/trade-modal';
import { cancelOrderAction } from './cancel-order';
import { symbolEnteredAction } from './symbol-entered';

export function registerActions(app: App, deps: ListenerDeps): void {
  app.action(SYMBOL_ACTION_ID, symbolEnteredAction(deps));
  app.action(CANCEL_ORDER_ACTION_ID, cancelOrderAction(deps));
}
