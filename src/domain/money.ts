import Decimal from 'decimal.js';

/**
 * Exact decimal arithmetic for prices, quantities and money. Alpaca sends decimals as strings;
 * keeping them as Decimal end to end means P&L never drifts by binary-float rounding.
 */
export const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });
export type Dec = InstanceType<typeof Dec>;

export type DecimalInput = string | number | Dec;

export function dec(value: DecimalInput): Dec {
  return new Dec(value);
}

/** Decimal to the canonical string stored in the database (no exponent, no trailing zeros). */
export function decToString(value: Dec): string {
  return value.toFixed();
}

/** Display only: "$1,234.57" (rounded half-even to cents at the very end). */
export function formatUsd(value: DecimalInput): string {
  const d = dec(value);
  const sign = d.isNegative() && !d.isZero() ? '-' : '';
  const [whole = '0', cents = '00'] = d.abs().toFixed(2).split('.');
  return `${sign}$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
}

/** Display only: shares with up to 9 decimals, trailing zeros dropped. */
export function formatQty(value: DecimalInput): string {
  return dec(value).toDecimalPlaces(9).toFixed();
}

// Plain ("1000.50", ".5", "10.") or comma-grouped thousands ("1,000.50").
const DECIMAL_TEXT = /^(?:\d+|\d{1,3}(?:,\d{3})+)?(?:\.\d*)?$/;

/**
 * A typed decimal as its digits: "1,000.50" → "1000.50", "10." → "10" (as typed but for grouping
 * commas and a bare trailing point, so no precision is lost or invented); undefined for anything
 * else: a sign, an exponent, words. Spaces around the number are ignored.
 */
export function decimalText(text: string): string | undefined {
  const trimmed = text.trim();
  if (!/\d/.test(trimmed) || !DECIMAL_TEXT.test(trimmed)) return undefined;
  return trimmed.replace(/,/g, '').replace(/\.$/, '');
}

/** Money may carry a leading "$" ("$1,000.50", "$ 500"); otherwise as decimalText. */
export function moneyText(text: string): string | undefined {
  const trimmed = text.trim();
  return decimalText(trimmed.startsWith('$') ? trimmed.slice(1) : trimmed);
}

/** decimalText as a Dec. */
export function parseDecimal(text: string): Dec | undefined {
  const digits = decimalText(text);
  return digits === undefined ? undefined : dec(digits);
}

/** moneyText as a Dec. */
export function parseMoney(text: string): Dec | undefined {
  const digits = moneyText(text);
  return digits === undefined ? undefined : dec(digits);
}
