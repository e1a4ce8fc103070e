import type { WebClient } from '@slack/web-api';
import { orderIntentOf } from '../../domain/trade';
import type { Logger } from '../../logger';
import type { ApprovalDetails, OrderApprovals } from '../../services/order-approvals';
import { postMessage, updateMessage } from '../block-kit/chat';
import { type ApprovalRequestView, buildApprovalRequestMessage, buildDecisionReply } from './approval-message';

export function toApprovalRequestView(details: ApprovalDetails): ApprovalRequestView {
  const { trade, request } = details;
  return {
    tradeId: trade.id,
    ...orderIntentOf(trade),
    portfolio: trade.portfolioName,
    requestedBy: request.requestedBy,
    requestedAt: request.requestedAt,
    estimatedValue: request.estimatedValue,
    priceAtRequest: request.priceAtRequest,
    position: details.position,
    approvers: details.approvers,
    deadline: details.deadline,
    decision:
      request.decision && request.decidedAt
        ? {
            kind: request.decision,
            by: request.decidedBy ?? undefined,
            at: request.decidedAt,
            reason: request.reason ?? undefined,
            priceAtDecision: request.priceAtDecision ?? undefined,
          }
        : undefined,
  };
}

/**
 * Delivers approval notices from the outbox: a request is posted to APPROVALS_CHANNEL_ID (and where
 * it landed recorded), a decision edits it (buttons gone) and replies in its thread. Failures are
 * thrown for the outbox worker to retry; nothing here is on the path that writes the books.
 */
export class SlackApprovalNotifier {
  constructor(
    private readonly client: WebClient,
    private readonly approvals: OrderApprovals,
    private readonly channelId: string | undefined,
    private readonly logger: Logger,
  ) {}

  async requested(tradeId: number): Promise<void> {
    const details = await this.approvals.details(tradeId);
    if (!details || !this.channelId) return;
    const message = buildApprovalRequestMessage(toApprovalRequestView(details));
    if (details.request.messageTs && details.request.channelId) {
      await updateMessage(this.client, { channel: details.request.channelId, ts: details.request.messageTs }, message);
      return;
    }
    const posted = await postMessage(this.client, this.channelId, message);
    await this.approvals.recordMessage(tradeId, posted.channel, posted.ts);
  }

  async decided(tradeId: number): Promise<void> {
    let details = await this.approvals.details(tradeId);
    if (!details?.request.decision) return;
    if (!details.request.messageTs) {
      await this.requested(tradeId);
      details = await this.approvals.details(tradeId);
    }
    const at = details?.request;
    if (!details || !at?.channelId || !at.messageTs) return;
    const view = toApprovalRequestView(details);
    await updateMessage(this.client, { channel: at.channelId, ts: at.messageTs }, buildApprovalRequestMessage(view));
    await postMessage(this.client, at.channelId, buildDecisionReply(view), at.messageTs);
    this.logger.debug({ trade_id: tradeId, decision: at.decision }, 'approval decision shown in its thread');
  }
}
