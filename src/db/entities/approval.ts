import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import type { ApprovalDecision } from '../../domain/approvals';
import { TradeEntity } from './trade';

/**
 * `approvals`: one row per order that needed an approver — who asked, when, at what price, where
 * the request was posted — and, once decided, the decision: who, when, approve / reject / withdraw
 * / expire, why, and the price then. `decision` is written once (NULL = still pending).
 */
export const ApprovalEntity = defineEntity({
  name: 'Approval',
  tableName: 'approvals',
  properties: {
    id: p.integer().primary().autoincrement(),
    trade: p.manyToOne(TradeEntity).mapToPk().deleteRule('restrict').unique(),
    requestedBy: p.string().length(255),
    requestedAt: p.datetime(),
    priceAtRequest: p.decimal().precision(18).scale(6),
    estimatedValue: p.decimal().precision(18).scale(2),
    channelId: p.string().length(32).nullable(),
    messageTs: p.string().length(32).nullable(),
    decision: p.string().$type<ApprovalDecision>().length(16).nullable().index(),
    decidedBy: p.string().length(255).nullable(),
    decidedAt: p.datetime().nullable(),
    reason: p.text().nullable(),
    priceAtDecision: p.decimal().precision(18).scale(6).nullable(),
  },
});

export type ApprovalRecord = InferEntity<typeof ApprovalEntity>;
