import type { WebClient } from '@slack/web-api';
import { approvalDeadline, isApprovalEnding } from '../../domain/approvals';
import { isStillSending, type TradeStatus } from '../../domain/order';
import { prefillFromOrder } from '../../domain/order-prefill';
import { hasConfirmationPlace, isSlackMemberId, type Trade } from '../../domain/trade';
import type { Logger } from '../../logger';
import type { OrderConfirmations } from '../../services/order-confirmations';
import { type PostedMessage, postMessage, updateMessage } from '../block-kit/chat';
import type { SlackMessage } from '../block-kit/limits';
import { slackErrorCode } from '../block-kit/slack-errors';
import { buildOrderFinishedReply, buildOrderMessage, type OrderMessageView } from './order-message';

/** Errors meaning "the app can't post in that channel": the confirmation goes to the trader's DM instead. */
const CANNOT_POST_HERE = new Set([
  'not_in_channel',
  'channel_not_found',
  'is_archived',
  'restricted_action',
  'cant_post',
  'not_allowed_token_type',
  'missing_scope',
]);

export function toOrderMessageView(
  trade: Trade,
  ledgerOnly: boolean,
  approvals?: { approvers: readonly string[]; ttlMinutes: number },
): OrderMessageView {
  const awaiting = trade.status === 'pending_approval';
  const open = trade.status === 'accepted' || trade.status === 'partially_filled';
  return {
    status: trade.status,
    side: trade.side,
    symbol: trade.symbol,
    qty: trade.quantity ?? undefined,
    notional: trade.quantity ? undefined : (trade.notional ?? undefined),
    type: trade.orderType ?? 'market',
    limitPrice: trade.limitPrice ?? undefined,
    stopPrice: trade.stopPrice ?? undefined,
    timeInForce: trade.timeInForce ?? 'day',
    extendedHours: trade.extendedHours,
    portfolio: trade.portfolioName,
    userId: trade.userId,
    alpacaOrderId: trade.alpacaOrderId ?? undefined,
    filledQty:
      trade.alpacaFilledQty ?? (ledgerOnly && trade.status === 'filled' ? (trade.quantity ?? undefined) : undefined),
    filledAvgPrice: trade.alpacaFilledPrice ?? undefined,
    filledAt: trade.alpacaFilledAt ?? undefined,
    gmv: trade.gmv ?? undefined,
    marketAtSubmit: trade.marketOpenAtSubmit === null ? undefined : trade.marketOpenAtSubmit ? 'Open' : 'Closed',
    // Alpaca answers 'accepted' (rather than 'new') for an order held until the market opens.
    queuedForOpen: trade.status === 'accepted' && trade.alpacaStatus === 'accepted',
    error: trade.errorMessage ?? undefined,
    stillSending: isStillSending(trade.errorCode),
    ledgerOnly,
    // Waiting for approval, the trader can still withdraw it (nothing is at the broker to cancel).
    cancelable: awaiting || (!ledgerOnly && open && trade.alpacaOrderId !== null),
    approval:
      approvals && (awaiting || isApprovalEnding(trade.errorCode))
        ? {
            approvers: approvals.approvers,
            deadline: approvalDeadline(trade.createdAt, approvals.ttlMinutes),
            ended: isApprovalEnding(trade.errorCode),
          }
        : undefined,
    clientOrderId: trade.clientOrderId ?? trade.tradeId,
    // A dollar-amount order is placed again for the same amount, not for the shares it bought.
    tradeAgain: prefillFromOrder({
      portfolio: trade.portfolioName,
      side: trade.side,
      symbol: trade.symbol,
      qty: trade.notional ? undefined : (trade.quantity ?? undefined),
      notional: trade.notional ?? undefined,
      type: trade.orderType ?? 'market',
      limitPrice: trade.limitPrice ?? undefined,
      stopPrice: trade.stopPrice ?? undefined,
      timeInForce: trade.timeInForce ?? 'day',
      extendedHours: trade.extendedHours,
    }),
  };
}

/**
 * One confirmation message per order: posted on its first delivery, then edited in place, always
 * drawn from the freshest row (the outbox coalesces a burst of changes into one delivery). A final
 * state also gets a thread reply naming the trader, since edits notify nobody. Failures are thrown
 * for the outbox worker to retry; nothing here is on the path that writes the books.
 */
export class SlackOrderMessenger {
  constructor(
    private readonly client: WebClient,
    private readonly orders: OrderConfirmations,
    private readonly logger: Logger,
  ) {}

  async render(tradeId: number): Promise<Trade | undefined> {
    const trade = await this.orders.find(tradeId);
    // Nobody placed legacy or adopted rows through Slack: there is no trader to confirm to (the
    // reconcile alert reports adoptions); an API order for a non-member without a channel has nowhere to go.
    if (!trade || !hasConfirmationPlace(trade)) return undefined;
    const message = buildOrderMessage(toOrderMessageView(trade, this.orders.ledgerOnly, this.orders.approvals));
    if (trade.slackChannelId && trade.slackMessageTs) {
      await updateMessage(this.client, { channel: trade.slackChannelId, ts: trade.slackMessageTs }, message);
      return trade;
    }
    const posted = await this.post(trade, message);
    return this.orders.recordMessage(trade.id, posted.channel, posted.ts);
  }

  /**
   * Replies in the confirmation's thread that the order reached `status` (skipped if it has since
   * moved on: that move has its own reply).
   */
  async announceFinished(tradeId: number, status: TradeStatus): Promise<void> {
    let trade = await this.orders.find(tradeId);
    if (!trade || !hasConfirmationPlace(trade) || trade.status !== status) return;
    if (!trade.slackMessageTs) trade = await this.render(tradeId);
    if (!trade?.slackChannelId || !trade.slackMessageTs) return;
    const reply = buildOrderFinishedReply(toOrderMessageView(trade, this.orders.ledgerOnly, this.orders.approvals));
    await postMessage(this.client, trade.slackChannelId, reply, trade.slackMessageTs);
    this.logger.debug({ trade_id: trade.id, status }, 'final state announced in the confirmation thread');
  }

  private async post(trade: Trade, message: SlackMessage): Promise<PostedMessage> {
    const send = (channel: string) => postMessage(this.client, channel, message);
    if (trade.slackChannelId && !trade.slackChannelId.startsWith('D')) {
      try {
        return await send(trade.slackChannelId);
      } catch (err) {
        // Without a member to DM (an API order for a non-Slack user), the channel is the only place.
        if (!CANNOT_POST_HERE.has(slackErrorCode(err)) || !isSlackMemberId(trade.userId)) throw err;
      }
    }
    const dm = await this.client.conversations.open({ users: trade.userId });
    return send(dm.channel?.id ?? trade.userId);
  }
}
