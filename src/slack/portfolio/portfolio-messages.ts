import type { KnownBlock } from '@slack/web-api';
import { formatQty, formatUsd } from '../../domain/money';
import type {
  AccountReport,
  PortfolioDetail,
  PortfolioLookup,
  PortfolioOverview,
  PositionComparison,
  PositionComparisonRow,
} from '../../domain/portfolio-report';
import { formatPrice } from '../block-kit/format';
import {
  contextBlock,
  headerBlock,
  MAX_BUTTON_VALUE,
  MAX_HEADER_TEXT,
  MAX_SECTION_TEXT,
  mrkdwn,
  type SlackMessage,
  sectionBlock,
  truncate,
  userMrkdwn,
} from '../block-kit/limits';
import {
  accountSection,
  clampPage,
  lineSections,
  marketLine,
  orderLine,
  pageOf,
  pageRange,
  pagerBlock,
  pnl,
  portfolioName,
  positionsPage,
  pricingNote,
  signedUsd,
  totalsFields,
} from '../block-kit/portfolio-format';

/**
 * The `/portfolio` replies (ephemeral, so at most 50 blocks each). Long lists are paged: each
 * page holds a fixed number of lines and "Previous" / "Next page" buttons replace the message
 * with the neighbouring page, so a portfolio of any size stays far inside Slack's limits.
 */

export const PORTFOLIO_PAGE_ACTIONS = { previous: 'portfolio_page_previous', next: 'portfolio_page_next' } as const;

/** Lines per page: about 150 characters each, so a page is two or three section blocks. */
export const MESSAGE_PAGE_SIZE = 20;

export type PortfolioPage =
  | { view: 'overview'; page: number }
  | { view: 'detail'; name: string; page: number }
  | { view: 'positions'; page: number };

/** What a page button carries: small JSON, a portfolio name at most 255 characters, well inside 2,000. */
export function encodePage(page: PortfolioPage): string {
  const compact =
    page.view === 'detail'
      ? { v: 'd', n: page.name, p: page.page }
      : { v: page.view === 'overview' ? 'o' : 'p', p: page.page };
  return truncate(JSON.stringify(compact), MAX_BUTTON_VALUE);
}

/** Undefined for anything a page button of ours did not produce. */
export function decodePage(value: string | undefined): PortfolioPage | undefined {
  try {
    const raw = JSON.parse(value ?? '') as { v?: unknown; n?: unknown; p?: unknown };
    const page = typeof raw.p === 'number' && Number.isInteger(raw.p) && raw.p >= 0 ? raw.p : undefined;
    if (page === undefined) return undefined;
    if (raw.v === 'd' && typeof raw.n === 'string') return { view: 'detail', name: raw.n, page };
    if (raw.v === 'o') return { view: 'overview', page };
    if (raw.v === 'p') return { view: 'positions', page };
    return undefined;
  } catch {
    return undefined;
  }
}

function pager(page: number, total: number, target: (page: number) => PortfolioPage) {
  return pagerBlock(page, total, MESSAGE_PAGE_SIZE, PORTFOLIO_PAGE_ACTIONS, (p) => encodePage(target(p)));
}

function present<T>(value: T | undefined): value is T {
  return value !== undefined;
}

export interface PageOptions {
  page?: number;
  now?: Date;
}

/** `/portfolio`: one line per portfolio, then the totals and the account. */
export function buildPortfolioOverviewMessage(overview: PortfolioOverview, options: PageOptions = {}): SlackMessage {
  const { portfolios, totals, pricing } = overview;
  if (portfolios.length === 0) {
    return {
      text: 'No portfolios yet',
      blocks: [
        sectionBlock(
          '*No portfolios yet.* Place an order with `/trade` and name a portfolio in the form; ' +
            'it appears here once filled.',
        ),
      ],
    };
  }
  const { page, items: shown } = pageOf(portfolios, options.page ?? 0, MESSAGE_PAGE_SIZE);
  const lines = shown.map((p) => {
    const parts = [
      `*${portfolioName(p.name)}*`,
      `${p.totals.positions} position${p.totals.positions === 1 ? '' : 's'}`,
    ];
    if (pricing.source === 'alpaca' && p.totals.positions > 0) {
      parts.push(
        `value ${formatUsd(p.totals.marketValue)}`,
        `P&L ${pnl(p.totals.unrealizedPnl, p.totals.unrealizedPct)}`,
        `today ${pnl(p.totals.dayChange, p.totals.dayChangePct)}`,
      );
    } else if (p.totals.positions > 0) {
      parts.push(`cost ${formatUsd(p.totals.costBasis)}`);
    }
    if (!p.totals.realizedPnl.isZero()) parts.push(`realized ${signedUsd(p.totals.realizedPnl)}`);
    return parts.join(' · ');
  });
  const blocks = [
    headerBlock(`Portfolios (${portfolios.length})`),
    ...lineSections(lines),
    contextBlock(
      `${pageRange('portfolios', page, MESSAGE_PAGE_SIZE, portfolios.length)} · ` +
        `\`/portfolio <name>\` for one portfolio's positions`,
    ),
    pager(page, portfolios.length, (p) => ({ view: 'overview', page: p })),
    { type: 'divider' } as KnownBlock,
    {
      type: 'section',
      text: mrkdwn('*All portfolios*', MAX_SECTION_TEXT),
      fields: totalsFields(totals, pricing),
    } as KnownBlock,
    accountSection(overview.account, '*Alpaca account*'),
    contextBlock(pricingNote(pricing, totals)),
  ].filter(present);
  const summary =
    pricing.source === 'alpaca'
      ? `, value ${formatUsd(totals.marketValue)}, unrealized ${pnl(totals.unrealizedPnl, totals.unrealizedPct)}`
      : '';
  return { text: `${portfolios.length} portfolios, ${totals.positions} positions${summary}`, blocks };
}

/** `/portfolio <name>`: its positions (paged), totals, realized P&L and latest orders. */
export function buildPortfolioDetailMessage(detail: PortfolioDetail, options: PageOptions = {}): SlackMessage {
  const now = options.now ?? new Date();
  const total = detail.positions.length;
  const page = clampPage(options.page ?? 0, total, MESSAGE_PAGE_SIZE);
  const orders = detail.recentOrders.map((o) => orderLine(o, now, { showPortfolio: false }));
  const blocks = [
    headerBlock(truncate(`Portfolio ${detail.name}`, MAX_HEADER_TEXT)),
    { type: 'section', fields: totalsFields(detail.totals, detail.pricing) } as KnownBlock,
    { type: 'divider' } as KnownBlock,
    ...positionsPage(detail.positions, page, MESSAGE_PAGE_SIZE),
    pager(page, total, (p) => ({ view: 'detail', name: detail.name, page: p })),
    sectionBlock(`*Latest orders*\n${orders.length > 0 ? orders.join('\n') : 'None yet.'}`),
    contextBlock(pricingNote(detail.pricing, detail.totals)),
  ].filter(present);
  const value =
    detail.pricing.source === 'alpaca'
      ? `, value ${formatUsd(detail.totals.marketValue)}, ` +
        `unrealized ${pnl(detail.totals.unrealizedPnl, detail.totals.unrealizedPct)}`
      : '';
  return { text: `${userMrkdwn(detail.name, 80)}: ${total} positions${value}`, blocks };
}

/** `/portfolio <name>` and its page buttons: the portfolio, or the names close to what was asked. */
export function buildPortfolioLookupMessage(lookup: PortfolioLookup, options: PageOptions = {}): SlackMessage {
  return lookup.kind === 'found'
    ? buildPortfolioDetailMessage(lookup.detail, options)
    : buildPortfolioNotFoundMessage(lookup);
}

export function buildPortfolioNotFoundMessage(lookup: Extract<PortfolioLookup, { kind: 'not_found' }>): SlackMessage {
  const asked = userMrkdwn(lookup.query, 80);
  const suggestion =
    lookup.suggestions.length > 0
      ? `Did you mean ${lookup.suggestions.map((s) => `*${portfolioName(s)}*`).join(', ')}?`
      : lookup.known > 0
        ? `\`/portfolio\` lists all ${lookup.known}.`
        : 'There are no portfolios yet: name one in the `/trade` form.';
  const text = `No portfolio named “${asked}”. ${suggestion}`;
  return { text, blocks: [sectionBlock(`:mag: ${text}`)] };
}

/** `/portfolio account`. */
export function buildAccountMessage(report: AccountReport): SlackMessage {
  const blocks: KnownBlock[] = [
    headerBlock('Alpaca account'),
    accountSection(report.account),
    sectionBlock(marketLine(report.market)),
  ];
  const text =
    report.account.kind === 'ok'
      ? `Equity ${formatUsd(report.account.account.equity)}, ` +
        `today ${pnl(report.account.todayPnl, report.account.todayPnlPct)}`
      : report.account.kind === 'ledger'
        ? 'Ledger-only mode: no broker account'
        : report.account.kind === 'restricted'
          ? 'Alpaca account: traders and admins only'
          : 'Alpaca account unavailable';
  return { text, blocks };
}

function comparisonLine(row: PositionComparisonRow): string {
  const books = formatQty(row.books);
  if (row.broker === undefined || row.difference === undefined)
    return `*${userMrkdwn(row.symbol, 12)}* · books ${books}`;
  const price = row.brokerPrice !== undefined ? ` · ${formatPrice(row.brokerPrice)}` : '';
  const value = row.brokerMarketValue !== undefined ? ` · value ${formatUsd(row.brokerMarketValue)}` : '';
  if (row.difference.isZero()) return `:white_check_mark: *${userMrkdwn(row.symbol, 12)}* · ${books}${price}${value}`;
  const diff = `${row.difference.gt(0) ? '+' : ''}${formatQty(row.difference)}`;
  return (
    `:warning: *${userMrkdwn(row.symbol, 12)}* · broker ${formatQty(row.broker)} vs ` +
    `books ${books} · *difference ${diff}*${price}`
  );
}

/** `/portfolio positions`: the broker's holdings beside the books' totals, mismatches first. */
export function buildPositionComparisonMessage(
  comparison: PositionComparison,
  options: PageOptions = {},
): SlackMessage {
  const total = comparison.rows.length;
  const { page, items: shown } = pageOf(comparison.rows, options.page ?? 0, MESSAGE_PAGE_SIZE);
  const status =
    comparison.broker.kind === 'ledger'
      ? ':ledger: Ledger-only mode (USE_ALPACA=false): ' +
        'there are no broker positions to compare; the books are shown alone.'
      : comparison.broker.kind === 'unavailable'
        ? `:warning: Alpaca positions unavailable — ${userMrkdwn(comparison.broker.error, 300)} ` +
          'The books are shown alone.'
        : comparison.mismatches === 0
          ? `:white_check_mark: The broker and the books agree on all ${total} symbol${total === 1 ? '' : 's'}.`
          : `:warning: *${comparison.mismatches} of ${total} symbols differ* between the broker and the books.`;
  const lines = shown.map(comparisonLine);
  const blocks = [
    headerBlock('Broker positions vs books'),
    sectionBlock(status),
    ...(total === 0 ? [sectionBlock('No positions at the broker or in the books.')] : lineSections(lines)),
    total > 0
      ? contextBlock(`${pageRange('symbols', page, MESSAGE_PAGE_SIZE, total)} · books = sum over every portfolio`)
      : undefined,
    pager(page, total, (p) => ({ view: 'positions', page: p })),
  ].filter(present);
  return {
    text:
      comparison.broker.kind === 'ok'
        ? `${comparison.mismatches} of ${total} symbols differ`
        : 'Books positions (broker not compared)',
    blocks,
  };
}

const HELP_TEXT = [
  '*/portfolio* shows the named portfolios, priced live from Alpaca. Only you see the answer.',
  '',
  '• `/portfolio` — every portfolio: positions, market value, unrealized P&L, today’s change, and the account',
  '• `/portfolio Growth` — one portfolio (any case): positions with average cost, ' +
    'last price, value, P&L; realized P&L; latest orders',
  '• `/portfolio account` — equity, cash, buying power, today’s P&L, account and market status',
  '• `/portfolio positions` — the broker’s positions beside the books’ totals, differences flagged',
  '• `/portfolio reconcile` — (admins) compare the books with Alpaca now and post any discrepancies',
  '• `/portfolio digest` — today’s closing digest so far: account, portfolios, traders, orders, movers',
  '• `/portfolio traders` — P&L per trader across portfolios, ranked: realized, unrealized, orders, hit rate',
  '• `/portfolio help` — this message',
  '',
  'A portfolio named like a keyword: quote it, `/portfolio "Account"`.',
  'Average cost: buys add to the cost; sells realize (price − average cost) × quantity. ' +
    'Today = quantity × (last − previous close).',
  'The app’s Home tab shows the same, for the portfolio you pick.',
].join('\n');

export function buildPortfolioHelp(): SlackMessage {
  return { text: 'How to use /portfolio', blocks: [sectionBlock(HELP_TEXT)] };
}
