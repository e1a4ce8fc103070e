import { Dec, dec, formatQty, formatUsd, parseDecimal, parseMoney } from './money';
import { isOneOf, ORDER_TYPES, type OrderTerms, type OrderType, SIDES, type Side, TIMES_IN_FORCE } from './order';
import { normalizePortfolioName } from './portfolio-name';
import { normalizeSymbol } from './symbol';

/**
 * Local validation of the order modal, answered in the submission's ack (Slack's
 * `response_action: 'errors'`), so nothing invalid ever reaches the broker. Each rule yields one
 * sentence next to the field it concerns; the first rule a field breaks is the one reported.
 */

/** Field names; they are also the modal's block_ids, so `errors` goes straight into the ack. */
export const ORDER_FIELDS = [
  'portfolio',
  'symbol',
  'side',
  'quantity',
  'amount',
  'order_type',
  'limit_price',
  'stop_price',
  'time_in_force',
  'extended_hours',
  'gmv',
] as const;
export type OrderField = (typeof ORDER_FIELDS)[number];

/** The modal's raw values, as typed or selected (empty string = left blank). */
export interface OrderFormInput {
  portfolio: string;
  symbol: string;
  side: string;
  quantity: string;
  amount: string;
  orderType: string;
  limitPrice: string;
  stopPrice: string;
  timeInForce: string;
  extendedHours: boolean;
  gmv: string;
}

/** What the form needs to know about the asset; the Broker port's BrokerAsset satisfies it. */
export interface OrderAsset {
  symbol: string;
  tradable: boolean;
  fractionable: boolean;
  status: string;
}

export interface OrderFormContext {
  /** The asset for the typed symbol; undefined = no such symbol. */
  asset: OrderAsset | undefined;
  /**
   * Reference price (last trade, else ask, else bid) for valuing share orders and dollar-amount
   * sells; undefined = no quote, and then only orders with a known ceiling can be valued.
   */
  lastPrice?: Dec;
  maxOrderNotional: Dec;
  /** What the chosen portfolio holds of the symbol. */
  heldQty: Dec;
  /** USE_ALPACA=false: the trade is recorded as filled at the GMV the trader enters. */
  ledgerOnly: boolean;
}

export interface ValidOrder extends OrderTerms {
  portfolio: string;
  gmv?: Dec;
  /** The value checked against MAX_ORDER_NOTIONAL (see valuationPrice); set on every accepted order. */
  estimatedValue?: Dec;
}

export type OrderFormErrors = Partial<Record<OrderField, string>>;
export type OrderFormResult = { ok: true; order: ValidOrder } | { ok: false; errors: OrderFormErrors };

export const MAX_SHARES = dec(10_000_000);
export const MAX_QUANTITY_DECIMALS = 9;
export const MIN_NOTIONAL = dec(1);
export const MONEY_DECIMALS = 2;
/** Alpaca's sub-penny rule: 2 decimals at $1.00 and above, 4 below. */
export const PRICE_DECIMALS_FROM_ONE_DOLLAR = 2;
export const PRICE_DECIMALS_UNDER_ONE_DOLLAR = 4;
export const MAX_PORTFOLIO_NAME_LENGTH = 80;
/** The largest price the columns hold (numeric(18,6): under 10^12) that the sub-penny rule allows. */
export const MAX_PRICE = dec('999999999999.99');
/** The largest sum the money columns hold (gmv, notional: numeric(18,2), under 10^16). */
export const MAX_MONEY = dec('9999999999999999.99');

const ORDER_TYPE_NAMES: Record<OrderType, string> = {
  market: 'A market',
  limit: 'A limit',
  stop: 'A stop',
  stop_limit: 'A stop limit',
};

// Control characters and bidirectional overrides (which can make a name display as another).
const CONTROL_CHARACTERS = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;
// Characters Slack reads as markup, which would garble the name wherever it is shown.
const SLACK_MARKUP = /[<>*`]/;

/** The side as the form spells it ("Buy", " sell "), or undefined. */
export function parseSide(text: string): Side | undefined {
  const sideText = text.trim().toLowerCase();
  return isOneOf(SIDES, sideText) ? sideText : undefined;
}

/** Shown inside an error sentence: short, so a pasted essay does not become the error. */
function quoted(text: string): string {
  const codePoints = Array.from(text);
  const shown = codePoints.length > 20 ? `${codePoints.slice(0, 19).join('')}…` : text;
  return `“${shown}”`;
}

/**
 * Checks the name as it will be stored (normalised), except for control characters and bidi
 * overrides, which are refused as typed: normalising would quietly turn a line break into a space
 * and drop an override, and a name holding either is a paste gone wrong or meant to mislead.
 */
function checkPortfolio(raw: string): { name: string; error?: string } {
  const name = normalizePortfolioName(raw);
  if (name === '') return { name, error: 'Choose a portfolio or type a name for a new one.' };
  if (name.length > MAX_PORTFOLIO_NAME_LENGTH) {
    return {
      name,
      error: `Portfolio names can be at most ${MAX_PORTFOLIO_NAME_LENGTH} characters (this one has ${name.length}).`,
    };
  }
  if (CONTROL_CHARACTERS.test(raw))
    return { name, error: 'Portfolio names can’t contain line breaks or control characters.' };
  if (SLACK_MARKUP.test(name))
    return { name, error: 'Portfolio names can’t contain <, >, * or ` (Slack would read them as formatting).' };
  return { name };
}

function priceError(label: string, price: Dec): string | undefined {
  if (price.lte(0)) return `${label} must be more than $0.`;
  if (price.gt(MAX_PRICE)) return `${label} can be at most ${formatUsd(MAX_PRICE)}.`;
  const allowed = price.gte(1) ? PRICE_DECIMALS_FROM_ONE_DOLLAR : PRICE_DECIMALS_UNDER_ONE_DOLLAR;
  if (price.decimalPlaces() > allowed) {
    return price.gte(1)
      ? `${label} can have at most 2 decimals at $1.00 and above (no sub-penny prices).`
      : `${label} can have at most 4 decimals under $1.00.`;
  }
  return undefined;
}

/** Parses an optional price field; `needed` says whether the chosen order type uses it. */
function checkPrice(
  raw: string,
  label: string,
  needed: boolean,
  type: OrderType | undefined,
  usedBy: string,
): { price?: Dec; error?: string } {
  const text = raw.trim();
  if (text === '') {
    return needed && type !== undefined
      ? { error: `${ORDER_TYPE_NAMES[type]} order needs a ${label.toLowerCase()}.` }
      : {};
  }
  const price = parseMoney(text);
  if (price === undefined)
    return { error: `${label} must be a dollar price, like 189.50 or $0.5125 — not ${quoted(text)}.` };
  const error = priceError(label, price);
  if (error !== undefined) return { error };
  // A price typed for a type that ignores it would be silently dropped: a "limit" that isn't one.
  if (!needed && type !== undefined) {
    return {
      error:
        `${ORDER_TYPE_NAMES[type]} order doesn’t use a ${label.toLowerCase()}: ` +
        `choose ${usedBy}, or clear this field.`,
    };
  }
  return { price };
}

function checkMoneyAmount(raw: string, label: string): { value?: Dec; error?: string } {
  const text = raw.trim();
  const value = parseMoney(text);
  if (value === undefined || value.lte(0))
    return { error: `${label} must be a positive dollar figure, like 500 or $1,250.50.` };
  if (value.decimalPlaces() > MONEY_DECIMALS) return { error: `${label} can have at most 2 decimals (whole cents).` };
  if (value.gt(MAX_MONEY)) return { error: `${label} can be at most ${formatUsd(MAX_MONEY)}.` };
  return { value };
}

/**
 * The price per share an order is valued at against MAX_ORDER_NOTIONAL and Alpaca's $1 minimum.
 * A limit buy can't pay more than its limit, so that is its value, quote or not. Anything with a
 * stop is valued at the highest of its stop, limit and the reference price, so a stop far from the
 * market is valued where the market is; a stop-limit buy is still capped by its limit without a
 * quote. Every other share order, sells included, has no bound without a quote, so it gets no
 * price and the form refuses it: the limit fails closed.
 */
function valuationPrice(
  side: Side,
  type: OrderType,
  limitPrice: Dec | undefined,
  stopPrice: Dec | undefined,
  lastPrice: Dec | undefined,
): Dec | undefined {
  if (side === 'buy' && type === 'limit' && limitPrice !== undefined) return limitPrice;
  const cappedByLimit = side === 'buy' && limitPrice !== undefined;
  if (lastPrice === undefined && !cappedByLimit) return undefined;
  return Dec.max(...[limitPrice, stopPrice, lastPrice].filter((p): p is Dec => p !== undefined));
}

/** "4,000,000" / "0.5": shares in a sentence. */
function formatShares(qty: Dec): string {
  const [whole = '0', fraction] = formatQty(qty).split('.');
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${fraction === undefined ? '' : `.${fraction}`}`;
}

/** A price per share in a sentence: cents from $1, up to 4 decimals below (sub-dollar stocks trade that way). */
function formatSharePrice(price: Dec): string {
  return price.gte(1) ? formatUsd(price) : `$${price.toDecimalPlaces(PRICE_DECIMALS_UNDER_ONE_DOLLAR).toFixed()}`;
}

function unpricedMessage(symbol: string, maxOrderNotional: Dec, fractional: boolean): string {
  const checks = fractional
    ? `the ${formatUsd(maxOrderNotional)} limit per order and ` +
      `Alpaca’s ${formatUsd(MIN_NOTIONAL)} minimum for fractional shares can’t be checked`
    : `the ${formatUsd(maxOrderNotional)} limit per order can’t be checked`;
  return `We can’t price ${symbol} right now, so ${checks} — try again in a moment.`;
}

function belowMinimumMessage(symbol: string, qty: Dec, unitPrice: Dec): string {
  const value = qty.times(unitPrice);
  const worth = value.lt(0.01) ? 'less than a cent' : `about ${formatUsd(value)}`;
  const fewest = MIN_NOTIONAL.div(unitPrice).toDecimalPlaces(MAX_QUANTITY_DECIMALS, Dec.ROUND_UP);
  return (
    `Alpaca needs at least ${formatUsd(MIN_NOTIONAL)} of value in a ` +
    `fractional order: ${formatQty(qty)} ${symbol} is worth ${worth}. ` +
    `Enter at least ${formatQty(fewest)} shares, or a whole number.`
  );
}

export function validateOrderForm(input: OrderFormInput, ctx: OrderFormContext): OrderFormResult {
  const errors: OrderFormErrors = {};

  const portfolio = checkPortfolio(input.portfolio);
  if (portfolio.error !== undefined) errors.portfolio = portfolio.error;

  const symbolText = input.symbol.trim();
  const symbol = normalizeSymbol(symbolText);
  const asset = symbol !== undefined && ctx.asset?.symbol.toUpperCase() === symbol ? ctx.asset : undefined;
  if (symbolText === '') errors.symbol = 'Enter a stock symbol, like AAPL.';
  else if (symbol === undefined)
    errors.symbol = `${quoted(symbolText)} isn’t a stock symbol; use letters like AAPL or BRK.B.`;
  else if (asset === undefined)
    errors.symbol = `We couldn’t find a stock with the symbol ${symbol}. Check the spelling.`;
  else if (!asset.tradable || asset.status !== 'active')
    errors.symbol = `${symbol} can’t be traded on Alpaca right now.`;

  const side = parseSide(input.side);
  if (side === undefined) errors.side = 'Choose buy or sell.';

  const typeText = input.orderType.trim().toLowerCase();
  const type = isOneOf(ORDER_TYPES, typeText) ? typeText : undefined;
  if (type === undefined) errors.order_type = 'Choose an order type: market, limit, stop or stop limit.';

  const tifText = input.timeInForce.trim().toLowerCase();
  const timeInForce = isOneOf(TIMES_IN_FORCE, tifText) ? tifText : undefined;
  if (timeInForce === undefined) errors.time_in_force = 'Choose day or GTC (good till canceled).';

  const usesLimit = type === 'limit' || type === 'stop_limit';
  const usesStop = type === 'stop' || type === 'stop_limit';
  const limit = checkPrice(input.limitPrice, 'Limit price', usesLimit, type, 'Limit or Stop limit');
  if (limit.error !== undefined) errors.limit_price = limit.error;
  const stop = checkPrice(input.stopPrice, 'Stop price', usesStop, type, 'Stop or Stop limit');
  if (stop.error !== undefined) errors.stop_price = stop.error;

  // Quantity in shares or a dollar amount: exactly one.
  const quantityText = input.quantity.trim();
  const amountText = input.amount.trim();
  let qty: Dec | undefined;
  let notional: Dec | undefined;
  if (quantityText !== '' && amountText !== '') {
    errors.quantity = 'Enter a quantity or a dollar amount, not both.';
  } else if (quantityText === '' && amountText === '') {
    errors.quantity = 'Enter a quantity of shares or a dollar amount — one of them.';
  } else if (quantityText !== '') {
    const parsed = parseDecimal(quantityText);
    if (parsed === undefined || parsed.lte(0))
      errors.quantity = 'Quantity must be a positive number of shares, like 10 or 2.5.';
    else if (parsed.decimalPlaces() > MAX_QUANTITY_DECIMALS)
      errors.quantity = `Quantity can have at most ${MAX_QUANTITY_DECIMALS} decimals.`;
    else if (parsed.gt(MAX_SHARES))
      errors.quantity = `Quantity can be at most ${MAX_SHARES.toNumber().toLocaleString('en-US')} shares.`;
    else if (!parsed.isInteger() && asset !== undefined && !asset.fractionable) {
      errors.quantity = `${asset.symbol} trades in whole shares only; enter a whole number.`;
    } else qty = parsed;
  } else if (ctx.ledgerOnly) {
    // The books need a share count; in ledger-only mode there is no broker to turn dollars into shares.
    errors.amount = 'In ledger-only mode enter a quantity of shares; the GMV is the recorded value.';
  } else {
    const parsed = checkMoneyAmount(amountText, 'Amount');
    if (parsed.error !== undefined) errors.amount = parsed.error;
    else if (parsed.value?.lt(MIN_NOTIONAL))
      errors.amount = `The smallest dollar amount is ${formatUsd(MIN_NOTIONAL)}.`;
    else notional = parsed.value;
  }

  // Alpaca's own restrictions; in ledger-only mode nothing reaches Alpaca, so they do not apply.
  // Dollar amounts and fractional shares: market orders for the day only.
  const fractional = notional !== undefined || (qty !== undefined && !qty.isInteger());
  if (fractional && !ctx.ledgerOnly) {
    const what = notional !== undefined ? 'Dollar amounts' : 'Fractional quantities';
    if (type !== undefined && type !== 'market' && errors.order_type === undefined) {
      errors.order_type = `${what} only work with market orders; choose Market, or enter a whole number of shares.`;
    }
    if (timeInForce === 'gtc' && errors.time_in_force === undefined) {
      errors.time_in_force = `${what} only work with day orders; choose Day.`;
    }
  }

  // Extended hours: limit orders for the day only.
  if (
    input.extendedHours &&
    !ctx.ledgerOnly &&
    type !== undefined &&
    timeInForce !== undefined &&
    (type !== 'limit' || timeInForce !== 'day')
  ) {
    errors.extended_hours =
      'Extended hours only works with limit orders for the day; choose Limit and Day, or untick it.';
  }

  let gmv: Dec | undefined;
  if (input.gmv.trim() === '') {
    if (ctx.ledgerOnly)
      errors.gmv = 'In ledger-only mode the GMV is required: the trade’s total value in dollars, recorded as the fill.';
  } else {
    const parsed = checkMoneyAmount(input.gmv, 'GMV');
    if (parsed.error !== undefined) errors.gmv = parsed.error;
    else gmv = parsed.value;
  }

  // The ledger fill is recorded at GMV ÷ quantity, in a price column (fills.price).
  if (ctx.ledgerOnly && gmv !== undefined && qty !== undefined && gmv.div(qty).gt(MAX_PRICE)) {
    errors.gmv ??=
      `At ${formatUsd(gmv)} for ${formatShares(qty)} shares, ` +
      `each share would be recorded at about ${formatUsd(gmv.div(qty))}, ` +
      `more than the books can hold (${formatUsd(MAX_PRICE)} a share at most). Check the GMV and the quantity.`;
  }

  // What the order is worth: the recorded GMV in ledger mode (no quote needed), else the dollar
  // amount, else shares × valuationPrice. Shares are valued once the side, type and the prices that
  // type uses are known; until then another field is in error and the form is refused anyway.
  let estimatedValue: Dec | undefined;
  let unitPrice: Dec | undefined;
  if (ctx.ledgerOnly) estimatedValue = gmv;
  else if (notional !== undefined) estimatedValue = notional;
  else if (
    qty !== undefined &&
    side !== undefined &&
    type !== undefined &&
    (limit.price !== undefined) === usesLimit &&
    (stop.price !== undefined) === usesStop
  ) {
    unitPrice = valuationPrice(side, type, limit.price, stop.price, ctx.lastPrice);
    const fractionalQty = !qty.isInteger();
    if (unitPrice === undefined) {
      // Not worth a second sentence when the symbol is already wrong: there is nothing to price.
      if (symbol !== undefined && errors.symbol === undefined)
        errors.quantity ??= unpricedMessage(symbol, ctx.maxOrderNotional, fractionalQty);
    } else {
      estimatedValue = qty.times(unitPrice);
      if (fractionalQty && estimatedValue.lt(MIN_NOTIONAL) && symbol !== undefined)
        errors.quantity ??= belowMinimumMessage(symbol, qty, unitPrice);
    }
  }
  if (estimatedValue?.gt(ctx.maxOrderNotional)) {
    const basis =
      qty !== undefined && unitPrice !== undefined
        ? ` (${formatShares(qty)} shares at ${formatSharePrice(unitPrice)})`
        : '';
    const message =
      `This order is worth about ${formatUsd(estimatedValue)}${basis}, ` +
      `above the ${formatUsd(ctx.maxOrderNotional)} limit per order.`;
    if (ctx.ledgerOnly) errors.gmv ??= message;
    else if (notional !== undefined) errors.amount ??= message;
    else errors.quantity ??= message;
  }

  if (side === 'sell' && symbol !== undefined && portfolio.error === undefined) {
    const holder = portfolio.name;
    const held = formatQty(ctx.heldQty);
    if (qty?.gt(ctx.heldQty)) {
      errors.quantity ??= ctx.heldQty.lte(0)
        ? `${holder} holds no ${symbol}, so there is nothing to sell.`
        : `${holder} holds ${held} ${symbol}; you can sell at most ${held}.`;
    }
    if (notional !== undefined) {
      if (ctx.heldQty.lte(0)) errors.amount ??= `${holder} holds no ${symbol}, so there is nothing to sell.`;
      else if (ctx.lastPrice !== undefined && notional.gt(ctx.heldQty.times(ctx.lastPrice))) {
        const worth = formatUsd(ctx.heldQty.times(ctx.lastPrice));
        errors.amount ??= `${holder} holds ${held} ${symbol} (about ${worth}); you can sell at most about ${worth}.`;
      }
    }
  }

  if (
    Object.keys(errors).length > 0 ||
    symbol === undefined ||
    side === undefined ||
    type === undefined ||
    timeInForce === undefined
  ) {
    return { ok: false, errors };
  }
  const order: ValidOrder = {
    portfolio: portfolio.name,
    symbol,
    side,
    type,
    timeInForce,
    extendedHours: input.extendedHours,
  };
  if (qty !== undefined) order.qty = qty;
  if (notional !== undefined) order.notional = notional;
  if (limit.price !== undefined) order.limitPrice = limit.price;
  if (stop.price !== undefined) order.stopPrice = stop.price;
  if (gmv !== undefined) order.gmv = gmv;
  if (estimatedValue !== undefined) order.estimatedValue = estimatedValue;
  return { ok: true, order };
}
