import { randomUUID } from 'node:crypto';
import { raw, type EntityData } from '@mikro-orm/core';
import { dec, decToString, type Dec } from '../../domain/money';
import { TERMINAL_STATUSES, type OrderType, type Side, type TimeInForce, type TradeStatus } from '../../domain/order';
import { FillEntity, TradeEntity, type FillRecord, type FillSource, type StoredSide, type TradeRecord, type TradeSource } from '../entities';
import type { Orm } from '../orm';
import { applyFillToPositions } from './position-repository';

/** A row of `trades` as the rest of the app sees it: decimals as Dec, side in the domain's spelling. */
export interface Trade {
  id: number;
  tradeId: string;
  clientOrderId: string | null;
  source: TradeSource;
  status: TradeStatus;
  symbol: string;
  side: Side;
  /** NULL only for a notional order not yet filled. */
  quantity: Dec | null;
  notional: Dec | null;
  gmv: Dec | null;
  orderType: OrderType | null;
  timeInForce: TimeInForce | null;
  limitPrice: Dec | null;
  stopPrice: Dec | null;
  extendedHours: boolean;
  portfolioName: string;
  userId: string;
  /** When the trader placed it. */
  timestamp: Date;
  createdAt: Date;
  updatedAt: Date;
  submittedAt: Date | null;
  marketOpenAtSubmit: boolean | null;
  slackChannelId: string | null;
  slackMessageTs: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  alpacaOrderId: string | null;
  alpacaStatus: string | null;
  alpacaFilledQty: Dec | null;
  alpacaFilledPrice: Dec | null;
  alpacaFilledAt: Date | null;
}

/** What is known before the broker is called. The row is written with status `pending_submit`. */
export interface NewTrade {
  clientOrderId: string;
  source: TradeSource;
  symbol: string;
  side: Side;
  quantity?: Dec | null;
  notional?: Dec | null;
  gmv?: Dec | null;
  orderType: OrderType;
  timeInForce: TimeInForce;
  limitPrice?: Dec | null;
  stopPrice?: Dec | null;
  extendedHours: boolean;
  portfolioName: string;
  userId: string;
  slackChannelId?: string | null;
  marketOpenAtSubmit?: boolean | null;
  /** The human-facing trade id; a fresh UUID when omitted. */
  tradeId?: string;
}

/** Fields that change as the order moves; `updated_at` is set on every update. */
export type TradePatch = Partial<
  Pick<
    Trade,
    | 'status'
    | 'quantity'
    | 'gmv'
    | 'submittedAt'
    | 'marketOpenAtSubmit'
    | 'slackChannelId'
    | 'slackMessageTs'
    | 'errorCode'
    | 'errorMessage'
    | 'alpacaOrderId'
    | 'alpacaStatus'
    | 'alpacaFilledQty'
    | 'alpacaFilledPrice'
    | 'alpacaFilledAt'
  >
>;

export interface Fill {
  id: number;
  executionId: string;
  tradeId: number | null;
  symbol: string;
  side: Side;
  qty: Dec;
  price: Dec;
  portfolioName: string;
  filledAt: Date;
  source: FillSource;
  createdAt: Date;
}

export type NewFill = Omit<Fill, 'id' | 'createdAt'>;

/** Statuses after which nothing more will happen to an order: listUnsettled() skips them. */
const SETTLED = [...TERMINAL_STATUSES];

function toStoredSide(side: Side): StoredSide {
  return side === 'buy' ? 'BUY' : 'SELL';
}

function fromStoredSide(side: StoredSide): Side {
  return side === 'BUY' ? 'buy' : 'sell';
}

const decOrNull = (value: string | null | undefined): Dec | null => (value == null ? null : dec(value));
const storedDec = (value: Dec | null | undefined): string | null => (value == null ? null : decToString(value));

function toTrade(row: TradeRecord): Trade {
  return {
    id: row.id,
    tradeId: row.tradeId,
    clientOrderId: row.clientOrderId ?? null,
    source: row.source,
    status: row.status,
    symbol: row.symbol,
    side: fromStoredSide(row.side),
    quantity: decOrNull(row.quantity),
    notional: decOrNull(row.notional),
    gmv: decOrNull(row.gmv),
    orderType: row.orderType ?? null,
    timeInForce: row.timeInForce ?? null,
    limitPrice: decOrNull(row.limitPrice),
    stopPrice: decOrNull(row.stopPrice),
    extendedHours: row.extendedHours,
    portfolioName: row.portfolioName,
    userId: row.userId,
    timestamp: row.timestamp,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    submittedAt: row.submittedAt ?? null,
    marketOpenAtSubmit: row.marketOpenAtSubmit ?? null,
    slackChannelId: row.slackChannelId ?? null,
    slackMessageTs: row.slackMessageTs ?? null,
    errorCode: row.errorCode ?? null,
    errorMessage: row.errorMessage ?? null,
    alpacaOrderId: row.alpacaOrderId ?? null,
    alpacaStatus: row.alpacaStatus ?? null,
    alpacaFilledQty: decOrNull(row.alpacaFilledQty),
    alpacaFilledPrice: decOrNull(row.alpacaFilledPrice),
    alpacaFilledAt: row.alpacaFilledAt ?? null,
  };
}

function toFill(row: FillRecord): Fill {
  return {
    id: row.id,
    executionId: row.executionId,
    tradeId: row.trade ?? null,
    symbol: row.symbol,
    side: fromStoredSide(row.side),
    qty: dec(row.qty),
    price: dec(row.price),
    portfolioName: row.portfolioName,
    filledAt: row.filledAt,
    source: row.source,
    createdAt: row.createdAt,
  };
}

function patchData(patch: TradePatch): EntityData<TradeRecord> {
  const data: EntityData<TradeRecord> = {};
  if (patch.status !== undefined) data.status = patch.status;
  if (patch.quantity !== undefined) data.quantity = storedDec(patch.quantity);
  if (patch.gmv !== undefined) data.gmv = storedDec(patch.gmv);
  if (patch.submittedAt !== undefined) data.submittedAt = patch.submittedAt;
  if (patch.marketOpenAtSubmit !== undefined) data.marketOpenAtSubmit = patch.marketOpenAtSubmit;
  if (patch.slackChannelId !== undefined) data.slackChannelId = patch.slackChannelId;
  if (patch.slackMessageTs !== undefined) data.slackMessageTs = patch.slackMessageTs;
  if (patch.errorCode !== undefined) data.errorCode = patch.errorCode;
  if (patch.errorMessage !== undefined) data.errorMessage = patch.errorMessage;
  if (patch.alpacaOrderId !== undefined) data.alpacaOrderId = patch.alpacaOrderId;
  if (patch.alpacaStatus !== undefined) data.alpacaStatus = patch.alpacaStatus;
  if (patch.alpacaFilledQty !== undefined) data.alpacaFilledQty = storedDec(patch.alpacaFilledQty);
  if (patch.alpacaFilledPrice !== undefined) data.alpacaFilledPrice = storedDec(patch.alpacaFilledPrice);
  if (patch.alpacaFilledAt !== undefined) data.alpacaFilledAt = patch.alpacaFilledAt;
  return data;
}

/** Queries on `trades` and `fills`. Every call runs on its own forked EntityManager. */
export class TradeRepository {
  constructor(
    private readonly orm: Orm,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Writes the trade row before the broker is called. Idempotent on client_order_id: a Slack
   * redelivery or a double click gets the existing row back with created=false. The unique index
   * decides (INSERT … ON CONFLICT DO NOTHING), so concurrent callers cannot both create one.
   */
  async insertPending(row: NewTrade): Promise<{ trade: Trade; created: boolean }> {
    const em = this.orm.em.fork();
    const at = this.now();
    const result = await em
      .createQueryBuilder(TradeEntity)
      .insert({
        tradeId: row.tradeId ?? randomUUID(),
        clientOrderId: row.clientOrderId,
        source: row.source,
        status: 'pending_submit',
        symbol: row.symbol,
        side: toStoredSide(row.side),
        quantity: storedDec(row.quantity),
        notional: storedDec(row.notional),
        gmv: storedDec(row.gmv),
        orderType: row.orderType,
        timeInForce: row.timeInForce,
        limitPrice: storedDec(row.limitPrice),
        stopPrice: storedDec(row.stopPrice),
        extendedHours: row.extendedHours,
        portfolioName: row.portfolioName,
        userId: row.userId,
        slackChannelId: row.slackChannelId ?? null,
        marketOpenAtSubmit: row.marketOpenAtSubmit ?? null,
        timestamp: at,
        createdAt: at,
        updatedAt: at,
      })
      .onConflict('clientOrderId')
      .ignore()
      .execute('run');
    const trade = await em.findOneOrFail(TradeEntity, { clientOrderId: row.clientOrderId });
    return { trade: toTrade(trade), created: result.affectedRows > 0 };
  }

  async findById(id: number): Promise<Trade | null> {
    const row = await this.orm.em.fork().findOne(TradeEntity, { id });
    return row ? toTrade(row) : null;
  }

  async findByClientOrderId(clientOrderId: string): Promise<Trade | null> {
    const row = await this.orm.em.fork().findOne(TradeEntity, { clientOrderId });
    return row ? toTrade(row) : null;
  }

  async findByAlpacaOrderId(alpacaOrderId: string): Promise<Trade | null> {
    const row = await this.orm.em.fork().findOne(TradeEntity, { alpacaOrderId });
    return row ? toTrade(row) : null;
  }

  /** Applies the patch and returns the row as stored. Throws when no trade has that id. */
  async update(id: number, patch: TradePatch): Promise<Trade> {
    const em = this.orm.em.fork();
    const changed = await em.nativeUpdate(TradeEntity, { id }, { ...patchData(patch), updatedAt: this.now() });
    if (changed === 0) throw new Error(`No trade with id ${id}`);
    return toTrade(await em.findOneOrFail(TradeEntity, { id }));
  }

  /** Rows the broker still has to settle: `pending_submit` and every other non-terminal status, oldest first. */
  async listUnsettled(): Promise<Trade[]> {
    const rows = await this.orm.em.fork().find(TradeEntity, { status: { $nin: SETTLED } }, { orderBy: { id: 'asc' } });
    return rows.map(toTrade);
  }

  /** Stores one execution and its effect on positions in one transaction. Idempotent on execution_id: true when this call inserted it. */
  async recordFill(fill: NewFill): Promise<boolean> {
    const at = this.now();
    return this.orm.em.fork().transactional(async (em) => {
      const result = await em
        .createQueryBuilder(FillEntity)
        .insert({
          executionId: fill.executionId,
          trade: fill.tradeId,
          symbol: fill.symbol,
          side: toStoredSide(fill.side),
          qty: decToString(fill.qty),
          price: decToString(fill.price),
          portfolioName: fill.portfolioName,
          filledAt: fill.filledAt,
          source: fill.source,
          createdAt: at,
        })
        .onConflict('executionId')
        .ignore()
        .execute('run');
      if (result.affectedRows === 0) return false;
      await applyFillToPositions(em, { ...fill, id: result.insertId }, at);
      return true;
    });
  }

  async listFillsForTrade(tradeId: number): Promise<Fill[]> {
    const rows = await this.orm.em.fork().find(FillEntity, { trade: tradeId }, { orderBy: { filledAt: 'asc', id: 'asc' } });
    return rows.map(toFill);
  }

  /** Total quantity already stored as fills for one trade (the cap for further fills is the broker's filled_qty). */
  async filledQuantity(tradeId: number): Promise<Dec> {
    const row = await this.orm.em
      .fork()
      .createQueryBuilder(FillEntity, 'f')
      .select([raw('coalesce(sum(f.qty), 0) as total')])
      .where({ trade: tradeId })
      .execute<{ total: string | number | null }>('get');
    return dec(String(row?.total ?? 0)).toDecimalPlaces(9);
  }

  /**
   * What a portfolio holds of a symbol and can still sell: filled buys minus filled sells, minus the
   * unfilled part of sells still working (so two open sells cannot sell the same shares).
   */
  async sellableQuantity(portfolioName: string, symbol: string): Promise<Dec> {
    const em = this.orm.em.fork();
    const filled = await em
      .createQueryBuilder(FillEntity, 'f')
      .select([raw("coalesce(sum(case when f.side = 'BUY' then f.qty else -f.qty end), 0) as net")])
      .where({ portfolioName, symbol })
      .execute<{ net: string | number | null }>('get');
    const working = await em
      .createQueryBuilder(TradeEntity, 't')
      .select([raw('coalesce(sum(t.quantity - coalesce(t.alpaca_filled_qty, 0)), 0) as open')])
      .where({ portfolioName, symbol, side: 'SELL', status: { $nin: SETTLED }, quantity: { $ne: null } })
      .execute<{ open: string | number | null }>('get');
    return dec(String(filled?.net ?? 0))
      .minus(dec(String(working?.open ?? 0)))
      .toDecimalPlaces(9);
  }
}
