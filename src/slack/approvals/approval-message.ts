import type { KnownBlock, ModalView } from '@slack/web-api';
import type { ApprovalDecision } from '../../domain/approvals';
import { formatNewYorkDateTime } from '../../domain/market-hours';
import { type Dec, formatQty, formatUsd } from '../../domain/money';
import type { OrderTerms } from '../../domain/order';
import { describeSize, describeTerms, formatPrice, mention } from '../block-kit/format';
import { inputBlock, modalView, textField } from '../block-kit/inputs';
import {
  contextBlock,
  headerBlock,
  MAX_BUTTON_TEXT,
  MAX_CONFIRM_BUTTON,
  MAX_CONFIRM_TEXT,
  MAX_CONFIRM_TITLE,
  plainText,
  type SlackMessage,
  sectionBlock,
  sectionField,
  userMrkdwn,
} from '../block-kit/limits';

/**
 * Buttons on the request; their value is the order's row id, and so is their action_id's suffix:
 * a Home tab listing several requests needs an action_id unique across the view.
 */
export const APPROVE_ORDER_ACTION_ID = 'approval_approve';
export const REJECT_ORDER_ACTION_ID = 'approval_reject';
export const APPROVE_ORDER_ACTION = new RegExp(`^${APPROVE_ORDER_ACTION_ID}:\\d+$`);
export const REJECT_ORDER_ACTION = new RegExp(`^${REJECT_ORDER_ACTION_ID}:\\d+$`);

export function approvalActionId(kind: 'approve' | 'reject', tradeId: number): string {
  return `${kind === 'approve' ? APPROVE_ORDER_ACTION_ID : REJECT_ORDER_ACTION_ID}:${tradeId}`;
}
export const REJECT_MODAL_CALLBACK_ID = 'approval_reject_modal';
export const REJECT_REASON_FIELD = { blockId: 'reject_reason', actionId: 'reason' } as const;

const MAX_FALLBACK_TEXT = 500;

const DECISION_WORDS: Record<ApprovalDecision, string> = {
  approve: 'approved',
  reject: 'rejected',
  withdraw: 'withdrawn',
  expire: 'expired',
};

/** One request for approval as the approvals channel (and the Home tab) shows it. */
export interface ApprovalRequestView extends OrderTerms {
  tradeId: number;
  portfolio: string;
  requestedBy: string;
  requestedAt: Date;
  estimatedValue: Dec;
  priceAtRequest: Dec;
  /** What the order's portfolio holds of the symbol now. */
  position: Dec;
  approvers: readonly string[];
  deadline: Date;
  decision?: {
    kind: ApprovalDecision;
    by?: string;
    at: Date;
    reason?: string;
    priceAtDecision?: Dec;
  };
}

function orderText(view: ApprovalRequestView): string {
  return `${describeSize(view)} (${describeTerms(view)})`;
}

/** The outcome in one line, naming who decided. */
export function describeDecision(view: ApprovalRequestView): string {
  const d = view.decision;
  if (!d) return `Waiting for approval until ${formatNewYorkDateTime(view.deadline)}`;
  const by = d.by ? ` by ${mention(d.by)}` : '';
  const when = formatNewYorkDateTime(d.at);
  switch (d.kind) {
    case 'approve':
      // Approval hands the order to the submission path: Alpaca's answer comes later, in the confirmation.
      return `:white_check_mark: Approved${by} at ${when} — sending to Alpaca`;
    case 'reject':
      return `:x: Rejected${by} at ${when}: ${userMrkdwn(d.reason ?? '', 600)}`;
    case 'withdraw':
      return `:no_entry_sign: Withdrawn${by} at ${when} — nothing was sent`;
    case 'expire':
      return (
        `:hourglass: Expired at ${when}${d.by ? ` (approval by ${mention(d.by)} came too late)` : ''}: ` +
        `${userMrkdwn(d.reason ?? '', 600)}. Nothing was sent — the trader has to place it again.`
      );
  }
}

function approveRejectButtons(tradeId: number, summary: string): KnownBlock {
  return {
    type: 'actions',
    // One block per request, so its buttons are found by order (several requests share a Home tab).
    block_id: `approval_${tradeId}`,
    elements: [
      {
        type: 'button',
        action_id: approvalActionId('approve', tradeId),
        style: 'primary',
        text: plainText('Approve', MAX_BUTTON_TEXT),
        value: String(tradeId),
        confirm: {
          title: plainText('Approve and place this order?', MAX_CONFIRM_TITLE),
          text: plainText(`${summary}. It is sent to Alpaca at once.`, MAX_CONFIRM_TEXT),
          confirm: plainText('Approve', MAX_CONFIRM_BUTTON),
          deny: plainText('Not yet', MAX_CONFIRM_BUTTON),
        },
      },
      {
        type: 'button',
        action_id: approvalActionId('reject', tradeId),
        style: 'danger',
        text: plainText('Reject', MAX_BUTTON_TEXT),
        value: String(tradeId),
      },
    ],
  };
}

/**
 * The request posted in the approvals channel: who, what, estimated value, price at request,
 * portfolio, the trader's position; Approve / Reject while undecided, the outcome (buttons gone) after.
 */
export function buildApprovalRequestMessage(view: ApprovalRequestView): SlackMessage {
  const headline = `Approval needed: ${describeSize(view)} for ${formatUsd(view.estimatedValue)}`;
  const blocks: KnownBlock[] = [
    headerBlock(headline),
    {
      type: 'section',
      fields: [
        sectionField('Requested by', mention(view.requestedBy)),
        sectionField('Order', userMrkdwn(orderText(view), 500)),
        sectionField('Estimated value', formatUsd(view.estimatedValue)),
        sectionField('Price at request', formatPrice(view.priceAtRequest)),
        sectionField('Portfolio', userMrkdwn(view.portfolio, 200)),
        sectionField(
          'Position now',
          `${formatQty(view.position)} ${view.symbol} in ${userMrkdwn(view.portfolio, 200)}`,
        ),
      ],
    },
    sectionBlock(describeDecision(view)),
  ];
  if (!view.decision) {
    blocks.push(
      approveRejectButtons(view.tradeId, orderText(view)),
      contextBlock(
        `Requested ${formatNewYorkDateTime(view.requestedAt)} · ` +
          `approvers: ${view.approvers.map(mention).join(', ')} · the trader can’t approve their own order`,
      ),
    );
  }
  const status = view.decision ? ` — ${DECISION_WORDS[view.decision.kind]}` : '';
  return { text: userMrkdwn(`${headline}${status}`, MAX_FALLBACK_TEXT), blocks };
}

/** The thread reply recording a decision: it names the trader, since the edit above notifies nobody. */
export function buildDecisionReply(view: ApprovalRequestView): SlackMessage {
  const text = `${mention(view.requestedBy)} ${describeDecision(view)}`;
  return { text, blocks: [sectionBlock(text)] };
}

/** The reject form: a reason is required, and the trader is shown it. */
export function buildRejectModal(view: Pick<ApprovalRequestView, 'tradeId'> & OrderTerms): ModalView {
  return modalView({
    callbackId: REJECT_MODAL_CALLBACK_ID,
    title: 'Reject order',
    submit: 'Reject',
    close: 'Back',
    privateMetadata: String(view.tradeId),
    blocks: [
      sectionBlock(
        `Reject *${userMrkdwn(`${describeSize(view)} (${describeTerms(view)})`, 500)}*? The trader sees why.`,
      ),
      inputBlock(
        REJECT_REASON_FIELD.blockId,
        'Reason',
        textField(REJECT_REASON_FIELD.actionId, {
          placeholder: 'e.g. too large for this portfolio today',
          maxLength: 500,
          multiline: true,
        }),
      ),
    ],
  });
}

/**
 * Home tab lines: the requests awaiting the viewer's decision (with buttons) and their own.
 * `toDecideTotal` counts every request awaiting them, shown or not (the tab shows a few).
 */
export function buildHomeApprovalBlocks(
  toDecide: readonly ApprovalRequestView[],
  mine: readonly ApprovalRequestView[],
  toDecideTotal = toDecide.length,
): KnownBlock[] {
  if (toDecide.length === 0 && mine.length === 0) return [];
  const blocks: KnownBlock[] = [{ type: 'divider' }];
  if (toDecide.length > 0) {
    blocks.push(sectionBlock(`*Awaiting your approval (${Math.max(toDecideTotal, toDecide.length)})*`));
    for (const view of toDecide) {
      blocks.push(
        sectionBlock(
          `${mention(view.requestedBy)}: ${userMrkdwn(orderText(view), 400)} · ${formatUsd(view.estimatedValue)} · ` +
            `${userMrkdwn(view.portfolio, 100)} · until ${formatNewYorkDateTime(view.deadline)}`,
        ),
        approveRejectButtons(view.tradeId, orderText(view)),
      );
    }
    const more = toDecideTotal - toDecide.length;
    if (more > 0) blocks.push(contextBlock(`… and ${more} more in the approvals channel`));
  }
  if (mine.length > 0) {
    const lines = mine.map(
      (view) =>
        `:raised_hand: ${userMrkdwn(orderText(view), 300)} · ${formatUsd(view.estimatedValue)} · ` +
        `until ${formatNewYorkDateTime(view.deadline)}`,
    );
    blocks.push(sectionBlock(`*Your requests awaiting approval*\n${lines.join('\n')}`));
  }
  return blocks;
}
