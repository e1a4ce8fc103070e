import type { z } from 'zod';
import type { Dec } from '../../domain/money';
import type { Trade } from '../../domain/trade';
import type { TradeResource } from './schemas';

/** Decimals as JSON numbers, as the earlier OMS answered (its clients read floats); undefined becomes null. */
export function num(value: Dec | null | undefined): number | null {
  return value === null || value === undefined ? null : Number(value.toFixed());
}

export function iso(value: Date | null | undefined): string | null {
  return value ? value.toISOString() : null;
}

/** One order as the API shows it: the earlier OMS's fields, then where it stands at Alpaca. */
export function tradeResource(trade: Trade): z.infer<typeof TradeResource> {
  return {
    id: trade.id,
    trade_id: trade.tradeId,
    symbol: trade.symbol,
    quantity: num(trade.quantity),
    gmv: num(trade.gmv),
    side: trade.side === 'buy' ? 'BUY' : 'SELL',
    portfolio_name: trade.portfolioName,
    user_id: trade.userId,
    timestamp: trade.timestamp.toISOString(),
    created_at: trade.createdAt.toISOString(),
    status: trade.status,
    order_type: trade.orderType,
    time_in_force: trade.timeInForce,
    limit_price: num(trade.limitPrice),
    stop_price: num(trade.stopPrice),
    notional: num(trade.notional),
    extended_hours: trade.extendedHours,
    client_order_id: trade.clientOrderId,
    alpaca_order_id: trade.alpacaOrderId,
    alpaca_status: trade.alpacaStatus,
    alpaca_filled_qty: num(trade.alpacaFilledQty),
    alpaca_filled_price: num(trade.alpacaFilledPrice),
    alpaca_filled_at: iso(trade.alpacaFilledAt),
    market_open_at_submit: trade.marketOpenAtSubmit,
    error: trade.errorMessage,
  };
}
