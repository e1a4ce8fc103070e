import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initORM, type Orm } from '../../src/db/orm';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';
import { DEFAULT_CHANNEL_ID, DEFAULT_USER_ID, type StoredMessage } from '../support/slack-standin';
import { formValues, messageText, openOrderForm, placeOrder, waitForConfirmation } from '../support/trading';

const ORDERS = /^\/v2\/orders$/;
const SLACK_OUTAGE = ['chat.', 'views.', 'conversations.'];

/** Every version of the order's confirmation, oldest first. */
function versions(t: LaunchedApp, clientOrderId: string): string[] {
  const message = t.slack
    .messages(DEFAULT_CHANNEL_ID)
    .find((m) => !m.threadTs && messageText(m).includes(clientOrderId));
  return message ? message.history.map(messageText) : [];
}

function threadReplies(t: LaunchedApp, parent: StoredMessage): StoredMessage[] {
  return t.slack.messages(DEFAULT_CHANNEL_ID).filter((m) => m.threadTs === parent.ts);
}

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`order safety under faults, end to end on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let t: LaunchedApp;
    let orm: Orm;
    let trades: TradeRepository;

    beforeAll(async () => {
      db = await kind.create();
      t = await launchApp({
        database: db.target,
        env: {
          MAX_ORDER_NOTIONAL: '50000',
          TRADER_USER_IDS: `${DEFAULT_USER_ID},U0TRADER2`,
          ADMIN_USER_IDS: 'U0ADMIN',
        },
      });
      orm = await initORM(db.target);
      trades = new TradeRepository(orm);
    });
    afterAll(async () => {
      await orm?.close(true);
      await t?.stop();
      await db?.drop();
    });
    afterEach(() => {
      t.slack.endOutage();
      t.alpaca.clearFaults();
      t.alpaca.setMarketOpen(true);
    });

    it('Slack failing while queued orders fill: the books take the fills at once, ' +
      'the confirmations catch up once Slack is back, and each final state is replied in the thread', async () => {
      t.alpaca.setMarketOpen(false);
      const first = await placeOrder(t, { symbol: 'AAPL', quantity: '2', portfolio: 'Outage' });
      const second = await placeOrder(t, { symbol: 'MSFT', quantity: '1', portfolio: 'Outage' });
      for (const order of [first, second])
        await waitForConfirmation(t, order.clientOrderId, (m) => /queued for the open/.test(messageText(m)));

      t.slack.startOutage(SLACK_OUTAGE);
      t.alpaca.setMarketOpen(true);
      const opened = Date.now();
      await expect
        .poll(
          async () =>
            Promise.all([first, second].map(async (o) => (await trades.findByClientOrderId(o.clientOrderId))?.status)),
          { timeout: 3_000, interval: 25 },
        )
        .toEqual(['filled', 'filled']);
      const booksMs = Date.now() - opened;
      for (const order of [first, second]) {
        const row = await trades.findByClientOrderId(order.clientOrderId);
        expect((await trades.listFillsForTrade(row!.id)).reduce((sum, f) => sum + Number(f.qty), 0)).toBe(
          Number(row!.quantity),
        );
      }
      // Slack is still down: the messages say what they said before, nothing was lost meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(versions(t, first.clientOrderId).at(-1)).toMatch(/queued for the open/);

      t.slack.endOutage();
      const messages = await Promise.all(
        [first, second].map((o) =>
          waitForConfirmation(t, o.clientOrderId, (m) => /Filled/.test(messageText(m)), DEFAULT_CHANNEL_ID, 25_000),
        ),
      );
      for (const message of messages) {
        await expect.poll(() => threadReplies(t, message).length, { timeout: 10_000 }).toBe(1);
        const [reply] = threadReplies(t, message);
        expect(reply!.text).toContain(`<@${DEFAULT_USER_ID}>`);
        expect(reply!.text).toMatch(/Filled/);
      }
      await t.app.outboxDrained();
      expect(booksMs).toBeLessThan(3_000);
    }, 60_000);

    it(
      '"Submitted" means Alpaca acknowledged it: while Alpaca answers 503 the confirmation ' +
        'says Sending and, within 5 s, that we keep trying and it cannot be placed twice',
      async () => {
        t.alpaca.inject({
          method: 'POST',
          path: ORDERS,
          status: 503,
          times: 3,
          body: { code: 50300000, message: 'service unavailable' },
        });
        const submitted = Date.now();
        const { clientOrderId } = await placeOrder(t, { symbol: 'AAPL', quantity: '1', portfolio: 'Sending' });
        await expect
          .poll(
            () =>
              versions(t, clientOrderId).some(
                (v) => /Sending — /.test(v) && /We keep trying, and the order can’t be placed twice/.test(v),
              ),
            { timeout: 5_000, interval: 25 },
          )
          .toBe(true);
        expect(Date.now() - submitted).toBeLessThan(5_000);

        await waitForConfirmation(t, clientOrderId, (m) => /Filled 1 AAPL/.test(messageText(m)));
        const history = versions(t, clientOrderId);
        const acknowledged = history.findIndex((v) => /Alpaca order id\*\\n`[0-9a-f-]{36}`/.test(v));
        expect(acknowledged).toBeGreaterThan(0);
        for (const before of history.slice(0, acknowledged)) expect(before).not.toMatch(/Submitted/);
        expect(t.alpaca.orders().filter((o) => o.client_order_id === clientOrderId)).toHaveLength(1);
      },
    );

    it(
      'a database failure while recording an order answers in the form with a sentence, ' + 'and nothing is sent',
      async () => {
        const connection = orm.em.getConnection();
        const sqlite = kind.name === 'sqlite';
        await connection.execute(
          sqlite
            ? "create trigger refuse_orders before insert on trades begin select raise(abort, 'the disk is full'); end"
            : 'create function refuse_orders() returns trigger language ' +
                "plpgsql as $$ begin raise exception 'the disk is full'; end $$",
        );
        if (!sqlite)
          await connection.execute(
            'create trigger refuse_orders before insert on trades for each row execute function refuse_orders()',
          );
        try {
          const posts = t.alpaca.requestCount({ method: 'POST', path: ORDERS });
          const view = await openOrderForm(t);
          const ack = await t.slack.submitView({
            viewId: view.id,
            values: formValues({ symbol: 'AAPL', quantity: '1' }),
          });
          const payload = ack.ackPayload as { response_action: string; errors: Record<string, string> };
          expect(payload.response_action).toBe('errors');
          expect(payload.errors.symbol).toMatch(/nothing was sent to Alpaca/);
          expect(JSON.stringify(payload)).not.toContain('disk is full');
          expect(t.alpaca.requestCount({ method: 'POST', path: ORDERS })).toBe(posts);
        } finally {
          await connection.execute(sqlite ? 'drop trigger refuse_orders' : 'drop trigger refuse_orders on trades');
          if (!sqlite) await connection.execute('drop function refuse_orders()');
        }
      },
    );

    it('with TRADER_USER_IDS set, the account and the broker positions are for traders and admins only', async () => {
      const member = 'U0GUEST';
      const account = await t.slack.slashCommand({ command: '/portfolio', text: 'account', userId: member });
      await expect.poll(() => t.slack.responses.filter((r) => r.url === account.responseUrl).length).toBe(1);
      const refusal = JSON.stringify(t.slack.responses.find((r) => r.url === account.responseUrl)!.body);
      expect(refusal).toMatch(/traders and admins only/);
      expect(refusal).not.toContain('PA3STANDIN00');

      const positions = await t.slack.slashCommand({ command: '/portfolio', text: 'positions', userId: member });
      await expect.poll(() => t.slack.responses.filter((r) => r.url === positions.responseUrl).length).toBe(1);
      expect(JSON.stringify(t.slack.responses.find((r) => r.url === positions.responseUrl)!.body)).toMatch(
        /traders and admins only/,
      );

      const overview = await t.slack.slashCommand({ command: '/portfolio', text: '', userId: member });
      await expect.poll(() => t.slack.responses.filter((r) => r.url === overview.responseUrl).length).toBe(1);
      const listed = JSON.stringify(t.slack.responses.find((r) => r.url === overview.responseUrl)!.body);
      expect(listed).toMatch(/traders and admins only/);
      expect(listed).not.toContain('PA3STANDIN00');

      await t.slack.appHomeOpened(member);
      await expect
        .poll(() => JSON.stringify(t.slack.homeView(member)?.view ?? {}), { timeout: 5_000 })
        .toMatch(/traders and admins only/);
      expect(JSON.stringify(t.slack.homeView(member)!.view)).not.toContain('PA3STANDIN00');

      for (const allowed of [DEFAULT_USER_ID, 'U0ADMIN']) {
        const own = await t.slack.slashCommand({ command: '/portfolio', text: 'account', userId: allowed });
        await expect.poll(() => t.slack.responses.filter((r) => r.url === own.responseUrl).length).toBe(1);
        expect(JSON.stringify(t.slack.responses.find((r) => r.url === own.responseUrl)!.body)).toContain(
          'PA3STANDIN00',
        );
      }
    });
  });
}
