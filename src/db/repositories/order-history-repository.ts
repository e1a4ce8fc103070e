import { type FilterQuery, raw } from '@mikro-orm/core';
import { type Dec, dec } from '../../domain/money';
import type { RepeatableOrder } from '../../domain/order-prefill';
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

  /**
   * The user's latest `limit` distinct orders — distinct by portfolio, symbol, side, size (shares
   * or dollars) and type — newest first, each as last placed (prices, time in force). Orders that
   * never reached the broker for a reason of their own (failed) count too: trading again is the point.
   */
  async recentDistinctForUser(userId: string, limit: number): Promise<RepeatableOrder[]> {
    const em = this.orm.em.fork();
    const latest = await em
      .createQueryBuilder(TradeEntity, 't')
      .select([raw('max(t.id) as id')])
      .where({ userId })
      // A dollar-amount order's size is its amount: the quantity it bought differs from fill to fill.
      .groupBy([
        't.portfolio_name',
        't.symbol',
        't.side',
        raw('case when t.notional is null then t.quantity end'),
        't.notional',
        't.order_type',
      ])
      .orderBy({ [raw('max(t.id)')]: 'desc' })
      .limit(limit)
      .execute<{ id: number | string }[]>('all', false);
    if (latest.length === 0) return [];
    const rows = await em.find(
      TradeEntity,
      { id: { $in: latest.map((r) => Number(r.id)) } },
      { orderBy: { id: 'desc' } },
    );
    return rows.map((row) => ({
      portfolio: row.portfolioName,
      symbol: row.symbol,
      side: row.side === 'BUY' ? 'buy' : 'sell',
      // A dollar-amount order keeps its amount; its quantity is what it bought once filled.
      qty: row.notional == null ? (decOrNull(row.quantity) ?? undefined) : undefined,
      notional: decOrNull(row.notional) ?? undefined,
      type: row.orderType ?? 'market',
      limitPrice: decOrNull(row.limitPrice) ?? undefined,
      stopPrice: decOrNull(row.stopPrice) ?? undefined,
      timeInForce: row.timeInForce ?? 'day',
      extendedHours: row.extendedHours,
    }));
  }

  private async recent(where: FilterQuery<TradeRecord>, limit: number): Promise<OrderSummary[]> {
    const rows = await this.orm.em
      .fork()
      .find(TradeEntity, where, { fields: [...FIELDS], orderBy: { id: 'desc' }, limit });
    return rows.map(toSummary);
  }
}
