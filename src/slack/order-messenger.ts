import type { WebClient } from '@slack/web-api';
import type { Logger } from '../logger';
import type { Trade, TradeRepository } from '../db/repositories/trade-repository';
import type { TradeObserver } from '../services/trade-observer';
import { buildOrderMessage, type OrderMessageView } from './views/order-message';
import { slackErrorCode } from './errors';

/** Errors meaning "the app can't post in that channel": the confirmation goes to the trader's DM instead. */
const CANNOT_POST_HERE = new Set(['not_in_channel', 'channel_not_found', 'is_archived', 'restricted_action', 'cant_post', 'not_allowed_token_type', 'missing_scope']);

export function toOrderMessageView(trade: Trade, ledgerOnly: boolean): OrderMessageView {
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
    filledQty: trade.alpacaFilledQty ?? (ledgerOnly && trade.status === 'filled' ? (trade.quantity ?? undefined) : undefined),
    filledAvgPrice: trade.alpacaFilledPrice ?? undefined,
    filledAt: trade.alpacaFilledAt ?? undefined,
    gmv: trade.gmv ?? undefined,
    marketAtSubmit: trade.marketOpenAtSubmit === null ? undefined : trade.marketOpenAtSubmit ? 'Open' : 'Closed',
    // Alpaca answers 'accepted' (rather than 'new') for an order held until the market opens.
    queuedForOpen: trade.status === 'accepted' && trade.alpacaStatus === 'accepted',
    error: trade.errorMessage ?? undefined,
    ledgerOnly,
    cancelable: !ledgerOnly && open && trade.alpacaOrderId !== null,
    clientOrderId: trade.clientOrderId ?? trade.tradeId,
  };
}

/**
 * Keeps one confirmation message per order: posted on the first change, then edited in place.
 * Renders for one trade run one at a time and always from the freshest row, so a burst of
 * updates ends with the latest state and never posts twice.
 */
export class SlackOrderMessenger implements TradeObserver {
  private readonly queues = new Map<number, Promise<void>>();

  constructor(
    private readonly client: WebClient,
    private readonly trades: TradeRepository,
    private readonly logger: Logger,
    private readonly ledgerOnly: boolean,
  ) {}

  tradeChanged(trade: Trade): Promise<void> {
    // Nobody placed legacy or adopted rows through Slack: there is no trader to confirm to (the reconcile alert reports adoptions).
    if (trade.source === 'legacy' || trade.source === 'adopted') return Promise.resolve();
    const previous = this.queues.get(trade.id) ?? Promise.resolve();
    const next = previous.then(() => this.render(trade.id)).catch((err: unknown) => {
      this.logger.warn({ trade_id: trade.id, error: slackErrorCode(err) }, 'could not update the order confirmation in Slack');
    });
    this.queues.set(trade.id, next);
    void next.then(() => {
      if (this.queues.get(trade.id) === next) this.queues.delete(trade.id);
    });
    return next;
  }

  private async render(tradeId: number): Promise<void> {
    const trade = await this.trades.findById(tradeId);
    if (!trade) return;
    const message = buildOrderMessage(toOrderMessageView(trade, this.ledgerOnly));
    if (trade.slackChannelId && trade.slackMessageTs) {
      await this.client.chat.update({ channel: trade.slackChannelId, ts: trade.slackMessageTs, text: message.text, blocks: message.blocks });
      return;
    }
    const posted = await this.post(trade, message);
    await this.trades.update(trade.id, { slackChannelId: posted.channel, slackMessageTs: posted.ts });
  }

  private async post(trade: Trade, message: { text: string; blocks: unknown[] }): Promise<{ channel: string; ts: string }> {
    const send = async (channel: string) => {
      const res = await this.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks as never, unfurl_links: false });
      return { channel: res.channel ?? channel, ts: res.ts ?? '' };
    };
    if (trade.slackChannelId && !trade.slackChannelId.startsWith('D')) {
      try {
        return await send(trade.slackChannelId);
      } catch (err) {
        if (!CANNOT_POST_HERE.has(slackErrorCode(err))) throw err;
      }
    }
    const dm = await this.client.conversations.open({ users: trade.userId });
    return send(dm.channel?.id ?? trade.userId);
  }
}
