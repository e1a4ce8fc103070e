import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { OrderFormRedraws } from './order-form-redraw';

/** A symbol chosen in the type-ahead: look it up and redraw the form with its price and estimated cost. */
export function symbolEnteredAction(redraws: OrderFormRedraws) {
  return async ({ ack, body, client }: SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const action = body.actions[0];
    if (!body.view || !action) return;
    await redraws.redraw(client, body.view, action.action_ts, { waitForContext: true });
  };
}
