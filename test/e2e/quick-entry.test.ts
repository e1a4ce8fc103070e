import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORDER_TYPE_ACTION_ID, SYMBOL_ACTION_ID, TRADE_FIELDS } from '../../src/slack/trade/order-modal';
import { type AlpacaStandIn, startAlpacaStandIn } from '../support/alpaca-standin';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';
import { DEFAULT_CHANNEL_ID, DEFAULT_USER_ID, type StoredView } from '../support/slack-standin';
import { formValues, messageText, openOrderForm, placeOrder, waitForConfirmation } from '../support/trading';

type Json = Record<string, any>;

const LISTED = [
  { symbol: 'AAP', name: 'Advance Auto Parts Inc.' },
  { symbol: 'AAPU', name: 'Direxion Daily AAPL Bull 2X Shares' },
  { symbol: 'APLE', name: 'Apple Hospitality REIT, Inc. Common Shares' },
  { symbol: 'PEGY', name: 'Pineapple Energy Inc. Common Stock' },
  { symbol: 'GOOGL', name: 'Alphabet Inc. Class A Common Stock' },
  { symbol: 'DELIST', name: 'Apple Delisted Corp', status: 'inactive' as const },
];

const options = (ack: { ackPayload?: Json }) => (ack.ackPayload?.options ?? []) as { text: Json; value: string }[];
const values = (ack: { ackPayload?: Json }) => options(ack).map((o) => o.value);

function inputActionIds(view: StoredView): string[] {
  return (view.view.blocks as Json[]).filter((b) => b.type === 'input').map((b) => b.element.action_id as string);
}

function element(view: StoredView, actionId: string): Json | undefined {
  return (view.view.blocks as Json[]).find((b) => b.type === 'input' && b.element.action_id === actionId)?.element;
}

/** Waits for the view's next version after `act`. */
async function redrawn(t: LaunchedApp, viewId: string, act: () => Promise<unknown>): Promise<StoredView> {
  const versions = t.slack.views.get(viewId)!.history.length;
  await act();
  await expect.poll(() => t.slack.views.get(viewId)!.history.length, { timeout: 5000 }).toBeGreaterThan(versions);
  return t.slack.views.get(viewId)!;
}

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`quicker order entry on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let alpaca: AlpacaStandIn;
    let t: LaunchedApp;

    beforeAll(async () => {
      db = await kind.create();
      alpaca = await startAlpacaStandIn({ marketOpen: true });
      for (const asset of LISTED) alpaca.addAsset(asset);
      t = await launchApp({ database: db.target, alpaca });
      // The index loads in the background at start-up.
      const deadline = Date.now() + 10_000;
      while (!t.logs.lines.some((l) => l.includes('symbol search index loaded'))) {
        if (Date.now() > deadline) throw new Error('the symbol index did not load');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    afterAll(async () => {
      await t?.stop();
      await alpaca?.close();
      await db?.drop();
    });

    it('suggests tickers by prefix first (exact, then shorter), then company names by word prefix', async () => {
      const view = await openOrderForm(t);
      expect(element(view, SYMBOL_ACTION_ID)).toMatchObject({ type: 'external_select', min_query_length: 1 });

      const aap = await t.slack.blockSuggestion({ viewId: view.id, actionId: SYMBOL_ACTION_ID, value: 'aap' });
      expect(aap.ackMs).toBeLessThan(3000);
      expect(values(aap)).toEqual(['AAP', 'AAPL', 'AAPU']);
      expect(options(aap)[1]!.text.text).toBe('AAPL — Apple Inc. Common Stock');

      const apple = await t.slack.blockSuggestion({ viewId: view.id, actionId: SYMBOL_ACTION_ID, value: 'Apple' });
      // No ticker starts with APPLE; names with a word starting "apple" follow (not "Pineapple", not inactive),
      // and the typed text is offered last.
      expect(values(apple)).toEqual(['AAPL', 'APLE', 'Apple']);
      expect(options(apple).at(-1)!.text.text).toBe('Use “Apple” as typed');

      const twoWords = await t.slack.blockSuggestion({ viewId: view.id, actionId: SYMBOL_ACTION_ID, value: 'alph cl' });
      expect(values(twoWords)[0]).toBe('GOOGL');
    });

    it('choosing a suggestion shows the asset and its price; submitting places the order', async () => {
      const view = await openOrderForm(t);
      await t.slack.blockSuggestion({ viewId: view.id, actionId: SYMBOL_ACTION_ID, value: 'micro' });
      const shown = await redrawn(t, view.id, () =>
        t.slack.blockAction({ viewId: view.id, actionId: SYMBOL_ACTION_ID, selectedOption: 'MSFT' }),
      );
      expect(JSON.stringify(shown.view.blocks)).toContain('Microsoft Corporation Common Stock');
      expect(JSON.stringify(shown.view.blocks)).toContain('415.10');
      const ack = await t.slack.submitView({
        viewId: view.id,
        values: {
          [TRADE_FIELDS.side.actionId]: 'buy',
          [TRADE_FIELDS.quantity.actionId]: '2',
          [TRADE_FIELDS.portfolio.actionId]: 'Typeahead',
        },
      });
      expect(ack.ackPayload).toBeUndefined();
      const submitted = t.slack.envelopes.find((e) => e.envelopeId === ack.envelopeId)!.payload as Json;
      expect(submitted.view.state.values.symbol[SYMBOL_ACTION_ID].selected_option).toMatchObject({
        value: 'MSFT',
        text: { text: 'MSFT — Microsoft Corporation Common Stock' },
      });
      await waitForConfirmation(t, `oms-${view.id}`, (m) => /Filled 2 MSFT/.test(messageText(m)));
    });

    it('`/trade buy 10 aapl` opens the form with AAPL already chosen', async () => {
      const view = await openOrderForm(t, 'buy 10 aapl');
      expect(element(view, SYMBOL_ACTION_ID)?.initial_option).toMatchObject({ value: 'AAPL' });
      await expect
        .poll(() => JSON.stringify(t.slack.views.get(view.id)!.view.blocks))
        .toContain('AAPL — Apple Inc. Common Stock');
      const ack = await t.slack.submitView({ viewId: view.id, values: {} });
      expect(ack.ackPayload).toBeUndefined();
      await waitForConfirmation(t, `oms-${view.id}`, (m) => /Filled 10 AAPL/.test(messageText(m)));
    });

    it('shows only the fields the order type needs and keeps what was typed across switches', async () => {
      const view = await openOrderForm(t, 'buy 3 msft');
      // The form is opened at once, then redrawn with the symbol's price: let that land first.
      await expect.poll(() => t.slack.views.get(view.id)!.history.length).toBeGreaterThan(1);
      const prices = [TRADE_FIELDS.limit_price.actionId, TRADE_FIELDS.stop_price.actionId];
      const extended = TRADE_FIELDS.extended_hours.actionId;
      expect(inputActionIds(view)).not.toContain(prices[0]);
      expect(inputActionIds(view)).not.toContain(prices[1]);
      expect(inputActionIds(view)).not.toContain(extended);

      const choose = (type: string, typed: Record<string, string> = {}) =>
        redrawn(t, view.id, () =>
          t.slack.blockAction({ viewId: view.id, actionId: ORDER_TYPE_ACTION_ID, selectedOption: type, values: typed }),
        );
      const limit = await choose('limit', { [TRADE_FIELDS.quantity.actionId]: '7' });
      expect(inputActionIds(limit)).toContain(prices[0]);
      expect(inputActionIds(limit)).toContain(extended);
      expect(inputActionIds(limit)).not.toContain(prices[1]);
      expect(element(limit, TRADE_FIELDS.quantity.actionId)?.initial_value).toBe('7');

      // A limit price typed, then hidden by "Market", comes back with "Stop limit".
      await t.slack.blockAction({
        viewId: view.id,
        actionId: ORDER_TYPE_ACTION_ID,
        selectedOption: 'limit',
        values: { [prices[0]!]: '401.25' },
      });
      await expect.poll(() => element(t.slack.views.get(view.id)!, prices[0]!)?.initial_value).toBe('401.25');
      const market = await choose('market');
      expect(inputActionIds(market)).not.toContain(prices[0]);
      const stopLimit = await choose('stop_limit');
      expect(inputActionIds(stopLimit)).toEqual(expect.arrayContaining(prices));
      expect(inputActionIds(stopLimit)).not.toContain(extended);
      expect(element(stopLimit, prices[0]!)?.initial_value).toBe('401.25');
      expect(element(stopLimit, TRADE_FIELDS.quantity.actionId)?.initial_value).toBe('7');
      expect(element(stopLimit, SYMBOL_ACTION_ID)?.initial_option?.value).toBe('MSFT');

      // Errors still land next to the field: a stop limit without its stop price.
      const ack = await t.slack.submitView({ viewId: view.id, values: {} });
      expect(ack.ackPayload).toMatchObject({ response_action: 'errors', errors: { stop_price: expect.any(String) } });
      const placed = await t.slack.submitView({ viewId: view.id, values: { [prices[1]!]: '402' } });
      expect(placed.ackPayload).toBeUndefined();
      const order = await expect
        .poll(() => t.alpaca.orders().find((o) => o.client_order_id === `oms-${view.id}`))
        .toBeDefined()
        .then(() => t.alpaca.orders().find((o) => o.client_order_id === `oms-${view.id}`)!);
      expect(order).toMatchObject({
        symbol: 'MSFT',
        qty: '7',
        type: 'stop_limit',
        limit_price: '401.25',
        stop_price: '402',
      });
    });

    it('two quick type changes: the newer wins even when the older redraw lands first', async () => {
      const view = await openOrderForm(t, 'buy 3 msft');
      await expect.poll(() => t.slack.views.get(view.id)!.history.length).toBeGreaterThan(1);
      const [limitPrice, stopPrice] = [TRADE_FIELDS.limit_price.actionId, TRADE_FIELDS.stop_price.actionId];
      const versions = t.slack.views.get(view.id)!.history.length;
      const change = (type: string, deliverAfter?: Promise<unknown>) =>
        t.slack.blockAction({ viewId: view.id, actionId: ORDER_TYPE_ACTION_ID, selectedOption: type, deliverAfter });

      // Both changes leave Slack with the form's hash as it is now; "Stop" reaches the app once "Limit" redrew it.
      const limit = change('limit');
      const limitRedrawn = expect
        .poll(() => t.slack.views.get(view.id)!.history.length, { timeout: 5000 })
        .toBeGreaterThan(versions);
      await Promise.all([limit, change('stop', limitRedrawn)]);

      await expect.poll(() => inputActionIds(t.slack.views.get(view.id)!), { timeout: 5000 }).toContain(stopPrice);
      const form = t.slack.views.get(view.id)!;
      expect(inputActionIds(form)).not.toContain(limitPrice);
      expect(element(form, ORDER_TYPE_ACTION_ID)?.initial_option?.value).toBe('stop');
      const updates = t.slack.callsTo('views.update').filter((c) => c.args.view_id === view.id);
      expect(updates.some((c) => c.response.error === 'hash_conflict')).toBe(true);
    });

    it('a type change that reaches the app after a newer one does not draw over it', async () => {
      const view = await openOrderForm(t, 'buy 3 msft');
      await expect.poll(() => t.slack.views.get(view.id)!.history.length).toBeGreaterThan(1);
      const [limitPrice, stopPrice] = [TRADE_FIELDS.limit_price.actionId, TRADE_FIELDS.stop_price.actionId];
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const change = (type: string, deliverAfter?: Promise<unknown>) =>
        t.slack.blockAction({ viewId: view.id, actionId: ORDER_TYPE_ACTION_ID, selectedOption: type, deliverAfter });

      const limit = change('limit', held);
      await change('stop');
      await expect.poll(() => inputActionIds(t.slack.views.get(view.id)!), { timeout: 5000 }).toContain(stopPrice);
      const versions = t.slack.views.get(view.id)!.history.length;
      release();
      await limit;
      // Time for the older change's redraw (its context budget is 700 ms) to land, were it not dropped.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const form = t.slack.views.get(view.id)!;
      expect(form.history.length).toBe(versions);
      expect(inputActionIds(form)).not.toContain(limitPrice);
    });

    it('"Trade again" on a filled order opens the form filled in from it', async () => {
      const { clientOrderId } = await placeOrder(t, {
        portfolio: 'Again',
        symbol: 'AAPL',
        side: 'buy',
        quantity: '4',
        type: 'limit',
        limitPrice: '190.00',
        timeInForce: 'gtc',
      });
      const filled = await waitForConfirmation(t, clientOrderId, (m) => /Filled 4 AAPL/.test(messageText(m)));
      const opensBefore = t.slack.callsTo('views.open').length;
      const click = await t.slack.blockAction({
        userId: DEFAULT_USER_ID,
        channelId: DEFAULT_CHANNEL_ID,
        messageTs: filled.ts,
        actionId: 'trade_again',
      });
      expect(click.ackMs).toBeLessThan(3000);
      await expect.poll(() => t.slack.callsTo('views.open').length).toBeGreaterThan(opensBefore);
      const opened = t.slack.callsTo('views.open').at(-1)!;
      expect(opened.response).toMatchObject({ ok: true });
      const form = t.slack.views.get((opened.response as Json).view.id)!;
      expect(element(form, SYMBOL_ACTION_ID)?.initial_option?.value).toBe('AAPL');
      expect(element(form, TRADE_FIELDS.quantity.actionId)?.initial_value).toBe('4');
      expect(element(form, TRADE_FIELDS.limit_price.actionId)?.initial_value).toBe('190');
      expect(element(form, TRADE_FIELDS.order_type.actionId)?.initial_option?.value).toBe('limit');
      expect(element(form, TRADE_FIELDS.time_in_force.actionId)?.initial_option?.value).toBe('gtc');
      expect(element(form, TRADE_FIELDS.portfolio.actionId)?.initial_value ?? '').toBe('');
      expect(JSON.stringify(form.view.blocks)).toContain('"Again"');
      const again = await t.slack.submitView({ viewId: form.id, values: {} });
      expect(again.ackPayload).toBeUndefined();
      const second = await waitForConfirmation(t, `oms-${form.id}`, (m) => /Filled 4 AAPL/.test(messageText(m)));
      expect(messageText(second)).toContain('Again');
    });

    it('the Home tab lists the last five distinct orders as one-click prefilled forms', async () => {
      const user = 'U0REPEATER';
      const orders = [
        { symbol: 'AAPL', quantity: '1' },
        { symbol: 'AAPL', quantity: '1' }, // the same order again: listed once
        { symbol: 'MSFT', quantity: '2' },
        { symbol: 'MSFT', amount: '150' },
        { symbol: 'AAPL', quantity: '1', portfolio: 'Second book' },
        { symbol: 'AAPL', side: 'sell' as const, quantity: '1' },
        { symbol: 'MSFT', quantity: '3' },
      ];
      for (const fields of orders) {
        const { clientOrderId } = await placeOrder(t, fields, user);
        await waitForConfirmation(t, clientOrderId, (m) => /Filled/.test(messageText(m)));
      }
      const before = t.slack.callsTo('views.publish').length;
      await t.slack.appHomeOpened(user);
      await expect.poll(() => t.slack.callsTo('views.publish').length).toBeGreaterThan(before);
      const home = t.slack.homeView(user)!;
      const buttons = (home.view.blocks as Json[])
        .filter((b) => b.type === 'actions')
        .flatMap((b) => b.elements as Json[])
        .filter((e) => String(e.action_id).startsWith('trade_again'));
      expect(buttons.map((b) => b.text.text)).toEqual([
        'Buy 3 MSFT · market · day · Default Portfolio',
        'Sell 1 AAPL · market · day · Default Portfolio',
        'Buy 1 AAPL · market · day · Second book',
        'Buy $150.00 of MSFT · market · day · Default Portfolio',
        'Buy 2 MSFT · market · day · Default Portfolio',
      ]);
      const opensBefore = t.slack.callsTo('views.open').length;
      await t.slack.blockAction({ viewId: home.id, userId: user, actionId: buttons[3]!.action_id });
      await expect.poll(() => t.slack.callsTo('views.open').length).toBeGreaterThan(opensBefore);
      const form = t.slack.views.get((t.slack.callsTo('views.open').at(-1)!.response as Json).view.id)!;
      expect(element(form, SYMBOL_ACTION_ID)?.initial_option?.value).toBe('MSFT');
      expect(element(form, TRADE_FIELDS.amount.actionId)?.initial_value).toBe('150');
      expect(element(form, TRADE_FIELDS.quantity.actionId)?.initial_value).toBeUndefined();
    });
  });
}

describe('symbol type-ahead before the asset list has loaded', () => {
  let alpaca: AlpacaStandIn;
  let t: LaunchedApp;
  let db: TestDatabase;

  beforeAll(async () => {
    alpaca = await startAlpacaStandIn({ marketOpen: true });
    // Alpaca never answers the asset list: the index stays empty, single lookups still work.
    alpaca.inject({ method: 'GET', path: /^\/v2\/assets$/, status: 500, times: 1_000 });
    db = await testDatabaseTargets()[0]!.create();
    t = await launchApp({ database: db.target, alpaca });
  });
  afterAll(async () => {
    await t?.stop();
    await alpaca?.close();
    await db?.drop();
  });

  it('offers the typed text so nobody is blocked, and validates it on submit', async () => {
    const view = await openOrderForm(t);
    const typed = await t.slack.blockSuggestion({ viewId: view.id, actionId: SYMBOL_ACTION_ID, value: 'aapl' });
    expect(options(typed)).toEqual([{ text: expect.objectContaining({ text: 'Use “aapl” as typed' }), value: 'aapl' }]);
    const ack = await t.slack.submitView({ viewId: view.id, values: formValues({ symbol: 'aapl', quantity: '1' }) });
    expect(ack.ackPayload).toBeUndefined();
    await waitForConfirmation(t, `oms-${view.id}`, (m) => /Filled 1 AAPL/.test(messageText(m)));

    const unknown = await openOrderForm(t);
    const refused = await t.slack.submitView({
      viewId: unknown.id,
      values: formValues({ symbol: 'ZZZZ', quantity: '1' }),
    });
    expect(refused.ackPayload).toMatchObject({
      response_action: 'errors',
      errors: { symbol: expect.stringContaining('ZZZZ') },
    });
  });
});

describe('symbol type-ahead in ledger-only mode', () => {
  let t: LaunchedApp;
  let db: TestDatabase;

  beforeAll(async () => {
    db = await testDatabaseTargets()[0]!.create();
    t = await launchApp({ database: db.target, useAlpaca: false });
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('has no asset list, so the typed ticker is the option, recorded at the GMV given', async () => {
    const view = await openOrderForm(t);
    const typed = await t.slack.blockSuggestion({ viewId: view.id, actionId: SYMBOL_ACTION_ID, value: 'NVDA' });
    expect(values(typed)).toEqual(['NVDA']);
    const ack = await t.slack.submitView({
      viewId: view.id,
      values: formValues({ symbol: 'NVDA', quantity: '2', gmv: '250' }),
    });
    expect(ack.ackPayload).toBeUndefined();
    await waitForConfirmation(t, `oms-${view.id}`, (m) => /Recorded Buy 2 NVDA/.test(messageText(m)));
  });
});
