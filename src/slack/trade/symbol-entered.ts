import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { DEFAULT_PORTFOLIO } from '../../domain/portfolio-name';
import { slackErrorCode } from '../block-kit/slack-errors';
import type { ListenerDeps } from '../deps';
import { buildTradeModal, readTradeForm } from './order-modal';
import { modalContext, prefillFromForm } from './order-submission';

/** Enter pressed in the symbol field: look the symbol up and redraw the form with its live context. */
export function symbolEnteredAction(deps: ListenerDeps) {
  return async ({ ack, body, client }: SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const view = body.view;
    if (!view) return;
    const prefill = prefillFromForm(readTradeForm(view.state?.values ?? {}));
    if (!prefill.symbol) return;
    const [portfolios, context] = await Promise.all([
      deps.orderEntry.portfolioNames(),
      modalContext(deps, prefill.symbol, prefill),
    ]);
    const next = buildTradeModal({
      prefill,
      portfolios,
      defaultPortfolio: DEFAULT_PORTFOLIO,
      context,
      ledgerOnly: deps.orderEntry.ledgerOnly,
      privateMetadata: view.private_metadata ?? '',
    });
    await client.views.update({ view_id: view.id, hash: view.hash, view: next }).catch((err: unknown) => {
      deps.logger.debug({ error: slackErrorCode(err) }, 'order form context not applied');
    });
  };
}
