import type { SlackMessage } from '../block-kit/limits';
import { buildErrorMessage } from '../block-kit/messages';
import type { ButtonArgs, ListenerDeps } from '../deps';
import { BOOKS_UNREADABLE, replyPrivately } from './portfolio-command';
import {
  buildPortfolioLookupMessage,
  buildPortfolioOverviewMessage,
  buildPositionComparisonMessage,
  decodePage,
  type PortfolioPage,
} from './portfolio-messages';

/** "Previous" / "Next page" under a /portfolio answer: the message is replaced by that page, freshly priced. */
export function portfolioPageAction(deps: ListenerDeps) {
  return async ({ ack, action, respond, body }: ButtonArgs): Promise<void> => {
    await ack();
    const target = decodePage(action.value);
    if (!target) return;
    try {
      await replyPrivately(respond, await pageMessage(deps, target), true);
    } catch (err) {
      deps.logger.error({ err, user: body.user.id }, 'portfolio page failed');
      await replyPrivately(respond, buildErrorMessage(BOOKS_UNREADABLE)).catch(() => undefined);
    }
  };
}

async function pageMessage(deps: ListenerDeps, target: PortfolioPage): Promise<SlackMessage> {
  const options = { page: target.page };
  switch (target.view) {
    case 'overview':
      return buildPortfolioOverviewMessage(await deps.portfolio.overview(), options);
    case 'positions':
      return buildPositionComparisonMessage(await deps.portfolio.compareWithBroker(), options);
    case 'detail':
      return buildPortfolioLookupMessage(await deps.portfolio.portfolio(target.name), options);
  }
}
