import type { AllMiddlewareArgs, RespondFn, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { mayViewAccount, type ListenerDeps } from '..';
import { parsePortfolioCommand } from '../../../domain/portfolio-command';
import { runReconcileFromSlack } from '../actions/reconcile';
import { buildErrorMessage } from '../../views/trade-messages';
import type { SlackMessage } from '../../views/limits';
import {
  buildAccountMessage,
  buildPortfolioDetailMessage,
  buildPortfolioHelp,
  buildPortfolioNotFoundMessage,
  buildPortfolioOverviewMessage,
  buildPositionComparisonMessage,
} from '../../views/portfolio-messages';

const ACCOUNT_VIEWS_REFUSED = 'Sorry — the Alpaca account and its positions are shown to this workspace’s traders and admins only. You can still see the portfolios with `/portfolio`.';

/** Ephemeral: only the person who asked sees it. */
export function replyPrivately(respond: RespondFn, message: SlackMessage, replaceOriginal = false): Promise<unknown> {
  return respond({ response_type: 'ephemeral', replace_original: replaceOriginal, text: message.text, blocks: message.blocks });
}

/** `/portfolio [name | account | positions | reconcile | help]` — ack at once, then answer only the caller. */
export function portfolioCommand(deps: ListenerDeps) {
  return async ({ command, ack, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const parsed = parsePortfolioCommand(command.text ?? '');
    try {
      switch (parsed.kind) {
        case 'help':
          await replyPrivately(respond, buildPortfolioHelp());
          return;
        case 'invalid':
          await replyPrivately(respond, buildErrorMessage(parsed.reason));
          return;
        case 'list': {
          const overview = await deps.portfolio.overview();
          await replyPrivately(respond, buildPortfolioOverviewMessage(mayViewAccount(deps, command.user_id) ? overview : { ...overview, account: { kind: 'restricted' } }));
          return;
        }
        case 'account':
          if (!mayViewAccount(deps, command.user_id)) {
            await replyPrivately(respond, buildErrorMessage(ACCOUNT_VIEWS_REFUSED));
            return;
          }
          await replyPrivately(respond, buildAccountMessage(await deps.portfolio.account()));
          return;
        case 'reconcile':
          // Admins only (runReconcileFromSlack refuses everyone else); the answer is the run's summary.
          await replyPrivately(respond, await runReconcileFromSlack(deps, { userId: command.user_id }));
          return;
        case 'positions':
          if (!mayViewAccount(deps, command.user_id)) {
            await replyPrivately(respond, buildErrorMessage(ACCOUNT_VIEWS_REFUSED));
            return;
          }
          await replyPrivately(respond, buildPositionComparisonMessage(await deps.portfolio.compareWithBroker()));
          return;
        case 'show': {
          const lookup = await deps.portfolio.portfolio(parsed.name);
          await replyPrivately(respond, lookup.kind === 'found' ? buildPortfolioDetailMessage(lookup.detail) : buildPortfolioNotFoundMessage(lookup));
          return;
        }
      }
    } catch (err) {
      deps.logger.error({ err, command: '/portfolio', user: command.user_id }, '/portfolio failed');
      await replyPrivately(respond, buildErrorMessage('Sorry — the books could not be read just now. Please try again in a moment.')).catch(() => undefined);
    }
  };
}
