import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initORM, type Orm } from '../../src/db/orm';
import { PortfolioRepository } from '../../src/db/repositories/portfolio-repository';
import { dec } from '../../src/domain/money';
import { HOME_ACTIONS } from '../../src/slack/home/home-view';
import { PORTFOLIO_PAGE_ACTIONS } from '../../src/slack/portfolio/portfolio-messages';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { seedFill } from '../support/fills';
import { type LaunchedApp, launchApp } from '../support/launch';
import { DEFAULT_CHANNEL_ID, DEFAULT_USER_ID, type RecordedCall, type StoredMessage } from '../support/slack-standin';
import { placeOrder, waitForConfirmation } from '../support/trading';

type Json = Record<string, any>;

/**
 * Synthetic listed symbols ZAAA, ZAAB, … priced by the stand-in: bought at 50 + i, last 55 + i,
 * previous close 54 + i.
 */
const synthetic = (i: number) =>
  `Z${String.fromCharCode(65 + Math.floor(i / 676), 65 + (Math.floor(i / 26) % 26), 65 + (i % 26))}`;

let sequence = 0;
async function fill(
  orm: Orm,
  portfolioName: string,
  symbol: string,
  side: 'buy' | 'sell',
  qty: string,
  price: string,
): Promise<void> {
  await seedFill(orm, {
    executionId: `seed-${++sequence}`,
    tradeId: null,
    symbol,
    side,
    qty: dec(qty),
    price: dec(price),
    portfolioName,
    filledAt: new Date(Date.UTC(2026, 0, 5, 15, 0, 0, sequence)),
    source: 'broker',
  });
}

interface Reply {
  body: Json;
  /** The blocks as JSON text, for substring checks. */
  text: string;
  brokerRequests: number;
  message: StoredMessage;
}

/** `/portfolio <text>`: acked in time, answered through response_url, only to the caller. */
async function portfolioCommand(t: LaunchedApp, text: string, userId = DEFAULT_USER_ID): Promise<Reply> {
  const before = t.alpaca.requests.length;
  const command = await t.slack.slashCommand({ command: '/portfolio', text, userId });
  expect(command.ackMs).toBeLessThan(3000);
  await expect.poll(() => t.slack.responses.some((r) => r.url === command.responseUrl), { timeout: 15_000 }).toBe(true);
  const post = t.slack.responses.find((r) => r.url === command.responseUrl)!;
  expect(post.error, 'Slack refused the reply').toBeUndefined();
  expect(post.body.response_type).toBe('ephemeral');
  const message = t.slack
    .messages(DEFAULT_CHANNEL_ID)
    .filter((m) => m.user === userId)
    .at(-1)!;
  expect(message).toMatchObject({ ephemeral: true, user: userId });
  return {
    body: post.body,
    text: JSON.stringify(post.body.blocks),
    brokerRequests: t.alpaca.requests.length - before,
    message,
  };
}

function buttonValue(blocks: Json[] | undefined, actionId: string): string | undefined {
  return (blocks ?? [])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements)
    .find((e: Json) => e.action_id === actionId)?.value;
}

function publishesFor(t: LaunchedApp, userId: string): RecordedCall[] {
  return t.slack.callsTo('views.publish').filter((c) => c.args.user_id === userId);
}

/** Opens (or acts on) the Home tab and waits for the publish whose view satisfies `done`. */
async function homeAfter(
  t: LaunchedApp,
  userId: string,
  act: () => Promise<unknown>,
  done: (text: string) => boolean = () => true,
) {
  const before = publishesFor(t, userId).length;
  const requestsBefore = t.alpaca.requests.length;
  const startedAt = Date.now();
  await act();
  let found: RecordedCall | undefined;
  await expect
    .poll(
      () => {
        found = publishesFor(t, userId)
          .slice(before)
          .find((c) => done(JSON.stringify(c.args.view?.blocks)));
        return found !== undefined;
      },
      { timeout: 15_000, interval: 50 },
    )
    .toBe(true);
  const calls = publishesFor(t, userId).slice(before);
  for (const call of calls) expect(call.response, 'Slack refused the Home tab').toMatchObject({ ok: true });
  // Broker requests made before each publish: the render that produced it.
  const firstPublishAt = calls[0]!.at;
  const beforeFirst = t.alpaca.requests.slice(requestsBefore).filter((r) => r.at <= firstPublishAt).length;
  return {
    call: found!,
    text: JSON.stringify(found!.args.view.blocks),
    view: found!.args.view as Json,
    calls,
    brokerRequestsFirstRender: beforeFirst,
    startedAt,
  };
}

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`/portfolio and the Home tab end to end on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let t: LaunchedApp;
    let orm: Orm;

    beforeAll(async () => {
      db = await kind.create();
      t = await launchApp({ database: db.target, alpacaOptions: { marketOpen: true } });
      orm = await initORM(db.target);
      const portfolios = new PortfolioRepository(orm);
      for (const name of ['Growth', 'Income', 'Empty', 'One', 'Sixty', 'Three hundred', 'No quote', 'Outage'])
        await portfolios.ensure(name, 'U0SEEDER');

      await fill(orm, 'Growth', 'AAPL', 'buy', '10', '180');
      await fill(orm, 'Growth', 'MSFT', 'buy', '2', '400');
      await fill(orm, 'Growth', 'MSFT', 'sell', '1', '420');
      await fill(orm, 'Income', 'SPY', 'buy', '1.5', '500');
      await fill(orm, 'One', 'AAPL', 'buy', '1', '189.42');
      for (let i = 0; i < 300; i++) {
        t.alpaca.addAsset({ symbol: synthetic(i) });
        t.alpaca.setPrice(synthetic(i), { last: String(55 + i), prevClose: String(54 + i) });
        await fill(orm, 'Three hundred', synthetic(i), 'buy', String(i + 1), String(50 + i));
        if (i < 60) await fill(orm, 'Sixty', synthetic(i), 'buy', '2', String(50 + i));
      }
      t.alpaca.addAsset({ symbol: 'NOSNAP' });
      t.alpaca.setNoSnapshot('NOSNAP');
      await fill(orm, 'No quote', 'NOSNAP', 'buy', '3', '10');
      await fill(orm, 'No quote', 'SPY', 'buy', '1', '500');
    }, 120_000);

    afterAll(async () => {
      await orm?.close(true);
      await t?.stop();
      await db?.drop();
    });

    it(
      '/portfolio lists every portfolio with figures at the stand-in’s prices, ' +
        'to the cent, in at most 3 broker requests',
      async () => {
        const reply = await portfolioCommand(t, '');
        expect(reply.brokerRequests).toBeLessThanOrEqual(3);
        expect(reply.text).toContain(
          '*Growth* · 2 positions · value $2,309.30 · P&L +$109.30 ' +
            '(+4.97%) · today +$25.50 (+1.12%) · realized +$20.00',
        );
        expect(reply.text).toContain(
          '*Income* · 1 position · value $780.00 · P&L +$30.00 (+4.00%) · today +$2.40 (+0.31%)',
        );
        expect(reply.text).toContain('*Empty* · 0 positions');
        expect(reply.text).toContain('*Equity*\\n$100,000.00');
        expect(reply.body.text).toMatch(/^8 portfolios, 366 positions/);
      },
    );

    it('/portfolio <name> is case-insensitive and shows positions, realized P&L and totals to the cent', async () => {
      const reply = await portfolioCommand(t, '  gRoWtH ');
      expect(reply.brokerRequests).toBeLessThanOrEqual(3);
      expect(reply.text).toContain(
        '*AAPL* · 10 sh · avg $180.00 · last $189.42 · value $1,894.20 · P&L +$94.20 (+5.23%) · today +$22.70',
      );
      expect(reply.text).toContain(
        '*MSFT* · 1 sh · avg $400.00 · last $415.10 · value $415.10 · P&L +$15.10 (+3.78%) · today +$2.80',
      );
      expect(reply.text).toContain('*Market value*\\n$2,309.30');
      expect(reply.text).toContain('*Realized P&L*\\n+$20.00');
    });

    it.each([
      ['Empty', 0],
      ['One', 1],
      ['Sixty', 60],
      ['Three hundred', 300],
    ])(
      '%s (%i positions) renders without invalid_blocks, in at most 3 broker requests, and pages to the end',
      async (name, count) => {
        const reply = await portfolioCommand(t, name);
        expect(reply.brokerRequests).toBeLessThanOrEqual(3);
        expect((reply.body.blocks as Json[]).length).toBeLessThanOrEqual(50);
        if (count === 0) expect(reply.text).toContain('No open positions.');
        if (count === 1)
          expect(reply.text).toContain(
            '*AAPL* · 1 sh · avg $189.42 · last $189.42 · value $189.42 · P&L $0.00 (0.00%) · today +$2.27',
          );
        if (count === 300) {
          // The largest holding: ZALN (i = 299), 300 sh bought at 349, last 354.
          expect(reply.text).toContain(
            `*${synthetic(299)}* · 300 sh · avg $349.00 · last $354.00 · ` +
              'value $106,200.00 · P&L +$1,500.00 (+1.43%) · today +$300.00',
          );
        }
        const message = reply.message;
        let pages = 1;
        for (
          let next = buttonValue(message.blocks, PORTFOLIO_PAGE_ACTIONS.next);
          next;
          next = buttonValue(message.blocks, PORTFOLIO_PAGE_ACTIONS.next)
        ) {
          const updates = message.updates;
          await t.slack.blockAction({
            actionId: PORTFOLIO_PAGE_ACTIONS.next,
            channelId: DEFAULT_CHANNEL_ID,
            messageTs: message.ts,
          });
          await expect.poll(() => message.updates, { timeout: 15_000 }).toBeGreaterThan(updates);
          pages += 1;
        }
        expect(t.slack.responses.filter((r) => r.error)).toEqual([]);
        expect(pages).toBe(Math.max(1, Math.ceil(count / 20)));
        if (count > 20) expect(JSON.stringify(message.blocks)).toContain(`of ${count}, largest first`);
      },
      60_000,
    );

    it('an unknown name gets "did you mean"; markup and 5,000 characters get a clear answer', async () => {
      expect((await portfolioCommand(t, 'grwth')).body.text).toBe('No portfolio named “grwth”. Did you mean *Growth*?');
      const markup = await portfolioCommand(t, '<@U0OTHER|bob> &lt;!channel&gt;');
      expect(markup.body.text).toBe('No portfolio named “@bob &lt;!channel&gt;”. `/portfolio` lists all 8.');
      expect(markup.text).not.toContain('<!channel>');
      const long = await portfolioCommand(t, 'x'.repeat(5000));
      expect(long.text).toContain('That is 5,000 characters long; portfolio names have at most 255.');
    });

    it('/portfolio account shows the account and the market at the stand-in’s figures', async () => {
      const reply = await portfolioCommand(t, 'account');
      expect(reply.brokerRequests).toBeLessThanOrEqual(3);
      expect(reply.text).toContain('*Equity*\\n$100,000.00');
      expect(reply.text).toContain('*Cash*\\n$100,000.00');
      expect(reply.text).toContain("*Today's P&L*\\n$0.00 (0.00%)");
      expect(reply.text).toContain('*Status*\\nACTIVE');
      expect(reply.text).toMatch(/Market open — closes/);
    });

    it('/portfolio positions puts the broker beside the books and flags every difference', async () => {
      t.alpaca.setPosition('AAPL', '11', '181');
      t.alpaca.setPosition('MSFT', '1', '400');
      try {
        const reply = await portfolioCommand(t, 'positions');
        expect(reply.brokerRequests).toBeLessThanOrEqual(3);
        // Books: AAPL 11 (Growth 10 + One 1), MSFT 1, SPY 2.5, NOSNAP 3 and the 300 synthetic symbols.
        expect(reply.text).toContain('*302 of 304 symbols differ* between the broker and the books.');
        expect(reply.text).toContain(':warning: *NOSNAP* · broker 0 vs books 3 · *difference -3*');
        expect(reply.text).toContain(':warning: *SPY* · broker 0 vs books 2.5 · *difference -2.5*');
        // Mismatches come first; the two that agree are on the last page.
        const message = reply.message;
        while (buttonValue(message.blocks, PORTFOLIO_PAGE_ACTIONS.next)) {
          const updates = message.updates;
          await t.slack.blockAction({
            actionId: PORTFOLIO_PAGE_ACTIONS.next,
            channelId: DEFAULT_CHANNEL_ID,
            messageTs: message.ts,
          });
          await expect.poll(() => message.updates, { timeout: 15_000 }).toBeGreaterThan(updates);
        }
        const last = JSON.stringify(message.blocks);
        expect(last).toContain('Symbols 301–304 of 304');
        expect(last).toContain(':white_check_mark: *AAPL* · 11 · $189.42 · value $2,083.62');
        expect(last).toContain(':white_check_mark: *MSFT* · 1 · $415.10 · value $415.10');
      } finally {
        t.alpaca.setPosition('AAPL', '0', '0');
        t.alpaca.setPosition('MSFT', '0', '0');
      }
    });

    it('/portfolio help', async () => {
      expect((await portfolioCommand(t, 'help')).text).toContain('`/portfolio positions`');
    });

    it('a symbol Alpaca has no snapshot for is named and shown at cost; an outage degrades to the books', async () => {
      const noQuote = await portfolioCommand(t, 'No quote');
      expect(noQuote.text).toContain('*NOSNAP* · 3 sh · avg $10.00 · no price · cost $30.00');
      expect(noQuote.text).toContain('No quote for NOSNAP: shown at cost and left out of market value and P&L.');
      expect(noQuote.text).toContain('*Market value*\\n$520.00');

      // A symbol never priced before, so no cached quote hides the outage; the SDK tries a GET three times.
      t.alpaca.addAsset({ symbol: 'OUTG' });
      t.alpaca.setPrice('OUTG', { last: '20' });
      await fill(orm, 'Outage', 'OUTG', 'buy', '2', '25');
      t.alpaca.inject({ path: /^\/v2\/stocks\/snapshots/, status: 503, times: 3 });
      const outage = await portfolioCommand(t, 'Outage');
      expect(outage.text).toContain('Prices unavailable');
      expect(outage.text).toContain('*OUTG* · 2 sh · avg $25.00 · no price · cost $50.00');
    }, 60_000);

    it('the Home tab: market, account, a month of equity, ' +
      'the remembered portfolio, recent orders — within the render budget', async () => {
      const day = 86_400_000;
      t.alpaca.setPortfolioHistory(
        Array.from({ length: 21 }, (_, i) => ({
          t: new Date(Date.now() - (21 - i) * day),
          equity: String(100_000 + i * 50 - (i % 3) * 120),
        })),
      );
      const user = 'U0HOMEUSER';
      const opened = await homeAfter(
        t,
        user,
        () => t.slack.appHomeOpened(user),
        (text) => /`[▁▂▃▄▅▆▇█]+`/.test(text),
      );
      expect(opened.brokerRequestsFirstRender).toBeLessThanOrEqual(3);
      expect(opened.calls.length).toBeLessThanOrEqual(2);
      expect(opened.text).toMatch(/Market open — closes/);
      expect(opened.text).toContain('*Equity*\\n$100,000.00');
      expect(opened.text).toContain('$100,000.00 (');
      expect(opened.text).toContain('None yet — press *New trade* to place one.');
      const select = (opened.view.blocks as Json[]).find(
        (b) => b.accessory?.action_id === HOME_ACTIONS.pickPortfolio,
      )!.accessory;
      expect(select.options.map((o: Json) => o.text.text)).toContain('Three hundred');

      const threeHundred = select.options.find((o: Json) => o.text.text === 'Three hundred').value as string;
      const picked = await homeAfter(
        t,
        user,
        () =>
          t.slack.blockAction({
            userId: user,
            viewId: t.slack.homeView(user)!.id,
            actionId: HOME_ACTIONS.pickPortfolio,
            selectedOption: threeHundred,
          }),
        (text) => text.includes('*Portfolio Three hundred*'),
      );
      expect(picked.brokerRequestsFirstRender).toBeLessThanOrEqual(3);
      expect(picked.view.blocks.length).toBeLessThanOrEqual(100);
      expect(picked.text).toContain('Positions 1–15 of 300, largest first');
      expect(picked.text).toContain('*Market value*\\n$');

      const paged = await homeAfter(
        t,
        user,
        () =>
          t.slack.blockAction({ userId: user, viewId: t.slack.homeView(user)!.id, actionId: HOME_ACTIONS.nextPage }),
        (text) => text.includes('Positions 16–30 of 300'),
      );
      expect(paged.brokerRequestsFirstRender).toBeLessThanOrEqual(3);

      // Remembered: opening the tab again shows the same portfolio.
      const reopened = await homeAfter(t, user, () => t.slack.appHomeOpened(user));
      expect(reopened.text).toContain('*Portfolio Three hundred*');
      expect(reopened.calls).toHaveLength(1);
      expect(reopened.brokerRequestsFirstRender).toBeLessThanOrEqual(3);

      const refreshed = await homeAfter(t, user, () =>
        t.slack.blockAction({ userId: user, viewId: t.slack.homeView(user)!.id, actionId: HOME_ACTIONS.refresh }),
      );
      expect(refreshed.text).toContain('Positions 1–15 of 300');
    }, 60_000);

    it('Home tab portfolios of 0, 1 and 60 positions publish without invalid_blocks', async () => {
      const user = 'U0SIZES';
      const first = await homeAfter(t, user, () => t.slack.appHomeOpened(user));
      const options = (first.view.blocks as Json[]).find((b) => b.accessory?.action_id === HOME_ACTIONS.pickPortfolio)!
        .accessory.options as Json[];
      for (const [name, expected] of [
        ['Empty', 'No open positions.'],
        ['One', '*AAPL* · 1 sh'],
        ['Sixty', 'Positions 1–15 of 60'],
      ] as const) {
        const value = options.find((o) => o.text.text === name)!.value as string;
        const shown = await homeAfter(
          t,
          user,
          () =>
            t.slack.blockAction({
              userId: user,
              viewId: t.slack.homeView(user)!.id,
              actionId: HOME_ACTIONS.pickPortfolio,
              selectedOption: value,
            }),
          (text) => text.includes(`*Portfolio ${name}*`),
        );
        expect(shown.text).toContain(expected);
      }
    }, 60_000);

    it('"New trade" on the Home tab opens the /trade form', async () => {
      const user = DEFAULT_USER_ID;
      await homeAfter(t, user, () => t.slack.appHomeOpened(user));
      const before = t.slack.openModals(user).length;
      await t.slack.blockAction({ userId: user, viewId: t.slack.homeView(user)!.id, actionId: HOME_ACTIONS.newTrade });
      await expect.poll(() => t.slack.openModals(user).length, { timeout: 5000 }).toBe(before + 1);
      expect(t.slack.openModals(user).at(-1)!.view.callback_id).toBe('trade_modal');
    });

    it('the trader’s Home tab follows their order to the fill', async () => {
      const user = DEFAULT_USER_ID;
      const home = await homeAfter(
        t,
        user,
        async () => {
          const { clientOrderId } = await placeOrder(t, { symbol: 'AAPL', quantity: '1', portfolio: 'Orders' }, user);
          await waitForConfirmation(t, clientOrderId, (m) => /Filled 1 AAPL/.test(JSON.stringify(m.blocks)));
        },
        (text) => /Buy 1 AAPL @ \$189\.4\d — filled · Orders/.test(text),
      );
      expect(home.text).toContain('*Your latest orders*');
    }, 30_000);
  });
}

describe('ledger-only mode (USE_ALPACA=false): /portfolio and the Home tab show the books at cost', () => {
  let db: TestDatabase;
  let t: LaunchedApp;
  let orm: Orm;

  beforeAll(async () => {
    db = await testDatabaseTargets()[0]!.create();
    t = await launchApp({ database: db.target, useAlpaca: false });
    orm = await initORM(db.target);
    await new PortfolioRepository(orm).ensure('Ledger', 'U0SEEDER');
    await fill(orm, 'Ledger', 'AAPL', 'buy', '4', '150.25');
  });
  afterAll(async () => {
    await orm?.close(true);
    await t?.stop();
    await db?.drop();
  });

  it('answers every form without a single Alpaca request', async () => {
    const list = await portfolioCommand(t, '');
    expect(list.text).toContain('*Ledger* · 1 position · cost $601.00');
    expect(list.text).toContain('Ledger-only mode (USE_ALPACA=false): there is no broker account to show.');
    const detail = await portfolioCommand(t, 'ledger');
    expect(detail.text).toContain('*AAPL* · 4 sh · avg $150.25 · no price · cost $601.00');
    expect((await portfolioCommand(t, 'account')).text).toContain('no broker account to show');
    expect((await portfolioCommand(t, 'positions')).text).toContain('*AAPL* · books 4');
    const home = await homeAfter(t, 'U0LEDGER', () => t.slack.appHomeOpened('U0LEDGER'));
    expect(home.text).toContain('no market data, so positions are shown at cost');
    // No broker, so nothing to reconcile against: no "books match" line.
    expect(home.text).not.toContain('Books match');
    expect(t.alpaca.requests).toHaveLength(0);
  });
});
