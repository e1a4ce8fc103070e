import { describe, expect, it } from 'vitest';
import { sparkline, summarizeEquity } from '../../../src/domain/equity-trend';
import { dec } from '../../../src/domain/money';
import {
  buildHomeView,
  decodeHomePage,
  encodeHomePage,
  HOME_ACTIONS,
  HOME_PAGE_SIZE,
} from '../../../src/slack/home/home-view';
import { checkBlockKit } from '../../support/slack/block-kit';
import { detail, homeReport } from './portfolio-fixtures';

type Json = Record<string, any>;
const elements = (blocks: Json[]) =>
  blocks.flatMap((b) => (b.type === 'actions' ? b.elements : b.accessory ? [b.accessory] : []));

describe('buildHomeView', () => {
  it.each([0, 1, 60, 300])('%i positions: a valid Home tab within 100 blocks', (n) => {
    const view = buildHomeView(homeReport(n));
    expect(checkBlockKit('home', view)).toEqual([]);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect((JSON.stringify(view.blocks).match(/\*S\d{4}\*/g) ?? []).length).toBe(Math.min(n, HOME_PAGE_SIZE));
  });

  it('market banner, account, equity trend, picker, positions, orders and the two buttons', () => {
    const view = buildHomeView(homeReport(2));
    const text = JSON.stringify(view.blocks);
    expect(text).toContain(':large_green_circle: *Market open — closes 16:00 ET*');
    expect(text).toContain('*Equity*\\n$101,234.56');
    expect(text).toMatch(/`[▁▂▃▄▅▆▇█]{22}`/);
    expect(text).toContain('*Portfolio Growth*');
    expect(text).toContain(
      '*S0001* · 2 sh · avg $101.00 · last $111.00 · value $222.00 · P&L +$20.00 (+9.90%) · today +$10.00',
    );
    expect(text).toContain(':white_check_mark: Buy 10 AAPL @ $189.42 — filled · Growth · 10:31 ET');
    expect(text).toContain(':x: Buy 10 TSLA — rejected · Growth');
    const ids = elements(view.blocks as Json[]).map((e) => e.action_id);
    expect(ids).toEqual([HOME_ACTIONS.newTrade, HOME_ACTIONS.refresh, HOME_ACTIONS.pickPortfolio]);
    const select = elements(view.blocks as Json[]).find((e) => e.action_id === HOME_ACTIONS.pickPortfolio);
    expect(select.initial_option.value).toBe('1');
    expect(select.options.map((o: Json) => o.text.text)).toEqual(['Growth', 'Income']);
    expect(text).not.toContain('Reconcile');
  });

  it('pages positions with buttons carrying the portfolio and the page', () => {
    const first = buildHomeView(homeReport(60));
    const next = elements(first.blocks as Json[]).find((e) => e.action_id === HOME_ACTIONS.nextPage);
    expect(decodeHomePage(next.value)).toEqual({ portfolioId: 1, page: 1 });
    const last = buildHomeView(homeReport(60), { page: 3 });
    expect(checkBlockKit('home', last)).toEqual([]);
    const ids = elements(last.blocks as Json[]).map((e) => e.action_id);
    expect(ids).toContain(HOME_ACTIONS.previousPage);
    expect(ids).not.toContain(HOME_ACTIONS.nextPage);
    expect(JSON.stringify(last.blocks)).toContain('Positions 46–60 of 60');
  });

  it('keeps the picker within 100 options and always offers the portfolio shown', () => {
    const portfolios = Array.from({ length: 150 }, (_, i) => ({
      id: i + 1,
      name: `Fund ${i + 1} ${'<&>'.repeat(40)}`,
    }));
    const view = buildHomeView(homeReport(3, { portfolios, selected: detail(3, { id: 140, name: 'Fund 140' }) }));
    expect(checkBlockKit('home', view)).toEqual([]);
    const select = elements(view.blocks as Json[]).find((e) => e.action_id === HOME_ACTIONS.pickPortfolio);
    expect(select.options).toHaveLength(100);
    expect(select.initial_option.value).toBe('140');
    expect(JSON.stringify(view.blocks)).toContain('The picker lists 100 of 150 portfolios');
  });

  it('degrades piece by piece: no portfolios, ledger-only, Alpaca down, trend loading', () => {
    const empty = buildHomeView(homeReport(0, { portfolios: [], selected: undefined, recentOrders: [] }));
    expect(checkBlockKit('home', empty)).toEqual([]);
    expect(JSON.stringify(empty.blocks)).toContain('None yet — press *New trade* and name one in the form.');

    const ledger = buildHomeView(
      homeReport(2, {
        account: { kind: 'ledger' },
        trend: { kind: 'ledger' },
        selected: detail(2, { pricing: { source: 'ledger' } }),
      }),
    );
    const ledgerText = JSON.stringify(ledger.blocks);
    expect(ledgerText).toContain('there is no broker account to show');
    expect(ledgerText).toContain('no market data, so positions are shown at cost');

    const down = buildHomeView(
      homeReport(2, {
        account: { kind: 'unavailable', error: 'Alpaca is unavailable (HTTP 503).' },
        market: { kind: 'unavailable', error: 'Alpaca is unavailable (HTTP 503).' },
        trend: { kind: 'pending' },
        selected: detail(2, { pricing: { source: 'unavailable', error: 'Alpaca is unavailable (HTTP 503).' } }),
      }),
    );
    expect(checkBlockKit('home', down)).toEqual([]);
    const downText = JSON.stringify(down.blocks);
    expect(downText).toContain('Alpaca account unavailable');
    expect(downText).toContain('Market status unavailable');
    expect(downText).toContain('_Loading…_');
  });

  it('says whether the books match Alpaca as of the last reconciliation, and where the details are', () => {
    const report = homeReport(2);
    const at = new Date(report.generatedAt.getTime() - 5 * 60_000);
    const line = (books: Parameters<typeof buildHomeView>[1]) => {
      const view = buildHomeView(report, books);
      expect(checkBlockKit('home', view)).toEqual([]);
      return JSON.stringify(view.blocks);
    };
    expect(line({})).not.toContain('Books');
    expect(line({ books: { outcome: 'ok', openDiscrepancies: 0, checkedAt: at } })).toMatch(
      /:white_check_mark: Books match Alpaca · checked \d{1,2}:\d{2} ET/,
    );
    expect(
      line({ books: { outcome: 'discrepancies', openDiscrepancies: 3, checkedAt: at, channelId: 'C0ALERTS' } }),
    ).toContain(':warning: Books and Alpaca disagree on 3 symbols');
    expect(
      line({ books: { outcome: 'discrepancies', openDiscrepancies: 1, checkedAt: at, channelId: 'C0ALERTS' } }),
    ).toMatch(/disagree on 1 symbol · checked .* · details in <#C0ALERTS>/);
    expect(line({ books: { outcome: 'discrepancies', openDiscrepancies: 1, checkedAt: at } })).toContain(
      'details in the app’s logs',
    );
    expect(line({ books: { outcome: 'failed', openDiscrepancies: 0, checkedAt: at } })).toContain('could not finish');
  });

  it('home page values round-trip; junk decodes to nothing', () => {
    expect(decodeHomePage(encodeHomePage({ portfolioId: 12, page: 3 }))).toEqual({ portfolioId: 12, page: 3 });
    for (const junk of [undefined, '', '1', 'a:b', '1:-1', '1:2:3']) expect(decodeHomePage(junk)).toBeUndefined();
  });
});

describe('equity trend', () => {
  it('first, last, low and high with the change, and one bar per point', () => {
    const points = [100, 90, 120, 110].map((v, i) => ({ at: new Date(Date.UTC(2026, 0, 5 + i)), equity: dec(v) }));
    const trend = summarizeEquity(points.reverse())!;
    expect([
      trend.first.equity.toFixed(),
      trend.last.equity.toFixed(),
      trend.low.equity.toFixed(),
      trend.high.equity.toFixed(),
    ]).toEqual(['100', '110', '90', '120']);
    expect(trend.change.toFixed()).toBe('10');
    expect(trend.changePct!.toFixed()).toBe('10');
    expect(trend.sparkline).toBe('▃▁█▆');
    expect(summarizeEquity([])).toBeUndefined();
  });

  it('a flat line is drawn mid-height and long histories are squeezed to the width', () => {
    expect(sparkline([dec(5), dec(5), dec(5)])).toBe('▄▄▄');
    const long = sparkline(
      Array.from({ length: 300 }, (_, i) => dec(i)),
      32,
    );
    expect([...long]).toHaveLength(32);
    expect(long.endsWith('█')).toBe(true);
  });

  it('renders in the Home tab with dates in New York time', () => {
    const text = JSON.stringify(buildHomeView(homeReport(1)).blocks);
    expect(text).toMatch(/\$\d{2,3},\d{3}\.\d{2} \(Dec 10\) → \$[\d,.]+ \(Dec 31\)/);
  });
});
