import type { ApprovalRequest } from '../../domain/approvals';
import { dec } from '../../domain/money';
import { ApprovalEntity, type ApprovalRecord } from '../entities';
import type { Orm } from '../orm';

function toApproval(row: ApprovalRecord): ApprovalRequest {
  return {
    id: row.id,
    tradeId: row.trade,
    requestedBy: row.requestedBy,
    requestedAt: row.requestedAt,
    priceAtRequest: dec(row.priceAtRequest),
    estimatedValue: dec(row.estimatedValue),
    channelId: row.channelId ?? null,
    messageTs: row.messageTs ?? null,
    decision: row.decision ?? null,
    decidedBy: row.decidedBy ?? null,
    decidedAt: row.decidedAt ?? null,
    reason: row.reason ?? null,
    priceAtDecision: row.priceAtDecision == null ? null : dec(row.priceAtDecision),
  };
}

interface PendingQuery {
  requestedBy?: string;
  notRequestedBy?: string;
  before?: Date;
}

function pendingWhere(query: PendingQuery) {
  return {
    decision: null,
    ...(query.requestedBy ? { requestedBy: query.requestedBy } : {}),
    ...(query.notRequestedBy ? { requestedBy: { $ne: query.notRequestedBy } } : {}),
    ...(query.before ? { requestedAt: { $lt: query.before } } : {}),
  };
}

/**
 * Reads of `approvals` and where each request was posted. Decisions are written with the order's
 * change, in TradeRepository.decideApproval, so the two never disagree.
 */
export class ApprovalRepository {
  constructor(private readonly orm: Orm) {}

  async findByTradeId(tradeId: number): Promise<ApprovalRequest | undefined> {
    const row = await this.orm.em.fork().findOne(ApprovalEntity, { trade: tradeId });
    return row ? toApproval(row) : undefined;
  }

  /**
   * Undecided requests, oldest first: all of them, only one trader's, all but one trader's (what they
   * may decide), or only those requested before `before` (the expiry sweep). An order leaves
   * pending_approval only with its decision (TradeRepository.decideApproval), so undecided means still waiting.
   */
  async listPending(query: PendingQuery & { limit: number }): Promise<ApprovalRequest[]> {
    const rows = await this.orm.em
      .fork()
      .find(ApprovalEntity, pendingWhere(query), { orderBy: { requestedAt: 'asc', id: 'asc' }, limit: query.limit });
    return rows.map(toApproval);
  }

  /** How many undecided requests match, however many are listed. */
  async countPending(query: PendingQuery = {}): Promise<number> {
    return this.orm.em.fork().count(ApprovalEntity, pendingWhere(query));
  }

  /** Where the request was posted, so its outcome edits it in place and its decisions reply in its thread. */
  async recordMessage(tradeId: number, channelId: string, messageTs: string): Promise<void> {
    await this.orm.em.fork().nativeUpdate(ApprovalEntity, { trade: tradeId }, { channelId, messageTs });
  }
}
