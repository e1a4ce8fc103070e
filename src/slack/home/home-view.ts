import type { HomeView, ImageBlock, KnownBlock, PlainTextOption } from '@slack/web-api';
import { formatNewYorkTime } from '../../domain/market-hours';
import type { HomeReport, PortfolioDetail, PortfolioRef, TrendStatus } from '../../domain/portfolio-report';
import type { BooksStatus } from '../../domain/reconciliation';
import {
  contextBlock,
  headerBlock,
  MAX_BUTTON_TEXT,
  MAX_OPTION_TEXT,
  MAX_SECTION_TEXT,
  MAX_STATIC_SELECT_OPTIONS,
  mrkdwn,
  plainText,
  sectionBlock,
  truncate,
  userMrkdwn,
} from '../block-kit/limits';
import {
  ACCOUNT_RESTRICTED,
  accountSection,
  clampPage,
  equityTrendText,
  marketLine,
  orderLine,
  pagerBlock,
  positionsPage,
  pricingNote,
  totalsFields,
} from '../block-kit/portfolio-format';
import { tradeAgainBlocks } from '../block-kit/trade-again';

/**
 * The App Home tab: market banner, account, a month of equity, the picked portfolio's positions
 * (paged) and the user's latest orders, with "New trade" and "Refresh". At most about 25 blocks
 * whatever the data, inside Slack's 100.
 */

export const HOME_ACTIONS = {
  pickPortfolio: 'home_pick_portfolio',
  refresh: 'home_refresh',
  newTrade: 'home_new_trade',
  previousPage: 'home_positions_previous',
  nextPage: 'home_positions_next',
} as const;

/** The "Reconcile now" button (admins only); the reconcile surface answers it. */
export const HOME_RECONCILE_NOW_ACTION_ID = 'home_reconcile_now';

export const HOME_PAGE_SIZE = 15;

export interface HomePage {
  portfolioId: number;
  page: number;
}

/** Page buttons carry "<portfolio id>:<page>". */
export function encodeHomePage(page: HomePage): string {
  return `${page.portfolioId}:${page.page}`;
}

export function decodeHomePage(value: string | undefined): HomePage | undefined {
  const match = /^(\d{1,12}):(\d{1,6})$/.exec(value ?? '');
  return match ? { portfolioId: Number(match[1]), page: Number(match[2]) } : undefined;
}

export interface HomeViewOptions {
  page?: number;
  /** Admins also get "Reconcile now". */
  isAdmin?: boolean;
  /** The last reconciliation, and where its alerts go; nothing is shown without it. */
  books?: BooksStatus & { channelId?: string };
  /** The uploaded performance chart, shown above the text trend (which stays as its fallback). */
  chart?: { fileId: string; altText: string };
  /**
   * Requests awaiting the viewer's approval and their own, already built by the approvals surface
   * (wired in app.ts, so no surface imports another); at most APPROVAL_HOME_MAX_BLOCKS blocks.
   */
  approvals?: KnownBlock[];
}

/** The approvals section's share of the tab's 100 blocks. */
export const APPROVAL_HOME_MAX_BLOCKS = 20;

/** Slack's limit for an image's alt text. */
const MAX_IMAGE_ALT_TEXT = 2000;

/**
 * The chart, for viewers who may see the account; its alt text is the text trend (sparkline and
 * figures), which also stays below as the fallback when there is no chart.
 */
function chartBlocks(report: HomeReport, chart: HomeViewOptions['chart']): ImageBlock[] {
  if (!chart || report.trend.kind === 'restricted' || report.account.kind === 'restricted') return [];
  return [{ type: 'image', slack_file: { id: chart.fileId }, alt_text: truncate(chart.altText, MAX_IMAGE_ALT_TEXT) }];
}

function trendSection(status: TrendStatus): KnownBlock {
  return sectionBlock(equityTrendText(status, { range: true, waiting: '_Loading…_', restricted: ACCOUNT_RESTRICTED }));
}

function portfolioOption(p: PortfolioRef & { id: number }): PlainTextOption {
  return { text: plainText(p.name, MAX_OPTION_TEXT), value: String(p.id) };
}

/** The picker: at most 100 options (Slack's limit), always including the one shown. */
function picker(portfolios: readonly PortfolioRef[], selected: PortfolioDetail | undefined): { blocks: KnownBlock[] } {
  const choices = portfolios.filter((p): p is PortfolioRef & { id: number } => p.id !== null);
  if (choices.length === 0) {
    return { blocks: [sectionBlock('*Portfolios*\nNone yet — press *New trade* and name one in the form.')] };
  }
  const current = choices.find((p) => p.id === selected?.id);
  const offered = choices.slice(0, MAX_STATIC_SELECT_OPTIONS);
  if (current && !offered.includes(current)) offered.splice(MAX_STATIC_SELECT_OPTIONS - 1, 1, current);
  const options = offered.map(portfolioOption);
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: mrkdwn(current ? `*Portfolio ${userMrkdwn(current.name, 120)}*` : '*Portfolio*', MAX_SECTION_TEXT),
      accessory: {
        type: 'static_select',
        action_id: HOME_ACTIONS.pickPortfolio,
        placeholder: plainText('Choose a portfolio', 150),
        options,
        ...(current ? { initial_option: options.find((o) => o.value === String(current.id)) } : {}),
      },
    },
  ];
  if (choices.length > MAX_STATIC_SELECT_OPTIONS) {
    blocks.push(
      contextBlock(
        `The picker lists ${MAX_STATIC_SELECT_OPTIONS} of ${choices.length} portfolios; ` +
          `\`/portfolio <name>\` shows any of them.`,
      ),
    );
  }
  return { blocks };
}

function positionsBlocks(detail: PortfolioDetail, requestedPage: number): KnownBlock[] {
  const total = detail.positions.length;
  const page = clampPage(requestedPage, total, HOME_PAGE_SIZE);
  const blocks: KnownBlock[] = [
    { type: 'section', fields: totalsFields(detail.totals, detail.pricing) },
    ...positionsPage(detail.positions, page, HOME_PAGE_SIZE, pricingNote(detail.pricing, detail.totals)),
  ];
  // A portfolio known only from its fills has no id to page by.
  const { id } = detail;
  if (id === null) return blocks;
  const actions = { previous: HOME_ACTIONS.previousPage, next: HOME_ACTIONS.nextPage };
  const pager = pagerBlock(page, total, HOME_PAGE_SIZE, actions, (p) => encodeHomePage({ portfolioId: id, page: p }));
  if (pager) blocks.push(pager);
  return blocks;
}

/** One line on whether the books can be trusted: what the last reconciliation found, and when. */
function booksLine(books: NonNullable<HomeViewOptions['books']>, now: Date): string {
  const checked = `checked ${formatNewYorkTime(books.checkedAt, now)}`;
  switch (books.outcome) {
    case 'ok':
      return `:white_check_mark: Books match Alpaca · ${checked}`;
    case 'discrepancies': {
      const n = books.openDiscrepancies;
      const where = books.channelId ? `details in <#${books.channelId}>` : 'details in the app’s logs';
      return `:warning: Books and Alpaca disagree on ${n} symbol${n === 1 ? '' : 's'} · ${checked} · ${where}`;
    }
    case 'failed':
      return `:warning: The last check of the books against Alpaca could not finish · ${checked}`;
  }
}

export function buildHomeView(report: HomeReport, options: HomeViewOptions = {}): HomeView {
  const orders = report.recentOrders.map((o) => orderLine(o, report.generatedAt, { showPortfolio: true }));
  const blocks: KnownBlock[] = [
    headerBlock('Slack OMS'),
    sectionBlock(marketLine(report.market)),
    accountSection(report.account, '*Alpaca account*'),
    ...chartBlocks(report, options.chart),
    trendSection(report.trend),
    ...(options.books ? [contextBlock(booksLine(options.books, report.generatedAt))] : []),
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: HOME_ACTIONS.newTrade,
          style: 'primary',
          text: plainText('New trade', MAX_BUTTON_TEXT),
          value: 'new_trade',
        },
        {
          type: 'button',
          action_id: HOME_ACTIONS.refresh,
          text: plainText('Refresh', MAX_BUTTON_TEXT),
          value: 'refresh',
        },
        ...(options.isAdmin
          ? [
              {
                type: 'button' as const,
                action_id: HOME_RECONCILE_NOW_ACTION_ID,
                text: plainText('Reconcile now', MAX_BUTTON_TEXT),
                value: 'reconcile_now',
              },
            ]
          : []),
      ],
    },
    ...(options.approvals ?? []).slice(0, APPROVAL_HOME_MAX_BLOCKS),
    { type: 'divider' },
    ...picker(report.portfolios, report.selected).blocks,
    ...(report.selected ? positionsBlocks(report.selected, options.page ?? 0) : []),
    { type: 'divider' },
    sectionBlock(
      `*Your latest orders*\n${orders.length > 0 ? orders.join('\n') : 'None yet — press *New trade* to place one.'}`,
    ),
    ...tradeAgainBlocks(report.repeatable ?? []),
    contextBlock(
      `Updated ${formatNewYorkTime(report.generatedAt, report.generatedAt)} · ` +
        'statuses follow the broker as orders fill',
    ),
  ];
  return { type: 'home', blocks };
}
