import { formatNewYorkTime } from '../../domain/market-hours';
import type { Dec } from '../../domain/money';
import type { TraderPnlReport, TraderPnlRow } from '../../domain/trader-pnl';
import { contextBlock, headerBlock, type SlackMessage, userMrkdwn } from '../block-kit/limits';
import { lineSections, signedUsd, traderName } from '../block-kit/portfolio-format';

/**
 * `/portfolio traders`: who made and lost what on the shared account, ranked by total P&L, the
 * caller's row marked. A long list shows the top traders and the caller's own row, so any number
 * of traders stays inside one message.
 */

/** Rows shown before the list is cut (about 170 characters each: two or three sections). */
export const TOP_TRADERS = 15;
const NAMED_SYMBOLS = 10;

export interface TradersView {
  report: TraderPnlReport;
  callerId: string;
  now: Date;
}

function hitRate(row: TraderPnlRow): string {
  if (row.hitRate === null) return 'no closing orders';
  return `hit rate ${Math.round(row.hitRate * 100)}% (${row.winningOrders}/${row.closingOrders})`;
}

const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

function total(row: TraderPnlRow): Dec {
  return row.realized.plus(row.unrealized ?? 0);
}

function traderLine(row: TraderPnlRow, callerId: string): string {
  const mine = row.userId === callerId;
  const unrealized = row.unrealized === null ? 'unrealized unknown †' : `unrealized ${signedUsd(row.unrealized)}`;
  return (
    `${mine ? ':point_right: ' : ''}*${row.rank}.* ${traderName(row.userId)}${mine ? ' *(you)*' : ''} — ` +
    `*${signedUsd(total(row))}*${row.unrealized === null ? ' †' : ''} · realized ${signedUsd(row.realized)} · ` +
    `${unrealized} · ${plural(row.orders, 'order')} · ${hitRate(row)}`
  );
}

function symbols(list: readonly string[]): string {
  const named = list.slice(0, NAMED_SYMBOLS).map((s) => userMrkdwn(s, 12));
  return list.length > NAMED_SYMBOLS ? `${named.join(', ')} and ${list.length - NAMED_SYMBOLS} more` : named.join(', ');
}

export function buildTradersMessage({ report, callerId, now }: TradersView): SlackMessage {
  const header = headerBlock('P&L per trader');
  const asOf = contextBlock(
    `All portfolios, ranked by realized + unrealized P&L · as of ${formatNewYorkTime(report.asOf, now)}`,
  );
  if (report.rows.length === 0) {
    return {
      text: 'P&L per trader: no orders yet',
      blocks: [header, asOf, contextBlock('No one has placed an order yet, so there is nothing to attribute.')],
    };
  }
  const shown = report.rows.slice(0, TOP_TRADERS);
  const lines = shown.map((row) => traderLine(row, callerId));
  const caller = report.rows.find((row) => row.userId === callerId);
  const callerBelow = caller !== undefined && !shown.includes(caller);
  const hidden = report.rows.length - shown.length - (callerBelow ? 1 : 0);
  if (hidden > 0) lines.push(`_…and ${plural(hidden, 'more trader')}_`);
  if (callerBelow) lines.push(traderLine(caller, callerId));
  const notes = [
    'Realized: a sell (or a cover) realizes (price − the portfolio’s average cost) × quantity for whoever placed it. ' +
      'Unrealized: the shares each trader bought and still holds (sells use up the oldest shares first), ' +
      'at (last price − average cost). Hit rate: closing orders that made money.',
  ];
  if (report.unpricedSymbols.length > 0) {
    notes.unshift(
      `† No price for ${symbols(report.unpricedSymbols)}: the unrealized P&L of whoever holds it is unknown ` +
        'and counted as $0 in the ranking.',
    );
  }
  const yours = caller ? ` · you: #${caller.rank}, ${signedUsd(total(caller))}` : '';
  return {
    text: `P&L per trader: ${plural(report.rows.length, 'trader')}${yours}`,
    blocks: [header, asOf, ...lineSections(lines), ...notes.map(contextBlock)],
  };
}
