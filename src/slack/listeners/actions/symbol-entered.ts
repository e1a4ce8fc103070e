import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '..';
import { DEFAULT_PORTFOLIO } from '../../../services/trade-service';
import { buildTradeModal, readTradeForm } from '../../views/trade-modal';
import { modalContext, prefillFromForm } from '../views/trade-modal';
import { slackErrorCode } from '../../errors';

/** Enter pressed in the symbol field: look the symbol up and redraw the form with its live context. */
export function symbolEnteredAction(deps: ListenerDeps) {
  return async ({ ack, body, client }: SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const view = body.view;
    if (!view) return;
    const prefill = prefillFromForm(readTradeForm(view.state?.values ?? {}));
    if (!prefill.symbol) return;
    const [portfolios, context] = await Promise.all([deps.trade.portfolioNames(), modalContext(deps, prefill.symbol, prefill)]);
    const next = buildTradeModal({
      prefill,
      portfolios,
      defaultPortfolio: DEFAULT_PORTFOLIO,
      context,
      ledgerOnly: deps.trade.ledgerOnly,
      privateMetadata: view.private_metadata ?? '',
    });
    await client.views.update({ view_id: view.id, hash: view.hash, view: next }).catch((err: unknown) => {
      deps.logger.debug({ error: slackErrorCode(err) }, 'order form context not applied');
    });
  };
}
