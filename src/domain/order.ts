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
