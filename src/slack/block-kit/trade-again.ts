import type { Button, KnownBlock } from '@slack/web-api';
import { encodePrefill, prefillFromOrder, type RepeatableOrder } from '../../domain/order-prefill';
import type { OrderPrefill } from '../../domain/trade-command';
import { describeSize, describeTerms } from './format';
import { MAX_BUTTON_TEXT, MAX_BUTTON_VALUE, plainText, sectionBlock, truncate } from './limits';

/** Slack's limit on an actions block's elements. */
const MAX_ACTIONS_ELEMENTS = 25;

/**
 * "Trade again": a button carrying an earlier order as the order form's prefill, shown on final
 * confirmations and on the Home tab (several per view, so each takes its own numbered action_id).
 */
export const TRADE_AGAIN_ACTION_ID = 'trade_again';
export const TRADE_AGAIN_ACTIONS = /^trade_again(?:_\d{1,2})?$/;

export function tradeAgainButton(prefill: OrderPrefill, options: { text?: string; index?: number } = {}): Button {
  const value = encodePrefill(prefill);
  return {
    type: 'button',
    action_id: options.index === undefined ? TRADE_AGAIN_ACTION_ID : `${TRADE_AGAIN_ACTION_ID}_${options.index}`,
    text: plainText(options.text ?? 'Trade again', MAX_BUTTON_TEXT),
    // A prefill that would not fit (it always does: a portfolio name is at most 80 characters) opens a blank form.
    value: value.length <= MAX_BUTTON_VALUE ? value : '{}',
  };
}

/** One button per earlier order — "Buy 10 AAPL · limit $189.50 · day · Growth" — each opening its prefilled form. */
export function tradeAgainBlocks(orders: readonly RepeatableOrder[]): KnownBlock[] {
  if (orders.length === 0) return [];
  const buttons = orders.slice(0, MAX_ACTIONS_ELEMENTS).map((order, index) =>
    tradeAgainButton(prefillFromOrder(order), {
      index,
      text: truncate(`${describeSize(order)} · ${describeTerms(order)} · ${order.portfolio}`, MAX_BUTTON_TEXT),
    }),
  );
  return [
    sectionBlock('*Trade again* — opens the order form filled in as before'),
    { type: 'actions', elements: buttons },
  ];
}
