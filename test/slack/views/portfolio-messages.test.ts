import { describe, expect, it } from 'vitest';
import { dec } from '../../../src/domain/money';
import type { PortfolioOverview, PositionComparison } from '../../../src/domain/portfolio-report';
import { totalValuation } from '../../../src/domain/portfolio-valuation';
import {
  buildAccountMessage,
  buildPortfolioDetailMessage,
  buildPortfolioHelp,
  buildPortfolioNotFoundMessage,
  buildPortfolioOverviewMessage,
  buildPositionComparisonMessage,
  decodePage,
  encodePage,
  MESSAGE_PAGE_SIZE,
  PORTFOLIO_PAGE_ACTIONS,
} from '../../../src/slack/portfolio/portfolio-messages';
import { checkBlockKit } from '../../support/slack/block-kit';
import { ACCOUNT_OK, detail, NOW, OPEN_MARKET, valuedPositions } from './portfolio-fixtures';

type Json = Record<string, any>;
const actionIds = (blocks: Json[]) =>
  blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements.map((e: Json) => e.action_id));
const button = (blocks: Json[], actionId: string) =>
  blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements)
    .find((e: Json) => e.action_id === actionId);

describe('buildPortfolioDetailMessage', () => {
  it.each([0, 1, 60, 300])('%i positions: a valid message of at most 50 blocks, one page of positions', (n) => {
    const message = buildPortfolioDetailMessage(detail(n), { now: NOW });
    expect(checkBlockKit('message', message)).toEqual([]);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    const text = JSON.stringify(message.blocks);
    const shown = (text.match(/\*S\d{4}\*/g) ?? []).length;
    expect(shown).toBe(Math.min(n, MESSAGE_PAGE_SIZE));
    expect(actionIds(message.blocks as Json[])).toEqual(n > MESSAGE_PAGE_SIZE ? [PORTFOLIO_PAGE_ACTIONS.next] : []);
  });

  it('shows one position with every figure, to the cent', () => {
    const message = buildPortfolioDetailMessage(detail(1), { now: NOW });
    const text = JSON.stringify(message.blocks);
    expect(text).toContain(
      '*S0000* · 1 sh · avg $100.00 · last $110.00 · value $110.00 · P&L +$10.00 (+10.00%) · today +$5.00',
    );
    expect(text).toContain('*Market value*\\n$110.00');
    expect(text).toContain('*Unrealized P&L*\\n+$10.00 (+10.00%)');
    expect(text).toContain('*Today*\\n+$5.00 (+4.76%)');
    expect(text).toContain('*Realized P&L*\\n+$12.50');
    expect(text).toContain(':white_check_mark: Buy 10 AAPL @ $189.42 — filled');
    expect(text).toContain(':large_yellow_circle: Sell 10 MSFT @ $415.10 — partially filled 4');
    expect(message.text).toBe('Growth: 1 positions, value $110.00, unrealized +$10.00 (+10.00%)');
  });

  it('every page of 300 positions is valid, and the buttons walk from the first to the last', () => {
    const data = detail(300);
    let page = 0;
    const seen: string[] = [];
    for (;;) {
      const message = buildPortfolioDetailMessage(data, { page, now: NOW });
      expect(checkBlockKit('message', message)).toEqual([]);
      seen.push(...(JSON.stringify(message.blocks).match(/\*S\d{4}\*/g) ?? []));
      const next = button(message.blocks as Json[], PORTFOLIO_PAGE_ACTIONS.next);
      if (page > 0)
        expect(decodePage(button(message.blocks as Json[], PORTFOLIO_PAGE_ACTIONS.previous).value)).toEqual({
          view: 'detail',
          name: 'Growth',
          page: page - 1,
        });
      if (!next) break;
      const target = decodePage(next.value);
      expect(target).toEqual({ view: 'detail', name: 'Growth', page: page + 1 });
      page += 1;
    }
    expect(page).toBe(14);
    expect(new Set(seen).size).toBe(300);
    expect(JSON.stringify(buildPortfolioDetailMessage(data, { page: 14, now: NOW }).blocks)).toContain(
      'Positions 281–300 of 300, largest first',
    );
  });

  it('a stale page number beyond the end shows the last page', () => {
    const message = buildPortfolioDetailMessage(detail(30), { page: 99, now: NOW });
    expect(JSON.stringify(message.blocks)).toContain('Positions 21–30 of 30');
  });

  it('escapes markup in names and keeps a 255-character name inside the header limit', () => {
    const name = `<!channel> ${'x'.repeat(244)}`;
    const message = buildPortfolioDetailMessage(detail(3, { name }), { now: NOW });
    expect(checkBlockKit('message', message)).toEqual([]);
    // Plain text (the header) is never parsed for mentions; every mrkdwn text must be escaped.
    const mrkdwnTexts = JSON.stringify(message.blocks).match(/"type":"mrkdwn","text":"[^"]*"/g) ?? [];
    expect(mrkdwnTexts.join('')).not.toContain('<!channel>');
    expect(message.text).toContain('&lt;!channel&gt;');
    expect(message.blocks[0]).toMatchObject({ type: 'header' });
  });

  it('says which symbols have no quote and leaves them out of the totals', () => {
    const positions = valuedPositions(5, { unpricedEvery: 2 });
    const message = buildPortfolioDetailMessage(
      detail(0, {
        positions,
        totals: totalValuation(positions, dec(0)),
        pricing: { source: 'alpaca', missing: ['S0000', 'S0002', 'S0004'] },
      }),
      { now: NOW },
    );
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('*S0004* · 5 sh · avg $104.00 · no price · cost $520.00');
    expect(text).toContain('No quote for S0004, S0002, S0000: shown at cost and left out of market value and P&L.');
    // Only S0001 (2 × 111) and S0003 (4 × 113) are priced.
    expect(text).toContain('*Market value*\\n$674.00');
  });

  it('in ledger-only mode or without Alpaca, shows the books at cost and says why', () => {
    const ledger = JSON.stringify(
      buildPortfolioDetailMessage(detail(2, { pricing: { source: 'ledger' } }), { now: NOW }).blocks,
    );
    expect(ledger).toContain('Ledger-only mode (USE_ALPACA=false): no market data');
    expect(ledger).not.toContain('Market value');
    const down = JSON.stringify(
      buildPortfolioDetailMessage(
        detail(2, { pricing: { source: 'unavailable', error: 'Alpaca is unavailable (HTTP 503).' } }),
        { now: NOW },
      ).blocks,
    );
    expect(down).toContain('Prices unavailable — Alpaca is unavailable (HTTP 503). Positions are shown at cost.');
  });
});

function overview(
  count: number,
  pricing: PortfolioOverview['pricing'] = { source: 'alpaca', missing: [] },
): PortfolioOverview {
  const portfolios = Array.from({ length: count }, (_, i) => {
    const positions = valuedPositions(i % 4);
    return {
      id: i + 1,
      name: `Fund ${String(i).padStart(3, '0')}`,
      positions,
      totals: totalValuation(positions, dec(i % 2)),
    };
  });
  const all = portfolios.flatMap((p) => p.positions);
  return { portfolios, totals: totalValuation(all, dec(Math.floor(count / 2))), account: ACCOUNT_OK, pricing };
}

describe('buildPortfolioOverviewMessage', () => {
  it.each([0, 1, 60, 300])('%i portfolios: valid and within 50 blocks', (n) => {
    const message = buildPortfolioOverviewMessage(overview(n));
    expect(checkBlockKit('message', message)).toEqual([]);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
  });

  it('one line per portfolio with its figures, then all portfolios and the account', () => {
    const text = JSON.stringify(buildPortfolioOverviewMessage(overview(3)).blocks);
    expect(text).toContain('*Fund 000* · 0 positions');
    expect(text).toContain('*Fund 002* · 2 positions · value $332.00 · P&L +$30.00 (+9.93%) · today +$15.00 (+4.73%)');
    expect(text).toContain('*Equity*\\n$101,234.56');
    expect(text).toContain("*Today's P&L*\\n+$1,234.56 (+1.23%)");
    expect(text).toContain('*Buying power*\\n$150,000.00');
  });

  it('says plainly when there is nothing yet', () => {
    expect(buildPortfolioOverviewMessage(overview(0)).text).toBe('No portfolios yet');
  });
});

describe('the other /portfolio replies', () => {
  it('did you mean', () => {
    const message = buildPortfolioNotFoundMessage({
      kind: 'not_found',
      query: 'grwth',
      suggestions: ['Growth', 'Growth <b>'],
      known: 4,
    });
    expect(message.text).toBe('No portfolio named “grwth”. Did you mean *Growth*, *Growth &lt;b&gt;*?');
    expect(
      buildPortfolioNotFoundMessage({ kind: 'not_found', query: 'zzz', suggestions: [], known: 4 }).text,
    ).toContain('`/portfolio` lists all 4.');
    expect(
      buildPortfolioNotFoundMessage({ kind: 'not_found', query: 'x'.repeat(255), suggestions: [], known: 0 }).text
        .length,
    ).toBeLessThan(300);
  });

  it('account: figures, ledger-only and outage', () => {
    const ok = buildAccountMessage({ account: ACCOUNT_OK, market: OPEN_MARKET });
    expect(checkBlockKit('message', ok)).toEqual([]);
    expect(ok.text).toBe('Equity $101,234.56, today +$1,234.56 (+1.23%)');
    expect(JSON.stringify(ok.blocks)).toContain('Market open — closes 16:00 ET');
    const ledger = buildAccountMessage({ account: { kind: 'ledger' }, market: OPEN_MARKET });
    expect(JSON.stringify(ledger.blocks)).toContain('no broker account to show');
    const down = buildAccountMessage({
      account: { kind: 'unavailable', error: 'Alpaca timed out.' },
      market: { kind: 'unavailable', error: 'Alpaca timed out.' },
    });
    expect(checkBlockKit('message', down)).toEqual([]);
    expect(JSON.stringify(down.blocks)).toContain('Market status unavailable');
  });

  it('positions vs books: mismatches first and flagged; 300 symbols paged', () => {
    const rows = Array.from({ length: 300 }, (_, i) => {
      const books = dec(i + 1);
      const broker = i === 7 ? dec(i) : books;
      return {
        symbol: `S${String(i).padStart(4, '0')}`,
        books,
        broker,
        difference: broker.minus(books),
        brokerPrice: dec(10),
        brokerMarketValue: broker.times(10),
      };
    });
    rows.sort((a, b) => Number(!b.difference.isZero()) - Number(!a.difference.isZero()));
    const comparison: PositionComparison = { rows, mismatches: 1, broker: { kind: 'ok' } };
    const message = buildPositionComparisonMessage(comparison);
    expect(checkBlockKit('message', message)).toEqual([]);
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('*1 of 300 symbols differ*');
    expect(text).toContain(':warning: *S0007* · broker 7 vs books 8 · *difference -1*');
    expect(text).toContain(':white_check_mark: *S0000* · 1 · $10.00 · value $10.00');
    expect(decodePage(button(message.blocks as Json[], PORTFOLIO_PAGE_ACTIONS.next).value)).toEqual({
      view: 'positions',
      page: 1,
    });
    const ledger = buildPositionComparisonMessage({
      rows: [{ symbol: 'AAPL', books: dec(3) }],
      mismatches: 0,
      broker: { kind: 'ledger' },
    });
    expect(JSON.stringify(ledger.blocks)).toContain('*AAPL* · books 3');
  });

  it('help explains every form', () => {
    const help = buildPortfolioHelp();
    expect(checkBlockKit('message', help)).toEqual([]);
    for (const usage of [
      '`/portfolio`',
      '`/portfolio Growth`',
      '`/portfolio account`',
      '`/portfolio positions`',
      '`/portfolio traders`',
      '`/portfolio help`',
    ])
      expect(JSON.stringify(help.blocks)).toContain(usage);
  });
});

describe('page buttons', () => {
  it('round-trip, and anything else decodes to nothing', () => {
    for (const page of [
      { view: 'overview', page: 2 },
      { view: 'positions', page: 0 },
      { view: 'detail', name: 'A "quoted" <name>', page: 3 },
    ] as const) {
      expect(decodePage(encodePage(page))).toEqual(page);
    }
    for (const junk of [
      undefined,
      '',
      'null',
      '{"v":"d","p":1}',
      '{"v":"o","p":-1}',
      '{"v":"o","p":1.5}',
      '{"v":"x","p":1}',
      'not json',
    ])
      expect(decodePage(junk)).toBeUndefined();
    expect(encodePage({ view: 'detail', name: 'x'.repeat(255), page: 999 }).length).toBeLessThan(2000);
  });
});
