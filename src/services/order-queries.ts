import type { TradeRepository } from '../db/repositories/trade-repository';
import type { Trade } from '../domain/trade';

export interface TradeListQuery {
  skip: number;
  limit: number;
  symbol?: string;
  /** Matched like a portfolio name anywhere else: any case, any spelling that normalises the same. */
  portfolio?: string;
}

/** Reading orders for programs (the HTTP API): one, a page of them, or a portfolio's counts. */
export class OrderQueries {
  constructor(private readonly trades: TradeRepository) {}

  async find(id: number): Promise<Trade | undefined> {
    return (await this.trades.findById(id)) ?? undefined;
  }

  async findByClientOrderId(clientOrderId: string): Promise<Trade | undefined> {
    return (await this.trades.findByClientOrderId(clientOrderId)) ?? undefined;
  }

  /** By the human-facing trade id (the earlier OMS's `trade_id`). */
  findByTradeId(tradeId: string): Promise<Trade | undefined> {
    return this.trades.findByTradeId(tradeId);
  }

  /** Newest first. */
  list(query: TradeListQuery): Promise<Trade[]> {
    return this.trades.list(query);
  }

  /** Orders of one portfolio that reached the broker (or the ledger): all of them, the buys, the sells. */
  countsFor(portfolioName: string): Promise<{ total: number; buys: number; sells: number }> {
    return this.trades.countsForPortfolio(portfolioName);
  }
}
