import type { Dec } from './money';

export type Side = 'buy' | 'sell';
export type OrderType = 'market' | 'limit' | 'stop' | 'stop_limit';
export type TimeInForce = 'day' | 'gtc';

/** Where our record of an order stands. `pending_submit` = row written, broker not yet confirmed. */
export type TradeStatus =
  | 'pending_submit'
  | 'submitted'
  | 'accepted'
  | 'partially_filled'
  | 'filled'
  | 'canceled'
  | 'expired'
  | 'rejected'
  | 'failed';

export const TERMINAL_STATUSES: readonly TradeStatus[] = ['filled', 'canceled', 'expired', 'rejected', 'failed'];

export function isTerminal(status: TradeStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** What the trader asked for, already validated. Exactly one of qty / notional is set. */
export interface OrderIntent {
  clientOrderId: string;
  symbol: string;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  qty?: Dec;
  notional?: Dec;
  limitPrice?: Dec;
  stopPrice?: Dec;
  extendedHours: boolean;
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
