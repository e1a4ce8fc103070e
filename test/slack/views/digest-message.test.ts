import { describe, expect, it } from 'vitest';
import type { DigestReport } from '../../../src/domain/digest';
import { summarizeEquity } from '../../../src/domain/equity-trend';
import { dec } from '../../../src/domain/money';
import { totalValuation } from '../../../src/domain/portfolio-valuation';
import {
  buildDigestMessage,
  DIGEST_MAX_PORTFOLIOS,
  DIGEST_MAX_TRADERS,
} from '../../../src/slack/digest/digest-message';
import { checkBlockKit } from '../../support/slack/block-kit';

type Json = Record<string, any>;

function report(portfolios = 2, traders = 2): DigestReport {
  const trend = summarizeEquity([
    { at: new Date('2026-11-02T21:00:00Z'), equity: dec(100_000) },
    { at: new Date('2026-12-02T21:00:00Z'), equity: dec(101_500) },
  ]);
  return {
    tradingDate: '2026-12-02',
    generatedAt: new Date('2026-12-02T21:15:00Z'),
    account: {
      kind: 'ok',
      account: {
        accountNumber: 'PA1',
        status: 'ACTIVE',
        currency: 'USD',
        cash: dec(50_000),
        equity: dec(101_500),
        lastEquity: dec(101_000),
        buyingPower: dec(100_000),
        portfolioValue: dec(101_500),
        patternDayTrader: false,
        tradingBlocked: false,
      },
      todayPnl: dec(500),
      todayPnlPct: dec('0.495'),
    },
    portfolios: Array.from({ length: portfolios }, (_, i) => ({
      name: i === 0 ? 'Growth' : `Book ${i}`,
      value: dec(660),
      dayPnl: dec(72),
      unrealizedPnl: dec(60),
      realizedPnl: dec(40),
      unpriced: [],
    })),
    totals: totalValuation([], dec(0)),
    pricing: { source: 'alpaca', missing: [] },
    traders: {
      kind: 'ok',
      report: {
        asOf: new Date('2026-12-02T21:15:00Z'),
        unpricedSymbols: [],
        rows: Array.from({ length: traders }, (_, i) => ({
          // The last row: the reconciler's book adjustments and adopted orders.
          userId: i === traders - 1 && traders > 2 ? 'reconciler' : `U0TRADER${i}`,
          realized: dec(40 - i),
          unrealized: i === 1 ? null : dec(60),
          orders: 3,
          closingOrders: 2,
          winningOrders: 1,
          hitRate: 0.5,
          rank: i + 1,
        })),
      },
    },
    orders: {
      placed: 3,
      byStatus: [{ status: 'filled', count: 3 }],
      notPlaced: [
        { status: 'pending_approval', count: 1 },
        { status: 'rejected', count: 1 },
      ],
    },
    books: {
      outcome: 'discrepancies',
      openDiscrepancies: 1,
      checkedAt: new Date('2026-12-02T21:00:00Z'),
      openAlert: { channelId: 'C0ALERTS', messageTs: '1.2' },
    },
    movers: [{ symbol: 'AAPL', lastPrice: dec(110), prevClose: dec(98), changePct: dec('12.2449') }],
    trend: trend ? { kind: 'ok', trend } : { kind: 'empty' },
  };
}

describe('buildDigestMessage', () => {
  it('the chart as an image block referencing the uploaded file, with alt text; no text trend then', () => {
    const message = buildDigestMessage({
      report: report(),
      chart: { fileId: 'F0CHART', altText: 'Account value rose from $100,000 to $101,500' },
      alertPermalink: 'https://standin.slack.com/archives/C0ALERTS/p12',
    });
    expect(checkBlockKit('message', message)).toEqual([]);
    const image = message.blocks.find((b) => b.type === 'image') as Json;
    expect(image).toMatchObject({
      slack_file: { id: 'F0CHART' },
      alt_text: 'Account value rose from $100,000 to $101,500',
    });
    const text = JSON.stringify(message.blocks);
    expect(text).not.toContain('Account equity, last month');
    expect(text).toContain('Closing digest — Wed, Dec 2, 2026');
    expect(text).toContain('*Growth* · value $660.00 · day +$72.00 · unrealized +$60.00 · realized +$40.00');
    expect(text).toContain('1. <@U0TRADER0> · realized +$40.00 · unrealized +$60.00 · 3 orders · hit rate 50%');
    expect(text).toContain('2. <@U0TRADER1> · realized +$39.00 · unrealized unknown');
    // Placed as the trader section counts orders; the never-sent apart.
    expect(text).toContain('3 placed: 3 filled\\nNot sent: 1 awaiting approval · 1 rejected');
    expect(text).toContain('<https://standin.slack.com/archives/C0ALERTS/p12|see the open alert>');
    expect(text).toContain('*AAPL* $110.00 (+12.24%)');
    expect(message.text).toBe(
      'Closing digest for Wed, Dec 2, 2026: equity $101,500.00, +$500.00 (+0.50%) today; 3 orders placed today.',
    );
  });

  it('the reconciler’s row in the words /portfolio traders uses', () => {
    const text = JSON.stringify(buildDigestMessage({ report: report(2, 3) }).blocks);
    expect(text).toContain('3. _book adjustments & adopted orders_ · realized +$38.00');
  });

  it('without a chart the text sparkline stands in', () => {
    const message = buildDigestMessage({ report: report() });
    expect(checkBlockKit('message', message)).toEqual([]);
    expect(message.blocks.some((b) => b.type === 'image')).toBe(false);
    expect(JSON.stringify(message.blocks)).toMatch(/Account equity, last month\*\\n`[▁-█]+`/);
  });

  it('a thousand portfolios and traders: still one valid message within 50 blocks, the rest counted', () => {
    const message = buildDigestMessage({
      report: report(1000, 1000),
      chart: { fileId: 'F0CHART', altText: 'x'.repeat(5000) },
    });
    expect(checkBlockKit('message', message)).toEqual([]);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    const text = JSON.stringify(message.blocks);
    expect(text).toContain(`…and ${1000 - DIGEST_MAX_PORTFOLIOS} more portfolios`);
    expect(text).toContain(`…and ${1000 - DIGEST_MAX_TRADERS} more traders`);
  });
});
