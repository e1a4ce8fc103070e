import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../deps';

/** The Home tab is rendered fresh each time it is opened (the Messages tab needs nothing). */
export function appHomeOpened(deps: ListenerDeps) {
  return async ({ event }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs): Promise<void> => {
    if (event.tab !== 'home') return;
    await deps.home.publish(event.user);
  };
}
