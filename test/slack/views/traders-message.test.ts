import { describe, expect, it } from 'vitest';
import { dec } from '../../../src/domain/money';
import type { TraderPnlReport, TraderPnlRow } from '../../../src/domain/trader-pnl';
import { buildTradersMessage, TOP_TRADERS } from '../../../src/slack/portfolio/traders-message';
import { checkBlockKit } from '../../support/slack/block-kit';

type Json = Record<string, any>;

const NOW = new Date(Date.UTC(2026, 0, 5, 21, 5));

const row = (userId: string, rank: number, overrides: Partial<TraderPnlRow> = {}): TraderPnlRow => ({
  userId,
  realized: dec(100 - rank),
  unrealized: dec(0),
  orders: 4,
  closingOrders: 2,
  winningOrders: 1,
  hitRate: 0.5,
  rank,
  ...overrides,
});

const report = (rows: TraderPnlRow[], unpricedSymbols: string[] = []): TraderPnlReport => ({
  rows,
  asOf: NOW,
  unpricedSymbols,
});

const lines = (blocks: Json[]) =>
  blocks.filter((b) => b.type === 'section').flatMap((b) => (b.text.text as string).split('\n'));

describe('buildTradersMessage', () => {
  it('one line per trader, with every figure; the caller marked', () => {
    const message = buildTradersMessage({
      report: report([
        row('U0CAROL', 1, {
          realized: dec('321.5'),
          unrealized: dec(20),
          orders: 3,
          closingOrders: 2,
          winningOrders: 2,
          hitRate: 1,
        }),
        row('U0ALICE', 2, { realized: dec('-44.5'), unrealized: dec('12.555'), closingOrders: 0, hitRate: null }),
      ]),
      callerId: 'U0ALICE',
      now: NOW,
    });
    expect(checkBlockKit('message', message)).toEqual([]);
    expect(lines(message.blocks as Json[])).toEqual([
      '*1.* <@U0CAROL> — *+$341.50* · realized +$321.50 · unrealized +$20.00 · 3 orders · hit rate 100% (2/2)',
      ':point_right: *2.* <@U0ALICE> *(you)* — *-$31.94* · realized -$44.50 · unrealized +$12.56 · 4 orders · ' +
        'no closing orders',
    ]);
    expect(message.text).toBe('P&L per trader: 2 traders · you: #2, -$31.94');
    expect(JSON.stringify(message.blocks)).toContain('as of 16:05 ET');
  });

  it('an unknown unrealized is flagged, never shown as $0, and the symbols without a price are named', () => {
    const message = buildTradersMessage({
      report: report([row('U0BOB', 1, { realized: dec(5), unrealized: null })], ['TSLA']),
      callerId: 'U0NOBODY',
      now: NOW,
    });
    expect(lines(message.blocks as Json[])).toEqual([
      '*1.* <@U0BOB> — *+$5.00* † · realized +$5.00 · unrealized unknown † · 4 orders · hit rate 50% (1/2)',
    ]);
    expect(JSON.stringify(message.blocks)).toContain(
      '† No price for TSLA: the unrealized P&L of whoever holds it is unknown and counted as $0 in the ranking.',
    );
    expect(message.text).toBe('P&L per trader: 1 trader');
  });

  it('ids that are not Slack members are shown as text; the reconciler as what it holds', () => {
    const message = buildTradersMessage({
      report: report([row('reconciler', 1), row('bob <!channel>', 2)]),
      callerId: 'U0X',
      now: NOW,
    });
    const shown = lines(message.blocks as Json[]);
    expect(shown[0]).toContain('*1.* _book adjustments & adopted orders_ —');
    expect(shown[1]).toContain('*2.* bob &lt;!channel&gt; —');
  });

  it.each([16, 40, 500])('%i traders: the top ones and the caller’s own row, inside Slack’s limits', (n) => {
    const rows = Array.from({ length: n }, (_, i) => row(`U0T${String(i + 1).padStart(4, '0')}`, i + 1));
    const caller = rows.at(-1)!.userId;
    const message = buildTradersMessage({ report: report(rows, ['A', 'B']), callerId: caller, now: NOW });
    expect(checkBlockKit('message', message)).toEqual([]);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    const shown = lines(message.blocks as Json[]);
    expect(shown.slice(0, TOP_TRADERS).map((l) => l.split(' ')[0])).toEqual(
      Array.from({ length: TOP_TRADERS }, (_, i) => `*${i + 1}.*`),
    );
    const hidden = n - TOP_TRADERS - 1;
    expect(shown.slice(TOP_TRADERS)).toEqual([
      ...(hidden > 0 ? [`_…and ${hidden} more trader${hidden === 1 ? '' : 's'}_`] : []),
      expect.stringMatching(new RegExp(`^:point_right: \\*${n}\\.\\* <@${caller}> \\*\\(you\\)\\*`)),
    ]);
  });

  it('a caller in the top rows is not repeated', () => {
    const rows = Array.from({ length: 30 }, (_, i) => row(`U0T${i + 1}`, i + 1));
    const shown = lines(buildTradersMessage({ report: report(rows), callerId: 'U0T3', now: NOW }).blocks as Json[]);
    expect(shown.filter((l) => l.includes('(you)'))).toHaveLength(1);
    expect(shown.at(-1)).toBe('_…and 15 more traders_');
  });

  it('no orders yet: says so', () => {
    const message = buildTradersMessage({ report: report([]), callerId: 'U0A', now: NOW });
    expect(checkBlockKit('message', message)).toEqual([]);
    expect(JSON.stringify(message.blocks)).toContain('No one has placed an order yet');
  });
});
