import type { ButtonArgs, ListenerDeps, SelectArgs } from '../deps';
import { decodeHomePage } from './home-view';

/** The portfolio picker: remember the choice, then show it. */
export function homePickPortfolioAction(deps: ListenerDeps) {
  return async ({ ack, action, body }: SelectArgs): Promise<void> => {
    await ack();
    const portfolioId = Number(action.selected_option?.value);
    if (Number.isSafeInteger(portfolioId)) await deps.portfolio.chooseHomePortfolio(body.user.id, portfolioId);
    await deps.home.publish(body.user.id);
  };
}

export function homeRefreshAction(deps: ListenerDeps) {
  return async ({ ack, body }: ButtonArgs): Promise<void> => {
    await ack();
    await deps.home.publish(body.user.id);
  };
}

/** "Previous" / "Next page" under the Home tab's positions. */
export function homePageAction(deps: ListenerDeps) {
  return async ({ ack, action, body }: ButtonArgs): Promise<void> => {
    await ack();
    const target = decodeHomePage(action.value);
    await deps.home.publish(body.user.id, { page: target?.page ?? 0 });
  };
}
