import type { WebClient } from '@slack/web-api';
import type { MarketDescription } from '../../domain/market-hours';
import { DEFAULT_PORTFOLIO } from '../../domain/portfolio-name';
import { type OrderPrefill, parseTradeCommand } from '../../domain/trade-command';
import { buildErrorMessage } from '../block-kit/messages';
import { slackErrorCode } from '../block-kit/slack-errors';
import type { CommandArgs, ListenerDeps } from '../deps';
import { tradeModalMetadata } from './form-state';
import { buildTradeModal, type TradeModalContext } from './order-modal';
import { modalContext } from './order-submission';
import { buildMarketStatusMessage, buildQuoteMessage, buildTradeHelp, buildTradersOnlyMessage } from './trade-messages';

/** How long opening the modal may wait for the market clock: the trigger_id dies 3 s after the command. */
const OPEN_MODAL_CLOCK_BUDGET_MS = 800;

const MARKET_UNKNOWN: MarketDescription = {
  open: false,
  headline: 'Market status unavailable',
  detail: 'Alpaca did not answer; try again shortly.',
};

/** `/trade [help | quote SYM | market | order words…]` — ack at once, then answer or open the order modal. */
export function tradeCommand(deps: ListenerDeps) {
  return async ({ command, ack, respond, client }: CommandArgs): Promise<void> => {
    await ack();
    const parsed = parseTradeCommand(command.text ?? '');
    const reply = (message: { text: string; blocks: unknown[] }) =>
      respond({ response_type: 'ephemeral', text: message.text, blocks: message.blocks as never });
    switch (parsed.kind) {
      case 'help':
        await reply(buildTradeHelp());
        return;
      case 'market': {
        const market = await deps.orderEntry.market(2_000);
        await reply(buildMarketStatusMessage(market ?? MARKET_UNKNOWN));
        return;
      }
      case 'quote': {
        if (!parsed.symbol) {
          await reply(buildErrorMessage('Which symbol? Try `/trade quote AAPL`.'));
          return;
        }
        const quote = await deps.orderEntry.quote(parsed.symbol);
        if (!quote.asset) {
          await reply(buildErrorMessage(quote.error ?? `No quote for ${quote.symbol}.`));
          return;
        }
        await reply(
          buildQuoteMessage({ asset: quote.asset, snapshot: quote.snapshot, market: quote.market ?? MARKET_UNKNOWN }),
        );
        return;
      }
      case 'order':
        if (!deps.access.mayTrade(command.user_id)) {
          deps.logger.warn(
            { user: command.user_id, command: '/trade' },
            'order attempt by a user not in TRADER_USER_IDS',
          );
          await reply(buildTradersOnlyMessage('command'));
          return;
        }
        await openTradeModal(
          client,
          {
            triggerId: command.trigger_id,
            userId: command.user_id,
            channelId: command.channel_id,
            prefill: parsed.prefill,
          },
          deps,
        ).catch(async (err: unknown) => {
          deps.logger.warn({ error: slackErrorCode(err) }, 'could not open the order form');
          await reply(buildErrorMessage('Slack didn’t let us open the order form in time. Please run `/trade` again.'));
        });
    }
  };
}

/**
 * Opens the order modal inside the trigger's 3 s, with what is at hand (portfolio names, the
 * cached clock); when a symbol is known, fills in the live context with a views.update after.
 */
export async function openTradeModal(
  client: WebClient,
  args: { triggerId: string; userId: string; channelId?: string; text?: string; prefill?: OrderPrefill },
  deps: ListenerDeps,
): Promise<void> {
  const fromText = args.text ? parseTradeCommand(args.text) : undefined;
  const prefill = args.prefill ?? (fromText?.kind === 'order' ? fromText.prefill : {});
  const [portfolios, market] = await Promise.all([
    deps.orderEntry.portfolioNames(),
    deps.orderEntry.market(OPEN_MODAL_CLOCK_BUDGET_MS),
  ]);
  const state = {
    prefill,
    portfolios,
    defaultPortfolio: DEFAULT_PORTFOLIO,
    context: market ? ({ market } satisfies TradeModalContext) : undefined,
    ledgerOnly: deps.orderEntry.ledgerOnly,
    privateMetadata: tradeModalMetadata({ channelId: args.channelId, prefill }),
  };
  const opened = await client.views.open({ trigger_id: args.triggerId, view: buildTradeModal(state) });
  if (!prefill.symbol || !opened.view?.id) return;
  const context = await modalContext(deps, prefill.symbol, prefill);
  await client.views
    .update({ view_id: opened.view.id, hash: opened.view.hash, view: buildTradeModal({ ...state, context }) })
    .catch((err: unknown) => {
      // hash_conflict: the trader already changed the form, and their edit wins.
      deps.logger.debug({ error: slackErrorCode(err) }, 'order form context not applied');
    });
}
