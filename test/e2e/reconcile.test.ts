import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initORM, migrateToLatest, type Orm } from '../../src/db/orm';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { dec } from '../../src/domain/money';
import type { ReconcileRun, StoredDiscrepancy } from '../../src/domain/reconciliation';
import type { ReconcileReport, ReconcileResult } from '../../src/services/reconcile-service';
import { HOME_RECONCILE_NOW_ACTION_ID } from '../../src/slack/home/home-view';
import { ADOPT_FIELDS } from '../../src/slack/reconcile/adopt-modal';
import {
  RECONCILE_ACKNOWLEDGE_ACTION_ID,
  RECONCILE_ADOPT_ACTION_ID,
  RECONCILE_RECHECK_ACTION_ID,
} from '../../src/slack/reconcile/reconcile-alert';
import { type AlpacaStandIn, startAlpacaStandIn } from '../support/alpaca-standin';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';
import { ReconcileQueries as ReconcileRepository } from '../support/reconcile-queries';
import { type SlackStandIn, type StoredMessage, startSlackStandIn } from '../support/slack-standin';
import { placeOrder, waitForConfirmation } from '../support/trading';

const ALERTS = 'C0ALERTS';
const ADMIN = 'U0ADMIN';
const TRADER = 'U0TESTUSER';
/** 1 January at midnight: never during a test. */
const NEVER = '0 0 1 1 *';
const ENV = { RECONCILE_CHANNEL_ID: ALERTS, ADMIN_USER_IDS: ADMIN, RECONCILE_CRON: NEVER };
/** The reconciler leaves orders that changed in the last few seconds for a later run. */
const QUIET_PERIOD_MS = 5_500;

const textOf = (m: { text?: string; blocks?: unknown }) => `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;

function finished(result: ReconcileResult): ReconcileReport {
  if (result.kind !== 'finished') throw new Error('reconciliation was busy');
  return result.report;
}

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`reconciliation end to end on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let slack: SlackStandIn;
    let alpaca: AlpacaStandIn;
    let orm: Orm;
    let trades: TradeRepository;
    let reconcileRepository: ReconcileRepository;
    const launched: LaunchedApp[] = [];
    let fillNumber = 0;

    beforeEach(async () => {
      db = await kind.create();
      slack = await startSlackStandIn();
      slack.addUser({ id: ADMIN, name: 'admin', realName: 'Admin' });
      alpaca = await startAlpacaStandIn({ marketOpen: true });
      orm = await initORM(db.target);
      await migrateToLatest(orm);
      trades = new TradeRepository(orm);
      reconcileRepository = new ReconcileRepository(orm);
    });
    afterEach(async () => {
      for (const app of launched.splice(0).reverse()) await app.stop();
      await orm?.close(true);
      await slack?.close();
      await alpaca?.close();
      await db?.drop();
    });

    async function runs(): Promise<ReconcileRun[]> {
      return reconcileRepository.latestRuns(100);
    }

    async function waitForRuns(count: number, timeout = 15_000): Promise<ReconcileRun[]> {
      await expect
        .poll(async () => (await runs()).filter((r) => r.outcome !== null).length, { timeout, interval: 100 })
        .toBeGreaterThanOrEqual(count);
      return runs();
    }

    /** Starts the app and waits for its start-up reconciliation to finish. */
    async function launch(env: Record<string, string> = {}): Promise<LaunchedApp> {
      const before = (await runs()).length;
      const t = await launchApp({ database: db.target, slack, alpaca, env: { ...ENV, ...env } });
      launched.push(t);
      await waitForRuns(before + 1);
      await expect
        .poll(() => t.logs.entries().some((e) => e.msg === 'reconcile run finished'), { timeout: 15_000 })
        .toBe(true);
      // Its alerts go through the outbox: they are in Slack once it has been delivered.
      await t.app.outboxDrained();
      return t;
    }

    async function bookFill(
      portfolioName: string,
      symbol: string,
      qty: string,
      side: 'buy' | 'sell' = 'buy',
      price = '100',
    ): Promise<void> {
      fillNumber += 1;
      await trades.recordFill({
        executionId: `test:${fillNumber}`,
        tradeId: null,
        symbol,
        side,
        qty: dec(qty),
        price: dec(price),
        portfolioName,
        filledAt: new Date(),
        source: 'broker',
      });
    }

    /** Top-level alert messages (not thread notes, not ephemeral answers, not outage notes). */
    function alerts(): StoredMessage[] {
      return slack
        .messages(ALERTS)
        .filter((m) => !m.threadTs && !m.ephemeral && /disagree|to know about/.test(textOf(m.history[0]!)));
    }

    function thread(ts: string): StoredMessage[] {
      return slack.messages(ALERTS).filter((m) => m.threadTs === ts);
    }

    function ephemeralFor(user: string): StoredMessage[] {
      return slack.messages(ALERTS).filter((m) => m.ephemeral && m.user === user);
    }

    async function discrepancy(key: string): Promise<StoredDiscrepancy> {
      const found = await reconcileRepository.findDiscrepancyByKey(key);
      if (!found) throw new Error(`no discrepancy ${key}`);
      return found;
    }

    it(
      'reports each kind of position discrepancy once, ' +
        'with the per-portfolio breakdown, after a confirming second read',
      async () => {
        await bookFill('Growth', 'AAPL', '10');
        await bookFill('Default Portfolio', 'AAPL', '5');
        await bookFill('Growth', 'MSFT', '3');
        await bookFill('Income', 'SPY', '2');
        alpaca.setPosition('AAPL', '20', '189.00');
        alpaca.setPosition('SPY', '2', '520.00');
        alpaca.setPosition('TSLA', '7', '248.00');

        const t = await launch();
        expect(t.logs.text()).toContain('elected leader');
        expect(alpaca.streamConnectionCount()).toBe(1);
        const [run] = await runs();
        expect(run).toMatchObject({
          trigger: 'startup',
          outcome: 'discrepancies',
          newDiscrepancies: 3,
          openDiscrepancies: 3,
          symbolsChecked: 4,
        });
        // One page of orders, positions read twice (the second read confirms), nothing per symbol.
        expect(run!.brokerRequests).toBe(3);
        expect(alpaca.requestCount({ method: 'GET', path: '/v2/positions' })).toBe(2);
        expect(alpaca.requestCount({ method: 'GET', path: '/v2/orders' })).toBe(1);
        expect(alpaca.requestCount({ method: 'GET', path: /^\/v2\/positions\/./ })).toBe(0);

        expect(await discrepancy('position:AAPL')).toMatchObject({
          kind: 'quantity_mismatch',
          resolvedAt: null,
          slackChannelId: ALERTS,
        });
        expect((await discrepancy('position:AAPL')).details.breakdown).toEqual([
          { portfolioName: 'Growth', qty: '10' },
          { portfolioName: 'Default Portfolio', qty: '5' },
        ]);
        expect((await discrepancy('position:MSFT')).kind).toBe('books_only');
        expect((await discrepancy('position:TSLA')).kind).toBe('broker_only');
        expect(await reconcileRepository.findDiscrepancyByKey('position:SPY')).toBeNull();

        const [alert] = alerts();
        expect(alerts()).toHaveLength(1);
        const shown = textOf(alert!);
        expect(shown).toContain('disagree on 3 symbols');
        expect(shown).toMatch(/AAPL +15 \(Growth 10, Default Portfolio 5\) +20 +\+5/);
        expect(shown).toMatch(/MSFT +3 \(Growth\) +0 +-3/);
        expect(shown).toMatch(/TSLA +0 +7 +\+7/);
        expect((await discrepancy('position:AAPL')).slackMessageTs).toBe(alert!.ts);
        const details = thread(alert!.ts);
        expect(details).toHaveLength(1);
        expect(textOf(details[0]!)).toContain('By portfolio: Growth 10 · Default Portfolio 5');
      },
    );

    it(
      'does not alert again for an unchanged discrepancy, ' +
        'across runs and a restart; updates a changed one; resolves a cleared one',
      async () => {
        await bookFill('Growth', 'AAPL', '10');
        alpaca.setPosition('AAPL', '12', '189.00');
        const first = await launch();
        // The run row is written before its alert reaches Slack.
        await expect.poll(() => alerts().length).toBe(1);
        const alert = alerts()[0]!;
        const firstSeen = (await discrepancy('position:AAPL')).firstSeenAt;

        const again = finished(await first.app.reconcile.reconcilePositions('manual'));
        await first.app.outboxDrained();
        expect(again.created).toHaveLength(0);
        expect(again.unchanged.map((d) => d.key)).toEqual(['position:AAPL']);
        expect(again.run.brokerRequests).toBe(2);
        expect(alerts()).toHaveLength(1);
        expect(slack.messages(ALERTS).find((m) => m.ts === alert.ts)!.updates).toBeGreaterThanOrEqual(1);
        expect(textOf(slack.messages(ALERTS).find((m) => m.ts === alert.ts)!)).toContain('Still open');
        expect(thread(alert.ts)).toHaveLength(1);

        await first.stop();
        launched.splice(launched.indexOf(first), 1);
        const second = await launch();
        expect((await runs())[0]).toMatchObject({ trigger: 'startup', outcome: 'discrepancies', newDiscrepancies: 0 });
        expect(alerts()).toHaveLength(1);
        const stored = await discrepancy('position:AAPL');
        expect(stored.firstSeenAt.getTime()).toBe(firstSeen.getTime());
        expect(stored.lastSeenAt.getTime()).toBeGreaterThan(firstSeen.getTime());
        expect(thread(alert.ts)).toHaveLength(1);

        alpaca.setPosition('AAPL', '13', '189.00');
        const changed = finished(await second.app.reconcile.reconcilePositions('manual'));
        await second.app.outboxDrained();
        expect(changed.changed.map((d) => d.key)).toEqual(['position:AAPL']);
        expect(alerts()).toHaveLength(1);
        expect(textOf(slack.messages(ALERTS).find((m) => m.ts === alert.ts)!)).toMatch(/AAPL +10 \(Growth\) +13 +\+3/);
        expect(textOf(thread(alert.ts).at(-1)!)).toContain('Changed');

        alpaca.setPosition('AAPL', '10', '189.00');
        const resolved = finished(await second.app.reconcile.reconcilePositions('manual'));
        await second.app.outboxDrained();
        expect(resolved.resolved.map((d) => d.key)).toEqual(['position:AAPL']);
        expect(resolved.run).toMatchObject({ outcome: 'ok', openDiscrepancies: 0, resolvedDiscrepancies: 1 });
        expect((await discrepancy('position:AAPL')).resolvedAt).toBeInstanceOf(Date);
        const resolvedAlert = slack.messages(ALERTS).find((m) => m.ts === alert.ts)!;
        expect(textOf(resolvedAlert)).toContain('Resolved — books and Alpaca agree again');
        expect(JSON.stringify(resolvedAlert.blocks)).not.toContain(RECONCILE_RECHECK_ACTION_ID);
        expect(textOf(thread(alert.ts).at(-1)!)).toContain('AAPL matches Alpaca again');

        const quiet = finished(await second.app.reconcile.reconcilePositions('manual'));
        await second.app.outboxDrained();
        expect(quiet.resolved).toHaveLength(0);
        expect(thread(alert.ts).filter((m) => /matches Alpaca again/.test(textOf(m)))).toHaveLength(1);

        alpaca.setPosition('AAPL', '11', '189.00');
        await second.app.reconcile.reconcilePositions('manual');
        await second.app.outboxDrained();
        expect(alerts()).toHaveLength(2);
        expect((await discrepancy('position:AAPL')).slackMessageTs).toBe(alerts()[1]!.ts);
      },
    );

    it('adopts our orders the books lack, reports orders placed elsewhere, ' +
      'repairs rows the broker settled, and leaves orders still moving alone', async () => {
      const t = await launch();
      expect(alerts()).toHaveLength(0);

      const { clientOrderId } = await placeOrder(t, {
        symbol: 'AAPL',
        side: 'buy',
        quantity: '5',
        portfolio: 'Growth',
      });
      await waitForConfirmation(t, clientOrderId, (m) => /Filled 5 AAPL/.test(textOf(m)));
      // The books miss the fill (as if the update was lost): the row still says accepted, no fills.
      const row = (await trades.findByClientOrderId(clientOrderId))!;
      const connection = orm.em.fork().getConnection();
      await connection.execute('delete from fills where trade_id = ?', [row.id]);
      await connection.execute(
        "update trades set status = 'accepted', alpaca_status = 'new', " +
          'alpaca_filled_qty = null, alpaca_filled_price = null where id = ?',
        [row.id],
      );

      alpaca.placeExternalOrder({ symbol: 'MSFT', side: 'buy', qty: '2', clientOrderId: 'oms-VLOST000001' });
      const elsewhere = alpaca.placeExternalOrder({ symbol: 'TSLA', side: 'buy', qty: '3' });
      await sleep(QUIET_PERIOD_MS);
      const moving = alpaca.placeExternalOrder({ symbol: 'SPY', side: 'buy', qty: '1' });

      const report = finished(await t.app.reconcile.reconcilePositions('manual'));
      await t.app.outboxDrained();
      expect(report.run).toMatchObject({
        ordersRepaired: 1,
        ordersAdopted: 1,
        ordersExternal: 1,
        outcome: 'discrepancies',
      });
      expect(report.created.map((d) => d.kind).sort()).toEqual([
        'broker_only',
        'order_adopted',
        'order_external',
        'order_repaired',
      ]);
      expect(report.created.find((d) => d.kind === 'broker_only')!.symbol).toBe('TSLA');
      expect(report.created.some((d) => d.symbol === 'SPY' || d.key.includes(moving.id))).toBe(false);

      const repaired = (await trades.findByClientOrderId(clientOrderId))!;
      expect(repaired).toMatchObject({ status: 'filled', alpacaStatus: 'filled' });
      expect((await trades.listFillsForTrade(repaired.id)).reduce((s, f) => s.plus(f.qty), dec(0)).toString()).toBe(
        '5',
      );
      const adopted = (await trades.findByClientOrderId('oms-VLOST000001'))!;
      expect(adopted).toMatchObject({
        source: 'adopted',
        portfolioName: 'Default Portfolio',
        status: 'filled',
        symbol: 'MSFT',
      });
      expect((await trades.listFillsForTrade(adopted.id)).reduce((s, f) => s.plus(f.qty), dec(0)).toString()).toBe('2');
      expect(await reconcileRepository.findDiscrepancyByKey('position:MSFT')).toBeNull();
      expect(await reconcileRepository.findDiscrepancyByKey(`external:${elsewhere.id}`)).not.toBeNull();

      expect(alerts()).toHaveLength(1);
      const shown = textOf(alerts()[0]!);
      expect(shown).toMatch(/Adopted:\* Buy 2 MSFT .*Default Portfolio\* because its portfolio is unknown/);
      expect(shown).toMatch(/Placed elsewhere:\* Buy 3 TSLA/);
      expect(shown).toMatch(/Repaired:\* Buy 5 AAPL .*books said accepted with 0 filled; Alpaca says filled/);
      // Nobody in Slack placed the adopted order, so no order confirmation is posted for it.
      expect(
        slack.calls
          .filter((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args).includes('oms-VLOST000001'))
          .every((c) => c.args.channel === ALERTS),
      ).toBe(true);

      // Findings are reported once: the next run brings no new alert for them.
      await sleep(QUIET_PERIOD_MS);
      const next = finished(await t.app.reconcile.reconcilePositions('manual'));
      await t.app.outboxDrained();
      expect(next.created.map((d) => d.key).sort()).toEqual([`external:${moving.id}`, 'position:SPY']);
      expect(next.run.ordersAdopted + next.run.ordersRepaired).toBe(0);
    }, 60_000);

    it('pages through more orders than one request returns, and one alert stays within Slack limits', async () => {
      const t = await launch();
      alpaca.setMarketOpen(false);
      const count = 1_100;
      for (let i = 0; i < count; i++)
        alpaca.cancel(alpaca.placeExternalOrder({ symbol: 'AAPL', side: 'buy', qty: '1' }).id);
      await sleep(QUIET_PERIOD_MS);
      const before = alpaca.requestCount({ method: 'GET', path: '/v2/orders' });
      const report = finished(await t.app.reconcile.reconcilePositions('manual'));
      await t.app.outboxDrained();
      const pages = alpaca.requestCount({ method: 'GET', path: '/v2/orders' }) - before;
      expect(pages).toBe(3);
      expect(report.run).toMatchObject({ ordersChecked: count, ordersExternal: count, brokerRequests: pages + 1 });
      expect(alerts()).toHaveLength(1);
      expect(textOf(alerts()[0]!)).toContain(`${count} orders to know about`);
      expect(textOf(alerts()[0]!)).toContain('more in the thread');
      expect(thread(alerts()[0]!.ts)).toHaveLength(1);
    }, 60_000);

    it('buttons: Acknowledge records who (admins only), Re-check now runs again, ' +
      'Adopt broker quantity books an audited adjustment', async () => {
      await bookFill('Growth', 'AAPL', '10', 'buy', '180');
      alpaca.setPosition('AAPL', '15', '189.00');
      const t = await launch();
      await expect.poll(() => alerts().length).toBe(1);
      const alert = alerts()[0]!;

      const refused = await slack.blockAction({
        channelId: ALERTS,
        messageTs: alert.ts,
        actionId: RECONCILE_ACKNOWLEDGE_ACTION_ID,
        userId: TRADER,
      });
      expect(refused.ackMs).toBeLessThan(3000);
      await expect.poll(() => ephemeralFor(TRADER).length).toBe(1);
      expect(textOf(ephemeralFor(TRADER)[0]!)).toContain('Only admins');
      expect((await discrepancy('position:AAPL')).acknowledgedBy).toBeNull();

      await slack.blockAction({
        channelId: ALERTS,
        messageTs: alert.ts,
        actionId: RECONCILE_ACKNOWLEDGE_ACTION_ID,
        userId: ADMIN,
      });
      await expect.poll(async () => (await discrepancy('position:AAPL')).acknowledgedBy).toBe(ADMIN);
      expect((await discrepancy('position:AAPL')).acknowledgedAt).toBeInstanceOf(Date);
      await expect
        .poll(() => textOf(slack.messages(ALERTS).find((m) => m.ts === alert.ts)!))
        .toContain(`Acknowledged by <@${ADMIN}>`);
      await expect.poll(() => thread(alert.ts).some((m) => /Acknowledged by/.test(textOf(m)))).toBe(true);

      const runsBefore = (await runs()).length;
      const recheck = await slack.blockAction({
        channelId: ALERTS,
        messageTs: alert.ts,
        actionId: RECONCILE_RECHECK_ACTION_ID,
        userId: ADMIN,
      });
      expect(recheck.ackMs).toBeLessThan(3000);
      await expect.poll(() => ephemeralFor(ADMIN).length, { timeout: 10_000 }).toBe(1);
      expect(textOf(ephemeralFor(ADMIN)[0]!)).toContain('1 open discrepancy (0 new)');
      expect((await runs()).length).toBe(runsBefore + 1);
      expect((await runs())[0]).toMatchObject({ trigger: 'recheck', outcome: 'discrepancies' });
      expect(alerts()).toHaveLength(1);

      await slack.blockAction({
        channelId: ALERTS,
        messageTs: alert.ts,
        actionId: RECONCILE_ADOPT_ACTION_ID,
        userId: TRADER,
      });
      await expect.poll(() => ephemeralFor(TRADER).length).toBe(2);
      expect(slack.openModals(TRADER)).toHaveLength(0);

      await slack.blockAction({
        channelId: ALERTS,
        messageTs: alert.ts,
        actionId: RECONCILE_ADOPT_ACTION_ID,
        userId: ADMIN,
      });
      await expect.poll(() => slack.openModals(ADMIN).length).toBe(1);
      const modal = slack.openModals(ADMIN)[0]!;
      expect(JSON.stringify(modal.view)).toContain('AAPL: books 10 → Alpaca 15 (+5)');
      const id = String((await discrepancy('position:AAPL')).id);
      const values = {
        [ADOPT_FIELDS.finding.actionId]: id,
        [ADOPT_FIELDS.portfolio.actionId]: 'Growth',
        [ADOPT_FIELDS.reason.actionId]: '',
      };
      const missingReason = await slack.submitView({ viewId: modal.id, userId: ADMIN, values });
      expect(missingReason.ackPayload).toMatchObject({
        response_action: 'errors',
        errors: { [ADOPT_FIELDS.reason.blockId]: expect.any(String) },
      });
      expect(await reconcileRepository.listAdjustments()).toHaveLength(0);

      const submitted = await slack.submitView({
        viewId: modal.id,
        userId: ADMIN,
        values: { ...values, [ADOPT_FIELDS.reason.actionId]: 'Bought 5 by hand in the Alpaca dashboard' },
      });
      expect(submitted.ackPayload).toBeUndefined();
      await expect.poll(() => ephemeralFor(ADMIN).length, { timeout: 10_000 }).toBe(2);
      expect(textOf(ephemeralFor(ADMIN)[1]!)).toContain('Booked +5 AAPL into Growth');
      await t.app.outboxDrained();

      const [adjustment] = await reconcileRepository.listAdjustments();
      expect(adjustment).toMatchObject({
        portfolioName: 'Growth',
        symbol: 'AAPL',
        userId: ADMIN,
        reason: 'Bought 5 by hand in the Alpaca dashboard',
        discrepancyId: Number(id),
      });
      expect(adjustment!.qty.toString()).toBe('5');
      expect(adjustment!.price.toFixed(2)).toBe('189.00');
      const holdings = await reconcileRepository.bookHoldings();
      expect(holdings.map((h) => [h.portfolioName, h.symbol, h.qty.toString()])).toEqual([['Growth', 'AAPL', '15']]);

      expect((await discrepancy('position:AAPL')).resolvedAt).toBeInstanceOf(Date);
      expect(textOf(slack.messages(ALERTS).find((m) => m.ts === alert.ts)!)).toContain('Resolved');
      const notes = thread(alert.ts).map(textOf).join('\n');
      expect(notes).toMatch(
        /<@U0ADMIN> booked \+5 AAPL into \*Growth\* at \$189\.00 to match Alpaca \(adjustment #\d+\)/,
      );
      expect(notes).toContain('AAPL matches Alpaca again');
      expect(t.logs.text()).toContain('books adjusted to the broker quantity');
    }, 60_000);

    it('adopting a broker quantity books one adjustment: ' +
      'a redelivered submission and a second admin’s form sent at the same time add nothing', async () => {
      const SECOND_ADMIN = 'U0ADMIN2';
      await bookFill('Growth', 'AAPL', '10', 'buy', '180');
      alpaca.setPosition('AAPL', '15', '189.00');
      const t = await launch({ ADMIN_USER_IDS: `${ADMIN},${SECOND_ADMIN}` });
      const alert = alerts()[0]!;
      const id = String((await discrepancy('position:AAPL')).id);
      const forms = [];
      for (const admin of [ADMIN, SECOND_ADMIN]) {
        await slack.blockAction({
          channelId: ALERTS,
          messageTs: alert.ts,
          actionId: RECONCILE_ADOPT_ACTION_ID,
          userId: admin,
        });
        await expect.poll(() => slack.openModals(admin).length).toBe(1);
        forms.push({ admin, modal: slack.openModals(admin)[0]! });
      }
      const values = (reason: string) => ({
        [ADOPT_FIELDS.finding.actionId]: id,
        [ADOPT_FIELDS.portfolio.actionId]: 'Growth',
        [ADOPT_FIELDS.reason.actionId]: reason,
      });
      const [first, second] = await Promise.all(
        forms.map(({ admin, modal }) =>
          slack.submitView({ viewId: modal.id, userId: admin, values: values(`counted by ${admin}`) }),
        ),
      );
      // Slack redelivers the first admin's submission.
      const envelope = slack.envelopes.find((e) => e.envelopeId === first!.envelopeId)!;
      await slack.sendEnvelope('interactive', envelope.payload as object, { envelopeId: first!.envelopeId });
      expect(second!.ackPayload).toBeUndefined();

      await expect
        .poll(() => ephemeralFor(ADMIN).length + ephemeralFor(SECOND_ADMIN).length, { timeout: 15_000 })
        .toBe(3);
      await t.app.outboxDrained();
      const adjustments = await reconcileRepository.listAdjustments();
      expect(adjustments).toHaveLength(1);
      expect(adjustments[0]!.qty.toString()).toBe('5');
      expect((await reconcileRepository.bookHoldings()).map((h) => [h.symbol, h.qty.toString()])).toEqual([
        ['AAPL', '15'],
      ]);
      const answers = [...ephemeralFor(ADMIN), ...ephemeralFor(SECOND_ADMIN)].map(textOf);
      expect(answers.filter((a) => /Booked \+5 AAPL into Growth/.test(a))).toHaveLength(1);
      expect(answers.filter((a) => /already (booked|matches|hold)/.test(a))).toHaveLength(2);
    }, 60_000);

    it('admins run it now from `/portfolio reconcile` and the Home tab; everyone else is refused', async () => {
      await bookFill('Growth', 'AAPL', '10');
      alpaca.setPosition('AAPL', '10', '189.00');
      await launch();
      const before = (await runs()).length;
      const reply = async (userId: string) => {
        const command = await slack.slashCommand({ command: '/portfolio', text: 'reconcile', userId });
        expect(command.ackMs).toBeLessThan(3000);
        await expect
          .poll(() => slack.responses.filter((r) => r.url === command.responseUrl).length, { timeout: 10_000 })
          .toBe(1);
        return JSON.stringify(slack.responses.find((r) => r.url === command.responseUrl)!.body);
      };
      expect(await reply(TRADER)).toContain('Only admins');
      expect((await runs()).length).toBe(before);
      expect(await reply(ADMIN)).toContain('Books match Alpaca');
      expect((await runs())[0]).toMatchObject({ trigger: 'manual', outcome: 'ok' });

      await slack.appHomeOpened(TRADER);
      await expect.poll(() => slack.homeView(TRADER) !== undefined).toBe(true);
      expect(JSON.stringify(slack.homeView(TRADER)!.view)).not.toContain(HOME_RECONCILE_NOW_ACTION_ID);
      await slack.appHomeOpened(ADMIN);
      await expect
        .poll(() => JSON.stringify(slack.homeView(ADMIN)?.view ?? {}).includes(HOME_RECONCILE_NOW_ACTION_ID))
        .toBe(true);
      const pressed = await slack.blockAction({
        viewId: slack.homeView(ADMIN)!.id,
        actionId: HOME_RECONCILE_NOW_ACTION_ID,
        userId: ADMIN,
      });
      expect(pressed.ackMs).toBeLessThan(3000);
      await expect
        .poll(() => slack.messages('D0ADMIN').some((m) => /Books match Alpaca/.test(textOf(m))), { timeout: 10_000 })
        .toBe(true);
      expect((await runs()).length).toBe(before + 2);
    });

    it('a broker outage during runs is reported once, ' +
      'stores no false discrepancies, and its end is announced', async () => {
      await bookFill('Growth', 'AAPL', '10');
      alpaca.setPosition('AAPL', '12', '189.00');
      const t = await launch();
      await expect.poll(() => alerts().length).toBe(1);
      const alert = alerts()[0]!;
      // While Alpaca is down, the books would both resolve AAPL and find SPY — neither may happen.
      alpaca.setPosition('AAPL', '10', '189.00');
      alpaca.setPosition('SPY', '3', '520.00');
      const outageMessages = () =>
        slack.messages(ALERTS).filter((m) => !m.threadTs && /could not complete/.test(textOf(m)));

      // The SDK tries a GET three times; three runs, each failing on positions.
      alpaca.inject({ method: 'GET', path: '/v2/positions', status: 503, times: 9 });
      for (let i = 0; i < 3; i++) {
        const report = finished(await t.app.reconcile.reconcilePositions('manual'));
        await t.app.outboxDrained();
        expect(report.run.outcome).toBe('failed');
        expect(report.run.error).toMatch(/.+/);
      }
      expect(alpaca.requestCount({ method: 'GET', path: '/v2/positions' })).toBeGreaterThanOrEqual(9);
      expect(outageMessages()).toHaveLength(1);
      expect(await reconcileRepository.findDiscrepancyByKey('position:SPY')).toBeNull();
      expect((await discrepancy('position:AAPL')).resolvedAt).toBeNull();
      expect(alerts()).toHaveLength(1);
      expect(textOf(slack.messages(ALERTS).find((m) => m.ts === alert.ts)!)).toContain('Still open');

      const recovered = finished(await t.app.reconcile.reconcilePositions('manual'));
      await t.app.outboxDrained();
      expect(recovered.run.outcome).toBe('discrepancies');
      expect(recovered.resolved.map((d) => d.key)).toEqual(['position:AAPL']);
      expect(recovered.created.map((d) => d.key)).toEqual(['position:SPY']);
      expect(slack.messages(ALERTS).filter((m) => !m.threadTs && /working again/.test(textOf(m)))).toHaveLength(1);
      expect(outageMessages()).toHaveLength(1);
      expect(alerts()).toHaveLength(2);
    }, 60_000);

    it(
      'an alert channel the app cannot post to is named in the log with what to do, ' +
        'and the alert is posted once it can',
      async () => {
        const privateChannel = 'G0ALERTS';
        slack.addChannel({ id: privateChannel, isPrivate: true, isMember: false });
        await bookFill('Growth', 'AAPL', '10');
        const t = await launch({ RECONCILE_CHANNEL_ID: privateChannel });
        await expect
          .poll(() => t.logs.entries().find((e) => e.msg === 'could not update the reconciliation alert in Slack'))
          .toMatchObject({
            error: 'channel_not_found',
            channel: privateChannel,
            hint: expect.stringContaining('invite the app'),
          });
        expect((await discrepancy('position:AAPL')).slackMessageTs).toBeNull();

        slack.setChannelMembership(privateChannel, true);
        finished(await t.app.reconcile.reconcilePositions('manual'));
        await t.app.outboxDrained();
        await expect.poll(async () => (await discrepancy('position:AAPL')).slackChannelId).toBe(privateChannel);
        const posted = slack.messages(privateChannel).filter((m) => !m.threadTs);
        expect(posted).toHaveLength(1);
        expect(textOf(posted[0]!)).toMatch(/AAPL +10 \(Growth\) +0 +-10/);
      },
    );

    it(
      'a run while an order is still on its way to Alpaca leaves it to its submission: ' +
        'one POST, no lookup, no resubmission',
      async () => {
        const t = await launch();
        // Alpaca takes 3 s before it handles the POST: the order is not at the broker when the run lists orders.
        alpaca.inject({ method: 'POST', path: '/v2/orders', latencyMs: 3_000 });
        const { clientOrderId } = await placeOrder(t, { symbol: 'AAPL', quantity: '2' });
        await expect.poll(async () => (await trades.findByClientOrderId(clientOrderId))?.status).toBe('pending_submit');
        finished(await t.app.reconcile.reconcilePositions('manual'));
        await t.app.outboxDrained();
        await waitForConfirmation(t, clientOrderId, (m) => /Filled 2 AAPL/.test(textOf(m)));
        const posts = alpaca.requests.filter(
          (r) =>
            r.method === 'POST' &&
            r.path === '/v2/orders' &&
            (r.body as { client_order_id?: string }).client_order_id === clientOrderId,
        );
        expect(posts).toHaveLength(1);
        expect(alpaca.requestCount({ method: 'GET', path: /^\/v2\/orders:by_client_order_id/ })).toBe(0);
      },
    );

    it('the Home tab says whether the books match Alpaca as of the last run, and where the alert is', async () => {
      await bookFill('Growth', 'AAPL', '10');
      const t = await launch();
      const homeText = async () => {
        const before = slack.callsTo('views.publish').filter((c) => c.args.user_id === TRADER).length;
        await slack.appHomeOpened(TRADER);
        await expect
          .poll(() => slack.callsTo('views.publish').filter((c) => c.args.user_id === TRADER).length)
          .toBeGreaterThan(before);
        return JSON.stringify(
          slack
            .callsTo('views.publish')
            .filter((c) => c.args.user_id === TRADER)
            .at(-1)!.args.view,
        );
      };
      expect(await homeText()).toMatch(
        /:warning: Books and Alpaca disagree on 1 symbol · checked [^·]+ ET · details in <#C0ALERTS>/,
      );

      alpaca.setPosition('AAPL', '10', '189.00');
      finished(await t.app.reconcile.reconcilePositions('manual'));
      await t.app.outboxDrained();
      expect(await homeText()).toContain(':white_check_mark: Books match Alpaca');
    });

    it('without RECONCILE_CHANNEL_ID the reconciler runs and only logs', async () => {
      await bookFill('Growth', 'AAPL', '10');
      const t = await launch({ RECONCILE_CHANNEL_ID: '' });
      expect((await runs())[0]).toMatchObject({ outcome: 'discrepancies', openDiscrepancies: 1 });
      expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
      expect(t.logs.entries().some((e) => e.msg === 'reconcile run finished' && e.open === 1)).toBe(true);
    });
  });
}

const postgres = testDatabaseTargets().find((k) => k.name === 'postgresql')!;

describe.skipIf(!postgres.available)(`leader election on ${databaseSuiteName(postgres)}`, () => {
  let db: TestDatabase;
  let slack: SlackStandIn;
  let alpaca: AlpacaStandIn;
  let orm: Orm;
  const launched: LaunchedApp[] = [];

  beforeEach(async () => {
    db = await postgres.create();
    slack = await startSlackStandIn();
    alpaca = await startAlpacaStandIn({ marketOpen: true });
    orm = await initORM(db.target);
    await migrateToLatest(orm);
  });
  afterEach(async () => {
    for (const app of launched.splice(0).reverse()) await app.stop();
    await orm?.close(true);
    await slack?.close();
    await alpaca?.close();
    await db?.drop();
  });

  const runsBy = (t: LaunchedApp) => t.logs.entries().filter((e) => e.msg === 'reconcile run finished').length;
  const alertCount = () =>
    slack.messages(ALERTS).filter((m) => !m.threadTs && !m.ephemeral && /disagree/.test(textOf(m.history[0]!))).length;

  it('two instances on one database and one Slack: one leader runs the scheduler and the stream ' +
    '— one alert, not two; when it stops, the other takes over', async () => {
    await new TradeRepository(orm).recordFill({
      executionId: 'seed:1',
      tradeId: null,
      symbol: 'AAPL',
      side: 'buy',
      qty: dec(10),
      price: dec(180),
      portfolioName: 'Growth',
      filledAt: new Date(),
      source: 'broker',
    });
    alpaca.setPosition('AAPL', '12', '189.00');
    const env = { ...ENV, RECONCILE_CRON: '* * * * * *' };
    const leader = await launchApp({ database: db.target, slack, alpaca, env });
    launched.push(leader);
    const standby = await launchApp({ database: db.target, slack, alpaca, env });
    launched.push(standby);
    expect(slack.connectionCount()).toBe(2);

    await expect.poll(() => runsBy(leader), { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
    expect(runsBy(standby)).toBe(0);
    expect(leader.logs.text()).toContain('elected leader');
    expect(standby.logs.text()).not.toContain('elected leader');
    expect(alpaca.streamConnectionCount()).toBe(1);
    expect(alertCount()).toBe(1);

    await leader.stop();
    launched.splice(launched.indexOf(leader), 1);
    await expect
      .poll(() => standby.logs.text().includes('elected leader'), { timeout: 30_000, interval: 200 })
      .toBe(true);
    await expect.poll(() => runsBy(standby), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    await expect.poll(() => alpaca.streamConnectionCount(), { timeout: 10_000 }).toBe(1);
    expect(alertCount()).toBe(1);
  }, 90_000);

  it('a leader whose database session dies steps down, ' +
    'and a standby takes over within the retry interval', async () => {
    const leader = await launchApp({ database: db.target, slack, alpaca, env: ENV });
    launched.push(leader);
    const standby = await launchApp({ database: db.target, slack, alpaca, env: ENV });
    launched.push(standby);
    expect(leader.logs.text()).toContain('elected leader');
    expect(standby.logs.text()).not.toContain('elected leader');

    // The leader's lock session, in this test's database only (other files run their own leaders).
    const [killed] = await orm.em.getConnection().execute<{ terminated: boolean }[]>(
      `select pg_terminate_backend(pid) as terminated from pg_locks
        where locktype = 'advisory' and classid = ? and objid = ? and objsubid = 1
          and database = (select oid from pg_database where datname = current_database())`,
      [0x4f4d535f, 0x4c454144],
    );
    expect(killed?.terminated).toBe(true);

    await expect
      .poll(() => standby.logs.text().includes('elected leader'), { timeout: 35_000, interval: 200 })
      .toBe(true);
    await expect
      .poll(() => leader.logs.text().includes('stepping down'), { timeout: 35_000, interval: 200 })
      .toBe(true);
    await expect.poll(() => alpaca.streamConnectionCount(), { timeout: 10_000 }).toBe(1);
    await expect
      .poll(() => standby.logs.entries().some((e) => e.msg === 'reconcile run finished' && e.trigger === 'startup'), {
        timeout: 10_000,
      })
      .toBe(true);
  }, 90_000);
});
