import { describe, expect, it } from 'vitest';
import { dec } from '../../../src/domain/money';
import {
  ADOPT_FIELDS,
  adoptFormErrors,
  buildAdoptModal,
  readAdoptForm,
  readAdoptModalMetadata,
} from '../../../src/slack/reconcile/adopt-modal';
import {
  type AlertFinding,
  buildAdjustmentNote,
  buildOutageMessage,
  buildReconcileAlert,
  buildReconcileAlertDetails,
  buildReconcileRunSummary,
  buildResolvedNote,
  RECONCILE_ACKNOWLEDGE_ACTION_ID,
  RECONCILE_ADOPT_ACTION_ID,
  RECONCILE_RECHECK_ACTION_ID,
} from '../../../src/slack/reconcile/reconcile-alert';
import { checkBlockKit } from '../../support/slack/block-kit';

type Json = Record<string, any>;
const at = new Date('2025-11-24T15:15:00Z');

function finding(overrides: Partial<AlertFinding> = {}): AlertFinding {
  return {
    kind: 'quantity_mismatch',
    symbol: 'AAPL',
    booksQty: dec(15),
    brokerQty: dec(20),
    difference: dec(5),
    breakdown: [
      { portfolioName: 'Growth', qty: dec(10) },
      { portfolioName: 'Default Portfolio', qty: dec(5) },
    ],
    firstSeenAt: at,
    ...overrides,
  };
}

const text = (message: { text: string; blocks: unknown[] }) => `${message.text} ${JSON.stringify(message.blocks)}`;
const actionIds = (blocks: unknown[]) =>
  (blocks as Json[]).flatMap((b) => (b.type === 'actions' ? (b.elements as Json[]).map((e) => e.action_id) : []));

describe('buildReconcileAlert', () => {
  it(
    'shows a table of symbol, books with the per-portfolio breakdown, ' +
      'Alpaca, difference and first seen, with the three buttons',
    () => {
      const message = buildReconcileAlert({
        findings: [
          finding(),
          finding({
            kind: 'broker_only',
            symbol: 'TSLA',
            booksQty: dec(0),
            brokerQty: dec(7),
            difference: dec(7),
            breakdown: [],
          }),
        ],
        lastCheckedAt: at,
      });
      expect(checkBlockKit('message', message)).toEqual([]);
      const shown = text(message);
      expect(shown).toContain('Books and Alpaca disagree on 2 symbols');
      expect(shown).toMatch(/AAPL +15 \(Growth 10, Default Portfolio 5\) +20 +\+5 +Nov 24 10:15 +open/);
      expect(shown).toMatch(/TSLA +0 +7 +\+7/);
      expect(shown).toContain('last checked Mon Nov 24, 2025 10:15 ET');
      expect(actionIds(message.blocks)).toEqual([
        RECONCILE_ACKNOWLEDGE_ACTION_ID,
        RECONCILE_RECHECK_ACTION_ID,
        RECONCILE_ADOPT_ACTION_ID,
      ]);
      expect(message.text).toContain('AAPL books 15, Alpaca 20');
    },
  );

  it('says who acknowledged, drops the Acknowledge button, and turns into a resolved alert without buttons', () => {
    const acknowledged = buildReconcileAlert({
      findings: [finding({ acknowledgedBy: 'U0ADMIN', acknowledgedAt: at })],
      lastCheckedAt: at,
    });
    expect(text(acknowledged)).toContain('Acknowledged by <@U0ADMIN>');
    expect(actionIds(acknowledged.blocks)).toEqual([RECONCILE_RECHECK_ACTION_ID, RECONCILE_ADOPT_ACTION_ID]);

    const resolved = buildReconcileAlert({
      findings: [finding({ resolvedAt: new Date(at.getTime() + 900_000) })],
      lastCheckedAt: new Date(at.getTime() + 900_000),
    });
    expect(checkBlockKit('message', resolved)).toEqual([]);
    expect(text(resolved)).toContain('Resolved — books and Alpaca agree again');
    expect(text(resolved)).toMatch(/AAPL .* resolved/);
    expect(actionIds(resolved.blocks)).toEqual([]);
  });

  it('describes adopted, repaired and external orders in words', () => {
    const order = {
      id: 'b0b6dd9d-8b9b-48a9-ba46-b9d54906e415',
      clientOrderId: 'oms-V123',
      side: 'buy' as const,
      status: 'filled',
      qty: '5',
      filledQty: '5',
      filledAvgPrice: '189.5',
    };
    const message = buildReconcileAlert({
      findings: [
        finding({
          kind: 'order_adopted',
          breakdown: [],
          order: { ...order, portfolioName: 'Default Portfolio', portfolioUnknown: true },
        }),
        finding({ kind: 'order_repaired', breakdown: [], order: { ...order, from: 'accepted', booksFilled: '0' } }),
        finding({ kind: 'order_external', symbol: 'TSLA', breakdown: [], order: { ...order, clientOrderId: 'web-1' } }),
      ],
      lastCheckedAt: at,
    });
    expect(checkBlockKit('message', message)).toEqual([]);
    const shown = text(message);
    expect(shown).toContain('Reconciliation: 3 orders to know about');
    expect(shown).toMatch(/Adopted:\* Buy 5 AAPL .*Default Portfolio\* because its portfolio is unknown/);
    expect(shown).toMatch(
      /Repaired:\* Buy 5 AAPL .*books said accepted with 0 filled; Alpaca says filled with 5 filled @ \$189\.50/,
    );
    expect(shown).toMatch(/Placed elsewhere:\* Buy 5 TSLA/);
    expect(actionIds(message.blocks)).toEqual([]);
  });

  it('stays within Block Kit limits with hundreds of findings and hostile portfolio names', () => {
    const hostile = '<!channel> `code` & *bold* '.repeat(20);
    const many = Array.from({ length: 300 }, (_, i) =>
      finding({
        symbol: `S${i}`,
        breakdown: Array.from({ length: 20 }, (_, j) => ({ portfolioName: `${hostile}${j}`, qty: dec(j + 1) })),
      }),
    );
    const orders = Array.from({ length: 40 }, (_, i) =>
      finding({
        kind: 'order_external',
        symbol: `X${i}`,
        breakdown: [],
        order: {
          id: `id-${i}`,
          clientOrderId: hostile.slice(0, 128),
          side: 'sell',
          status: 'filled',
          qty: '1',
          filledQty: '1',
        },
      }),
    );
    const message = buildReconcileAlert({ findings: [...many, ...orders], lastCheckedAt: at });
    expect(checkBlockKit('message', message)).toEqual([]);
    expect(JSON.stringify(message.blocks)).not.toContain('<!channel>');
    expect(text(message)).toMatch(/…and \d+ more in the thread/);
    const details = buildReconcileAlertDetails({
      findings: [...many, ...orders],
      lastCheckedAt: at,
      runId: 7,
      trigger: 'schedule',
      brokerRequests: 3,
    });
    expect(checkBlockKit('message', details)).toEqual([]);
    expect(JSON.stringify(details.blocks)).not.toContain('<!channel>');
  });
});

describe('thread notes and summaries', () => {
  it('details list every finding with its breakdown and the run', () => {
    const details = buildReconcileAlertDetails({
      findings: [finding()],
      lastCheckedAt: at,
      runId: 12,
      trigger: 'startup',
      brokerRequests: 4,
    });
    expect(checkBlockKit('message', details)).toEqual([]);
    expect(text(details)).toContain('By portfolio: Growth 10 · Default Portfolio 5');
    expect(text(details)).toContain('Run #12 (startup), 4 Alpaca requests');
  });

  it('notes stay short and valid', () => {
    for (const message of [
      buildResolvedNote(['AAPL', 'TSLA'], true, at),
      buildOutageMessage('Alpaca is unavailable (HTTP 503)', at),
      buildAdjustmentNote({
        id: 3,
        userId: 'U0ADMIN',
        portfolioName: 'Growth',
        symbol: 'AAPL',
        qty: dec(5),
        price: dec('189.42'),
        reason: 'bought by hand <@U1>',
      }),
      buildReconcileRunSummary({ kind: 'busy', channelId: 'C0ALERTS' }),
      buildReconcileRunSummary({
        kind: 'finished',
        outcome: 'ok',
        open: 0,
        created: 0,
        resolved: 1,
        symbolsChecked: 4,
        ordersChecked: 2,
      }),
      buildReconcileRunSummary({
        kind: 'finished',
        outcome: 'discrepancies',
        open: 2,
        created: 1,
        symbolsChecked: 4,
        ordersChecked: 2,
        channelId: 'C0ALERTS',
      }),
      buildReconcileRunSummary({ kind: 'finished', outcome: 'failed', error: 'Alpaca unavailable' }),
    ]) {
      expect(checkBlockKit('message', message)).toEqual([]);
      expect(message.text.length).toBeLessThanOrEqual(500);
    }
    expect(buildResolvedNote(['AAPL'], true, at).text).toContain('AAPL matches Alpaca again');
    expect(
      text(
        buildAdjustmentNote({
          id: 3,
          userId: 'U0ADMIN',
          portfolioName: 'Growth',
          symbol: 'AAPL',
          qty: dec(5),
          price: dec('189.42'),
          reason: '<@U1>',
        }),
      ),
    ).toContain('&lt;@U1&gt;');
    expect(
      buildReconcileRunSummary({
        kind: 'finished',
        outcome: 'discrepancies',
        open: 2,
        created: 1,
        channelId: 'C0ALERTS',
      }).text,
    ).toContain('2 open discrepancies (1 new)');
  });
});

describe('buildAdoptModal', () => {
  const alert = { channelId: 'C0ALERTS', messageTs: '1700000000.000100' };

  it('offers the open findings, the portfolios and a required reason, and reads back what was chosen', () => {
    const view = buildAdoptModal({
      findings: [{ discrepancyId: 4, symbol: 'AAPL', booksQty: dec(15), brokerQty: dec(20), difference: dec(5) }],
      portfolios: ['Growth', 'Income'],
      defaultPortfolio: 'Growth',
      alert,
    });
    expect(checkBlockKit('modal', view)).toEqual([]);
    expect(JSON.stringify(view)).toContain('AAPL: books 15 → Alpaca 20 (+5)');
    expect(readAdoptModalMetadata(view.private_metadata)).toEqual(alert);
    const form = readAdoptForm({
      [ADOPT_FIELDS.finding.blockId]: { [ADOPT_FIELDS.finding.actionId]: { selected_option: { value: '4' } } },
      [ADOPT_FIELDS.portfolio.blockId]: { [ADOPT_FIELDS.portfolio.actionId]: { selected_option: { value: 'Income' } } },
      [ADOPT_FIELDS.reason.blockId]: { [ADOPT_FIELDS.reason.actionId]: { value: 'bought by hand' } },
    });
    expect(form).toEqual({ discrepancyId: 4, portfolioName: 'Income', reason: 'bought by hand' });
    expect(adoptFormErrors(form)).toEqual({});
    expect(Object.keys(adoptFormErrors({ ...form, reason: ' ' }))).toEqual([ADOPT_FIELDS.reason.blockId]);
  });

  it('stays valid with more findings and portfolios than a select can hold, and says when nothing is open', () => {
    const view = buildAdoptModal({
      findings: Array.from({ length: 150 }, (_, i) => ({
        discrepancyId: i + 1,
        symbol: `S${i}`,
        booksQty: dec(1),
        brokerQty: dec(2),
        difference: dec(1),
      })),
      portfolios: Array.from({ length: 150 }, (_, i) => `Portfolio ${i} ${'x'.repeat(i)}`),
      defaultPortfolio: 'Default Portfolio',
      alert,
    });
    expect(checkBlockKit('modal', view)).toEqual([]);
    const empty = buildAdoptModal({ findings: [], portfolios: [], defaultPortfolio: 'Default Portfolio', alert });
    expect(checkBlockKit('modal', empty)).toEqual([]);
    expect(empty.submit).toBeUndefined();
    expect(JSON.stringify(empty)).toContain('Nothing is open');
  });
});
