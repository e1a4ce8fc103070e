import { Dec, formatUsd } from './money';

/**
 * Maker-checker approval of large orders: an order worth more than the threshold waits, unsent, as
 * `pending_approval` until an approver (never its trader) approves, rejects, the trader withdraws
 * it, or it expires. Pure rules; the books and Slack live elsewhere.
 */

export const APPROVAL_DECISIONS = ['approve', 'reject', 'withdraw', 'expire'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

/** How the order row records an ending decided here (its error code); none of them ever reached the broker. */
export const APPROVAL_ERROR_CODES = {
  reject: 'approval_rejected',
  withdraw: 'approval_withdrawn',
  expire: 'approval_expired',
} as const;

export function isApprovalEnding(errorCode: string | null | undefined): boolean {
  return Object.values(APPROVAL_ERROR_CODES).some((code) => code === errorCode);
}

export interface ApprovalPolicy {
  /** Undefined: approval is off. */
  thresholdNotional?: Dec;
  approverUserIds: readonly string[];
  ttlMinutes: number;
  maxPriceMovePct: Dec;
}

/** One request for approval and, once decided, its decision (one row of `approvals` per order). */
export interface ApprovalRequest {
  id: number;
  tradeId: number;
  requestedBy: string;
  requestedAt: Date;
  priceAtRequest: Dec;
  estimatedValue: Dec;
  /** Where the request was posted (the approvals channel) once it was. */
  channelId: string | null;
  messageTs: string | null;
  decision: ApprovalDecision | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  reason: string | null;
  priceAtDecision: Dec | null;
}

/** Strictly above the threshold waits; at or below it goes straight through. */
export function needsApproval(estimatedValue: Dec | undefined, threshold: Dec | undefined): boolean {
  if (threshold === undefined) return false;
  return estimatedValue?.gt(threshold) ?? false;
}

export function approvalDeadline(requestedAt: Date, ttlMinutes: number): Date {
  return new Date(requestedAt.getTime() + ttlMinutes * 60_000);
}

/** The price move since the request, in percent of the price at request (absolute value). */
export function priceMovePct(atRequest: Dec, now: Dec): Dec {
  return now.minus(atRequest).abs().div(atRequest).times(100);
}

export type Freshness = { ok: true } | { ok: false; reason: string };

/**
 * Whether an approval given now may still place the order: within the TTL of the request, and with
 * the current price within the allowed move of the price at request. No current price fails closed.
 * `currentPrice` null means "not checked" (ledger-only mode has no market prices).
 */
export function checkApprovalFreshness(args: {
  request: Pick<ApprovalRequest, 'requestedAt' | 'priceAtRequest'>;
  symbol: string;
  now: Date;
  currentPrice: Dec | undefined | null;
  policy: Pick<ApprovalPolicy, 'ttlMinutes' | 'maxPriceMovePct'>;
}): Freshness {
  const { request, symbol, now, currentPrice, policy } = args;
  if (now.getTime() > approvalDeadline(request.requestedAt, policy.ttlMinutes).getTime()) {
    return {
      ok: false,
      reason: `The request is more than ${policy.ttlMinutes} minutes old, too old to approve`,
    };
  }
  if (currentPrice === null) return { ok: true };
  if (currentPrice === undefined || currentPrice.lte(0)) {
    return { ok: false, reason: `We couldn’t get a current price for ${symbol} to compare with the request` };
  }
  const move = priceMovePct(request.priceAtRequest, currentPrice);
  if (move.gt(policy.maxPriceMovePct)) {
    // Two decimals rounded up: a move past the limit never reads as the limit itself.
    return {
      ok: false,
      reason:
        `${symbol} moved ${move.toFixed(2, Dec.ROUND_UP)}% since the request ` +
        `(${formatUsd(request.priceAtRequest)} → ${formatUsd(currentPrice)}), ` +
        `more than the ${policy.maxPriceMovePct.toFixed()}% allowed`,
    };
  }
  return { ok: true };
}

/** The sentence an order ended by a decision carries (shown to the trader and in the API). */
export function endingSentence(decision: Exclude<ApprovalDecision, 'approve'>, detail?: string): string {
  switch (decision) {
    case 'reject':
      return `Not approved: ${detail?.trim() || 'no reason given'}. Nothing was sent to Alpaca.`;
    case 'withdraw':
      return 'Withdrawn before approval. Nothing was sent to Alpaca.';
    case 'expire':
      return (
        `${detail ?? 'The approval came too late'}. ` +
        'Nothing was sent to Alpaca — place the order again for a fresh request.'
      );
  }
}

/** A reason typed in the reject modal: required, trimmed, at most this long. */
export const MAX_REJECT_REASON = 500;

export function checkRejectReason(raw: string | undefined): { reason?: string; error?: string } {
  const reason = (raw ?? '').trim();
  if (reason === '') return { error: 'Say why, so the trader knows what to change.' };
  if (reason.length > MAX_REJECT_REASON) return { error: `At most ${MAX_REJECT_REASON} characters.` };
  return { reason };
}

/** Reference price at request: the quote the valuation used, else (ledger-only) the trader's GMV per share. */
export function requestPrice(args: { lastPrice?: Dec; gmv?: Dec; qty?: Dec }): Dec | undefined {
  if (args.lastPrice?.gt(0)) return args.lastPrice;
  if (args.gmv && args.qty?.gt(0)) return args.gmv.div(args.qty).toDecimalPlaces(6);
  return undefined;
}
