import { type Dec, dec, formatQty, formatUsd } from '../../domain/money';
import type { OrderTerms, OrderType, Side, TimeInForce } from '../../domain/order';
import { changeOf } from '../../domain/portfolio-valuation';
import { isSlackMemberId } from '../../domain/trade';
import { userMrkdwn } from './limits';

/** Display names shared by the modal and the messages, so both speak the same words. */
export const ORDER_TYPE_LABELS: Record<OrderType, string> = {
  market: 'Market',
  limit: 'Limit',
  stop: 'Stop',
  stop_limit: 'Stop limit',
};

export const TIME_IN_FORCE_LABELS: Record<TimeInForce, string> = {
  day: 'Day',
  gtc: 'GTC (good till canceled)',
};

export const SIDE_LABELS: Record<Side, string> = { buy: 'Buy', sell: 'Sell' };

/** The market's state at a glance. */
/** A Slack member is mentioned; anyone else (an API order may name anyone) is shown as text, never as markup. */
export function mention(userId: string): string {
  return isSlackMemberId(userId) ? `<@${userId}>` : userMrkdwn(userId, 40);
}

export function marketIcon(market: { open: boolean }): string {
  return market.open ? ':large_green_circle:' : ':crescent_moon:';
}

/**
 * Prices keep the precision Alpaca accepts: cents from $1, up to 4 decimals below (so $0.5125 is
 * not shown as $0.51).
 */
export function formatPrice(price: Dec): string {
  if (price.abs().gte(1)) return formatUsd(price);
  const fixed = price.toDecimalPlaces(4).toFixed();
  const [whole = '0', fraction = ''] = fixed.split('.');
  return `${whole.startsWith('-') ? '-' : ''}$${whole.replace('-', '')}.${fraction.padEnd(2, '0')}`;
}

/** "$189.40 / $189.45"; undefined when the feed had neither side. */
export function formatBidAsk(bid: Dec | undefined, ask: Dec | undefined): string | undefined {
  if (bid === undefined && ask === undefined) return undefined;
  return `${bid !== undefined ? formatPrice(bid) : '—'} / ${ask !== undefined ? formatPrice(ask) : '—'}`;
}

/** "+$1.23 (+0.65%)" — change and percentage against a reference price. */
export function formatChange(current: Dec, reference: Dec): string {
  const { amount, fraction } = changeOf(current, reference);
  const sign = amount.isPositive() && !amount.isZero() ? '+' : '';
  const percentText = fraction === undefined ? '' : ` (${sign}${fraction.times(100).toDecimalPlaces(2).toFixed(2)}%)`;
  return `${sign}${formatUsd(amount)}${percentText}`;
}

/** "Buy 10 AAPL" / "Sell $500.00 of AAPL". */
export function describeSize(terms: Pick<OrderTerms, 'side' | 'symbol' | 'qty' | 'notional'>): string {
  const size =
    terms.qty !== undefined
      ? `${formatQty(terms.qty)} ${terms.symbol}`
      : `${formatUsd(terms.notional ?? dec(0))} of ${terms.symbol}`;
  return `${SIDE_LABELS[terms.side]} ${size}`;
}

/** "limit $410.50 · day · extended hours" — everything about the order but its size. */
export function describeTerms(terms: OrderTerms): string {
  const limit = terms.limitPrice !== undefined ? ` ${formatPrice(terms.limitPrice)}` : '';
  const stop = terms.stopPrice !== undefined ? ` ${formatPrice(terms.stopPrice)}` : '';
  const pricing = {
    market: 'market',
    limit: `limit${limit}`,
    stop: `stop${stop}`,
    stop_limit: `stop${stop} limit${limit}`,
  }[terms.type];
  const parts = [pricing, terms.timeInForce === 'gtc' ? 'GTC' : 'day'];
  if (terms.extendedHours) parts.push('extended hours');
  return parts.join(' · ');
}
