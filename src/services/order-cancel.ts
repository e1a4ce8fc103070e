import type { Broker } from '../broker/broker';
import type { TradeRepository } from '../db/repositories/trade-repository';
import { describeError } from '../domain/errors';
import { isTerminal } from '../domain/order';
import type { Logger } from '../logger';
import type { OrderApprovals } from './order-approvals';
import type { OrderTracker } from './order-tracker';

export interface CancelResult {
  /** requested: Alpaca took the cancel; refused: Alpaca said no (or didn't answer). */
  kind: 'requested' | 'not_found' | 'not_allowed' | 'final' | 'not_sent_yet' | 'refused';
  message: string;
}

/** Cancelling an open order at the broker; the books follow from the broker's answer. Knows nothing of Slack. */
export class OrderCanceller {
  constructor(
    private readonly trades: TradeRepository,
    private readonly broker: Broker,
    private readonly tracker: OrderTracker,
    private readonly logger: Logger,
    /** Orders waiting for approval are withdrawn rather than canceled: nothing is at the broker. */
    private readonly approvals?: Pick<OrderApprovals, 'withdraw'>,
  ) {}

  /** Cancels an open order on behalf of its owner (or an admin), with a sentence for the user. */
  async cancel(clientOrderId: string, userId: string, isAdmin: boolean): Promise<CancelResult> {
    const trade = await this.trades.findByClientOrderId(clientOrderId);
    if (!trade) return { kind: 'not_found', message: 'That order is not in our books.' };
    if (trade.userId !== userId && !isAdmin)
      return { kind: 'not_allowed', message: 'Only the trader who placed this order (or an admin) can cancel it.' };
    if (isTerminal(trade.status))
      return { kind: 'final', message: `The order is already ${trade.status.replace('_', ' ')}.` };
    if (trade.status === 'pending_approval' && this.approvals) {
      const withdrawn = await this.approvals.withdraw(trade.id, userId);
      if (withdrawn.kind === 'refused') return { kind: 'final', message: withdrawn.message };
      this.logger.info({ client_order_id: clientOrderId, user: userId }, 'approval request withdrawn');
      return { kind: 'requested', message: 'Withdrawn: the order waited for approval and was never sent to Alpaca.' };
    }
    if (!trade.alpacaOrderId)
      return { kind: 'not_sent_yet', message: 'The order is still being sent to Alpaca; try again in a moment.' };
    try {
      await this.broker.cancelOrder(trade.alpacaOrderId);
      this.logger.info({ client_order_id: clientOrderId, user: userId }, 'cancel requested');
      await this.tracker.refresh(trade.alpacaOrderId);
      return { kind: 'requested', message: 'Cancel requested.' };
    } catch (err) {
      await this.tracker.refresh(trade.alpacaOrderId).catch(() => undefined);
      return { kind: 'refused', message: `Alpaca did not cancel the order: ${describeError(err)}` };
    }
  }
}
