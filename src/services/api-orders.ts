import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiKeyRepository } from '../db/repositories/api-key-repository';
import { isApprovalEnding } from '../domain/approvals';
import type { MarketDescription } from '../domain/market-hours';
import type { Dec } from '../domain/money';
import { isTerminal, type OrderType, type Side, type TimeInForce } from '../domain/order';
import type { OrderFormErrors, OrderFormInput } from '../domain/order-form';
import type { Trade } from '../domain/trade';
import type { OrderEntryService } from './order-entry';
import type { OrderQueries } from './order-queries';
import type { OrderSubmitter } from './order-submission';

/** An order as a program asks for it, already in domain terms (the HTTP layer checked its shape). */
export interface ApiOrderRequest {
  symbol: string;
  side: Side;
  quantity?: Dec;
  notional?: Dec;
  gmv?: Dec;
  portfolioName: string;
  userId: string;
  orderType: OrderType;
  limitPrice?: Dec;
  stopPrice?: Dec;
  timeInForce: TimeInForce;
  extendedHours: boolean;
  /** While the market is shut: refuse (the default) or let Alpaca queue it for the open. */
  whenClosed: 'refuse' | 'queue';
}

/** Where an order stands when the API answers; the HTTP layer turns it into a status code. */
export type ApiOrderOutcome =
  /** Filled at Alpaca (or recorded, in ledger-only mode). */
  | 'filled'
  /** Acknowledged but not filled within the wait, or queued for the open. */
  | 'accepted'
  | 'insufficient_buying_power'
  | 'rejected'
  | 'rate_limited'
  /** Definitely not placed: Alpaca was unavailable. */
  | 'not_placed'
  /** Alpaca didn't answer and the order could not be confirmed: it is being checked. */
  | 'unconfirmed'
  /** Above APPROVAL_THRESHOLD_NOTIONAL: recorded, not sent, waiting for an approver. */
  | 'pending_approval'
  /** Ended at approval (rejected, withdrawn or expired; its error_code says which): never sent. */
  | 'not_approved';

export type ApiOrderResult =
  | { kind: 'invalid'; errors: OrderFormErrors }
  | { kind: 'market_closed'; market: MarketDescription }
  | { kind: 'idempotency_conflict' }
  | { kind: 'placed'; trade: Trade; outcome: ApiOrderOutcome };

export interface ApiOrderOptions {
  /** How long the answer waits for the fill before saying "accepted" (API_FILL_WAIT_MS). */
  fillWaitMs: number;
  /** Where API orders' confirmations are posted in Slack (API_ORDERS_CHANNEL_ID). */
  confirmationChannelId?: string;
  pollMs?: number;
}

const DEFAULT_POLL_MS = 100;
/** A request waiting for another with the same Idempotency-Key gives up after the fill wait plus this. */
const IDEMPOTENT_WAIT_MARGIN_MS = 15_000;

/**
 * Orders placed through the HTTP API: the same review, row-first recording and exactly-once
 * submission as a Slack order — one core, two front doors. An Idempotency-Key becomes the order's
 * client_order_id, so the same key can never make a second order, even across a restart; the first
 * answer is remembered and replayed for a retry with the same body. Knows nothing of HTTP.
 */
export class ApiOrderService {
  constructor(
    private readonly entry: OrderEntryService,
    private readonly submitter: OrderSubmitter,
    private readonly queries: OrderQueries,
    private readonly requests: ApiKeyRepository,
    private readonly options: ApiOrderOptions,
  ) {}

  async place(
    request: ApiOrderRequest,
    caller: { callerId: string; idempotencyKey?: string },
  ): Promise<ApiOrderResult> {
    if (caller.idempotencyKey === undefined) return this.placeOnce(request, `oms-api-${randomUUID()}`);
    const keyHash = sha256(`${caller.callerId}\n${caller.idempotencyKey}`);
    const requestHash = sha256(JSON.stringify(canonical(request)));
    // Derived from the key, so a second row for it is impossible whatever happens to api_requests.
    const clientOrderId = `oms-api-${keyHash.slice(0, 32)}`;
    const claim = await this.requests.claimRequest({ keyHash, requestHash, clientOrderId });
    if (claim.request.requestHash !== requestHash) return { kind: 'idempotency_conflict' };
    if (!claim.created) return this.replay(keyHash, clientOrderId, request);
    const result = await this.placeOnce(request, clientOrderId).catch(async (err: unknown) => {
      // Once the order exists the key stays with it, so a retry with another body is still refused.
      if (!(await this.queries.findByClientOrderId(clientOrderId))) await this.requests.forgetRequest(keyHash);
      throw err;
    });
    // A refusal before any order existed may be fixed and sent again under the same key.
    if (result.kind !== 'placed') {
      await this.requests.forgetRequest(keyHash);
      return result;
    }
    return this.finishFor(keyHash, result);
  }

  private async placeOnce(request: ApiOrderRequest, clientOrderId: string): Promise<ApiOrderResult> {
    // Carrying on for a request that died after recording its order: that order, sent if it never was.
    const existing = await this.queries.findByClientOrderId(clientOrderId);
    if (existing) return this.placed(await this.sendIfUnsent(existing));
    if (!this.entry.ledgerOnly && request.whenClosed === 'refuse' && !request.extendedHours) {
      const market = await this.entry.market();
      if (market && !market.open) return { kind: 'market_closed', market };
    }
    const review = await this.entry.review({
      userId: request.userId,
      clientOrderId,
      source: 'api',
      channelId: this.options.confirmationChannelId,
      form: formOf(request),
    });
    if (review.kind === 'invalid') return review;
    return this.placed(await this.sendIfUnsent(review.trade));
  }

  /** Sending is safe to repeat: it acts only on a row still unsent and not being sent by another pass. */
  private sendIfUnsent(trade: Trade): Promise<Trade> {
    return isUnsent(trade) ? this.submitter.submit(trade.id) : Promise.resolve(trade);
  }

  private async placed(submitted: Trade): Promise<ApiOrderResult> {
    const trade = await this.awaitFill(submitted);
    return { kind: 'placed', trade, outcome: outcomeOf(trade) };
  }

  /**
   * Another request with this key got there first: its answer, once it has one, is this one's too.
   * An order already finished answers at once (the first request may have died with the process).
   */
  private async replay(keyHash: string, clientOrderId: string, request: ApiOrderRequest): Promise<ApiOrderResult> {
    const patience = this.options.fillWaitMs + IDEMPOTENT_WAIT_MARGIN_MS;
    const deadline = Date.now() + patience;
    let triedSending = false;
    for (;;) {
      const stored = await this.requests.findRequest(keyHash);
      const trade = await this.queries.findByClientOrderId(clientOrderId);
      if (stored?.outcome && trade) return { kind: 'placed', trade, outcome: stored.outcome as ApiOrderOutcome };
      // Not sent yet, or left unconfirmed by an earlier answer: try sending it once (safe to repeat:
      // the row's lease lets one pass through). While another pass holds it, wait for that pass.
      if (stored && trade && isUnsent(trade) && !triedSending) {
        triedSending = true;
        const sent = await this.sendIfUnsent(trade);
        if (!isUnsent(sent)) return this.finishFor(keyHash, await this.placed(sent));
        continue;
      }
      // Waiting for an approver can last minutes: say so now rather than wait for it.
      if (stored && trade?.status === 'pending_approval') return { kind: 'placed', trade, outcome: 'pending_approval' };
      if (stored && trade && isTerminal(trade.status)) {
        const outcome = (await this.requests.answerRequest(keyHash, outcomeOf(trade))) as ApiOrderOutcome;
        return { kind: 'placed', trade, outcome };
      }
      // The first request is gone without an answer (a refusal, or the process died): carry on in its place.
      const abandoned = !stored || Date.now() > deadline || Date.now() - stored.createdAt.getTime() > patience;
      if (abandoned) return this.finishFor(keyHash, await this.placeOnce(request, clientOrderId));
      await sleep(this.pollMs);
    }
  }

  /**
   * A retry that found the order finished may have answered first: every answer is the one recorded.
   * "Unconfirmed" and "pending approval" are not answers but states that end later: a retry then
   * says what the order became.
   */
  private async finishFor(keyHash: string, result: ApiOrderResult): Promise<ApiOrderResult> {
    if (result.kind !== 'placed' || result.outcome === 'unconfirmed' || result.outcome === 'pending_approval')
      return result;
    return { ...result, outcome: (await this.requests.answerRequest(keyHash, result.outcome)) as ApiOrderOutcome };
  }

  /**
   * Waits up to the fill wait for an acknowledged order to fill (or end); a fill may land on any
   * instance. An order queued while the market is shut can't fill before the open: no wait.
   */
  private async awaitFill(trade: Trade): Promise<Trade> {
    if (trade.marketOpenAtSubmit === false && !trade.extendedHours) return trade;
    const deadline = Date.now() + this.options.fillWaitMs;
    let current = trade;
    // An unsent row here is being sent by another pass (a concurrent retry holds its lease): wait for it too.
    while (!isTerminal(current.status) && (isWorking(current) || isUnsent(current)) && Date.now() < deadline) {
      await sleep(Math.min(this.pollMs, Math.max(0, deadline - Date.now())));
      current = (await this.queries.find(trade.id)) ?? current;
    }
    return current;
  }

  private get pollMs(): number {
    return this.options.pollMs ?? DEFAULT_POLL_MS;
  }
}

/** Recorded but not (or not knowingly) at Alpaca yet. */
function isUnsent(trade: Trade): boolean {
  return trade.status === 'pending_submit' || (trade.status === 'submitted' && !trade.alpacaOrderId);
}

function isWorking(trade: Trade): boolean {
  return trade.status === 'accepted' || trade.status === 'partially_filled';
}

function outcomeOf(trade: Trade): ApiOrderOutcome {
  // Its ending reuses a broker status (canceled, rejected, expired), but nothing ever reached Alpaca.
  if (isApprovalEnding(trade.errorCode)) return 'not_approved';
  switch (trade.status) {
    case 'filled':
      return 'filled';
    case 'rejected':
      return trade.errorKind === 'insufficient_buying_power' ? 'insufficient_buying_power' : 'rejected';
    case 'failed':
      return trade.errorKind === 'rate_limited' ? 'rate_limited' : 'not_placed';
    case 'pending_submit':
    case 'submitted':
      return 'unconfirmed';
    case 'pending_approval':
      return 'pending_approval';
    default:
      return 'accepted';
  }
}

/** The API's fields as the order form would have them, so both go through one validator with one set of sentences. */
function formOf(request: ApiOrderRequest): OrderFormInput {
  const text = (value: Dec | undefined) => (value === undefined ? '' : value.toFixed());
  return {
    portfolio: request.portfolioName,
    symbol: request.symbol,
    side: request.side,
    quantity: text(request.quantity),
    amount: text(request.notional),
    orderType: request.orderType,
    limitPrice: text(request.limitPrice),
    stopPrice: text(request.stopPrice),
    timeInForce: request.timeInForce,
    extendedHours: request.extendedHours,
    gmv: text(request.gmv),
  };
}

/** The request as compared for idempotency: decimals by value, so 10 and 10.0 are one body. */
function canonical(request: ApiOrderRequest): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(request)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, typeof value === 'object' && value !== null ? String(value) : value])
      .sort(([a], [b]) => String(a).localeCompare(String(b))),
  );
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
