import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initORM, type Orm } from '../../src/db/orm';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';
import { DEFAULT_CHANNEL_ID } from '../support/slack-standin';
import {
  formValues,
  messageText,
  openOrderForm,
  placeOrder,
  showOrderType,
  waitForConfirmation,
} from '../support/trading';

const ORDERS = /^\/v2\/orders$/;

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`/trade end to end on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let t: LaunchedApp;
    let orm: Orm;
    let trades: TradeRepository;

    beforeAll(async () => {
      db = await kind.create();
      t = await launchApp({ database: db.target, env: { MAX_ORDER_NOTIONAL: '50000', ADMIN_USER_IDS: 'U0ADMIN' } });
      orm = await initORM(db.target);
      trades = new TradeRepository(orm);
    });
    afterAll(async () => {
      await orm?.close(true);
      await t?.stop();
      await db?.drop();
    });
    afterEach(() => {
      t.alpaca.clearFaults();
      t.alpaca.setMarketOpen(true);
      t.alpaca.setPatternDayTraderBlocked(false);
      t.alpaca.setBuyingPower('1000000');
    });

    it('answers help, quote and market ephemerally, acking at once', async () => {
      const help = await t.slack.slashCommand({ command: '/trade', text: 'help' });
      expect(help.ackMs).toBeLessThan(3000);
      await expect.poll(() => t.slack.responses.filter((r) => r.url === help.responseUrl).length).toBe(1);
      expect(JSON.stringify(t.slack.responses.find((r) => r.url === help.responseUrl)!.body)).toContain('/trade buy');

      t.alpaca.setPrice('AAPL', { last: '189.42', bid: '189.40', ask: '189.44', prevClose: '187.00' });
      const quote = await t.slack.slashCommand({ command: '/trade', text: 'quote aapl' });
      await expect.poll(() => t.slack.responses.filter((r) => r.url === quote.responseUrl).length).toBe(1);
      const quoteBody = t.slack.responses.find((r) => r.url === quote.responseUrl)!.body as { response_type: string };
      expect(quoteBody.response_type).toBe('ephemeral');
      expect(JSON.stringify(quoteBody)).toContain('189.42');

      const unknown = await t.slack.slashCommand({ command: '/trade', text: 'quote ZZZZ' });
      await expect.poll(() => t.slack.responses.filter((r) => r.url === unknown.responseUrl).length).toBe(1);
      expect(JSON.stringify(t.slack.responses.find((r) => r.url === unknown.responseUrl)!.body)).toContain('ZZZZ');

      t.alpaca.setMarketOpen(false);
      const market = await t.slack.slashCommand({ command: '/trade', text: 'market' });
      await expect.poll(() => t.slack.responses.filter((r) => r.url === market.responseUrl).length).toBe(1);
      expect(JSON.stringify(t.slack.responses.find((r) => r.url === market.responseUrl)!.body)).toMatch(
        /Market (closed|open)/,
      );
    });

    it('opens the form prefilled from the command, then adds the live context', async () => {
      t.alpaca.setPrice('MSFT', { last: '410.00', bid: '409.90', ask: '410.10', prevClose: '405.00' });
      const view = await openOrderForm(t, 'sell 5 msft limit 410.50');
      const opened = JSON.stringify(view.history[0]);
      expect(opened).toContain('MSFT');
      expect(opened).toContain('410.50');
      await expect.poll(() => t.slack.views.get(view.id)!.history.length).toBeGreaterThan(1);
      const updated = JSON.stringify(t.slack.views.get(view.id)!.view);
      expect(updated).toContain('410.10');
      expect(updated).toMatch(/Buying power/i);
    });

    it('places a market order once, posts a confirmation and edits it to filled', async () => {
      t.alpaca.setPrice('AAPL', { last: '189.42', bid: '189.40', ask: '189.42' });
      const { ack, clientOrderId } = await placeOrder(t, {
        symbol: 'AAPL',
        side: 'buy',
        quantity: '10',
        portfolio: 'Growth',
      });
      expect(ack.ackPayload).toBeUndefined();
      expect(ack.ackMs).toBeLessThan(3000);

      const message = await waitForConfirmation(t, clientOrderId, (m) =>
        /Filled 10 AAPL @ \$189\.42/.test(messageText(m)),
      );
      expect(messageText(message)).toContain('Growth');
      expect(messageText(message)).toContain('1,894.20');
      expect(
        t.slack.callsTo('chat.postMessage').filter((c) => JSON.stringify(c.args).includes(clientOrderId)),
      ).toHaveLength(1);
      expect(t.slack.callsTo('chat.update').some((c) => JSON.stringify(c.args).includes(clientOrderId))).toBe(true);

      const brokerOrders = t.alpaca.orders().filter((o) => o.client_order_id === clientOrderId);
      expect(brokerOrders).toHaveLength(1);
      const row = await trades.findByClientOrderId(clientOrderId);
      expect(row).toMatchObject({
        status: 'filled',
        alpacaOrderId: brokerOrders[0]!.id,
        alpacaStatus: 'filled',
        portfolioName: 'Growth',
        userId: 'U0TESTUSER',
      });
      expect(row!.alpacaFilledQty!.toString()).toBe('10');
      expect(row!.alpacaFilledPrice!.toFixed(2)).toBe('189.42');
      expect(row!.alpacaFilledAt).toBeInstanceOf(Date);
      const fills = await trades.listFillsForTrade(row!.id);
      expect(fills).toHaveLength(1);
      expect(fills[0]!.qty.toString()).toBe('10');
    });

    it('answers invalid forms with one message per field and sends nothing to the broker', async () => {
      const postsBefore = t.alpaca.requestCount({ method: 'POST', path: ORDERS });
      const cases: [Parameters<typeof formValues>[0], string][] = [
        [{ symbol: 'ZZZZ', quantity: '1' }, 'symbol'],
        [{ symbol: 'AAPL', quantity: '-3' }, 'quantity'],
        [{ symbol: 'AAPL', quantity: '1', amount: '100' }, 'quantity'],
        [{ symbol: 'AAPL', quantity: '1', type: 'limit' }, 'limit_price'],
        [{ symbol: 'AAPL', quantity: '1', type: 'limit', limitPrice: '189.123' }, 'limit_price'],
        [{ symbol: 'AAPL', amount: '500', type: 'limit', limitPrice: '180' }, 'order_type'],
        [{ symbol: 'AAPL', quantity: '1000' }, 'quantity'],
        [{ symbol: 'AAPL', side: 'sell', quantity: '5', portfolio: 'Empty Book' }, 'quantity'],
      ];
      for (const [fields, field] of cases) {
        const view = await openOrderForm(t);
        await showOrderType(t, view, fields);
        const ack = await t.slack.submitView({ viewId: view.id, values: formValues(fields) });
        const payload = ack.ackPayload as { response_action: string; errors: Record<string, string> };
        expect(payload.response_action, JSON.stringify(fields)).toBe('errors');
        expect(Object.keys(payload.errors), JSON.stringify(fields)).toContain(field);
        expect(payload.errors[field]!.length).toBeGreaterThan(10);
        expect(await trades.findByClientOrderId(`oms-${view.id}`)).toBeNull();
      }
      expect(t.alpaca.requestCount({ method: 'POST', path: ORDERS })).toBe(postsBefore);
    });

    it('maps a redelivered submission (same envelope three times) and a triple click to one order', async () => {
      const view = await openOrderForm(t);
      const first = await t.slack.submitView({
        viewId: view.id,
        values: formValues({ symbol: 'AAPL', quantity: '2' }),
      });
      const envelope = t.slack.envelopes.find((e) => e.envelopeId === first.envelopeId)!;
      await t.slack.sendEnvelope('interactive', envelope.payload as object, { envelopeId: first.envelopeId });
      await t.slack.sendEnvelope('interactive', envelope.payload as object, { envelopeId: first.envelopeId });
      const clientOrderId = `oms-${view.id}`;
      await waitForConfirmation(t, clientOrderId, (m) => /Filled 2 AAPL/.test(messageText(m)));

      const clicked = await openOrderForm(t);
      await t.slack
        .submitView({ viewId: clicked.id, values: formValues({ symbol: 'AAPL', quantity: '3' }) })
        .then(async (a) => {
          const payload = t.slack.envelopes.find((e) => e.envelopeId === a.envelopeId)!.payload as object;
          await Promise.all([
            t.slack.sendEnvelope('interactive', payload),
            t.slack.sendEnvelope('interactive', payload),
          ]);
        });
      await waitForConfirmation(t, `oms-${clicked.id}`, (m) => /Filled 3 AAPL/.test(messageText(m)));

      for (const id of [clientOrderId, `oms-${clicked.id}`]) {
        expect(t.alpaca.orders().filter((o) => o.client_order_id === id)).toHaveLength(1);
        expect(t.slack.callsTo('chat.postMessage').filter((c) => JSON.stringify(c.args).includes(id))).toHaveLength(1);
      }
    });

    it(
      'a redelivered sell that no longer validates (its own order now counts against the holding) ' +
        'is still the same order, not an error',
      async () => {
        const bought = await placeOrder(t, { portfolio: 'Redeliver', symbol: 'MSFT', quantity: '5' });
        await waitForConfirmation(t, bought.clientOrderId, (m) => /Filled 5 MSFT/.test(messageText(m)));
        const view = await openOrderForm(t);
        const first = await t.slack.submitView({
          viewId: view.id,
          values: formValues({ portfolio: 'Redeliver', symbol: 'MSFT', side: 'sell', quantity: '5' }),
        });
        expect(first.ackPayload).toBeUndefined();
        const clientOrderId = `oms-${view.id}`;
        await waitForConfirmation(t, clientOrderId, (m) => /Filled 5 MSFT/.test(messageText(m)));
        const envelope = t.slack.envelopes.find((e) => e.envelopeId === first.envelopeId)!;
        const again = await t.slack.sendEnvelope('interactive', envelope.payload as object, {
          envelopeId: first.envelopeId,
          retryAttempt: 1,
          retryReason: 'timeout',
        });
        expect(again.ackPayload).toBeUndefined();
        expect(t.alpaca.orders().filter((o) => o.client_order_id === clientOrderId)).toHaveLength(1);
        expect(
          t.slack.callsTo('chat.postMessage').filter((c) => JSON.stringify(c.args).includes(clientOrderId)),
        ).toHaveLength(1);
      },
    );

    it('resolves a broker 500 that actually placed the order by looking it up — one order, one row', async () => {
      t.alpaca.inject({ method: 'POST', path: '/v2/orders', status: 500, afterHandling: true });
      const { clientOrderId } = await placeOrder(t, { symbol: 'AAPL', quantity: '4' });
      await waitForConfirmation(t, clientOrderId, (m) => /Filled 4 AAPL/.test(messageText(m)));
      expect(t.alpaca.orders().filter((o) => o.client_order_id === clientOrderId)).toHaveLength(1);
      expect(t.alpaca.requestCount({ method: 'GET', path: /^\/v2\/orders:by_client_order_id/ })).toBeGreaterThan(0);
      expect((await trades.findByClientOrderId(clientOrderId))!.status).toBe('filled');
    });

    it('retries after a 429 on submission and still places exactly one order', async () => {
      t.alpaca.inject({ method: 'POST', path: '/v2/orders', status: 429, times: 1, resetInSeconds: 1 });
      const { clientOrderId } = await placeOrder(t, { symbol: 'AAPL', quantity: '1' });
      await waitForConfirmation(t, clientOrderId, (m) => /Filled 1 AAPL/.test(messageText(m)));
      expect(t.alpaca.orders().filter((o) => o.client_order_id === clientOrderId)).toHaveLength(1);
    });

    it('recovers from a 503 that placed nothing by resubmitting with the same client_order_id', async () => {
      t.alpaca.inject({ method: 'POST', path: '/v2/orders', status: 503, times: 1 });
      const { clientOrderId } = await placeOrder(t, { symbol: 'AAPL', quantity: '1' });
      await waitForConfirmation(t, clientOrderId, (m) => /Filled 1 AAPL/.test(messageText(m)));
      expect(t.alpaca.orders().filter((o) => o.client_order_id === clientOrderId)).toHaveLength(1);
      expect(t.alpaca.requestCount({ method: 'POST', path: ORDERS })).toBeGreaterThan(1);
    });

    it('says the order was not sent when Alpaca keeps rate-limiting it', async () => {
      t.alpaca.inject({ method: 'POST', path: '/v2/orders', status: 429, times: 10, resetInSeconds: 1 });
      const { clientOrderId } = await placeOrder(t, { symbol: 'AAPL', quantity: '1' });
      const message = await waitForConfirmation(
        t,
        clientOrderId,
        (m) => /Not placed/.test(messageText(m)),
        DEFAULT_CHANNEL_ID,
        40_000,
      );
      expect(messageText(message)).toMatch(/rate-limiting us right now, so the order was not sent/);
      expect(t.alpaca.order(clientOrderId)).toBeUndefined();
      expect((await trades.findByClientOrderId(clientOrderId))!.status).toBe('failed');
    }, 60_000);

    it('turns broker refusals into sentences: buying power, wash trade, pattern day trader', async () => {
      t.alpaca.setBuyingPower('100');
      const bp = await placeOrder(t, { symbol: 'AAPL', quantity: '5' });
      const bpMessage = await waitForConfirmation(t, bp.clientOrderId, (m) => /Rejected/.test(messageText(m)));
      expect(messageText(bpMessage)).toMatch(/buying power/i);
      expect(messageText(bpMessage)).toContain('$100.00');
      expect(await trades.findByClientOrderId(bp.clientOrderId)).toMatchObject({
        status: 'rejected',
        errorCode: '40310000',
      });
      t.alpaca.setBuyingPower('1000000');

      t.alpaca.setMarketOpen(false);
      const resting = await placeOrder(t, {
        symbol: 'TSLA',
        side: 'buy',
        quantity: '1',
        type: 'limit',
        limitPrice: '100.00',
      });
      await waitForConfirmation(t, resting.clientOrderId, (m) => /queued for the open/.test(messageText(m)));
      const seeded = await placeOrder(t, { symbol: 'TSLA', side: 'buy', quantity: '3' });
      await waitForConfirmation(t, seeded.clientOrderId, (m) => /Submitted/.test(messageText(m)));
      t.alpaca.setMarketOpen(true);
      await waitForConfirmation(t, seeded.clientOrderId, (m) => /Filled 3 TSLA/.test(messageText(m)));
      const wash = await placeOrder(t, {
        symbol: 'TSLA',
        side: 'sell',
        quantity: '1',
        type: 'limit',
        limitPrice: '90.00',
      });
      const washMessage = await waitForConfirmation(t, wash.clientOrderId, (m) => /Rejected/.test(messageText(m)));
      expect(messageText(washMessage)).toMatch(/wash trade/i);

      t.alpaca.setPatternDayTraderBlocked(true);
      const pdt = await placeOrder(t, { symbol: 'AAPL', quantity: '1' });
      const pdtMessage = await waitForConfirmation(t, pdt.clientOrderId, (m) => /Rejected/.test(messageText(m)));
      expect(messageText(pdtMessage)).toMatch(/pattern.day.trad/i);
    });

    it('queues a market order while the market is closed, then follows it to the fill after the open', async () => {
      t.alpaca.setMarketOpen(false);
      const { clientOrderId } = await placeOrder(t, { symbol: 'MSFT', quantity: '2' });
      const queued = await waitForConfirmation(t, clientOrderId, (m) => /queued for the open/.test(messageText(m)));
      expect(messageText(queued)).toContain('Cancel order');
      expect(messageText(queued)).toContain('Market at submission');
      t.alpaca.setMarketOpen(true);
      const filled = await waitForConfirmation(t, clientOrderId, (m) => /Filled 2 MSFT/.test(messageText(m)));
      expect(messageText(filled)).not.toContain('Cancel order');
    });

    it('shows partial fills and stores every execution once', async () => {
      t.alpaca.setMarketOpen(false);
      const { clientOrderId } = await placeOrder(t, {
        symbol: 'SPY',
        quantity: '10',
        type: 'limit',
        limitPrice: '500.00',
      });
      await waitForConfirmation(t, clientOrderId, (m) => /Submitted/.test(messageText(m)));
      t.alpaca.fill(clientOrderId, '4', '499.50');
      await waitForConfirmation(t, clientOrderId, (m) => /Partially filled 4 \/ 10 SPY/.test(messageText(m)));
      t.alpaca.fill(clientOrderId, '6', '499.75');
      const done = await waitForConfirmation(t, clientOrderId, (m) => /Filled 10 SPY/.test(messageText(m)));
      expect(messageText(done)).toContain('$499.65');
      const row = await trades.findByClientOrderId(clientOrderId);
      const fills = await trades.listFillsForTrade(row!.id);
      expect(fills.map((f) => f.qty.toString()).sort()).toEqual(['4', '6']);
    });

    it('cancels an open order from its message button', async () => {
      t.alpaca.setMarketOpen(false);
      const { clientOrderId } = await placeOrder(t, {
        symbol: 'AAPL',
        quantity: '1',
        type: 'limit',
        limitPrice: '150.00',
      });
      const message = await waitForConfirmation(t, clientOrderId, (m) => /Cancel order/.test(messageText(m)));
      const click = await t.slack.blockAction({
        actionId: 'cancel_order',
        value: clientOrderId,
        channelId: DEFAULT_CHANNEL_ID,
        messageTs: message.ts,
      });
      expect(click.ackMs).toBeLessThan(3000);
      const canceled = await waitForConfirmation(t, clientOrderId, (m) => /Canceled/.test(messageText(m)));
      expect(messageText(canceled)).not.toContain('Cancel order');
      expect(t.alpaca.order(clientOrderId)!.status).toBe('canceled');
    });

    it('keeps following orders by polling while the trade_updates stream is down', async () => {
      t.alpaca.setMarketOpen(false);
      const { clientOrderId } = await placeOrder(t, {
        symbol: 'AAPL',
        quantity: '1',
        type: 'limit',
        limitPrice: '150.00',
      });
      await waitForConfirmation(t, clientOrderId, (m) => /Submitted/.test(messageText(m)));
      t.alpaca.dropStreamConnections();
      t.alpaca.fill(clientOrderId, '1', '150.00');
      await waitForConfirmation(
        t,
        clientOrderId,
        (m) => /Filled 1 AAPL/.test(messageText(m)),
        DEFAULT_CHANNEL_ID,
        25_000,
      );
    }, 40_000);
  });
}

describe('/trade permissions and ledger-only mode', () => {
  let db: TestDatabase;
  let t: LaunchedApp;

  afterEach(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('refuses users outside TRADER_USER_IDS politely, opens no form and logs the attempt', async () => {
    db = await testDatabaseTargets()[0]!.create();
    t = await launchApp({ database: db.target, env: { TRADER_USER_IDS: 'U0TRADER' } });
    const cmd = await t.slack.slashCommand({ command: '/trade', text: 'buy 1 AAPL', userId: 'U0INTRUDER' });
    await expect.poll(() => t.slack.responses.filter((r) => r.url === cmd.responseUrl).length).toBe(1);
    expect(JSON.stringify(t.slack.responses.find((r) => r.url === cmd.responseUrl)!.body)).toMatch(/only the traders/i);
    expect(t.slack.callsTo('views.open')).toHaveLength(0);
    expect(t.logs.text()).toContain('U0INTRUDER');
    expect(t.alpaca.requestCount({ method: 'POST', path: ORDERS })).toBe(0);
  });

  it('records the trade at the given GMV as filled without calling the broker', async () => {
    db = await testDatabaseTargets()[0]!.create();
    t = await launchApp({ database: db.target, useAlpaca: false });
    const view = await openOrderForm(t, 'buy 10 AAPL');
    const missingGmv = await t.slack.submitView({
      viewId: view.id,
      values: formValues({ symbol: 'AAPL', quantity: '10' }),
    });
    expect((missingGmv.ackPayload as { errors: Record<string, string> }).errors.gmv).toBeTruthy();
    await t.slack.submitView({
      viewId: view.id,
      values: formValues({ symbol: 'AAPL', quantity: '10', gmv: '1,894.20' }),
    });
    const message = await waitForConfirmation(t, `oms-${view.id}`, (m) => /Recorded/.test(messageText(m)));
    expect(messageText(message)).toMatch(/ledger only/i);
    expect(messageText(message)).toContain('1,894.20');
    expect(t.alpaca.requests).toHaveLength(0);
  });
});
