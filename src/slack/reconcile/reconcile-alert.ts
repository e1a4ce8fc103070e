import type { ActionsBlock, Button, KnownBlock } from '@slack/web-api';
import { formatNewYorkDateTime, NEW_YORK_TIME_ZONE } from '../../domain/market-hours';
import { type Dec, dec, formatQty, formatUsd } from '../../domain/money';
import {
  type DiscrepancyDetails,
  type DiscrepancyKind,
  isPositionKind,
  type PortfolioShare,
} from '../../domain/reconciliation';
import { SIDE_LABELS } from '../block-kit/format';
import {
  codeMrkdwn,
  contextBlock,
  headerBlock,
  MAX_BUTTON_TEXT,
  MAX_MESSAGE_BLOCKS,
  MAX_SECTION_TEXT,
  plainText,
  type SlackMessage,
  sectionBlock,
  truncate,
  userMrkdwn,
} from '../block-kit/limits';

/** Buttons on an alert; the alert is found from the message they sit on. */
export const RECONCILE_ACKNOWLEDGE_ACTION_ID = 'reconcile_acknowledge';
export const RECONCILE_RECHECK_ACTION_ID = 'reconcile_recheck';
export const RECONCILE_ADOPT_ACTION_ID = 'reconcile_adopt';

/** Where an alert message is; its buttons, thread and adjustment form find it by this. */
export interface AlertRef {
  channelId: string;
  messageTs: string;
}

/** One finding as an alert shows it. */
export interface AlertFinding {
  kind: DiscrepancyKind;
  symbol: string;
  booksQty?: Dec;
  brokerQty?: Dec;
  /** broker − books. */
  difference?: Dec;
  breakdown: PortfolioShare[];
  firstSeenAt: Date;
  resolvedAt?: Date;
  acknowledgedBy?: string;
  acknowledgedAt?: Date;
  order?: DiscrepancyDetails['order'];
}

export interface ReconcileAlertView {
  findings: AlertFinding[];
  lastCheckedAt: Date;
}

/** Table rows in the alert itself; the thread has them all. */
const MAX_TABLE_ROWS = 20;
/** Order lines in the alert itself. */
const MAX_ORDER_LINES = 8;
/** Eight of these and a "more" line stay inside one section's 3000 characters. */
const MAX_ORDER_LINE = 340;
/** Width of the books column (total plus per-portfolio breakdown) before it is cut. */
const BOOKS_COLUMN = 36;
/** Fallback text doubles as the notification preview. */
const MAX_FALLBACK_TEXT = 500;
/** Thread sections kept under the message limit, with room for the header and a note. */
const MAX_DETAIL_SECTIONS = MAX_MESSAGE_BLOCKS - 4;

const SHORT_TIME = new Intl.DateTimeFormat('en-US', {
  timeZone: NEW_YORK_TIME_ZONE,
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** "Nov 24, 10:15" New York time: a table cell. */
function shortTime(date: Date): string {
  return SHORT_TIME.format(date).replace(',', '');
}

function differenceOf(f: AlertFinding): Dec {
  return f.difference ?? (f.brokerQty ?? dec(0)).minus(f.booksQty ?? dec(0));
}

function signed(qty: Dec): string {
  return qty.isPositive() && !qty.isZero() ? `+${formatQty(qty)}` : formatQty(qty);
}

/** "15 (Growth 10, Default Portfolio 5)"; a single portfolio is named without repeating the figure. */
function booksCell(finding: AlertFinding): string {
  const total = formatQty(finding.booksQty ?? 0);
  if (finding.breakdown.length === 0) return total;
  if (finding.breakdown.length === 1) return `${total} (${finding.breakdown[0]!.portfolioName})`;
  return `${total} (${finding.breakdown.map((s) => `${s.portfolioName} ${formatQty(s.qty)}`).join(', ')})`;
}

function status(finding: AlertFinding): string {
  if (finding.resolvedAt) return 'resolved';
  return finding.acknowledgedBy ? 'acknowledged' : 'open';
}

/** One table row per finding, whatever a portfolio name holds. */
function cell(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** The findings as a fixed-width table in a code block, cut to fit one section. */
function positionTable(findings: readonly AlertFinding[]): { text: string; shown: number } {
  const rows = findings.map((f) => [
    f.symbol,
    truncate(cell(booksCell(f)), BOOKS_COLUMN),
    formatQty(f.brokerQty ?? 0),
    signed(differenceOf(f)),
    shortTime(f.firstSeenAt),
    status(f),
  ]);
  const header = ['Symbol', 'Books (by portfolio)', 'Alpaca', 'Diff', 'First seen', 'Status'];
  let shown = Math.min(rows.length, MAX_TABLE_ROWS);
  for (;;) {
    const visible = [header, ...rows.slice(0, shown)];
    const widths = header.map((_, i) => Math.max(...visible.map((r) => r[i]!.length)));
    const lines = visible.map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i]!)))
        .join('  ')
        .trimEnd(),
    );
    const more = rows.length - shown;
    const rest = more > 0 ? `\n…and ${more} more in the thread.` : '';
    const text = `\`\`\`${codeMrkdwn(lines.join('\n'), MAX_SECTION_TEXT)}\`\`\`${rest}`;
    if (text.length <= MAX_SECTION_TEXT || shown <= 1) return { text: truncate(text, MAX_SECTION_TEXT), shown };
    shown -= 1;
  }
}

function orderSize(order: NonNullable<AlertFinding['order']>, symbol: string): string {
  const size =
    order.qty !== undefined
      ? `${formatQty(order.qty)} ${symbol}`
      : order.notional !== undefined
        ? `${formatUsd(order.notional)} of ${symbol}`
        : symbol;
  return `${SIDE_LABELS[order.side]} ${size}`;
}

function filledText(order: NonNullable<AlertFinding['order']>): string {
  const price = order.filledAvgPrice !== undefined ? ` @ ${formatUsd(order.filledAvgPrice)}` : '';
  return `${formatQty(order.filledQty)} filled${price}`;
}

/** One sentence per order finding, in words a trader reads. */
export function describeOrderFinding(finding: AlertFinding): string {
  const order = finding.order;
  const symbol = userMrkdwn(finding.symbol, 32);
  if (!order) return `${symbol}: order finding`;
  const size = orderSize(order, symbol);
  const coid = codeMrkdwn(order.clientOrderId, 128);
  const status = userMrkdwn(order.status, 32);
  switch (finding.kind) {
    case 'order_adopted':
      return (
        `:inbox_tray: *Adopted:* ${size} (${filledText(order)}, Alpaca status ${status}): ` +
        `order \`${coid}\` came from this app but was missing from the books. ` +
        `Booked into *${userMrkdwn(order.portfolioName ?? 'Default Portfolio', 100)}*` +
        `${order.portfolioUnknown ? ' because its portfolio is unknown — move it if it belongs elsewhere' : ''}.`
      );
    case 'order_repaired':
      return (
        `:wrench: *Repaired:* ${size} (\`${coid}\`): ` +
        `the books said ${order.from ?? '?'} with ${formatQty(order.booksFilled ?? '0')} filled; ` +
        `Alpaca says ${status} with ${filledText(order)}. Alpaca's record now stands in the books.`
      );
    case 'order_external':
      return (
        `:grey_question: *Placed elsewhere:* ${size} (${filledText(order)}, ${status}): ` +
        `Alpaca order ${userMrkdwn(order.id, 64)} did not come from this app, so the books don't include it.`
      );
    default:
      return `${symbol}: ${finding.kind}`;
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function alertState(findings: readonly AlertFinding[]): 'open' | 'resolved' | 'report' {
  const positions = findings.filter((f) => isPositionKind(f.kind));
  if (positions.some((f) => !f.resolvedAt)) return 'open';
  return positions.length > 0 ? 'resolved' : 'report';
}

function headerText(findings: readonly AlertFinding[]): string {
  const open = findings.filter((f) => isPositionKind(f.kind) && !f.resolvedAt);
  const orders = findings.filter((f) => !isPositionKind(f.kind));
  switch (alertState(findings)) {
    case 'open':
      return `:warning: Books and Alpaca disagree on ${plural(open.length, 'symbol')}`;
    case 'resolved':
      return ':white_check_mark: Resolved — books and Alpaca agree again';
    default:
      return `:mag: Reconciliation: ${plural(orders.length, 'order')} to know about`;
  }
}

function fallbackText(findings: readonly AlertFinding[]): string {
  const open = findings.filter((f) => isPositionKind(f.kind) && !f.resolvedAt);
  // The fallback is mrkdwn too: symbols come from the broker.
  const parts = open.map(
    (f) => `${userMrkdwn(f.symbol, 32)} books ${formatQty(f.booksQty ?? 0)}, Alpaca ${formatQty(f.brokerQty ?? 0)}`,
  );
  const head = headerText(findings).replace(/^:[a-z_]+: /, '');
  return truncate(parts.length > 0 ? `${head}: ${parts.join('; ')}` : head, MAX_FALLBACK_TEXT);
}

function button(text: string, actionId: string, style?: 'primary' | 'danger'): Button {
  const b: Button = { type: 'button', text: plainText(text, MAX_BUTTON_TEXT), action_id: actionId, value: 'alert' };
  if (style) b.style = style;
  return b;
}

/**
 * The alert: a table of symbol, books (per-portfolio breakdown), Alpaca, difference and first
 * seen, the order findings in a sentence each, and the buttons while anything is open. Rendered
 * from the stored findings every time, so an update after a restart looks the same.
 */
export function buildReconcileAlert(view: ReconcileAlertView): SlackMessage {
  const positions = view.findings
    .filter((f) => isPositionKind(f.kind))
    .sort((a, b) => Number(Boolean(a.resolvedAt)) - Number(Boolean(b.resolvedAt)) || a.symbol.localeCompare(b.symbol));
  const orders = view.findings.filter((f) => !isPositionKind(f.kind));
  const state = alertState(view.findings);
  const blocks: KnownBlock[] = [headerBlock(headerText(view.findings))];

  const resolvedAt = positions.reduce<Date | undefined>(
    (latest, f) => (f.resolvedAt && (!latest || f.resolvedAt > latest) ? f.resolvedAt : latest),
    undefined,
  );
  const summary =
    state === 'open'
      ? `*Still open* — last checked ${formatNewYorkDateTime(view.lastCheckedAt)}. ` +
        "Alpaca's positions were read twice before this was reported."
      : state === 'resolved'
        ? `Resolved ${formatNewYorkDateTime(resolvedAt ?? view.lastCheckedAt)}; ` +
          `last checked ${formatNewYorkDateTime(view.lastCheckedAt)}.`
        : `Found ${formatNewYorkDateTime(view.lastCheckedAt)}. The books were brought in line with Alpaca's record.`;
  blocks.push(sectionBlock(summary));

  if (positions.length > 0) blocks.push(sectionBlock(positionTable(positions).text));

  if (orders.length > 0) {
    const lines = orders.slice(0, MAX_ORDER_LINES).map((f) => truncate(describeOrderFinding(f), MAX_ORDER_LINE));
    if (orders.length > MAX_ORDER_LINES) lines.push(`…and ${orders.length - MAX_ORDER_LINES} more in the thread.`);
    blocks.push(sectionBlock(lines.join('\n')));
  }

  const acknowledgers = [...new Set(view.findings.flatMap((f) => (f.acknowledgedBy ? [f.acknowledgedBy] : [])))];
  const context = ['Details in the thread.'];
  if (acknowledgers.length > 0)
    context.push(`Acknowledged by ${acknowledgers.map((u) => `<@${userMrkdwn(u, 40)}>`).join(', ')}.`);
  blocks.push(contextBlock(context.join(' ')));

  if (state === 'open') {
    const actions: ActionsBlock = { type: 'actions', block_id: 'reconcile_alert_actions', elements: [] };
    if (view.findings.some((f) => !f.resolvedAt && !f.acknowledgedBy))
      actions.elements.push(button('Acknowledge', RECONCILE_ACKNOWLEDGE_ACTION_ID));
    actions.elements.push(button('Re-check now', RECONCILE_RECHECK_ACTION_ID));
    actions.elements.push(button('Adopt broker quantity into portfolio…', RECONCILE_ADOPT_ACTION_ID, 'primary'));
    blocks.push(actions);
  }
  return { text: fallbackText(view.findings), blocks };
}

const KIND_EXPLANATIONS: Record<string, string> = {
  quantity_mismatch: 'Both hold it, in different quantities.',
  broker_only:
    'Alpaca holds it; the books have none — often an order placed outside this app, or fills the books never received.',
  books_only:
    'The books hold it; Alpaca has none — often shares sold outside this app, or a fill booked that never happened.',
};

function positionDetail(f: AlertFinding): string {
  const breakdown =
    f.breakdown.length > 0
      ? f.breakdown.map((s) => `${userMrkdwn(s.portfolioName, 100)} ${formatQty(s.qty)}`).join(' · ')
      : 'no portfolio holds it';
  const state = f.resolvedAt
    ? `Resolved ${formatNewYorkDateTime(f.resolvedAt)}.`
    : f.acknowledgedBy
      ? `Acknowledged by <@${userMrkdwn(f.acknowledgedBy, 40)}>.`
      : 'Open.';
  return [
    `*${userMrkdwn(f.symbol, 32)}* — books ${formatQty(f.booksQty ?? 0)}, ` +
      `Alpaca ${formatQty(f.brokerQty ?? 0)}, difference ${signed(differenceOf(f))}`,
    KIND_EXPLANATIONS[f.kind] ?? '',
    `By portfolio: ${breakdown}`,
    `First seen ${formatNewYorkDateTime(f.firstSeenAt)}. ${state}`,
  ].join('\n');
}

/**
 * The thread under an alert: every finding in full (per-portfolio breakdown, order ids), and
 * what can be done about it.
 */
export function buildReconcileAlertDetails(
  view: ReconcileAlertView & { runId: number; trigger: string; brokerRequests: number },
): SlackMessage {
  const sections = view.findings.map((f) =>
    isPositionKind(f.kind)
      ? positionDetail(f)
      : `${describeOrderFinding(f)}\nAlpaca order id ${userMrkdwn(f.order?.id ?? '?', 64)}.`,
  );
  const blocks: KnownBlock[] = [];
  for (const text of sections.slice(0, MAX_DETAIL_SECTIONS)) blocks.push(sectionBlock(text));
  const more = sections.length - MAX_DETAIL_SECTIONS;
  if (more > 0) blocks.push(sectionBlock(`…and ${more} more; the full list is in the \`discrepancies\` table.`));
  const fixes = view.findings.some((f) => isPositionKind(f.kind))
    ? 'If Alpaca is right, an admin can press *Adopt broker quantity into portfolio…* to book an ' +
      'audited adjustment; otherwise correct it at the broker. *Re-check now* reads both sides again.'
    : 'Nothing is left to fix: this is for the record.';
  blocks.push(
    contextBlock(`${fixes} Run #${view.runId} (${view.trigger}), ${plural(view.brokerRequests, 'Alpaca request')}.`),
  );
  return {
    text: truncate(`Details: ${sections.length} finding${sections.length === 1 ? '' : 's'}`, MAX_FALLBACK_TEXT),
    blocks,
  };
}

/** The fallback drops our bold markers, as notifications are plain text; underscores stay, emoji names hold them. */
function note(text: string): SlackMessage {
  return { text: truncate(text.replace(/\*/g, ''), MAX_FALLBACK_TEXT), blocks: [sectionBlock(text)] };
}

/** Thread note when findings of an alert clear. */
export function buildResolvedNote(symbols: readonly string[], allResolved: boolean, checkedAt: Date): SlackMessage {
  const list = truncate(symbols.join(', '), 1000);
  return note(
    `:white_check_mark: ${userMrkdwn(list, 1000)} ${symbols.length === 1 ? 'matches' : 'match'} Alpaca again ` +
      `(checked ${formatNewYorkDateTime(checkedAt)}).${allResolved ? ' Everything in this alert is resolved.' : ''}`,
  );
}

/** Thread note when an open finding's figures change. */
export function buildChangedNote(findings: readonly AlertFinding[], checkedAt: Date): SlackMessage {
  const lines = findings.map(
    (f) =>
      `${userMrkdwn(f.symbol, 32)} now: books ${formatQty(f.booksQty ?? 0)}, ` +
      `Alpaca ${formatQty(f.brokerQty ?? 0)}, difference ${signed(differenceOf(f))}`,
  );
  return note(
    `:arrows_counterclockwise: Changed (checked ${formatNewYorkDateTime(checkedAt)}):\n` +
      truncate(lines.join('\n'), 2500),
  );
}

export function buildAcknowledgedNote(userId: string, at: Date): SlackMessage {
  return note(`:eyes: Acknowledged by <@${userMrkdwn(userId, 40)}> at ${formatNewYorkDateTime(at)}.`);
}

export function buildAdjustmentNote(a: {
  userId: string;
  portfolioName: string;
  symbol: string;
  qty: Dec;
  price: Dec;
  reason: string;
  id: number;
}): SlackMessage {
  return note(
    `:pencil: <@${userMrkdwn(a.userId, 40)}> booked ${signed(a.qty)} ${userMrkdwn(a.symbol, 32)} into ` +
      `*${userMrkdwn(a.portfolioName, 100)}* at ${formatUsd(a.price)} to match ` +
      `Alpaca (adjustment #${a.id}). Reason: “${userMrkdwn(a.reason, 1000)}”`,
  );
}

/** Posted once when runs start failing, not on every failed run. */
export function buildOutageMessage(error: string, at: Date): SlackMessage {
  return note(
    `:electric_plug: *Reconciliation could not complete* (${formatNewYorkDateTime(at)}): ${userMrkdwn(error, 500)}\n` +
      'No discrepancies are reported while this lasts; ' +
      'the scheduled runs keep trying and this channel hears when one succeeds.',
  );
}

export function buildRecoveredMessage(at: Date): SlackMessage {
  return note(`:electric_plug: Reconciliation is working again (${formatNewYorkDateTime(at)}).`);
}

export interface ReconcileRunSummaryView {
  kind: 'busy' | 'finished';
  outcome?: 'ok' | 'discrepancies' | 'failed' | null;
  error?: string | null;
  open?: number;
  created?: number;
  resolved?: number;
  symbolsChecked?: number;
  ordersChecked?: number;
  channelId?: string;
}

/** Acknowledging, adjusting and running on demand are for admins. */
export function buildAdminsOnlyMessage(): SlackMessage {
  return note(
    'Only admins (ADMIN_USER_IDS) can acknowledge alerts, adjust the books and run reconciliation on demand.',
  );
}

/** A short answer in words (a refusal, a result) as a message. */
export function buildReconcileNote(text: string): SlackMessage {
  return note(userMrkdwn(text, 2000));
}

/** What came of "Adopt broker quantity", for the admin who asked; the service's sentence names the portfolio. */
export function buildAdjustmentResult(result: { ok: boolean; message: string }): SlackMessage {
  return note(`${result.ok ? ':white_check_mark:' : ':x:'} ${userMrkdwn(result.message, 2000)}`);
}

/** The answer to whoever asked for a run (button, Home tab, /portfolio reconcile). */
export function buildReconcileRunSummary(view: ReconcileRunSummaryView): SlackMessage {
  const where = view.channelId ? ` in <#${view.channelId}>` : ' in the logs (RECONCILE_CHANNEL_ID is not set)';
  if (view.kind === 'busy')
    return note(
      `:hourglass_flowing_sand: Reconciliation is already running on another instance; its results appear${where}.`,
    );
  if (view.outcome === 'failed')
    return note(`:x: Reconciliation could not complete: ${userMrkdwn(view.error ?? 'unknown error', 500)}`);
  const symbols = plural(view.symbolsChecked ?? 0, 'symbol');
  const orders = plural(view.ordersChecked ?? 0, 'order');
  const checked = `${symbols} and ${orders} checked`;
  if ((view.open ?? 0) === 0 && (view.created ?? 0) === 0) {
    const resolved =
      (view.resolved ?? 0) > 0 ? ` ${plural(view.resolved ?? 0, 'discrepancy', 'discrepancies')} resolved.` : '';
    return note(`:white_check_mark: Books match Alpaca — ${checked}.${resolved}`);
  }
  return note(
    `:warning: ${plural(view.open ?? 0, 'open discrepancy', 'open discrepancies')} ` +
      `(${view.created ?? 0} new) — ${checked}. Details${where}.`,
  );
}
