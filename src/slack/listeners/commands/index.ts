import type { App } from '@slack/bolt';
import type { ListenerDeps } from '..';
import { portfolioCommand } from './portfolio';
import { tradeCommand } from './trade';

export function registerCommands(app: App, deps: ListenerDeps): void {
  app.command('/trade', tradeCommand(deps));
  app.command('/portfolio', portfolioCommand(deps));
}
