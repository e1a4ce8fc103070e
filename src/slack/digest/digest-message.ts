import type { ImageBlock, KnownBlock } from '@slack/web-api';
import type { DigestReport } from '../../domain/digest';
import { formatNewYorkTime } from '../../domain/market-hours';
import { formatUsd } from '../../domain/money';
import type { TradeStatus } from '../../domain/order';
import {
  contextBlock,
  headerBlock,
  MAX_MESSAGE_BLOCKS,
  type SlackMessage,
  sectionBlock,
  truncate,
  userMrkdwn,
} from '../block-kit/limits';
import {
  accountSection,
  equityTrendText,
  lineSections,
  pnl,
  portfolioName,
  pricingNote,
  signedUsd,
  traderName,
} from '../block-kit/portfolio-format';

/**
 * The closing digest as one message, readable on a phone: the account, the month's chart (or its
 * text sparkline when there is no chart), each portfolio, each trader, the day's orders, whether
 * the books match Alpaca, and the top movers. Long lists are cut with "and N more" so the message
 * stays inside Slack's 50 blocks and 3,000 characters a section whatever the book holds.
 */

export interface DigestView {
  report: DigestReport;
  /** The uploaded chart; without it the text sparkline stands in. */
  chart?: { fileId: string; altText: string };
  /** Permalink of the open reconciliation alert, when there is one. */
  alertPermalink?: string;
}

/** Lines listed per section before "and N more". */
export const DIGEST_MAX_PORTFOLIOS = 25;
export const DIGEST_MAX_TRADERS = 10;
/** Slack's limit for an image block's alt text. */
const MAX_ALT_TEXT = 2000;

const STATUS_LABELS: Record<TradeStatus, string> = {
  pending_approval: 'awaiting approval',
  pending_submit: 'being sent',
  submitted: 'sent',
  accepted: 'working',
  partially_filled: 'partially filled',
  filled: 'filled',
  canceled: 'canceled',
  expired: 'expired',
  rejected: 'rejected',
  failed: 'failed',
};

const longDate = new Intl.DateTimeFormat('en-US', {
  timeZone: 'UTC',
  weekday: 'short',
  month: 'short',
  day: 'numeric',
  year: 'numeric',
});

/** "Wed, Dec 2, 2026" for a YYYY-MM-DD trading date. */
export function digestDate(tradingDate: string): string {
  return longDate.format(new Date(`${tradingDate}T12:00:00Z`));
}

function more(shown: number, total: number, what: string): string[] {
  return total > shown ? [`_…and ${total - shown} more ${what}_`] : [];
}

/** The month of equity in text: the chart's fallback, and its alt text's gist. */
function trendText(report: DigestReport): string {
  const unavailable = 'Not available just now.';
  return equityTrendText(report.trend, { range: false, waiting: unavailable, restricted: unavailable });
}

function chartBlock(chart: NonNullable<DigestView['chart']>): ImageBlock {
  return {
    type: 'image',
    slack_file: { id: chart.fileId },
    alt_text: truncate(chart.altText, MAX_ALT_TEXT),
    title: { type: 'plain_text', text: 'Account and portfolio value, last month', emoji: true },
  };
}

function portfolioLines(report: DigestReport): string[] {
  if (report.portfolios.length === 0) return ['*Portfolios*', 'None yet.'];
  const shown = report.portfolios.slice(0, DIGEST_MAX_PORTFOLIOS).map((p) => {
    const unpriced = p.unpriced.length > 0 ? ` · _${p.unpriced.length} unpriced_` : '';
    return (
      `*${portfolioName(p.name)}* · value ${formatUsd(p.value)} · day ${signedUsd(p.dayPnl)} · ` +
      `unrealized ${signedUsd(p.unrealizedPnl)} · realized ${signedUsd(p.realizedPnl)}${unpriced}`
    );
  });
  const note = pricingNote(report.pricing, report.totals);
  return [
    '*Portfolios*',
    ...shown,
    ...more(shown.length, report.portfolios.length, 'portfolios'),
    ...(note ? [`_${note}_`] : []),
  ];
}

function traderLines(report: DigestReport): string[] {
  const title = '*Traders* (realized + unrealized)';
  if (report.traders.kind === 'unavailable')
    return [title, `:warning: Unavailable — ${userMrkdwn(report.traders.error, 300)}`];
  const rows = report.traders.report.rows;
  if (rows.length === 0) return [title, 'No fills yet.'];
  const shown = rows.slice(0, DIGEST_MAX_TRADERS).map((r) => {
    const unrealized = r.unrealized === null ? 'unrealized unknown' : `unrealized ${signedUsd(r.unrealized)}`;
    const hits = r.hitRate === null ? '' : ` · hit rate ${Math.round(r.hitRate * 100)}%`;
    const orders = `${r.orders} order${r.orders === 1 ? '' : 's'}`;
    return `${r.rank}. ${traderName(r.userId)} · realized ${signedUsd(r.realized)} · ${unrealized} · ${orders}${hits}`;
  });
  return [title, ...shown, ...more(shown.length, rows.length, 'traders')];
}

function statusCounts(counts: DigestReport['orders']['byStatus']): string {
  return counts.map((s) => `${s.count} ${STATUS_LABELS[s.status] ?? s.status}`).join(' · ');
}

/** Placed as the trader section counts them; the ones never sent (refused, awaiting approval) after. */
function orderLine(report: DigestReport): string {
  const { placed, byStatus, notPlaced } = report.orders;
  if (placed === 0 && notPlaced.length === 0) return '*Today’s orders*\nNone.';
  const sent = placed === 0 ? '0 placed' : `${placed} placed: ${statusCounts(byStatus)}`;
  const unsent = notPlaced.length > 0 ? `\nNot sent: ${statusCounts(notPlaced)}` : '';
  return `*Today’s orders*\n${sent}${unsent}`;
}

function booksLine(view: DigestView): string {
  const { books } = view.report;
  const title = '*Books vs Alpaca*';
  if (!books) return `${title}\nNot checked yet.`;
  const checked = `checked ${formatNewYorkTime(books.checkedAt, view.report.generatedAt)}`;
  switch (books.outcome) {
    case 'ok':
      return `${title}\n:white_check_mark: Books match Alpaca · ${checked}`;
    case 'failed':
      return `${title}\n:warning: The last check could not finish · ${checked}`;
    case 'discrepancies': {
      const n = books.openDiscrepancies;
      const link = view.alertPermalink ? ` · <${view.alertPermalink}|see the open alert>` : '';
      return `${title}\n:warning: Books and Alpaca disagree on ${n} symbol${n === 1 ? '' : 's'} · ${checked}${link}`;
    }
  }
}

function moverLines(report: DigestReport): string[] {
  if (report.movers.length === 0) return ['*Top movers in the books*', 'No priced holdings.'];
  return [
    '*Top movers in the books*',
    ...report.movers.map((m) => {
      const pct = m.changePct.toDecimalPlaces(2);
      const arrow = pct.gt(0) ? ':arrow_up_small:' : pct.lt(0) ? ':arrow_down_small:' : ':black_small_square:';
      const signed = `${pct.gt(0) ? '+' : ''}${pct.toFixed(2)}%`;
      return `${arrow} *${userMrkdwn(m.symbol, 12)}* ${formatUsd(m.lastPrice)} (${signed})`;
    }),
  ];
}

function fallbackText(report: DigestReport): string {
  const account =
    report.account.kind === 'ok'
      ? `equity ${formatUsd(report.account.account.equity)}, ` +
        `${pnl(report.account.todayPnl, report.account.todayPnlPct)} today`
      : `${report.portfolios.length} portfolio${report.portfolios.length === 1 ? '' : 's'}`;
  const orders = `${report.orders.placed} orders placed today`;
  return `Closing digest for ${digestDate(report.tradingDate)}: ${account}; ${orders}.`;
}

export function buildDigestMessage(view: DigestView): SlackMessage {
  const { report } = view;
  const blocks: KnownBlock[] = [
    headerBlock(`Closing digest — ${digestDate(report.tradingDate)}`),
    accountSection(report.account, '*Alpaca account*'),
    ...(view.chart ? [chartBlock(view.chart)] : [sectionBlock(trendText(report))]),
    { type: 'divider' },
    ...lineSections(portfolioLines(report)),
    ...lineSections(traderLines(report)),
    sectionBlock(orderLine(report)),
    sectionBlock(booksLine(view)),
    ...lineSections(moverLines(report)),
    contextBlock(`As of ${formatNewYorkTime(report.generatedAt, report.generatedAt)} · \`/portfolio digest\` any time`),
  ];
  return { text: fallbackText(report), blocks: blocks.slice(0, MAX_MESSAGE_BLOCKS) };
}
