import { isApprovalEnding } from './approvals';
import type { Dec } from './money';

export const SIDES = ['buy', 'sell'] as const;
export type Side = (typeof SIDES)[number];
export const ORDER_TYPES = ['market', 'limit', 'stop', 'stop_limit'] as const;
export type OrderType = (typeof ORDER_TYPES)[number];
export const TIMES_IN_FORCE = ['day', 'gtc'] as const;
export type TimeInForce = (typeof TIMES_IN_FORCE)[number];

/** True when `value` is one of `values`, narrowing it (e.g. a broker's or a form's order type). */
export function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

/**
 * Where our record of an order stands. `pending_approval` = large order waiting for an approver,
 * never sent; `pending_submit` = row written, broker not yet confirmed.
 */
export const TRADE_STATUSES = [
  'pending_approval',
  'pending_submit',
  'submitted',
  'accepted',
  'partially_filled',
  'filled',
  'canceled',
  'expired',
  'rejected',
  'failed',
] as const;
export type TradeStatus = (typeof TRADE_STATUSES)[number];

export const TERMINAL_STATUSES: readonly TradeStatus[] = ['filled', 'canceled', 'expired', 'rejected', 'failed'];

/**
 * Statuses of orders that never became one at the broker (failed before it, refused by it, or
 * still awaiting approval), so never count as placed — as the API's trade counts have it.
 */
export const UNPLACED_STATUSES: readonly TradeStatus[] = ['pending_approval', 'rejected', 'failed'];

/** Whether an order reached the broker (or the ledger): what the counts of placed orders count. */
export function wasPlaced(status: TradeStatus, errorCode: string | null): boolean {
  return !UNPLACED_STATUSES.includes(status) && !isApprovalEnding(errorCode);
}

export function isTerminal(status: TradeStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** What an order asks for: side, size (exactly one of qty / notional), type and prices, and how long it lives. */
export interface OrderTerms {
  side: Side;
  symbol: string;
  qty?: Dec;
  notional?: Dec;
  type: OrderType;
  limitPrice?: Dec;
  stopPrice?: Dec;
  timeInForce: TimeInForce;
  extendedHours: boolean;
}

/** What the trader asked for, already validated, under the id that keeps it from being placed twice. */
export interface OrderIntent extends OrderTerms {
  clientOrderId: string;
}

/** Open broker states all read as 'accepted' to a trader; the broker's exact word is kept in alpaca_status. */
const BROKER_TO_TRADE_STATUS: Record<string, TradeStatus> = {
  partially_filled: 'partially_filled',
  filled: 'filled',
  canceled: 'canceled',
  expired: 'expired',
  rejected: 'rejected',
  replaced: 'canceled',
};

export function tradeStatusFromBroker(brokerStatus: string): TradeStatus {
  return BROKER_TO_TRADE_STATUS[brokerStatus] ?? 'accepted';
}

/** Client order ids are derived from the Slack view so a redelivery or double click maps to the same order. */
export function clientOrderIdForView(viewId: string): string {
  return `oms-${viewId}`.slice(0, 128);
}

/** What an order's confirmation says while its submission keeps trying (stored as errorCode / errorMessage). */
export const SENDING_NOTES = {
  retrying: {
    code: 'sending_retry',
    message: 'Alpaca isn’t answering right now. We keep trying, and the order can’t be placed twice.',
  },
  slow: {
    code: 'sending_slow',
    message: 'Alpaca hasn’t answered yet. We keep trying, and the order can’t be placed twice.',
  },
} as const;

/** True while the note says the submission is still trying (as opposed to given up and being checked). */
export function isStillSending(errorCode: string | null): boolean {
  return errorCode === SENDING_NOTES.retrying.code || errorCode === SENDING_NOTES.slow.code;
}
