import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { OrderFormRedraws } from './order-form-redraw';

/**
 * The order type or the time in force changed: redraw the form with only the fields that choice
 * needs, keeping everything typed (a hidden field's value comes back when the field does).
 */
export function orderTypeChangedAction(redraws: OrderFormRedraws) {
  return async ({ ack, body, client }: SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const action = body.actions[0];
    if (!body.view || !action) return;
    await redraws.redraw(client, body.view, action.action_ts, { waitForContext: false });
  };
}
