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
