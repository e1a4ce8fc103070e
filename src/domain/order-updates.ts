import { type Dec, dec } from './money';
import { isTerminal, type TradeStatus, tradeStatusFromBroker } from './order';
import type { NewFill, Trade, TradePatch } from './trade';

/** The broker's view of one order, as much of it as the books need (the Broker port's BrokerOrder fits). */
export interface OrderSnapshot {
  id: string;
  status: string;
  filledQty: Dec;
  filledAvgPrice?: Dec;
  filledAt?: Date;
  updatedAt: Date;
  submittedAt?: Date;
  createdAt: Date;
}

/** One execution reported by the broker's stream. */
export interface Execution {
  id: string;
  qty: Dec;
  price: Dec;
}

/** The fills already stored for the order, read under the order's lock. */
export interface StoredFills {
  executionIds: ReadonlySet<string>;
  qty: Dec;
  value: Dec;
}

export interface OrderUpdatePlan {
  fills: NewFill[];
  patch: TradePatch;
}

const STATUS_RANK: Record<TradeStatus, number> = {
  // Never sent, so no broker snapshot concerns it; ranked with rows not yet confirmed.
  pending_approval: 0,
  pending_submit: 0,
  submitted: 1,
  accepted: 2,
  partially_filled: 3,
  filled: 4,
  canceled: 4,
  expired: 4,
  rejected: 4,
  failed: 4,
};

/** Notes we leave while we could not confirm an order; the broker showing it makes them moot. */
const UNCONFIRMED_NOTES = new Set(['unavailable', 'not_sent', 'sending_slow', 'sending_retry']);

/**
 * How one broker snapshot (a stream event, a POST answer, a poll, a reconcile read) changes the
 * books. Called with the order's row locked and its stored fills, so the result is exact:
 * - an execution is stored once, and only while it fits under the broker's filled quantity; what
 *   the broker reports filled that no stored fill covers becomes one catch-up fill at the price
 *   that makes the stored average equal the broker's;
 * - an older snapshot (updated_at before the last applied) never overwrites a newer one, the
 *   filled quantity never goes down, and the status never steps back — except out of 'failed',
 *   our own guess that nothing was placed, which the broker's word overrules.
 */
export function planOrderUpdate(
  trade: Trade,
  stored: StoredFills,
  order: OrderSnapshot,
  execution: Execution | undefined,
  now: Date,
): OrderUpdatePlan {
  const fills: NewFill[] = [];
  const at = order.filledAt ?? order.updatedAt ?? now;
  const fill = (executionId: string, qty: Dec, price: Dec): NewFill => ({
    executionId,
    tradeId: trade.id,
    symbol: trade.symbol,
    side: trade.side,
    qty,
    price,
    portfolioName: trade.portfolioName,
    filledAt: at,
    source: 'broker',
  });

  let storedQty = stored.qty;
  let storedValue = stored.value;
  if (execution && !stored.executionIds.has(execution.id) && storedQty.plus(execution.qty).lte(order.filledQty)) {
    fills.push(fill(execution.id, execution.qty, execution.price));
    storedQty = storedQty.plus(execution.qty);
    storedValue = storedValue.plus(execution.qty.times(execution.price));
  }
  const missing = order.filledQty.minus(storedQty);
  if (missing.gt(0) && order.filledAvgPrice) {
    const price = order.filledAvgPrice.times(order.filledQty).minus(storedValue).div(missing).toDecimalPlaces(6);
    fills.push(
      fill(`order:${order.id}:${order.filledQty.toFixed()}`, missing, price.gt(0) ? price : order.filledAvgPrice),
    );
  }

  const patch: TradePatch = {
    alpacaOrderId: order.id,
    submittedAt: trade.submittedAt ?? order.submittedAt ?? order.createdAt,
  };
  const stale = trade.alpacaUpdatedAt !== null && order.updatedAt.getTime() < trade.alpacaUpdatedAt.getTime();
  const filledBackwards = trade.alpacaFilledQty !== null && order.filledQty.lt(trade.alpacaFilledQty);
  if (stale || filledBackwards) return { fills, patch: {} };

  const incoming = tradeStatusFromBroker(order.status);
  const keepStatus = trade.status !== 'failed' && STATUS_RANK[incoming] < STATUS_RANK[trade.status];
  const status = keepStatus ? trade.status : incoming;
  Object.assign(patch, {
    status,
    alpacaStatus: keepStatus ? trade.alpacaStatus : order.status,
    alpacaFilledQty: order.filledQty,
    alpacaFilledPrice: order.filledAvgPrice ?? null,
    alpacaFilledAt: order.filledAt ?? null,
    alpacaUpdatedAt: order.updatedAt,
  } satisfies TradePatch);
  if (trade.alpacaOrderId === null || (trade.errorCode !== null && UNCONFIRMED_NOTES.has(trade.errorCode))) {
    patch.errorCode = null;
    patch.errorKind = null;
    patch.errorMessage = null;
  }
  const error = patch.errorMessage === null ? null : trade.errorMessage;
  if (status === 'rejected' && !error) patch.errorMessage = 'Alpaca rejected the order.';
  if (status === 'expired' && !error) patch.errorMessage = 'The order expired before it was filled.';
  if (!trade.quantity && order.filledQty.gt(0) && isTerminal(status)) patch.quantity = order.filledQty;
  if (!trade.gmv && order.filledQty.gt(0) && order.filledAvgPrice && isTerminal(status)) {
    patch.gmv = order.filledQty.times(order.filledAvgPrice).toDecimalPlaces(2);
  }
  return { fills, patch };
}

/** Sums of stored fills, for planOrderUpdate. */
export function summariseFills(fills: readonly { executionId: string; qty: Dec; price: Dec }[]): StoredFills {
  return {
    executionIds: new Set(fills.map((f) => f.executionId)),
    qty: fills.reduce((acc, f) => acc.plus(f.qty), dec(0)),
    value: fills.reduce((acc, f) => acc.plus(f.qty.times(f.price)), dec(0)),
  };
}
