import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { buildErrorMessage } from '../block-kit/messages';
import type { ListenerDeps } from '../deps';
import { BOOKS_UNREADABLE, replyPrivately } from './portfolio-command';
import {
  buildPortfolioDetailMessage,
  buildPortfolioNotFoundMessage,
  buildPortfolioOverviewMessage,
  buildPositionComparisonMessage,
  decodePage,
} from './portfolio-messages';

/** "Previous" / "Next page" under a /portfolio answer: the message is replaced by that page, freshly priced. */
export function portfolioPageAction(deps: ListenerDeps) {
  return async ({
    ack,
    action,
    respond,
    body,
  }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const target = decodePage(action.value);
    if (!target) return;
    try {
      switch (target.view) {
        case 'overview':
          await replyPrivately(
            respond,
            buildPortfolioOverviewMessage(await deps.portfolio.overview(), { page: target.page }),
            true,
          );
          return;
        case 'positions':
          await replyPrivately(
            respond,
            buildPositionComparisonMessage(await deps.portfolio.compareWithBroker(), { page: target.page }),
            true,
          );
          return;
        case 'detail': {
          const lookup = await deps.portfolio.portfolio(target.name);
          await replyPrivately(
            respond,
            lookup.kind === 'found'
              ? buildPortfolioDetailMessage(lookup.detail, { page: target.page })
              : buildPortfolioNotFoundMessage(lookup),
            true,
          );
          return;
        }
      }
    } catch (err) {
      deps.logger.error({ err, user: body.user.id }, 'portfolio page failed');
      await replyPrivately(respond, buildErrorMessage(BOOKS_UNREADABLE)).catch(() => undefined);
    }
  };
}
