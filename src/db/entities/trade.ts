import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import type { OrderType, TimeInForce, TradeStatus } from '../../domain/order';
import type { TradeSource } from '../../domain/trade';

/** The earlier OMS stored sides upper-case; the column keeps that spelling so old rows stay valid. */
export const STORED_SIDES = ['BUY', 'SELL'] as const;
export type StoredSide = (typeof STORED_SIDES)[number];

/**
 * `trades`: the earlier OMS's columns (names kept), the broker's view of the order, and what
 * exactly-once placement needs. Decimals are strings here; repositories convert to Dec.
 * quantity is NULL only for a notional order not yet filled, gmv until a value is known.
 */
export const TradeEntity = defineEntity({
  name: 'Trade',
  tableName: 'trades',
  properties: {
    id: p.integer().primary().autoincrement(),
    tradeId: p.string().length(255).unique(),
    symbol: p.string().length(32),
    quantity: p.decimal().precision(24).scale(9).nullable(),
    gmv: p.decimal().precision(18).scale(2).nullable(),
    side: p.enum([...STORED_SIDES]),
    portfolioName: p.string().length(255),
    userId: p.string().length(255),
    timestamp: p.datetime(),
    createdAt: p.datetime(),

    alpacaOrderId: p.string().length(64).unique().nullable(),
    alpacaFilledPrice: p.decimal().precision(18).scale(6).nullable(),
    alpacaFilledQty: p.decimal().precision(24).scale(9).nullable(),
    alpacaStatus: p.string().length(32).nullable(),
    alpacaFilledAt: p.datetime().nullable(),
    /** The broker's updated_at of the snapshot last applied: an older one never overwrites it. */
    alpacaUpdatedAt: p.datetime().nullable(),

    clientOrderId: p.string().length(128).unique().nullable(),
    orderType: p.string().$type<OrderType>().length(16).nullable(),
    timeInForce: p.string().$type<TimeInForce>().length(8).nullable(),
    limitPrice: p.decimal().precision(18).scale(6).nullable(),
    stopPrice: p.decimal().precision(18).scale(6).nullable(),
    notional: p.decimal().precision(18).scale(2).nullable(),
    extendedHours: p.boolean().default(false),
    status: p.string().$type<TradeStatus>().length(32).index(),
    errorCode: p.string().length(64).nullable(),
    errorKind: p.string().length(32).nullable(),
    errorMessage: p.text().nullable(),
    slackChannelId: p.string().length(32).nullable(),
    slackMessageTs: p.string().length(32).nullable(),
    marketOpenAtSubmit: p.boolean().nullable(),
    submittedAt: p.datetime().nullable(),
    updatedAt: p.datetime(),
    source: p.string().$type<TradeSource>().length(16),
    /** Who is sending this order to the broker, and until when: no other pass settles or fails it meanwhile. */
    submitLeaseOwner: p.string().length(64).nullable(),
    submitLeaseUntil: p.datetime().nullable(),
  },
});

export type TradeRecord = InferEntity<typeof TradeEntity>;
