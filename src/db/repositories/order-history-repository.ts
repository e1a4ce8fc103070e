import type { FilterQuery } from '@mikro-orm/core';
import { type Dec, dec } from '../../domain/money';
import type { OrderSummary } from '../../domain/portfolio-report';
import { TradeEntity, type TradeRecord } from '../entities';
import type { Orm } from '../orm';
import { portfolioMatch } from './trade-repository';

const FIELDS = [
  'tradeId',
  'symbol',
  'side',
  'quantity',
  'notional',
  'orderType',
  'limitPrice',
  'stopPrice',
  'status',
  'alpacaFilledQty',
  'alpacaFilledPrice',
  'gmv',
  'portfolioName',
  'userId',
  'timestamp',
  'source',
  'errorMessage',
] as const;

const decOrNull = (value: string | null | undefined): Dec | null => (value == null ? null : dec(value));

function toSummary(row: Pick<TradeRecord, (typeof FIELDS)[number]>): OrderSummary {
  return {
    tradeId: row.tradeId,
    symbol: row.symbol,
    side: row.side === 'BUY' ? 'buy' : 'sell',
    quantity: decOrNull(row.quantity),
    notional: decOrNull(row.notional),
    orderType: row.orderType ?? null,
    limitPrice: decOrNull(row.limitPrice),
    stopPrice: decOrNull(row.stopPrice),
    status: row.status,
    filledQty: decOrNull(row.alpacaFilledQty),
    filledAvgPrice: decOrNull(row.alpacaFilledPrice),
    gmv: decOrNull(row.gmv),
    portfolioName: row.portfolioName,
    userId: row.userId,
    placedAt: row.timestamp,
    bookOnly: row.source === 'ledger' || row.source === 'legacy',
    errorMessage: row.errorMessage ?? null,
  };
}

/** The latest orders of a portfolio or of a user, newest first (a few rows, read from `trades`). */
export class OrderHistoryRepository {
  constructor(private readonly orm: Orm) {}

  async recentForPortfolio(portfolioName: string, limit: number): Promise<OrderSummary[]> {
    return this.recent(portfolioMatch(portfolioName), limit);
  }

  async recentForUser(userId: string, limit: number): Promise<OrderSummary[]> {
    return this.recent({ userId }, limit);
  }

  private async recent(where: FilterQuery<TradeRecord>, limit: number): Promise<OrderSummary[]> {
    const rows = await this.orm.em
      .fork()
      .find(TradeEntity, where, { fields: [...FIELDS], orderBy: { id: 'desc' }, limit });
    return rows.map(toSummary);
  }
}
