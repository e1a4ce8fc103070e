import type { KnownBlock } from '@slack/web-api';
import { formatNewYorkDateTime } from '../../domain/market-hours';
import { type Dec, formatQty, formatUsd } from '../../domain/money';
import { isTerminal, type OrderTerms, type TradeStatus } from '../../domain/order';
import type { OrderPrefill } from '../../domain/trade-command';
import { describeSize, describeTerms, formatPrice, mention } from '../block-kit/format';
import {
  codeMrkdwn,
  contextBlock,
  MAX_BUTTON_TEXT,
  MAX_CONFIRM_BUTTON,
  MAX_CONFIRM_TEXT,
  MAX_CONFIRM_TITLE,
  MAX_SECTION_TEXT,
  plainText,
  type SlackMessage,
  sectionBlock,
  sectionField,
  truncate,
  userMrkdwn,
} from '../block-kit/limits';
import { tradeAgainButton } from '../block-kit/trade-again';

/** The "Cancel order" button; its value is the trade's client_order_id. */
export const CANCEL_ORDER_ACTION_ID = 'cancel_order';

export interface OrderMessageView extends OrderTerms {
  status: TradeStatus;
  portfolio: string;
  userId: string;
  alpacaOrderId?: string;
  filledQty?: Dec;
  filledAvgPrice?: Dec;
  filledAt?: Date;
  gmv?: Dec;
  /** describeMarket(...).headline when the order was submitted. */
  marketAtSubmit?: string;
  /** True when the order was accepted while the market was shut and waits for the open. */
  queuedForOpen?: boolean;
  /** Broker's reason (rejected), what went wrong (failed), or why it is still being sent — already in words. */
  error?: string;
  /** Not yet acknowledged by Alpaca and still being tried (as opposed to given up and being checked). */
  stillSending?: boolean;
  ledgerOnly: boolean;
  cancelable: boolean;
  /** At most 128 characters (Alpaca's limit), so it always fits the button value. */
  clientOrderId: string;
  /** Orders above APPROVAL_THRESHOLD_NOTIONAL: who may approve, until when, and whether it ended undecided. */
  approval?: { approvers: readonly string[]; deadline?: Date; ended?: boolean };
  /** The order as the form's prefill: a final confirmation offers "Trade again" with it. */
  tradeAgain?: OrderPrefill;
}

/** Message fallback text is also a notification preview: keep it short. */
const MAX_FALLBACK_TEXT = 500;
const MAX_REASON = 500;

const STATUS_EMOJI: Record<TradeStatus, string> = {
  pending_approval: ':raised_hand:',
  pending_submit: ':hourglass_flowing_sand:',
  submitted: ':outbox_tray:',
  accepted: ':outbox_tray:',
  partially_filled: ':large_yellow_circle:',
  filled: ':white_check_mark:',
  canceled: ':no_entry_sign:',
  expired: ':hourglass:',
  rejected: ':x:',
  failed: ':x:',
};

/** " @ $189.40" — the average fill price, when there is one. */
function atFillPrice(view: OrderMessageView): string {
  return view.filledAvgPrice !== undefined ? ` @ ${formatPrice(view.filledAvgPrice)}` : '';
}

function filledPart(view: OrderMessageView): string {
  const filled = view.filledQty ?? view.qty;
  return `${filled !== undefined ? formatQty(filled) : '?'} ${view.symbol}${atFillPrice(view)}`;
}

/** What happened to the order, in one plain sentence (the notification text and the message headline). */
export function describeOrderStatus(view: OrderMessageView): string {
  const order = `${describeSize(view)} (${describeTerms(view)})`;
  const partial = view.filledQty?.gt(0) ? `, ${filledPart(view)} filled before that` : '';
  // Ended before approval (withdrawn, expired): never sent, and the sentence says why.
  if (view.approval?.ended && view.error !== undefined && (view.status === 'canceled' || view.status === 'expired')) {
    if (view.status === 'canceled') return `Withdrawn before approval — ${order}. Nothing was sent to Alpaca.`;
    // An expiry is too late or a price move: the sentence says which.
    return `Not placed — ${order}: ${truncate(view.error, MAX_REASON)}`;
  }
  switch (view.status) {
    case 'pending_approval':
      return `Awaiting approval — ${order}`;
    case 'pending_submit':
      return `Sending — ${order}`;
    case 'submitted':
      // Sent, but Alpaca has not acknowledged it: "Submitted" would claim more than we know.
      return view.stillSending ? `Sending — ${order}` : `Not confirmed yet — ${order}`;
    case 'accepted':
      return view.queuedForOpen ? `Submitted — queued for the open: ${order}` : `Submitted — ${order}`;
    case 'partially_filled': {
      const of =
        view.qty !== undefined
          ? ` / ${formatQty(view.qty)}`
          : view.notional !== undefined
            ? ` of ${formatUsd(view.notional)}`
            : '';
      return `Partially filled ${formatQty(view.filledQty ?? view.qty ?? 0)}${of} ${view.symbol}${atFillPrice(view)}`;
    }
    case 'filled': {
      const fillValue =
        view.filledQty !== undefined && view.filledAvgPrice !== undefined
          ? view.filledQty.times(view.filledAvgPrice)
          : undefined;
      const gmv = view.gmv ?? fillValue;
      const gmvPart = gmv !== undefined ? ` (GMV ${formatUsd(gmv)})` : '';
      if (view.ledgerOnly) return `Recorded ${describeSize(view)}${gmvPart} — ledger only, not sent to Alpaca`;
      return `Filled ${filledPart(view)}${gmvPart}`;
    }
    case 'canceled':
      return `Canceled — ${order}${partial}`;
    case 'expired':
      return `Expired unfilled — ${order}${partial}`;
    case 'rejected':
      return `Rejected: ${truncate(view.error ?? 'Alpaca refused the order.', MAX_REASON)}`;
    case 'failed':
      return `Not placed: ${truncate(view.error ?? 'the order was not sent.', MAX_REASON)}`;
  }
}

/** "Waiting for approval by <@A> or <@B>, until 10:32 ET." — never by the trader, who can't approve it. */
function awaitingLine(approval: NonNullable<OrderMessageView['approval']>, traderId: string): string {
  const names = approval.approvers.filter((id) => id !== traderId).map((id) => mention(id));
  const who = names.length <= 1 ? (names[0] ?? 'an approver') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
  const until = approval.deadline ? `, until ${formatNewYorkDateTime(approval.deadline)}` : '';
  return truncate(`:raised_hand: Not sent yet: waiting for approval by ${who}${until}.`, MAX_SECTION_TEXT);
}

function brokerField(view: OrderMessageView): string {
  if (view.ledgerOnly) return 'Not sent (ledger only)';
  if (view.alpacaOrderId !== undefined) return `\`${codeMrkdwn(view.alpacaOrderId, 80)}\``;
  return view.status === 'rejected' || view.status === 'failed' ? 'None' : 'Not yet assigned';
}

/** The confirmation message, posted once and edited in place (chat.update) as the order moves. */
export function buildOrderMessage(view: OrderMessageView): SlackMessage {
  const headline = describeOrderStatus(view);
  const fields = [
    sectionField('Order', userMrkdwn(`${describeSize(view)} · ${describeTerms(view)}`, 500)),
    sectionField('Portfolio', userMrkdwn(view.portfolio, 200)),
    sectionField('Placed by', mention(view.userId)),
    sectionField(view.ledgerOnly ? 'Alpaca' : 'Alpaca order id', brokerField(view)),
  ];
  if (view.marketAtSubmit !== undefined)
    fields.push(sectionField('Market at submission', userMrkdwn(view.marketAtSubmit, 200)));
  if (view.filledAt !== undefined) fields.push(sectionField('Filled at', formatNewYorkDateTime(view.filledAt)));

  const blocks: KnownBlock[] = [
    sectionBlock(`${STATUS_EMOJI[view.status]} *${userMrkdwn(headline, MAX_SECTION_TEXT - 100)}*`),
  ];
  if ((view.status === 'pending_submit' || view.status === 'submitted') && view.error !== undefined) {
    blocks.push(sectionBlock(`:warning: ${userMrkdwn(view.error, MAX_REASON)}`));
  }
  if (view.status === 'pending_approval' && view.approval)
    blocks.push(sectionBlock(awaitingLine(view.approval, view.userId)));
  blocks.push({ type: 'section', fields }, contextBlock(`Client order id \`${codeMrkdwn(view.clientOrderId, 200)}\``));
  if (view.cancelable) {
    const awaiting = view.status === 'pending_approval';
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: CANCEL_ORDER_ACTION_ID,
          text: plainText(awaiting ? 'Withdraw request' : 'Cancel order', MAX_BUTTON_TEXT),
          style: 'danger',
          value: view.clientOrderId,
          confirm: {
            title: plainText(awaiting ? 'Withdraw this request?' : 'Cancel this order?', MAX_CONFIRM_TITLE),
            text: plainText(
              `${describeSize(view)} (${describeTerms(view)}). ` +
                (awaiting ? 'Nothing has been sent to Alpaca.' : 'Anything already filled stays filled.'),
              MAX_CONFIRM_TEXT,
            ),
            confirm: plainText(awaiting ? 'Withdraw' : 'Cancel order', MAX_CONFIRM_BUTTON),
            deny: plainText('Keep it', MAX_CONFIRM_BUTTON),
          },
        },
      ],
    });
  }
  if (isTerminal(view.status) && view.tradeAgain !== undefined) {
    blocks.push({ type: 'actions', elements: [tradeAgainButton(view.tradeAgain)] });
  }
  // The fallback text is mrkdwn too: a broker message must not become a mention.
  return { text: userMrkdwn(headline, MAX_FALLBACK_TEXT), blocks };
}

/**
 * The thread reply when an order reaches a final state. Editing the confirmation notifies nobody;
 * this reply names the trader, so an order that fills at the open while they are away reaches them.
 */
export function buildOrderFinishedReply(view: OrderMessageView): SlackMessage {
  const text = `${mention(view.userId)} ${userMrkdwn(describeOrderStatus(view), MAX_FALLBACK_TEXT)}`;
  return { text, blocks: [sectionBlock(`${STATUS_EMOJI[view.status]} ${text}`)] };
}
