import { type Broker, isLedgerOnly } from '../broker/broker';
import type { ApprovalRepository } from '../db/repositories/approval-repository';
import type { PositionRepository } from '../db/repositories/position-repository';
import type { ApprovalDecisionResult, ApprovalRequestRow, TradeRepository } from '../db/repositories/trade-repository';
import {
  APPROVAL_ERROR_CODES,
  type ApprovalDecision,
  type ApprovalPolicy,
  type ApprovalRequest,
  approvalDeadline,
  checkApprovalFreshness,
  endingSentence,
  needsApproval,
  requestPrice,
} from '../domain/approvals';
import { describeError } from '../domain/errors';
import { referencePrice } from '../domain/market';
import { type Dec, dec } from '../domain/money';
import { approvalDecided, approvalRequested, type Notification, traderChanged } from '../domain/notifications';
import type { Trade, TradePatch } from '../domain/trade';
import type { Logger } from '../logger';
import type { OrderSubmitter } from './order-submission';
import { within } from './time-budget';

/** A fresh price asked of Alpaca for an approval gives up after this long (and then fails closed). */
const PRICE_BUDGET_MS = 3_000;
/**
 * The price recorded with a rejection or withdrawal is only for the record: the cached quote, and
 * quickly, since a rejection is decided inside the reject form's 3 s ack.
 */
const RECORD_PRICE_BUDGET_MS = 800;
/** The clock only dates the hand-over (open or queued): without it in time the order is sent all the same. */
const CLOCK_BUDGET_MS = 1_500;
/** The expiry sweep ends at most this many requests per pass; the next pass takes the rest. */
const EXPIRY_BATCH = 100;

/** Everything a request for approval shows: the order, the request, the trader's position, who may approve. */
export interface ApprovalDetails {
  trade: Trade;
  request: ApprovalRequest;
  /** What the order's portfolio holds of its symbol now (filled shares). */
  position: Dec;
  approvers: readonly string[];
  deadline: Date;
}

export type ApprovalOutcome =
  /** Approved and handed to the submission path; `trade` is the order as it then stands. */
  | { kind: 'approved'; trade: Trade }
  | { kind: 'rejected' | 'withdrawn'; trade: Trade }
  /** Too old, or the price moved: ended without placing, and the trader asked to request again. */
  | { kind: 'expired'; trade: Trade; message: string }
  /** Not allowed, not found, or already decided: nothing changed. */
  | { kind: 'refused'; message: string };

/**
 * Maker-checker approval of large orders: which orders need it, and approving, rejecting,
 * withdrawing and expiring them — each exactly once, through a conditional state change in the
 * database — with approval handing the order to the normal submission path. Knows nothing of Slack.
 */
export class OrderApprovals {
  private readonly now: () => Date;

  constructor(
    private readonly trades: TradeRepository,
    private readonly approvals: ApprovalRepository,
    private readonly positions: Pick<PositionRepository, 'listForPortfolio'>,
    private readonly submitter: Pick<OrderSubmitter, 'submit'>,
    private readonly broker: Pick<Broker, 'kind' | 'getSnapshots' | 'getClock'>,
    private readonly logger: Logger,
    private readonly options: {
      policy: ApprovalPolicy;
      /** A quote fresher than the broker's cache (CachedBroker.getFreshSnapshots); getSnapshots otherwise. */
      freshQuotes?: (symbols: readonly string[]) => Promise<Map<string, { lastPrice?: Dec; bid?: Dec; ask?: Dec }>>;
      now?: () => Date;
    },
  ) {
    this.now = options.now ?? (() => new Date());
  }

  get enabled(): boolean {
    return this.options.policy.thresholdNotional !== undefined;
  }

  get approvers(): readonly string[] {
    return this.options.policy.approverUserIds;
  }

  get ttlMinutes(): number {
    return this.options.policy.ttlMinutes;
  }

  isApprover(userId: string): boolean {
    return this.options.policy.approverUserIds.includes(userId);
  }

  async details(tradeId: number): Promise<ApprovalDetails | undefined> {
    const [trade, request] = await Promise.all([this.trades.findById(tradeId), this.approvals.findByTradeId(tradeId)]);
    if (!trade || !request) return undefined;
    const held = (await this.positions.listForPortfolio(trade.portfolioName)).find((p) => p.symbol === trade.symbol);
    return {
      trade,
      request,
      position: held?.qty ?? dec(0),
      approvers: this.approvers,
      deadline: approvalDeadline(request.requestedAt, this.ttlMinutes),
    };
  }

  recordMessage(tradeId: number, channelId: string, messageTs: string): Promise<void> {
    return this.approvals.recordMessage(tradeId, channelId, messageTs);
  }

  /**
   * What awaits `userId`: the first `limit` requests they may decide (approvers only, never their own)
   * with how many there are in all, and their own requests.
   */
  async pendingFor(
    userId: string,
    limit: number,
  ): Promise<{ toDecide: ApprovalDetails[]; toDecideTotal: number; mine: ApprovalDetails[] }> {
    const approver = this.isApprover(userId);
    const [toDecide, toDecideTotal, mine] = await Promise.all([
      approver ? this.approvals.listPending({ notRequestedBy: userId, limit }) : [],
      approver ? this.approvals.countPending({ notRequestedBy: userId }) : 0,
      this.approvals.listPending({ requestedBy: userId, limit }),
    ]);
    const load = async (requests: ApprovalRequest[]) =>
      (await Promise.all(requests.map((r) => this.details(r.tradeId)))).filter(
        (d): d is ApprovalDetails => d !== undefined && d.trade.status === 'pending_approval',
      );
    return { toDecide: await load(toDecide), toDecideTotal, mine: await load(mine) };
  }

  /**
   * For order entry: the request to record with an order worth more than the threshold (and who is
   * told of it), or undefined when it goes straight through. The price at request is the quote the
   * order was valued at — nothing is asked of Alpaca, since order entry answers inside Slack's ack;
   * without a price the order can't wait for approval ('unpriced').
   */
  requestFor(order: {
    estimatedValue: Dec | undefined;
    /** The (cached) quote the order was valued at. */
    quotedPrice?: Dec;
    gmv?: Dec;
    qty?: Dec;
  }): ApprovalRequestRow | 'unpriced' | undefined {
    const { estimatedValue } = order;
    if (!needsApproval(estimatedValue, this.options.policy.thresholdNotional) || estimatedValue === undefined)
      return undefined;
    const priceAtRequest = requestPrice({ lastPrice: order.quotedPrice, gmv: order.gmv, qty: order.qty });
    if (!priceAtRequest) return 'unpriced';
    return {
      priceAtRequest,
      estimatedValue,
      notifications: (trade) => [approvalRequested(trade.id), ...this.approvers.map((id) => traderChanged(id))],
    };
  }

  /**
   * An approver approves: never the order's own trader. Within the TTL and the allowed price move
   * the order leaves pending_approval exactly once and goes to the normal submission path;
   * otherwise it ends expired and the trader is asked for a fresh request.
   */
  async approve(tradeId: number, userId: string): Promise<ApprovalOutcome> {
    const loaded = await this.loadPending(tradeId);
    if ('refused' in loaded) return { kind: 'refused', message: loaded.refused };
    const { trade, request } = loaded;
    if (userId === trade.userId)
      return { kind: 'refused', message: 'You placed this order, so someone else has to approve it.' };
    if (!this.isApprover(userId)) return { kind: 'refused', message: notAnApprover(this.approvers) };

    // Both bounded, and fetched before the freshness check, so their wait counts against the TTL.
    const [price, clock] = await Promise.all([
      this.currentPrice(trade.symbol),
      within(CLOCK_BUDGET_MS, this.broker.getClock()).catch(() => undefined),
    ]);
    const fresh = checkApprovalFreshness({
      request,
      symbol: trade.symbol,
      now: this.now(),
      currentPrice: price,
      policy: this.options.policy,
    });
    if (!fresh.ok) {
      const ended = await this.end(trade, 'expire', userId, fresh.reason, price ?? undefined);
      if (ended.kind !== 'decided') return alreadyDecided(ended);
      this.logger.info(
        { trade_id: tradeId, approver: userId, reason: fresh.reason },
        'approval too late; order expired',
      );
      return {
        kind: 'expired',
        trade: ended.trade,
        message: `${fresh.reason}, so the order was not placed. The trader has been asked to place it again.`,
      };
    }
    const at = this.now();
    const decided = await this.trades.decideApproval({
      tradeId,
      decision: 'approve',
      userId,
      priceAtDecision: price ?? undefined,
      // From now on it is an order like any other; submittedAt dates the hand-over, so a restart
      // right after the approval still sends it (within the settle pass's resend window).
      patch: { status: 'pending_submit', submittedAt: at, marketOpenAtSubmit: clock ? clock.isOpen : null },
      notifications: this.decisionNotifications(tradeId),
    });
    if (decided.kind !== 'decided') return alreadyDecided(decided);
    this.logger.info({ trade_id: tradeId, approver: userId }, 'order approved; sending it');
    return { kind: 'approved', trade: await this.submitter.submit(tradeId) };
  }

  /**
   * Whether `userId` may reject the order now (before the reason form opens): the order, or the sentence
   * saying why not (already decided, not found, their own order, not an approver).
   */
  async rejectable(tradeId: number, userId: string): Promise<{ trade: Trade } | { refused: string }> {
    if (!this.isApprover(userId)) return { refused: notAnApprover(this.approvers) };
    const loaded = await this.loadPending(tradeId);
    if ('refused' in loaded) return loaded;
    if (userId === loaded.trade.userId)
      return { refused: 'This is your own order: withdraw it from its confirmation instead.' };
    return { trade: loaded.trade };
  }

  /** An approver rejects, with a reason the trader is shown. */
  async reject(tradeId: number, userId: string, reason: string): Promise<ApprovalOutcome> {
    const checked = await this.rejectable(tradeId, userId);
    if ('refused' in checked) return { kind: 'refused', message: checked.refused };
    const { trade } = checked;
    const price = await this.currentPrice(trade.symbol, { fresh: false, budgetMs: RECORD_PRICE_BUDGET_MS });
    const ended = await this.end(trade, 'reject', userId, reason, price ?? undefined);
    if (ended.kind !== 'decided') return alreadyDecided(ended);
    this.logger.info({ trade_id: tradeId, approver: userId }, 'order rejected by an approver');
    return { kind: 'rejected', trade: ended.trade };
  }

  /**
   * Withdraws a request still waiting, for whoever OrderCanceller let cancel it (the trader, an admin,
   * or an API key: `userId` is recorded as who decided). The order ends; nothing reaches the broker.
   */
  async withdraw(tradeId: number, userId: string): Promise<ApprovalOutcome> {
    const loaded = await this.loadPending(tradeId);
    if ('refused' in loaded) return { kind: 'refused', message: loaded.refused };
    const price = await this.currentPrice(loaded.trade.symbol, { fresh: false, budgetMs: RECORD_PRICE_BUDGET_MS });
    const ended = await this.end(loaded.trade, 'withdraw', userId, undefined, price ?? undefined);
    if (ended.kind !== 'decided') return alreadyDecided(ended);
    return { kind: 'withdrawn', trade: ended.trade };
  }

  /** The leader's sweep: requests past their TTL without a decision end expired. Returns how many it ended. */
  async expireOverdue(): Promise<number> {
    const cutoff = new Date(this.now().getTime() - this.ttlMinutes * 60_000);
    let expired = 0;
    for (const request of await this.approvals.listPending({ before: cutoff, limit: EXPIRY_BATCH })) {
      try {
        const trade = await this.trades.findById(request.tradeId);
        if (trade?.status !== 'pending_approval') continue;
        const reason = `Nobody approved it within ${this.ttlMinutes} minutes`;
        if ((await this.end(trade, 'expire', undefined, reason)).kind === 'decided') expired += 1;
      } catch (err) {
        this.logger.warn(
          { trade_id: request.tradeId, err: describeError(err) },
          'could not expire an approval request',
        );
      }
    }
    if (expired > 0) this.logger.info({ expired }, 'expired approval requests nobody decided in time');
    return expired;
  }

  private end(
    trade: Trade,
    decision: Exclude<ApprovalDecision, 'approve'>,
    userId: string | undefined,
    detail?: string,
    price?: Dec,
  ): Promise<ApprovalDecisionResult> {
    const status = decision === 'reject' ? 'rejected' : decision === 'withdraw' ? 'canceled' : 'expired';
    const patch: TradePatch = {
      status,
      errorCode: APPROVAL_ERROR_CODES[decision],
      errorKind: APPROVAL_ERROR_CODES[decision],
      errorMessage: endingSentence(decision, detail),
    };
    return this.trades.decideApproval({
      tradeId: trade.id,
      decision,
      userId,
      reason: detail,
      priceAtDecision: price,
      patch,
      notifications: this.decisionNotifications(trade.id),
    });
  }

  private decisionNotifications(tradeId: number): Notification[] {
    return [approvalDecided(tradeId), ...this.approvers.map((id) => traderChanged(id))];
  }

  private async loadPending(
    tradeId: number,
  ): Promise<{ trade: Trade; request: ApprovalRequest } | { refused: string }> {
    const [trade, request] = await Promise.all([this.trades.findById(tradeId), this.approvals.findByTradeId(tradeId)]);
    if (!trade || !request) return { refused: 'That order is not waiting for approval.' };
    if (request.decision || trade.status !== 'pending_approval') return { refused: decidedSentence(request) };
    return { trade, request };
  }

  /** The price now: null in ledger-only mode (no market prices: not checked), undefined when none could be had. */
  private async currentPrice(
    symbol: string,
    options = { fresh: true, budgetMs: PRICE_BUDGET_MS },
  ): Promise<Dec | null | undefined> {
    if (isLedgerOnly(this.broker)) return null;
    const cached = (symbols: readonly string[]) => this.broker.getSnapshots(symbols);
    const quotes = options.fresh ? (this.options.freshQuotes ?? cached) : cached;
    try {
      return referencePrice((await within(options.budgetMs, quotes([symbol]))).get(symbol));
    } catch (err) {
      this.logger.warn({ symbol, err: describeError(err) }, 'no current price for an approval decision');
      return undefined;
    }
  }
}

function notAnApprover(approvers: readonly string[]): string {
  return `Only the approvers can decide this (${approvers.map((id) => `<@${id}>`).join(', ')}).`;
}

function decidedSentence(request: ApprovalRequest): string {
  const who = request.decidedBy ? ` by <@${request.decidedBy}>` : '';
  switch (request.decision) {
    case 'approve':
      return `This order was already approved${who}; it was placed once.`;
    case 'reject':
      return `This order was already rejected${who}.`;
    case 'withdraw':
      return 'The trader withdrew this request.';
    case 'expire':
      return 'This request has expired; the trader has been asked to place the order again.';
    default:
      return 'This order is no longer waiting for approval.';
  }
}

function alreadyDecided(result: ApprovalDecisionResult): ApprovalOutcome {
  return {
    kind: 'refused',
    message:
      result.kind === 'missing'
        ? 'That order is not in our books.'
        : 'Someone decided this order a moment ago; nothing more was done.',
  };
}
