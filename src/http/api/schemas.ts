import { z } from 'zod';
import { ORDER_TYPES, TIMES_IN_FORCE, TRADE_STATUSES } from '../../domain/order';

/**
 * The API's shapes, in zod: requests are checked against them (a body that doesn't fit is a 422
 * with a sentence), responses are serialised through them, and /api/v1/openapi.json is generated
 * from them — one definition each. Field names and types are the earlier OMS's; the rest is added.
 */

const decimal = z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/, 'must be a decimal number such as 10 or 2.5')]);
const positive = (what: string) =>
  decimal.refine((value) => Number(value) > 0, `${what} must be greater than 0`).describe(`${what}, a decimal`);

export const ErrorBody = z
  .object({
    success: z.literal(false),
    error: z.string().describe('A short machine-readable code, e.g. invalid_order, not_found'),
    detail: z.string().describe('What went wrong, as a sentence'),
    fields: z.record(z.string(), z.string()).optional().describe('Per-field sentences for a refused order'),
    suggestions: z.array(z.string()).optional(),
    trade: z.lazy(() => TradeResource).optional(),
  })
  .describe('Every error answer');

export const TradeRequest = z
  .object({
    symbol: z.string().min(1).max(32),
    quantity: positive('quantity').optional().describe('Shares (fractional where the asset allows); or give notional'),
    notional: positive('notional').optional().describe('A dollar amount instead of shares (market, day)'),
    gmv: positive('gmv').optional().describe('Ledger-only mode: the recorded value; otherwise kept as given'),
    side: z.enum(['BUY', 'SELL', 'buy', 'sell']),
    portfolio_name: z.string().min(1).max(255),
    user_id: z.string().min(1).max(255).describe('Who the order is for: a Slack member id reaches their DM'),
    order_type: z.enum(ORDER_TYPES).optional().default('market'),
    limit_price: positive('limit_price').optional(),
    stop_price: positive('stop_price').optional(),
    time_in_force: z.enum(TIMES_IN_FORCE).optional().default('day'),
    extended_hours: z.boolean().optional().default(false),
    when_closed: z
      .enum(['refuse', 'queue'])
      .optional()
      .default('refuse')
      .describe('While the market is shut: refuse (503), or let Alpaca queue the order for the open'),
  })
  .describe('An order, as the earlier OMS took it plus the Alpaca fields');

export const TradeResource = z.object({
  id: z.number().int(),
  trade_id: z.string(),
  symbol: z.string(),
  quantity: z.number().nullable(),
  gmv: z.number().nullable(),
  side: z.enum(['BUY', 'SELL']),
  portfolio_name: z.string(),
  user_id: z.string(),
  timestamp: z.string().describe('When the order was placed (ISO 8601)'),
  created_at: z.string(),
  status: z
    .enum(TRADE_STATUSES)
    .describe('pending_approval (waits for an approver, not sent) and the order states that follow'),
  order_type: z.string().nullable(),
  time_in_force: z.string().nullable(),
  limit_price: z.number().nullable(),
  stop_price: z.number().nullable(),
  notional: z.number().nullable(),
  extended_hours: z.boolean(),
  client_order_id: z.string().nullable(),
  alpaca_order_id: z.string().nullable(),
  alpaca_status: z.string().nullable(),
  alpaca_filled_qty: z.number().nullable(),
  alpaca_filled_price: z.number().nullable(),
  alpaca_filled_at: z.string().nullable(),
  market_open_at_submit: z.boolean().nullable(),
  error: z.string().nullable().describe('Why it was refused or what is still being checked, as a sentence'),
});

export const TradeAnswer = z.object({
  success: z.literal(true),
  trade_id: z.string(),
  message: z.string(),
  trade: TradeResource,
});

export const TradeList = z.array(TradeResource);

export const TradeListQuery = z.object({
  skip: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  symbol: z.string().min(1).max(32).optional(),
  portfolio: z.string().min(1).max(255).optional(),
});

export const TradeIdParams = z.object({ trade_id: z.string().min(1).max(255) });

export const CancelAnswer = z.object({ success: z.literal(true), message: z.string(), trade: TradeResource });

export const PositionResource = z.object({
  quantity: z.number(),
  avg_cost: z.number().nullable(),
  last_price: z.number().nullable(),
  market_value: z.number().nullable(),
  unrealized_pl: z.number().nullable(),
  unrealized_plpc: z.number().nullable().describe('Unrealized P&L over cost, as a fraction (0.05 = +5 %)'),
});

export const PortfolioAnswer = z.object({
  portfolio_name: z.string(),
  total_trades: z.number().int(),
  total_buys: z.number().int(),
  total_sells: z.number().int(),
  positions: z.record(z.string(), PositionResource),
  market_value: z.number(),
  unrealized_pl: z.number(),
  realized_pl: z.number(),
  unpriced: z.array(z.string()).describe('Symbols held without a price: left out of the market value'),
});

export const PortfolioParams = z.object({ name: z.string().min(1).max(255) });

export const PortfolioNames = z.array(z.string());

export const AccountAnswer = z.object({
  account_number: z.string(),
  status: z.string(),
  currency: z.string(),
  equity: z.number(),
  cash: z.number(),
  buying_power: z.number(),
  portfolio_value: z.number(),
  last_equity: z.number(),
  day_pl: z.number(),
  day_pl_pct: z.number().nullable(),
  pattern_day_trader: z.boolean(),
  trading_blocked: z.boolean(),
});

export const QuoteParams = z.object({ symbol: z.string().min(1).max(32) });

export const QuoteAnswer = z.object({
  symbol: z.string(),
  name: z.string(),
  tradable: z.boolean(),
  fractionable: z.boolean(),
  last_price: z.number().nullable(),
  bid: z.number().nullable(),
  ask: z.number().nullable(),
  prev_close: z.number().nullable(),
  day_change: z.number().nullable(),
  day_change_pct: z.number().nullable(),
  updated_at: z.string().nullable(),
});

export const MarketAnswer = z.object({
  is_open: z.boolean(),
  timestamp: z.string(),
  next_open: z.string(),
  next_close: z.string(),
  headline: z.string().describe('e.g. "Market closed — opens Mon 09:30 ET"'),
  detail: z.string(),
});

export const TradersAnswer = z.object({
  as_of: z.string(),
  /** Symbols held without a price: their holders' unrealized_pl is null. */
  unpriced: z.array(z.string()),
  traders: z.array(
    z.object({
      rank: z.number().int(),
      user_id: z.string(),
      realized_pl: z.number(),
      unrealized_pl: z.number().nullable(),
      orders: z.number().int(),
      closing_orders: z.number().int(),
      winning_orders: z.number().int(),
      hit_rate: z.number().nullable(),
    }),
  ),
});

export const PositionsAnswer = z.object({
  mismatches: z.number().int(),
  broker: z.enum(['ok', 'ledger', 'unavailable']),
  positions: z.array(
    z.object({
      symbol: z.string(),
      books: z.number(),
      broker: z.number().nullable(),
      difference: z.number().nullable(),
      matches: z.boolean().nullable(),
    }),
  ),
});
