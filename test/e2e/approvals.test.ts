import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalEntity, TradeEntity } from '../../src/db/entities';
import { initORM, type Orm } from '../../src/db/orm';
import { ApprovalRepository } from '../../src/db/repositories/approval-repository';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import {
  APPROVE_ORDER_ACTION_ID,
  approvalActionId,
  REJECT_MODAL_CALLBACK_ID,
  REJECT_REASON_FIELD,
} from '../../src/slack/approvals/approval-message';
import { CANCEL_ORDER_ACTION_ID } from '../../src/slack/trade/order-message';
import { ApiClient } from '../support/api-client';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';
import { DEFAULT_CHANNEL_ID, DEFAULT_USER_ID, type StoredMessage } from '../support/slack-standin';
import { messageText, placeOrder, waitForConfirmation } from '../support/trading';

const ORDERS = /^\/v2\/orders$/;
const APPROVALS_CHANNEL = 'C0APPROVALS';
const APPROVER = 'U0APPROVER1';
const SECOND_APPROVER = 'U0APPROVER2';
const LEGACY_KEY = 'earlier-oms-key-approvals';
/** Outbox deliveries and Home tab renders can take seconds on a loaded machine. */
const POLL = { timeout: 10_000, interval: 50 };

function approvalEnv(): Record<string, string> {
  return {
    MAX_ORDER_NOTIONAL: '50000',
    APPROVAL_THRESHOLD_NOTIONAL: '10000',
    APPROVER_USER_IDS: `${APPROVER},${SECOND_APPROVER}`,
    APPROVALS_CHANNEL_ID: APPROVALS_CHANNEL,
    ADMIN_USER_IDS: 'U0ADMIN',
    OMS_API_KEY: LEGACY_KEY,
    API_FILL_WAIT_MS: '3000',
  };
}

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`approval of large orders end to end on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let t: LaunchedApp;
    let orm: Orm;
    let trades: TradeRepository;
    let approvals: ApprovalRepository;

    beforeAll(async () => {
      db = await kind.create();
      t = await launchApp({ database: db.target, env: approvalEnv() });
      t.slack.addChannel({ id: APPROVALS_CHANNEL, name: 'approvals', isMember: true });
      orm = await initORM(db.target);
      trades = new TradeRepository(orm);
      approvals = new ApprovalRepository(orm);
    });
    afterAll(async () => {
      await orm?.close(true);
      await t?.stop();
      await db?.drop();
    });
    afterEach(() => {
      t.alpaca.clearFaults();
      t.alpaca.setMarketOpen(true);
      t.alpaca.setBuyingPower('1000000');
    });

    /** A buy of `quantity` shares at $200 (above the $10,000 threshold from 51 shares) through the form. */
    async function placeLarge(quantity = '100', userId = DEFAULT_USER_ID, portfolio = 'Desk', symbol = 'AAPL') {
      t.alpaca.setPrice(symbol, { last: '200.00', bid: '199.95', ask: '200.05', prevClose: '198.00' });
      const placed = await placeOrder(t, { portfolio, symbol, side: 'buy', quantity }, userId);
      expect(placed.ack.ackPayload).toBeUndefined();
      let trade = await trades.findByClientOrderId(placed.clientOrderId);
      await expect
        .poll(async () => {
          trade = await trades.findByClientOrderId(placed.clientOrderId);
          return trade?.status;
        }, POLL)
        .toBeDefined();
      return { ...placed, trade: trade! };
    }

    /** The request in the approvals channel for `tradeId` (its Approve button carries the id). */
    async function requestFor(tradeId: number): Promise<StoredMessage> {
      let found: StoredMessage | undefined;
      await expect
        .poll(
          () => {
            found = t.slack
              .messages(APPROVALS_CHANNEL)
              .find(
                (m) =>
                  !m.threadTs &&
                  JSON.stringify(m.history[0]?.blocks ?? m.blocks ?? []).includes(
                    `"action_id":"${approvalActionId('approve', tradeId)}"`,
                  ) &&
                  JSON.stringify(m.history[0]?.blocks ?? m.blocks ?? []).includes(`"value":"${tradeId}"`),
              );
            return found !== undefined;
          },
          { timeout: 10_000, interval: 50 },
        )
        .toBe(true);
      return found!;
    }

    function click(message: StoredMessage, actionId: string, userId: string, envelopeId?: string) {
      return t.slack.blockAction({
        channelId: APPROVALS_CHANNEL,
        messageTs: message.ts,
        actionId,
        userId,
        ...(envelopeId ? { envelopeId } : {}),
      });
    }

    function ephemeralsFor(userId: string, channel = APPROVALS_CHANNEL): string[] {
      return t.slack
        .messages(channel)
        .filter((m) => m.ephemeral && m.user === userId)
        .map((m) => messageText(m));
    }

    function postsFor(clientOrderId: string): number {
      return t.alpaca.orders().filter((o) => o.client_order_id === clientOrderId).length;
    }

    it('records an order above the threshold as pending_approval, sends nothing, and asks the approvers', async () => {
      t.alpaca.setPosition('AAPL', '0', '0');
      const postsBefore = t.alpaca.requestCount({ method: 'POST', path: ORDERS });
      const { trade, clientOrderId } = await placeLarge('100');
      expect(trade.status).toBe('pending_approval');

      const request = await requestFor(trade.id);
      const text = messageText(request);
      expect(text).toContain(`<@${DEFAULT_USER_ID}>`); // who
      expect(text).toMatch(/Buy 100 AAPL/); // what
      expect(text).toContain('$20,000.00'); // estimated value
      expect(text).toContain('Price at request');
      expect(text).toContain('$200.00');
      expect(text).toContain('Desk'); // portfolio
      expect(text).toMatch(/Position now/); // the trader's position in that portfolio
      expect(text).toContain('0 AAPL in Desk');
      expect(text).toContain(`"action_id":"${approvalActionId('reject', trade.id)}"`);

      // The trader's confirmation: awaiting approval, by whom, with a way to withdraw.
      const confirmation = await waitForConfirmation(t, clientOrderId, (m) => /Awaiting approval/.test(messageText(m)));
      const confirmationText = messageText(confirmation);
      expect(confirmationText).toContain(`<@${APPROVER}>`);
      expect(confirmationText).toContain(`<@${SECOND_APPROVER}>`);
      expect(confirmationText).toContain('Withdraw request');

      // Nothing reached Alpaca, and a reconciliation finds nothing to say about it.
      await t.app.outboxDrained();
      expect(t.alpaca.requestCount({ method: 'POST', path: ORDERS })).toBe(postsBefore);
      expect(postsFor(clientOrderId)).toBe(0);
      const run = await t.app.reconcile.reconcilePositions('manual');
      expect(JSON.stringify(run)).not.toContain(clientOrderId);
      expect((await trades.findById(trade.id))?.status).toBe('pending_approval');
    });

    it('leaves an order at or below the threshold alone', async () => {
      t.alpaca.setPrice('AAPL', { last: '200.00', bid: '199.95', ask: '200.05', prevClose: '198.00' });
      const placed = await placeOrder(t, { portfolio: 'Desk', symbol: 'AAPL', side: 'buy', quantity: '50' });
      await waitForConfirmation(t, placed.clientOrderId, (m) => /Filled/.test(messageText(m)));
      expect(postsFor(placed.clientOrderId)).toBe(1);
      expect(await approvals.findByTradeId((await trades.findByClientOrderId(placed.clientOrderId))!.id)).toBe(
        undefined,
      );
    });

    it('refuses the requester approving their own order, and anyone who is not an approver', async () => {
      const { trade, clientOrderId } = await placeLarge('60', APPROVER);
      const request = await requestFor(trade.id);
      await click(request, approvalActionId('approve', trade.id), APPROVER);
      await expect.poll(() => ephemeralsFor(APPROVER).join('\n'), POLL).toMatch(/someone else has to approve/);
      await click(request, approvalActionId('approve', trade.id), 'U0STRANGER');
      await expect.poll(() => ephemeralsFor('U0STRANGER').join('\n'), POLL).toMatch(/Only the approvers/);
      expect((await trades.findById(trade.id))?.status).toBe('pending_approval');
      expect(postsFor(clientOrderId)).toBe(0);
    });

    it('places the order exactly once when two approvers click at once, and says so to the latecomer', async () => {
      const { trade, clientOrderId } = await placeLarge('70');
      const request = await requestFor(trade.id);
      await Promise.all([
        click(request, approvalActionId('approve', trade.id), APPROVER),
        click(request, approvalActionId('approve', trade.id), SECOND_APPROVER),
      ]);
      await waitForConfirmation(t, clientOrderId, (m) => /Filled 70 AAPL/.test(messageText(m)));
      expect(postsFor(clientOrderId)).toBe(1);
      const stored = await approvals.findByTradeId(trade.id);
      expect(stored?.decision).toBe('approve');
      expect([APPROVER, SECOND_APPROVER]).toContain(stored?.decidedBy);
      expect(stored?.priceAtDecision?.toFixed(2)).toBe('200.00');
      const loser = stored?.decidedBy === APPROVER ? SECOND_APPROVER : APPROVER;
      await expect.poll(() => ephemeralsFor(loser).join('\n'), POLL).toMatch(/already approved|decided this order/);

      // The request shows the outcome without buttons, and its thread says who approved it.
      await expect
        .poll(() => messageText(t.slack.messages(APPROVALS_CHANNEL).find((m) => m.ts === request.ts)!), POLL)
        .toMatch(/Approved by/);
      const edited = t.slack.messages(APPROVALS_CHANNEL).find((m) => m.ts === request.ts)!;
      expect(JSON.stringify(edited.blocks)).not.toContain(APPROVE_ORDER_ACTION_ID);
      await expect
        .poll(
          () =>
            t.slack
              .messages(APPROVALS_CHANNEL)
              .filter((m) => m.threadTs === request.ts)
              .map((m) => messageText(m))
              .join('\n'),
          POLL,
        )
        .toContain(`Approved by <@${stored?.decidedBy}>`);
    });

    it('places it once on a double click and on a redelivered click', async () => {
      const { trade, clientOrderId } = await placeLarge('80');
      const request = await requestFor(trade.id);
      await click(request, approvalActionId('approve', trade.id), APPROVER, 'env-approve-1');
      await click(request, approvalActionId('approve', trade.id), APPROVER, 'env-approve-1');
      await click(request, approvalActionId('approve', trade.id), APPROVER);
      await waitForConfirmation(t, clientOrderId, (m) => /Filled 80 AAPL/.test(messageText(m)));
      await t.app.outboxDrained();
      expect(postsFor(clientOrderId)).toBe(1);
      expect(t.alpaca.requestCount({ method: 'POST', path: ORDERS })).toBeGreaterThan(0);
    });

    it('refuses an approval older than the TTL, and asks the trader for a fresh request', async () => {
      const { trade, clientOrderId } = await placeLarge('90');
      const request = await requestFor(trade.id);
      // Twenty minutes pass (the TTL is 15).
      const past = new Date(Date.now() - 20 * 60_000);
      await orm.em.fork().nativeUpdate(ApprovalEntity, { trade: trade.id }, { requestedAt: past });
      await orm.em.fork().nativeUpdate(TradeEntity, { id: trade.id }, { createdAt: past });
      await click(request, approvalActionId('approve', trade.id), APPROVER);
      await expect.poll(() => ephemeralsFor(APPROVER).join('\n'), POLL).toMatch(/more than 15 minutes old/);
      expect((await trades.findById(trade.id))?.status).toBe('expired');
      expect(postsFor(clientOrderId)).toBe(0);
      expect((await approvals.findByTradeId(trade.id))?.decision).toBe('expire');
      const confirmation = await waitForConfirmation(t, clientOrderId, (m) =>
        /Not placed — .*more than 15 minutes old/.test(messageText(m)),
      );
      await expect
        .poll(
          () =>
            t.slack
              .messages(DEFAULT_CHANNEL_ID)
              .filter((m) => m.threadTs === confirmation.ts)
              .map((m) => messageText(m))
              .join('\n'),
          POLL,
        )
        .toMatch(/place the order again for a fresh request/);
    });

    it('refuses an approval after the price moved more than allowed', async () => {
      // Its own symbol: the app's quote cache then holds the moved price, which later orders would be valued at.
      const { trade, clientOrderId } = await placeLarge('95', DEFAULT_USER_ID, 'Desk', 'TSLA');
      const request = await requestFor(trade.id);
      t.alpaca.setPrice('TSLA', { last: '205.00', bid: '204.95', ask: '205.05', prevClose: '198.00' });
      await click(request, approvalActionId('approve', trade.id), SECOND_APPROVER);
      await expect
        .poll(() => ephemeralsFor(SECOND_APPROVER).join('\n'), POLL)
        .toMatch(/TSLA moved 2\.50% since the request/);
      expect((await trades.findById(trade.id))?.status).toBe('expired');
      const stored = await approvals.findByTradeId(trade.id);
      expect(stored?.priceAtRequest.toFixed(2)).toBe('200.00');
      expect(stored?.priceAtDecision?.toFixed(2)).toBe('205.00');
      expect(postsFor(clientOrderId)).toBe(0);
    });

    it('takes a rejection with a required reason and tells the trader', async () => {
      const { trade, clientOrderId } = await placeLarge('65');
      const request = await requestFor(trade.id);
      const opensBefore = t.slack.callsTo('views.open').length;
      await click(request, approvalActionId('reject', trade.id), APPROVER);
      await expect.poll(() => t.slack.callsTo('views.open').length, POLL).toBeGreaterThan(opensBefore);
      const modal = t.slack.openModals(APPROVER).find((v) => v.view.callback_id === REJECT_MODAL_CALLBACK_ID)!;
      const empty = await t.slack.submitView({
        viewId: modal.id,
        userId: APPROVER,
        values: { [REJECT_REASON_FIELD.actionId]: '  ' },
      });
      expect(JSON.stringify(empty.ackPayload)).toContain('Say why');
      const ack = await t.slack.submitView({
        viewId: modal.id,
        userId: APPROVER,
        values: { [REJECT_REASON_FIELD.actionId]: 'Too large for the desk today' },
      });
      expect(ack.ackPayload).toBeUndefined();
      expect((await trades.findById(trade.id))?.status).toBe('rejected');
      const stored = await approvals.findByTradeId(trade.id);
      expect(stored).toMatchObject({ decision: 'reject', decidedBy: APPROVER, reason: 'Too large for the desk today' });
      const confirmation = await waitForConfirmation(t, clientOrderId, (m) => /Rejected/.test(messageText(m)));
      expect(messageText(confirmation)).toContain('Too large for the desk today');
      await expect
        .poll(
          () =>
            t.slack
              .messages(DEFAULT_CHANNEL_ID)
              .filter((m) => m.threadTs === confirmation.ts)
              .map((m) => messageText(m))
              .join('\n'),
          POLL,
        )
        .toMatch(new RegExp(`<@${DEFAULT_USER_ID}>.*Too large for the desk today`));
      await expect
        .poll(() => messageText(t.slack.messages(APPROVALS_CHANNEL).find((m) => m.ts === request.ts)!), POLL)
        .toMatch(/Rejected by/);
      expect(postsFor(clientOrderId)).toBe(0);
    });

    it('lets the trader withdraw while pending, from the confirmation', async () => {
      const { trade, clientOrderId } = await placeLarge('55');
      const confirmation = await waitForConfirmation(t, clientOrderId, (m) => /Awaiting approval/.test(messageText(m)));
      await t.slack.blockAction({
        channelId: DEFAULT_CHANNEL_ID,
        messageTs: confirmation.ts,
        actionId: CANCEL_ORDER_ACTION_ID,
        userId: DEFAULT_USER_ID,
      });
      await expect.poll(async () => (await trades.findById(trade.id))?.status, POLL).toBe('canceled');
      expect((await approvals.findByTradeId(trade.id))?.decision).toBe('withdraw');
      await waitForConfirmation(t, clientOrderId, (m) => /Withdrawn/.test(messageText(m)));
      const request = await requestFor(trade.id);
      await expect
        .poll(() => messageText(t.slack.messages(APPROVALS_CHANNEL).find((m) => m.ts === request.ts)!), POLL)
        .toMatch(/Withdrawn/);
      // The request's buttons are gone: nobody can approve a withdrawn order.
      const edited = t.slack.messages(APPROVALS_CHANNEL).find((m) => m.ts === request.ts)!;
      expect(JSON.stringify(edited.blocks)).not.toContain(APPROVE_ORDER_ACTION_ID);
      expect(postsFor(clientOrderId)).toBe(0);
    });

    it('lists what awaits an approver on their Home tab, with buttons that work', async () => {
      const { trade, clientOrderId } = await placeLarge('52');
      await requestFor(trade.id);
      await t.slack.appHomeOpened(SECOND_APPROVER);
      await expect
        .poll(() => JSON.stringify(t.slack.homeView(SECOND_APPROVER)?.view.blocks ?? []), POLL)
        .toContain(`"block_id":"approval_${trade.id}"`);
      expect(JSON.stringify(t.slack.homeView(SECOND_APPROVER)?.view.blocks)).toContain('Awaiting your approval');
      const home = t.slack.homeView(SECOND_APPROVER)!;
      expect((home.view.blocks ?? []).length).toBeLessThanOrEqual(100);
      // The trader sees their own request waiting.
      await t.slack.appHomeOpened(DEFAULT_USER_ID);
      await expect
        .poll(() => JSON.stringify(t.slack.homeView(DEFAULT_USER_ID)?.view.blocks ?? []), POLL)
        .toContain('Your requests awaiting approval');
      await t.slack.blockAction({
        viewId: home.id,
        userId: SECOND_APPROVER,
        actionId: approvalActionId('approve', trade.id),
      });
      await waitForConfirmation(t, clientOrderId, (m) => /Filled 52 AAPL/.test(messageText(m)));
      expect(postsFor(clientOrderId)).toBe(1);
    });

    it('answers an API order above the threshold 202 pending_approval, and places it once approved', async () => {
      t.alpaca.setPrice('AAPL', { last: '200.00', bid: '199.95', ask: '200.05', prevClose: '198.00' });
      const api = new ApiClient(t.baseUrl, LEGACY_KEY);
      await api.loadContract();
      const placed = await api.post(
        '/api/v1/trade',
        { symbol: 'AAPL', quantity: 75, side: 'BUY', portfolio_name: 'Scripts', user_id: DEFAULT_USER_ID },
        { 'idempotency-key': 'approval-api-1' },
      );
      expect(placed.status, JSON.stringify(placed.body)).toBe(202);
      expect(placed.body.trade.status).toBe('pending_approval');
      expect(placed.body.message).toMatch(/waits for an approver/);
      const clientOrderId = placed.body.trade.client_order_id as string;
      expect(postsFor(clientOrderId)).toBe(0);
      const again = await api.post(
        '/api/v1/trade',
        { symbol: 'AAPL', quantity: 75, side: 'BUY', portfolio_name: 'Scripts', user_id: DEFAULT_USER_ID },
        { 'idempotency-key': 'approval-api-1' },
      );
      expect(again.status).toBe(202);
      expect(again.body.trade.trade_id).toBe(placed.body.trade_id);

      const request = await requestFor(placed.body.trade.id);
      await click(request, approvalActionId('approve', placed.body.trade.id), APPROVER);
      await expect
        .poll(async () => (await api.get(`/api/v1/trades/${placed.body.trade_id}`)).body.status, POLL)
        .toBe('filled');
      expect(postsFor(clientOrderId)).toBe(1);
    });

    it('withdraws an API order still pending with DELETE, without any broker call', async () => {
      t.alpaca.setPrice('AAPL', { last: '200.00', bid: '199.95', ask: '200.05', prevClose: '198.00' });
      const api = new ApiClient(t.baseUrl, LEGACY_KEY);
      await api.loadContract();
      const placed = await api.post('/api/v1/trade', {
        symbol: 'AAPL',
        quantity: 60,
        side: 'BUY',
        portfolio_name: 'Scripts',
        user_id: DEFAULT_USER_ID,
      });
      expect(placed.status).toBe(202);
      const deletesBefore = t.alpaca.requestCount({ method: 'DELETE' });
      const withdrawn = await api.delete(`/api/v1/trades/${placed.body.trade_id}`);
      expect(withdrawn.status, JSON.stringify(withdrawn.body)).toBe(202);
      expect(withdrawn.body.trade.status).toBe('canceled');
      expect(t.alpaca.requestCount({ method: 'DELETE' })).toBe(deletesBefore);
      expect(postsFor(placed.body.trade.client_order_id)).toBe(0);
      // Recorded as decided by the API key that asked, not by the trader the order names.
      const stored = await approvals.findByTradeId(placed.body.trade.id);
      expect(stored).toMatchObject({ decision: 'withdraw', decidedBy: 'API key OMS_API_KEY' });
    });

    it('answers a retry of an API order that ended at approval as not placed, with why', async () => {
      t.alpaca.setPrice('AAPL', { last: '200.00', bid: '199.95', ask: '200.05', prevClose: '198.00' });
      const api = new ApiClient(t.baseUrl, LEGACY_KEY);
      await api.loadContract();
      const body = {
        symbol: 'AAPL',
        notional: 15_000,
        side: 'BUY',
        portfolio_name: 'Scripts',
        user_id: DEFAULT_USER_ID,
      };
      const placed = await api.post('/api/v1/trade', body, { 'idempotency-key': 'approval-api-withdrawn' });
      expect(placed.status, JSON.stringify(placed.body)).toBe(202);
      // A dollar-amount order is described by its amount.
      expect(placed.body.message).toMatch(/\$15,000\.00 of AAPL is worth more than the approval threshold/);
      expect((await api.delete(`/api/v1/trades/${placed.body.trade_id}`)).status).toBe(202);
      const again = await api.post('/api/v1/trade', body, { 'idempotency-key': 'approval-api-withdrawn' });
      expect(again.status, JSON.stringify(again.body)).toBe(409);
      expect(again.body).toMatchObject({ success: false, error: 'approval_withdrawn' });
      expect(again.body.detail).toMatch(/^Not placed: .*withdrawn/i);
      expect(again.body.detail).not.toMatch(/Accepted by Alpaca/);
      expect(again.body.trade.status).toBe('canceled');
    });

    it('tells an approver pressing Reject on a decided order so, without opening the form', async () => {
      const { trade } = await placeLarge('56');
      const request = await requestFor(trade.id);
      // The second approver's screen still shows the request as first posted: the click is built
      // from it now and reaches the app only after the approval.
      let approved!: () => void;
      const stale = t.slack.blockAction({
        channelId: APPROVALS_CHANNEL,
        messageTs: request.ts,
        actionId: approvalActionId('reject', trade.id),
        userId: SECOND_APPROVER,
        deliverAfter: new Promise<void>((resolve) => {
          approved = resolve;
        }),
      });
      await click(request, approvalActionId('approve', trade.id), APPROVER);
      await expect.poll(async () => (await approvals.findByTradeId(trade.id))?.decision, POLL).toBe('approve');
      const opensBefore = t.slack.callsTo('views.open').length;
      approved();
      await stale;
      await expect.poll(() => ephemeralsFor(SECOND_APPROVER).join('\n'), POLL).toMatch(/already approved/);
      expect(t.slack.callsTo('views.open').length).toBe(opensBefore);
    });

    it('answers the reject form even when the decision can’t be recorded, and keeps the order pending', async () => {
      const { trade } = await placeLarge('57');
      const request = await requestFor(trade.id);
      const opensBefore = t.slack.callsTo('views.open').length;
      await click(request, approvalActionId('reject', trade.id), APPROVER);
      await expect.poll(() => t.slack.callsTo('views.open').length, POLL).toBeGreaterThan(opensBefore);
      const modal = t.slack
        .openModals(APPROVER)
        .find((v) => v.view.callback_id === REJECT_MODAL_CALLBACK_ID && v.view.private_metadata === String(trade.id))!;
      // The database refuses for a moment: the approvals table is out of reach.
      const em = orm.em.fork();
      await em.getConnection().execute('ALTER TABLE approvals RENAME TO approvals_away');
      try {
        const ack = await t.slack.submitView({
          viewId: modal.id,
          userId: APPROVER,
          values: { [REJECT_REASON_FIELD.actionId]: 'Too large' },
        });
        expect(JSON.stringify(ack.ackPayload)).toMatch(/nothing was decided/i);
      } finally {
        await em.getConnection().execute('ALTER TABLE approvals_away RENAME TO approvals');
      }
      expect((await trades.findById(trade.id))?.status).toBe('pending_approval');
    });
  });

  describe.skipIf(!kind.available)(`approvals across a restart on ${databaseSuiteName(kind)}`, () => {
    /**
     * Places a MSFT buy of `quantity` shares that waits for approval, stops the app, then hands the
     * test the stand-ins, the database, the order and a way to start the app again; cleans everything up after.
     */
    async function withPendingOrderStopped(
      quantity: string,
      test: (args: {
        slack: LaunchedApp['slack'];
        alpaca: LaunchedApp['alpaca'];
        orm: Orm;
        trades: TradeRepository;
        clientOrderId: string;
        restart: (env: Record<string, string>) => Promise<LaunchedApp>;
      }) => Promise<void>,
    ): Promise<void> {
      const db = await kind.create();
      let t = await launchApp({ database: db.target, env: approvalEnv() });
      const { slack, alpaca } = t;
      slack.addChannel({ id: APPROVALS_CHANNEL, name: 'approvals', isMember: true });
      const orm = await initORM(db.target);
      try {
        const trades = new TradeRepository(orm);
        alpaca.setPrice('MSFT', { last: '400.00', bid: '399.90', ask: '400.10', prevClose: '398.00' });
        const placed = await placeOrder(t, { portfolio: 'Desk', symbol: 'MSFT', side: 'buy', quantity });
        await expect
          .poll(async () => (await trades.findByClientOrderId(placed.clientOrderId))?.status, POLL)
          .toBe('pending_approval');
        await t.app.outboxDrained();
        await t.app.stop();
        const restart = async (env: Record<string, string>) => {
          t = await launchApp({ database: db.target, env, slack, alpaca });
          return t;
        };
        await test({ slack, alpaca, orm, trades, clientOrderId: placed.clientOrderId, restart });
      } finally {
        await orm.close(true);
        await t.stop();
        await slack.close();
        await alpaca.close();
        await db.drop();
      }
    }

    it('expires requests left pending after approval was switched off, so none reserves shares forever', async () => {
      await withPendingOrderStopped('30', async ({ alpaca, orm, trades, clientOrderId, restart }) => {
        const trade = (await trades.findByClientOrderId(clientOrderId))!;
        const past = new Date(Date.now() - 20 * 60_000);
        await orm.em.fork().nativeUpdate(ApprovalEntity, { trade: trade.id }, { requestedAt: past });

        const { APPROVAL_THRESHOLD_NOTIONAL: _off, ...withoutApproval } = approvalEnv();
        await restart(withoutApproval);
        await expect.poll(async () => (await trades.findById(trade.id))?.status, POLL).toBe('expired');
        expect(alpaca.orders().filter((o) => o.client_order_id === clientOrderId)).toHaveLength(0);
      });
    });

    it('a restart with a pending approval does not send it; an approval after the restart places it once', async () => {
      await withPendingOrderStopped('40', async ({ slack, alpaca, trades, clientOrderId, restart }) => {
        const postsBefore = alpaca.requestCount({ method: 'POST', path: ORDERS });

        const t = await restart(approvalEnv());
        await t.app.reconcile.reconcilePositions('manual');
        expect(alpaca.requestCount({ method: 'POST', path: ORDERS })).toBe(postsBefore);
        const trade = (await trades.findByClientOrderId(clientOrderId))!;
        expect(trade.status).toBe('pending_approval');

        const request = slack
          .messages(APPROVALS_CHANNEL)
          .find((m) => !m.threadTs && JSON.stringify(m.blocks ?? []).includes(`"value":"${trade.id}"`))!;
        await slack.blockAction({
          channelId: APPROVALS_CHANNEL,
          messageTs: request.ts,
          actionId: approvalActionId('approve', trade.id),
          userId: APPROVER,
        });
        await expect.poll(async () => (await trades.findById(trade.id))?.status, { timeout: 10_000 }).toBe('filled');
        expect(alpaca.orders().filter((o) => o.client_order_id === clientOrderId)).toHaveLength(1);
      });
    });
  });
}
