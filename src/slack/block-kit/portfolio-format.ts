import type { ActionsBlock, Button, KnownBlock, MrkdwnElement } from '@slack/web-api';
import type { EquityPoint } from '../../domain/equity-trend';
import { formatNewYorkTime, NEW_YORK_TIME_ZONE } from '../../domain/market-hours';
import { type Dec, formatQty, formatUsd } from '../../domain/money';
import type { TradeStatus } from '../../domain/order';
import type {
  AccountStatus,
  MarketStatus,
  OrderSummary,
  PricingStatus,
  TrendStatus,
} from '../../domain/portfolio-report';
import type { ValuationTotals, ValuedPosition } from '../../domain/portfolio-valuation';
import { isSlackMemberId } from '../../domain/trade';
import { UNATTRIBUTED_TRADER } from '../../domain/trader-pnl';
import { describeSize, formatPrice, marketIcon } from './format';
import {
  contextBlock,
  MAX_BUTTON_TEXT,
  MAX_SECTION_TEXT,
  mrkdwn,
  plainText,
  sectionBlock,
  sectionField,
  userMrkdwn,
} from './limits';

/** Wording and layout shared by the /portfolio messages and the Home tab. */

/** Longest portfolio name shown; the books allow 255 characters but a line must stay readable. */
const SHOWN_NAME_LENGTH = 80;
const SHOWN_SYMBOL_LENGTH = 12;
/** How many symbols a "no quote for …" note names before saying "and N more". */
const NAMED_SYMBOLS = 10;

export function portfolioName(name: string): string {
  return userMrkdwn(name, SHOWN_NAME_LENGTH);
}

function symbol(text: string): string {
  return userMrkdwn(text, SHOWN_SYMBOL_LENGTH);
}

/** A trader in a P&L list (/portfolio traders, the digest): a mention, or what the reconciler's row holds. */
export function traderName(userId: string): string {
  if (isSlackMemberId(userId)) return `<@${userId}>`;
  return userId === UNATTRIBUTED_TRADER ? '_book adjustments & adopted orders_' : userMrkdwn(userId, 40);
}

/** "+$94.20" / "-$12.00" / "$0.00". */
export function signedUsd(value: Dec): string {
  const cents = value.toDecimalPlaces(2);
  return `${cents.gt(0) ? '+' : ''}${formatUsd(cents)}`;
}

/** "+5.23%"; empty when there is no base to compare with. */
function signedPct(value: Dec | undefined): string {
  if (value === undefined) return '';
  const rounded = value.toDecimalPlaces(2);
  return `${rounded.gt(0) ? '+' : ''}${rounded.toFixed(2)}%`;
}

/** "+$94.20 (+5.23%)". */
export function pnl(value: Dec, pct?: Dec): string {
  const percent = signedPct(pct);
  return percent ? `${signedUsd(value)} (${percent})` : signedUsd(value);
}

function shares(qty: Dec): string {
  return `${qty.isNegative() ? 'short ' : ''}${formatQty(qty.abs())} sh`;
}

/** One holding on one line: what is held, at what cost, what it is worth now. */
export function positionLine(p: ValuedPosition): string {
  const parts = [`*${symbol(p.symbol)}*`, shares(p.qty)];
  if (p.avgCost !== undefined) parts.push(`avg ${formatPrice(p.avgCost)}`);
  if (p.lastPrice === undefined || p.marketValue === undefined || p.unrealizedPnl === undefined) {
    parts.push(`no price · cost ${formatUsd(p.costBasis)}`);
    return parts.join(' · ');
  }
  parts.push(
    `last ${formatPrice(p.lastPrice)}`,
    `value ${formatUsd(p.marketValue)}`,
    `P&L ${pnl(p.unrealizedPnl, p.unrealizedPct)}`,
  );
  if (p.dayChange !== undefined) parts.push(`today ${signedUsd(p.dayChange)}`);
  return parts.join(' · ');
}

const STATUS_WORDS: Record<TradeStatus, { emoji: string; words: string }> = {
  pending_approval: { emoji: ':raised_hand:', words: 'awaiting approval' },
  pending_submit: { emoji: ':hourglass_flowing_sand:', words: 'sending' },
  submitted: { emoji: ':outbox_tray:', words: 'submitted' },
  accepted: { emoji: ':outbox_tray:', words: 'open' },
  partially_filled: { emoji: ':large_yellow_circle:', words: 'partially filled' },
  filled: { emoji: ':white_check_mark:', words: 'filled' },
  canceled: { emoji: ':no_entry_sign:', words: 'canceled' },
  expired: { emoji: ':hourglass:', words: 'expired' },
  rejected: { emoji: ':x:', words: 'rejected' },
  failed: { emoji: ':x:', words: 'not placed' },
};

/** ":white_check_mark: Buy 10 AAPL @ $189.42 — filled · Growth · Mon Jan 5 09:31 ET". */
export function orderLine(order: OrderSummary, now: Date, options: { showPortfolio: boolean }): string {
  const { emoji, words } = STATUS_WORDS[order.status];
  const size = describeSize({
    side: order.side,
    symbol: symbol(order.symbol),
    qty: order.quantity ?? undefined,
    notional: order.notional ?? undefined,
  });
  const price =
    order.filledAvgPrice !== null
      ? ` @ ${formatPrice(order.filledAvgPrice)}`
      : order.bookOnly && order.gmv && order.quantity && !order.quantity.isZero()
        ? ` @ ${formatPrice(order.gmv.div(order.quantity))}`
        : order.limitPrice
          ? ` limit ${formatPrice(order.limitPrice)}`
          : '';
  const partial = order.status === 'partially_filled' && order.filledQty ? ` ${formatQty(order.filledQty)}` : '';
  const parts = [`${emoji} ${size}${price} — ${words}${partial}${order.bookOnly ? ' (books only)' : ''}`];
  if (options.showPortfolio) parts.push(portfolioName(order.portfolioName));
  parts.push(formatNewYorkTime(order.placedAt, now));
  return parts.join(' · ');
}

/** Lines packed into as few section blocks as fit Slack's 3,000 characters each. */
export function lineSections(lines: readonly string[]): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  let current = '';
  for (const line of lines) {
    const next = current === '' ? line : `${current}\n${line}`;
    if (next.length > MAX_SECTION_TEXT && current !== '') {
      blocks.push(sectionBlock(current));
      current = line;
    } else {
      current = next;
    }
  }
  if (current !== '') blocks.push(sectionBlock(current));
  return blocks;
}

function listSymbols(symbols: readonly string[]): string {
  const named = symbols.slice(0, NAMED_SYMBOLS).map(symbol).join(', ');
  return symbols.length > NAMED_SYMBOLS ? `${named} and ${symbols.length - NAMED_SYMBOLS} more` : named;
}

/** The totals of a portfolio (or of all of them) as section fields. */
export function totalsFields(totals: ValuationTotals, pricing: PricingStatus): MrkdwnElement[] {
  const priced = pricing.source === 'alpaca';
  const fields = [sectionField('Positions', String(totals.positions))];
  if (priced) {
    fields.push(
      sectionField('Market value', formatUsd(totals.marketValue)),
      sectionField('Unrealized P&L', pnl(totals.unrealizedPnl, totals.unrealizedPct)),
      sectionField('Today', pnl(totals.dayChange, totals.dayChangePct)),
    );
  }
  fields.push(
    sectionField('Cost basis', formatUsd(totals.costBasis)),
    sectionField('Realized P&L', signedUsd(totals.realizedPnl)),
  );
  return fields;
}

/** What the prices rest on, and what is missing from the figures. */
export function pricingNote(pricing: PricingStatus, totals?: Pick<ValuationTotals, 'unpriced'>): string {
  switch (pricing.source) {
    case 'ledger':
      return ':ledger: Ledger-only mode (USE_ALPACA=false): no market data, so positions are shown at cost.';
    case 'unavailable':
      return `:warning: Prices unavailable — ${userMrkdwn(pricing.error, 300)} Positions are shown at cost.`;
    case 'alpaca': {
      const missing = totals?.unpriced.length ? totals.unpriced : pricing.missing;
      if (missing.length === 0) return 'Prices: Alpaca last trade; today = change since the previous close.';
      return `:warning: No quote for ${listSymbols(missing)}: shown at cost and left out of market value and P&L.`;
    }
  }
}

export function marketLine(market: MarketStatus): string {
  if (market.kind === 'unavailable')
    return `:grey_question: Market status unavailable — ${userMrkdwn(market.error, 300)}`;
  return `${marketIcon(market.market)} *${market.market.headline}*\n${market.market.detail}`;
}

/** Shown instead of the account (and its equity history) to members who are neither traders nor admins. */
export const ACCOUNT_RESTRICTED = ':lock: The Alpaca account is shown to traders and admins only.';

const shortDate = new Intl.DateTimeFormat('en-US', { timeZone: NEW_YORK_TIME_ZONE, month: 'short', day: 'numeric' });

function equityPoint(p: EquityPoint): string {
  return `${formatUsd(p.equity)} (${shortDate.format(p.at)})`;
}

/**
 * A month of account equity in text (the Home tab's trend, the digest's chart fallback): the
 * sparkline, first → last and the change; `range` adds the low and high, and `waiting` /
 * `restricted` are what each surface says while it has no trend to show.
 */
export function equityTrendText(
  status: TrendStatus,
  options: { range: boolean; waiting: string; restricted: string },
): string {
  const title = '*Account equity, last month*';
  switch (status.kind) {
    case 'ok': {
      const t = status.trend;
      const range = options.range ? ` · low ${equityPoint(t.low)} · high ${equityPoint(t.high)}` : '';
      return (
        `${title}\n\`${t.sparkline}\`\n` +
        `${equityPoint(t.first)} → ${equityPoint(t.last)}: ${pnl(t.change, t.changePct)}${range}`
      );
    }
    case 'empty':
      return `${title}\nNo equity history yet.`;
    case 'ledger':
      return `${title}\nLedger-only mode: there is no broker account history.`;
    case 'unavailable':
      return `${title}\n:warning: Unavailable — ${userMrkdwn(status.error, 300)}`;
    case 'pending':
      return `${title}\n${options.waiting}`;
    case 'restricted':
      return `${title}\n${options.restricted}`;
  }
}

/** The account as section fields, or one sentence saying why there is none. */
function accountFields(status: AccountStatus): MrkdwnElement[] | string {
  switch (status.kind) {
    case 'ledger':
      return ':ledger: Ledger-only mode (USE_ALPACA=false): there is no broker account to show.';
    case 'restricted':
      return ACCOUNT_RESTRICTED;
    case 'unavailable':
      return `:warning: Alpaca account unavailable — ${userMrkdwn(status.error, 300)}`;
    case 'ok': {
      const a = status.account;
      const flags = [a.tradingBlocked ? 'trading blocked' : '', a.patternDayTrader ? 'pattern day trader' : ''].filter(
        Boolean,
      );
      return [
        sectionField('Equity', formatUsd(a.equity)),
        sectionField("Today's P&L", pnl(status.todayPnl, status.todayPnlPct)),
        sectionField('Cash', formatUsd(a.cash)),
        sectionField('Buying power', formatUsd(a.buyingPower)),
        sectionField('Status', `${userMrkdwn(a.status, 40)}${flags.length ? ` (${flags.join(', ')})` : ''}`),
        sectionField('Account', userMrkdwn(a.accountNumber, 40)),
      ];
    }
  }
}

/** The account as one section: its fields (under `title`, when given), or the sentence saying why there are none. */
export function accountSection(status: AccountStatus, title?: string): KnownBlock {
  const account = accountFields(status);
  if (typeof account === 'string') return sectionBlock(account);
  if (title === undefined) return { type: 'section', fields: account };
  return { type: 'section', text: mrkdwn(title, MAX_SECTION_TEXT), fields: account };
}

/** "Positions 21–40 of 300". */
export function pageRange(label: string, page: number, pageSize: number, total: number): string {
  const first = page * pageSize + 1;
  const last = Math.min(total, (page + 1) * pageSize);
  return total <= pageSize
    ? `${total} ${label}`
    : `${label[0]!.toUpperCase()}${label.slice(1)} ${first}–${last} of ${total}`;
}

/** The page asked for, clamped to the pages there are (a stale button may point past the end). */
export function clampPage(page: number, total: number, pageSize: number): number {
  const last = Math.max(0, Math.ceil(total / pageSize) - 1);
  return Number.isInteger(page) ? Math.min(Math.max(0, page), last) : 0;
}

/** The items on one page, the page clamped to those there are (a stale button may point past the end). */
export function pageOf<T>(items: readonly T[], requestedPage: number, pageSize: number): { page: number; items: T[] } {
  const page = clampPage(requestedPage, items.length, pageSize);
  return { page, items: items.slice(page * pageSize, (page + 1) * pageSize) };
}

/**
 * One page (already clamped) of a portfolio's positions, largest first, with the line saying which
 * page (and `note` after it); "No open positions." when there are none.
 */
export function positionsPage(
  positions: readonly ValuedPosition[],
  page: number,
  pageSize: number,
  note?: string,
): KnownBlock[] {
  if (positions.length === 0) return [sectionBlock('No open positions.')];
  const { items } = pageOf(positions, page, pageSize);
  const range = `${pageRange('positions', page, pageSize, positions.length)}, largest first`;
  return [...lineSections(items.map(positionLine)), contextBlock(note === undefined ? range : `${range} · ${note}`)];
}

/** "◀ Previous" / "Next page ▶" under a paged list, each button carrying `value(page)`; undefined with one page. */
export function pagerBlock(
  page: number,
  total: number,
  pageSize: number,
  actionIds: { previous: string; next: string },
  value: (page: number) => string,
): ActionsBlock | undefined {
  const button = (actionId: string, text: string, to: number): Button => {
    return { type: 'button', action_id: actionId, text: plainText(text, MAX_BUTTON_TEXT), value: value(to) };
  };
  const buttons: Button[] = [];
  if (page > 0) buttons.push(button(actionIds.previous, '◀ Previous', page - 1));
  if ((page + 1) * pageSize < total) buttons.push(button(actionIds.next, 'Next page ▶', page + 1));
  return buttons.length > 0 ? { type: 'actions', elements: buttons } : undefined;
}
