import type { App } from '@slack/bolt';
import type { ListenerDeps } from '..';
import { appHomeOpened } from './app-home-opened';

export function registerEvents(app: App, deps: ListenerDeps): void {
  app.event('app_home_opened', appHomeOpened(deps));
}
