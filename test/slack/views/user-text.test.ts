import { describe, expect, it } from 'vitest';
import type { BrokerAsset } from '../../../src/domain/market';
import { describeMarket } from '../../../src/domain/market-hours';
import { dec } from '../../../src/domain/money';
import { totalValuation } from '../../../src/domain/portfolio-valuation';
import { buildErrorMessage } from '../../../src/slack/block-kit/messages';
import { buildHomeView } from '../../../src/slack/home/home-view';
import {
  buildAccountMessage,
  buildPortfolioDetailMessage,
  buildPortfolioNotFoundMessage,
  buildPortfolioOverviewMessage,
  buildPositionComparisonMessage,
} from '../../../src/slack/portfolio/portfolio-messages';
import {
  type AlertFinding,
  buildAdjustmentNote,
  buildAdjustmentResult,
  buildChangedNote,
  buildOutageMessage,
  buildReconcileAlert,
  buildReconcileAlertDetails,
  buildReconcileNote,
  buildReconcileRunSummary,
  buildResolvedNote,
} from '../../../src/slack/reconcile/reconcile-alert';
import { buildTradeModal } from '../../../src/slack/trade/order-modal';
import { buildQuoteMessage } from '../../../src/slack/trade/trade-messages';
import { checkBlockKit } from '../../support/slack/block-kit';
import { ACCOUNT_OK, detail, homeReport, NOW, order } from './portfolio-fixtures';

/**
 * Every builder that shows a portfolio name or something the broker said, given a name (or
 * message) that tries a link, a channel-wide mention and formatting. Slack must show it as typed:
 * escaped (no mention, no link markup, formatting characters replaced by look-alikes) in mrkdwn
 * text objects that are all `verbatim` (so the URL is not auto-linked), and escaped in the
 * fallback `text`, which Slack parses as mrkdwn too (and where `verbatim` cannot be set).
 */

const HOSTILE = 'see https://evil.example <!channel> *bold*';
const ESCAPED = 'see https://evil.example &lt;!channel&gt; \u2217bold\u2217';
/** Symbols are shown cut to 32 characters. */
const HOSTILE_SYMBOL = '<!channel> *bold*';
const ESCAPED_SYMBOL = '&lt;!channel&gt; \u2217bold\u2217';

type Json = Record<string, any>;

function mrkdwnObjects(node: unknown): Json[] {
  if (Array.isArray(node)) return node.flatMap(mrkdwnObjects);
  if (typeof node !== 'object' || node === null) return [];
  const record = node as Json;
  return [...(record.type === 'mrkdwn' ? [record] : []), ...Object.values(record).flatMap(mrkdwnObjects)];
}

const at = new Date('2025-11-24T15:15:00Z');
const market = describeMarket(
  { isOpen: true, nextOpen: new Date('2026-01-06T14:30:00Z'), nextClose: new Date('2026-01-05T21:00:00Z') },
  new Date('2026-01-05T15:00:00Z'),
);
const asset: BrokerAsset = {
  symbol: 'AAPL',
  name: HOSTILE,
  exchange: HOSTILE,
  tradable: true,
  fractionable: true,
  shortable: true,
  status: 'active',
};
const brokerOrder = {
  id: HOSTILE,
  clientOrderId: HOSTILE,
  side: 'buy' as const,
  status: HOSTILE,
  qty: '5',
  filledQty: '5',
  filledAvgPrice: '189.5',
};

function finding(overrides: Partial<AlertFinding> = {}): AlertFinding {
  return {
    kind: 'quantity_mismatch',
    symbol: 'AAPL',
    booksQty: dec(15),
    brokerQty: dec(20),
    difference: dec(5),
    breakdown: [{ portfolioName: HOSTILE, qty: dec(15) }],
    firstSeenAt: at,
    ...overrides,
  };
}

const alertFindings = [
  finding(),
  finding({ kind: 'order_adopted', breakdown: [], order: { ...brokerOrder, portfolioName: HOSTILE } }),
  finding({ kind: 'order_external', symbol: HOSTILE_SYMBOL, breakdown: [], order: brokerOrder }),
];
const brokerDown = { kind: 'unavailable' as const, error: HOSTILE };
const hostilePortfolio = detail(2, {
  name: HOSTILE,
  recentOrders: [order({ portfolioName: HOSTILE, errorMessage: HOSTILE })],
});

const BUILDERS: [string, 'message' | 'modal' | 'home', () => { text?: string; blocks: unknown[] }, string?][] = [
  [
    '/portfolio: portfolio names',
    'message',
    () =>
      buildPortfolioOverviewMessage({
        portfolios: [hostilePortfolio],
        totals: totalValuation([], dec(0)),
        account: ACCOUNT_OK,
        pricing: { source: 'alpaca', missing: [] },
      }),
  ],
  ['/portfolio <name>: the name', 'message', () => buildPortfolioDetailMessage(hostilePortfolio, { now: NOW })],
  [
    '/portfolio <name>: prices unavailable',
    'message',
    () => buildPortfolioDetailMessage(detail(1, { pricing: { source: 'unavailable', error: HOSTILE } }), { now: NOW }),
  ],
  [
    '/portfolio <unknown>: the query and suggestions',
    'message',
    () => buildPortfolioNotFoundMessage({ kind: 'not_found', query: HOSTILE, suggestions: [HOSTILE], known: 1 }),
  ],
  [
    '/portfolio account: broker errors',
    'message',
    () => buildAccountMessage({ account: brokerDown, market: brokerDown }),
  ],
  [
    '/portfolio positions: broker error',
    'message',
    () =>
      buildPositionComparisonMessage({ rows: [{ symbol: 'AAPL', books: dec(1) }], mismatches: 0, broker: brokerDown }),
  ],
  [
    'Home tab: picker, positions and orders',
    'home',
    () =>
      buildHomeView(
        homeReport(1, {
          portfolios: [{ id: 1, name: HOSTILE }],
          selected: { ...hostilePortfolio, id: 1 },
          recentOrders: hostilePortfolio.recentOrders,
        }),
      ),
  ],
  [
    'Home tab: broker errors',
    'home',
    () => buildHomeView(homeReport(1, { market: brokerDown, account: brokerDown, trend: brokerDown })),
  ],
  ['reconcile alert', 'message', () => buildReconcileAlert({ findings: alertFindings, lastCheckedAt: at })],
  [
    'reconcile alert details',
    'message',
    () =>
      buildReconcileAlertDetails({
        findings: alertFindings,
        lastCheckedAt: at,
        runId: 1,
        trigger: 'schedule',
        brokerRequests: 2,
      }),
  ],
  [
    'reconcile changed note',
    'message',
    () => buildChangedNote([finding({ symbol: HOSTILE_SYMBOL })], at),
    ESCAPED_SYMBOL,
  ],
  [
    'reconcile alert: fallback',
    'message',
    () => buildReconcileAlert({ findings: [finding({ symbol: HOSTILE_SYMBOL, breakdown: [] })], lastCheckedAt: at }),
    ESCAPED_SYMBOL,
  ],
  ['reconcile resolved note', 'message', () => buildResolvedNote([HOSTILE], true, at)],
  [
    'adjustment note',
    'message',
    () =>
      buildAdjustmentNote({
        userId: 'U01',
        portfolioName: HOSTILE,
        symbol: 'AAPL',
        qty: dec(5),
        price: dec(189),
        reason: HOSTILE,
        id: 1,
      }),
  ],
  [
    'adjustment result',
    'message',
    () => buildAdjustmentResult({ ok: true, message: `Booked +5 AAPL into ${HOSTILE}.` }),
  ],
  ['reconcile outage', 'message', () => buildOutageMessage(HOSTILE, at)],
  [
    'reconcile run summary',
    'message',
    () => buildReconcileRunSummary({ kind: 'finished', outcome: 'failed', error: HOSTILE }),
  ],
  ['reconcile note', 'message', () => buildReconcileNote(HOSTILE)],
  ['error message (cancel refusals, broker errors)', 'message', () => buildErrorMessage(HOSTILE)],
  ['/trade quote: asset name and exchange', 'message', () => buildQuoteMessage({ asset, market, now: NOW })],
  [
    'order form: asset and symbol error',
    'modal',
    () =>
      buildTradeModal({
        prefill: { symbol: 'AAPL' },
        portfolios: [],
        defaultPortfolio: 'Default Portfolio',
        ledgerOnly: false,
        privateMetadata: '{}',
        context: { asset, symbolError: HOSTILE, market },
      }),
  ],
];

describe('user and broker text in every builder', () => {
  it.each(BUILDERS)(
    '%s: shown escaped, in verbatim mrkdwn, never as a mention or link',
    (_, surface, build, escaped = ESCAPED) => {
      const built = build();
      expect(checkBlockKit(surface, built)).toEqual([]);
      const objects = mrkdwnObjects(built.blocks);
      expect(objects.length).toBeGreaterThan(0);
      for (const object of objects) expect(object, object.text).toMatchObject({ verbatim: true });
      const shown = [...objects.map((o) => o.text as string), built.text ?? ''];
      expect(shown.join('\n')).toContain(escaped);
      for (const text of shown) expect(text).not.toContain('<!channel>');
      expect(built.text ?? '').not.toContain('*bold*');
    },
  );

  it('inside code (the alert table, order ids) text keeps its characters but cannot close the code span', () => {
    const alert = buildReconcileAlert({
      findings: [finding({ symbol: 'A`B', breakdown: [{ portfolioName: 'x`<!here>`_y_', qty: dec(15) }] })],
      lastCheckedAt: at,
    });
    const table = mrkdwnObjects(alert.blocks)
      .map((o) => o.text as string)
      .find((t) => t.startsWith('```'))!;
    expect(table.slice(3, -3)).not.toContain('`');
    expect(table).toContain('A\u02cbB');
    expect(table).toContain('x\u02cb&lt;!here&gt;\u02cb_y_');
  });
});
