import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs, StaticSelectAction } from '@slack/bolt';
import type { ListenerDeps } from '..';
import { slackErrorCode } from '../../errors';
import { decodeHomePage } from '../../views/home-view';
import { buildErrorMessage } from '../../views/trade-messages';
import { openTradeModal } from '../commands/trade';

/** The portfolio picker: remember the choice, then show it. */
export function homePickPortfolioAction(deps: ListenerDeps) {
  return async ({ ack, action, body }: SlackActionMiddlewareArgs<BlockAction<StaticSelectAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const portfolioId = Number(action.selected_option?.value);
    if (Number.isSafeInteger(portfolioId)) await deps.portfolio.chooseHomePortfolio(body.user.id, portfolioId);
    await deps.home.publish(body.user.id);
  };
}

export function homeRefreshAction(deps: ListenerDeps) {
  return async ({ ack, body }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    await deps.home.publish(body.user.id);
  };
}

/** "Previous" / "Next page" under the Home tab's positions. */
export function homePageAction(deps: ListenerDeps) {
  return async ({ ack, action, body }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const target = decodeHomePage(action.value);
    await deps.home.publish(body.user.id, { page: target?.page ?? 0 });
  };
}

/** "New trade": the /trade modal, opened inside the trigger's 3 s. */
export function homeNewTradeAction(deps: ListenerDeps) {
  return async ({ ack, body, client }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    if (!deps.trade.mayTrade(body.user.id)) {
      deps.logger.warn({ user: body.user.id, source: 'home' }, 'order attempt by a user not in TRADER_USER_IDS');
      // The Home tab has no channel for an ephemeral reply: the app's DM with the user is the place.
      const refusal = buildErrorMessage('Sorry — only the traders set up for this workspace can place orders. Ask an admin to add you to TRADER_USER_IDS.');
      await client.chat.postMessage({ channel: body.user.id, text: refusal.text, blocks: refusal.blocks }).catch(() => undefined);
      return;
    }
    await openTradeModal(client, { triggerId: body.trigger_id, userId: body.user.id }, deps).catch((err: unknown) => {
      deps.logger.warn({ error: slackErrorCode(err) }, 'could not open the order form from the Home tab');
    });
  };
}
