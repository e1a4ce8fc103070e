import type { Dec } from './money';
import { isTerminal, type OrderIntent, type OrderType, type Side, type TimeInForce, type TradeStatus } from './order';

/**
 * Where a trade row came from: the earlier OMS, a Slack order, an HTTP API order, ledger-only mode,
 * or a broker order we adopted.
 */
export type TradeSource = 'legacy' | 'slack' | 'api' | 'ledger' | 'adopted';

/**
 * Where a fill came from: the broker's stream or order poll, ledger-only mode, a backfilled legacy
 * trade, or an audited book adjustment.
 */
export type FillSource = 'broker' | 'ledger' | 'legacy' | 'adjustment';

/** An order as the books hold it (a row of `trades`): decimals as Dec, side in the domain's spelling. */
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
  /** Alpaca's error code for a refusal, or a SENDING_NOTES code while it is still being sent. */
  errorCode: string | null;
  /** What kind of refusal, in our vocabulary (a BrokerErrorKind): what the API's status code follows. */
  errorKind: string | null;
  errorMessage: string | null;
  alpacaOrderId: string | null;
  alpacaStatus: string | null;
  alpacaFilledQty: Dec | null;
  alpacaFilledPrice: Dec | null;
  alpacaFilledAt: Date | null;
  /** The broker's updated_at of the last snapshot applied. */
  alpacaUpdatedAt: Date | null;
  /** Who is sending the order to the broker, and until when (see TradeRepository's lease methods). */
  submitLeaseOwner: string | null;
  submitLeaseUntil: Date | null;
}

/**
 * What is known before the broker is called. The row is written with status `pending_submit`, or
 * `pending_approval` for an order that waits for an approver (never sent until approved).
 */
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
    | 'errorKind'
    | 'errorMessage'
    | 'alpacaOrderId'
    | 'alpacaStatus'
    | 'alpacaFilledQty'
    | 'alpacaFilledPrice'
    | 'alpacaFilledAt'
    | 'alpacaUpdatedAt'
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

/** Orders nobody placed through this app have no trader to tell: the earlier OMS's rows and adopted broker orders. */
export function hasTrader(trade: Pick<Trade, 'source'>): boolean {
  return trade.source !== 'legacy' && trade.source !== 'adopted';
}

/**
 * Whether a trader is a Slack member id (U…, or W… on Enterprise Grid): an order placed through the
 * API may name anyone, and only a member has a DM and a Home tab to tell.
 */
export function isSlackMemberId(userId: string): boolean {
  return /^[UW][A-Z0-9]{2,}$/.test(userId);
}

/** Whether an order has somewhere in Slack for its confirmation: its channel, or its trader's DM. */
export function hasConfirmationPlace(trade: Pick<Trade, 'source' | 'slackChannelId' | 'userId'>): boolean {
  return hasTrader(trade) && (trade.slackChannelId !== null || isSlackMemberId(trade.userId));
}

/** What a trader sees of an order: a change to any of these is worth redrawing its confirmation. */
export function visiblyChanged(before: Trade, after: Trade): boolean {
  const same = (a: Dec | null, b: Dec | null) => (a === null || b === null ? a === b : a.eq(b));
  return (
    before.status !== after.status ||
    before.alpacaStatus !== after.alpacaStatus ||
    before.alpacaOrderId !== after.alpacaOrderId ||
    !same(before.alpacaFilledQty, after.alpacaFilledQty) ||
    !same(before.alpacaFilledPrice, after.alpacaFilledPrice) ||
    !same(before.quantity, after.quantity) ||
    !same(before.gmv, after.gmv) ||
    before.errorMessage !== after.errorMessage
  );
}

/** True when this change takes the order into a final state it was not in before. */
export function reachedFinalState(before: Pick<Trade, 'status'>, after: Pick<Trade, 'status'>): boolean {
  return isTerminal(after.status) && before.status !== after.status;
}

/** What is sent to the broker for a recorded order. */
export function orderIntentOf(trade: Trade): OrderIntent {
  return {
    clientOrderId: trade.clientOrderId ?? trade.tradeId,
    symbol: trade.symbol,
    side: trade.side,
    type: trade.orderType ?? 'market',
    timeInForce: trade.timeInForce ?? 'day',
    qty: trade.quantity ?? undefined,
    notional: trade.quantity ? undefined : (trade.notional ?? undefined),
    limitPrice: trade.limitPrice ?? undefined,
    stopPrice: trade.stopPrice ?? undefined,
    extendedHours: trade.extendedHours,
  };
}
