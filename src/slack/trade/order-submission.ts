import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { parseDecimal, parseMoney } from '../../domain/money';
import { clientOrderIdForView } from '../../domain/order';
import type { OrderField, OrderFormErrors } from '../../domain/order-form';
import type { OrderPrefill } from '../../domain/trade-command';
import type { ReviewResult } from '../../services/order-entry';
import type { ListenerDeps } from '../deps';
import { readTradeModalMetadata } from './form-state';
import { readTradeForm, type TradeModalContext } from './order-modal';
import { TRADERS_ONLY_FIELD_ERROR } from './trade-messages';

const RECORDING_FAILED =
  'Something went wrong on our side while recording this order, so nothing was sent to Alpaca. ' +
  'Please submit again in a moment.';

/**
 * The order form's submission. Validation and the pending row happen before the ack (errors go
 * back next to their fields); the broker is called only after the ack.
 */
export function tradeModalSubmission(deps: ListenerDeps) {
  return async (args: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const { body, view } = args;
    const started = performance.now();
    const ack = async (response?: Parameters<typeof args.ack>[0]) => {
      await args.ack(response);
      deps.metrics.orderAcknowledged('slack', (performance.now() - started) / 1000);
    };
    const userId = body.user.id;
    if (!deps.access.mayTrade(userId)) {
      deps.logger.warn({ user: userId }, 'order submission by a user not in TRADER_USER_IDS');
      await ack({ response_action: 'errors', errors: { symbol: TRADERS_ONLY_FIELD_ERROR } });
      return;
    }
    const form = readTradeForm(view.state.values);
    let review: ReviewResult;
    try {
      review = await deps.orderEntry.review({
        userId,
        clientOrderId: clientOrderIdForView(view.id),
        source: 'slack',
        channelId: readTradeModalMetadata(view.private_metadata).channelId,
        form,
      });
    } catch (err) {
      // The form stays open with what was typed; Slack's own "trouble connecting" says nothing useful.
      deps.logger.error({ err, user: userId }, 'could not record an order submission');
      await ack({ response_action: 'errors', errors: { symbol: RECORDING_FAILED } });
      return;
    }
    if (review.kind === 'invalid') {
      await ack({ response_action: 'errors', errors: errorsOnShownFields(review.errors, view.state.values) });
      return;
    }
    await ack();
    // An order waiting for approval is sent by the approval, never from here.
    if (review.kind === 'duplicate' || review.trade.status === 'pending_approval') return;
    // Its "Sending" confirmation is already in the outbox, written with the row.
    const trade = review.trade;
    await deps.inFlight.run(async () => {
      // Other submissions still being reviewed are acked first; the pacer still decides when Alpaca is called.
      await deps.orderEntry.afterAcks();
      return deps.submitter.submit(trade.id);
    });
  };
}

/**
 * Slack refuses errors naming a block the view does not have; a field the form hides (the type
 * changed while the redraw was on its way) reports next to the order type instead.
 */
function errorsOnShownFields(errors: OrderFormErrors, values: Record<string, unknown>): OrderFormErrors {
  const shown: OrderFormErrors = {};
  for (const [field, message] of Object.entries(errors) as [OrderField, string][]) {
    const target: OrderField = values[field] !== undefined ? field : 'order_type';
    shown[target] = shown[target] ? `${shown[target]} ${message}` : message;
  }
  return shown;
}

/** The modal's live context for a symbol: asset, quote, buying power, estimated cost, market banner. */
export async function modalContext(
  deps: ListenerDeps,
  symbol: string,
  prefill: OrderPrefill,
): Promise<TradeModalContext | undefined> {
  const context = await deps.orderEntry.orderContext(symbol);
  if (!context.market) return undefined;
  const price = prefill.limitPrice
    ? parseMoney(prefill.limitPrice)
    : (context.snapshot?.lastPrice ?? context.snapshot?.ask);
  const quantity = prefill.quantity ? parseDecimal(prefill.quantity) : undefined;
  const amount = prefill.amount ? parseMoney(prefill.amount) : undefined;
  return {
    asset: context.asset,
    snapshot: context.snapshot,
    buyingPower: context.buyingPower,
    estimatedCost: amount ?? (quantity && price ? quantity.times(price).toDecimalPlaces(2) : undefined),
    market: context.market,
    symbolError: context.symbolError,
  };
}
