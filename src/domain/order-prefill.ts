import { type Dec, decToString } from './money';
import {
  isOneOf,
  ORDER_TYPES,
  type OrderTerms,
  type OrderType,
  SIDES,
  TIMES_IN_FORCE,
  type TimeInForce,
} from './order';
import type { OrderPrefill } from './trade-command';

/**
 * What the order form shows for an order type, and an earlier order turned back into a form's
 * prefill ("Trade again"), with a compact encoding that fits a Slack button's value.
 */

/** The fields that depend on the order type; the rest are always shown. */
export interface PricingFields {
  limitPrice: boolean;
  stopPrice: boolean;
  extendedHours: boolean;
}

/** Limit price for limit and stop limit, stop price for stop and stop limit, extended hours for limit day orders. */
export function pricingFieldsFor(type: OrderType | undefined, timeInForce: TimeInForce | undefined): PricingFields {
  const t = type ?? 'market';
  return {
    limitPrice: t === 'limit' || t === 'stop_limit',
    stopPrice: t === 'stop' || t === 'stop_limit',
    extendedHours: t === 'limit' && (timeInForce ?? 'day') === 'day',
  };
}

function plain(value: Dec | undefined): string | undefined {
  return value === undefined ? undefined : decToString(value);
}

/** An earlier order as "Trade again" offers it. */
export type RepeatableOrder = OrderTerms & { portfolio: string };

/** The form's prefill for placing `order` again in `portfolio`: same size, type, prices and time in force. */
export function prefillFromOrder(order: RepeatableOrder): OrderPrefill {
  const prefill: OrderPrefill = {
    portfolio: order.portfolio,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    timeInForce: order.timeInForce,
  };
  if (order.qty !== undefined) prefill.quantity = plain(order.qty);
  else if (order.notional !== undefined) prefill.amount = plain(order.notional);
  if (order.limitPrice !== undefined) prefill.limitPrice = plain(order.limitPrice);
  if (order.stopPrice !== undefined) prefill.stopPrice = plain(order.stopPrice);
  if (order.extendedHours) prefill.extendedHours = true;
  return prefill;
}

const KEYS = {
  portfolio: 'p',
  symbol: 's',
  side: 'd',
  quantity: 'q',
  amount: 'a',
  type: 't',
  limitPrice: 'l',
  stopPrice: 'x',
  timeInForce: 'f',
} as const satisfies Partial<Record<keyof OrderPrefill, string>>;

/** Short enough for a button value (2,000 characters): a portfolio name is at most 80. */
export function encodePrefill(prefill: OrderPrefill): string {
  const out: Record<string, string | number> = {};
  for (const [field, key] of Object.entries(KEYS) as [keyof typeof KEYS, string][]) {
    const value = prefill[field];
    if (value !== undefined && value !== '') out[key] = value;
  }
  if (prefill.extendedHours) out.e = 1;
  return JSON.stringify(out);
}

/** The prefill a button carries; anything malformed is dropped (the form validates everything anyway). */
export function decodePrefill(value: string | undefined): OrderPrefill {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value ?? '{}');
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const raw = parsed as Record<string, unknown>;
  const text = (key: string) => (typeof raw[key] === 'string' ? (raw[key] as string).slice(0, 200) : undefined);
  const prefill: OrderPrefill = {};
  const set = <K extends keyof OrderPrefill>(field: K, v: OrderPrefill[K] | undefined) => {
    if (v !== undefined) prefill[field] = v;
  };
  set('portfolio', text(KEYS.portfolio));
  set('symbol', text(KEYS.symbol));
  const side = text(KEYS.side);
  set('side', side && isOneOf(SIDES, side) ? side : undefined);
  set('quantity', text(KEYS.quantity));
  set('amount', text(KEYS.amount));
  const type = text(KEYS.type);
  set('type', type && isOneOf(ORDER_TYPES, type) ? type : undefined);
  set('limitPrice', text(KEYS.limitPrice));
  set('stopPrice', text(KEYS.stopPrice));
  const tif = text(KEYS.timeInForce);
  set('timeInForce', tif && isOneOf(TIMES_IN_FORCE, tif) ? tif : undefined);
  if (raw.e === 1) prefill.extendedHours = true;
  return prefill;
}
