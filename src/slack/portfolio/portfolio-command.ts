import type { RespondFn } from '@slack/bolt';
import { parsePortfolioCommand } from '../../domain/portfolio-command';
import type { SlackMessage } from '../block-kit/limits';
import { buildErrorMessage } from '../block-kit/messages';
import type { CommandArgs, ListenerDeps } from '../deps';
import {
  buildAccountMessage,
  buildPortfolioHelp,
  buildPortfolioLookupMessage,
  buildPortfolioOverviewMessage,
  buildPositionComparisonMessage,
} from './portfolio-messages';
import { buildTradersMessage } from './traders-message';

const ACCOUNT_VIEWS_REFUSED =
  'Sorry — the Alpaca account and its positions are shown to this workspace’s ' +
  'traders and admins only. You can still see the portfolios with `/portfolio`.';

/** What a /portfolio answer says when the books cannot be read (the command's and the page buttons'). */
export const BOOKS_UNREADABLE = 'Sorry — the books could not be read just now. Please try again in a moment.';

/** Ephemeral: only the person who asked sees it. */
export function replyPrivately(respond: RespondFn, message: SlackMessage, replaceOriginal = false): Promise<unknown> {
  return respond({
    response_type: 'ephemeral',
    replace_original: replaceOriginal,
    text: message.text,
    blocks: message.blocks,
  });
}

/** `/portfolio [name | account | positions | reconcile | help]` — ack at once, then answer only the caller. */
export function portfolioCommand(deps: ListenerDeps) {
  return async ({ command, ack, respond }: CommandArgs): Promise<void> => {
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
          await replyPrivately(
            respond,
            buildPortfolioOverviewMessage(
              deps.access.mayViewAccount(command.user_id) ? overview : { ...overview, account: { kind: 'restricted' } },
            ),
          );
          return;
        }
        case 'account':
        case 'positions': {
          if (!deps.access.mayViewAccount(command.user_id)) {
            await replyPrivately(respond, buildErrorMessage(ACCOUNT_VIEWS_REFUSED));
            return;
          }
          const answer =
            parsed.kind === 'account'
              ? buildAccountMessage(await deps.portfolio.account())
              : buildPositionComparisonMessage(await deps.portfolio.compareWithBroker());
          await replyPrivately(respond, answer);
          return;
        }
        case 'reconcile':
          // Admins only (the reconcile surface refuses everyone else); the answer is the run's summary.
          await replyPrivately(respond, await deps.reconcileNow({ userId: command.user_id }));
          return;
        case 'digest':
          // Traders and admins only (the digest shows the account); the digest surface answers.
          await replyPrivately(respond, await deps.digestFor(command.user_id));
          return;
        case 'traders':
          await replyPrivately(
            respond,
            buildTradersMessage({ report: await deps.traderPnl.report(), callerId: command.user_id, now: new Date() }),
          );
          return;
        case 'show':
          await replyPrivately(respond, buildPortfolioLookupMessage(await deps.portfolio.portfolio(parsed.name)));
          return;
      }
    } catch (err) {
      deps.logger.error({ err, command: '/portfolio', user: command.user_id }, '/portfolio failed');
      await replyPrivately(respond, buildErrorMessage(BOOKS_UNREADABLE)).catch(() => undefined);
    }
  };
}
