import { type Broker, isLedgerOnly } from '../broker/broker';
import type { TradeRepository } from '../db/repositories/trade-repository';
import type { Trade } from '../domain/trade';

/** What drawing an order's confirmation needs from the books: the order, and where its message is. */
export class OrderConfirmations {
  constructor(
    private readonly trades: TradeRepository,
    private readonly broker: Pick<Broker, 'kind'>,
    /** Who may approve and for how long, for confirmations of orders waiting for approval. */
    readonly approvals?: { approvers: readonly string[]; ttlMinutes: number },
  ) {}

  get ledgerOnly(): boolean {
    return isLedgerOnly(this.broker);
  }

  async find(tradeId: number): Promise<Trade | undefined> {
    return (await this.trades.findById(tradeId)) ?? undefined;
  }

  /**
   * Where the confirmation was posted, so later states edit it in place. Tells nobody (nothing a
   * trader sees changed).
   */
  recordMessage(tradeId: number, channelId: string, ts: string): Promise<Trade> {
    return this.trades.update(tradeId, { slackChannelId: channelId, slackMessageTs: ts });
  }
}
