import { expect } from 'vitest';
import type { OrderFormInput } from '../../src/domain/order-form';
import { pricingFieldsFor } from '../../src/domain/order-prefill';
import { TRADE_FIELDS } from '../../src/slack/trade/order-modal';
import type { LaunchedApp } from './launch';
import { DEFAULT_CHANNEL_ID, DEFAULT_USER_ID, type StoredMessage, type StoredView } from './slack-standin';

/** The order form as the services read it: a day market buy of 1 AAPL unless `overrides` say otherwise. */
export function orderFormInput(overrides: Partial<OrderFormInput> = {}): OrderFormInput {
  return {
    portfolio: '',
    symbol: 'AAPL',
    side: 'buy',
    quantity: '1',
    amount: '',
    orderType: 'market',
    limitPrice: '',
    stopPrice: '',
    timeInForce: 'day',
    extendedHours: false,
    gmv: '',
    ...overrides,
  };
}

/** The order form as a trader fills it; blank fields are sent empty, like Slack does. */
export interface OrderFields {
  portfolio?: string;
  symbol?: string;
  side?: 'buy' | 'sell';
  quantity?: string;
  amount?: string;
  type?: 'market' | 'limit' | 'stop' | 'stop_limit';
  limitPrice?: string;
  stopPrice?: string;
  timeInForce?: 'day' | 'gtc';
  extendedHours?: boolean;
  gmv?: string;
}

/**
 * The form's inputs for `f`, by action_id — only the fields the form shows for its order type and
 * time in force (see showOrderType to get there). The symbol is an external select: the stand-in
 * types it and picks the suggestion with that value; a blank symbol leaves the select empty.
 */
export function formValues(f: OrderFields): Record<string, string | string[] | null> {
  const shown = pricingFieldsFor(f.type, f.timeInForce);
  return {
    [TRADE_FIELDS.portfolio.actionId]: f.portfolio ?? '',
    [TRADE_FIELDS.symbol.actionId]: f.symbol ? f.symbol : null,
    [TRADE_FIELDS.side.actionId]: f.side ?? 'buy',
    [TRADE_FIELDS.quantity.actionId]: f.quantity ?? '',
    [TRADE_FIELDS.amount.actionId]: f.amount ?? '',
    [TRADE_FIELDS.order_type.actionId]: f.type ?? 'market',
    ...(shown.limitPrice ? { [TRADE_FIELDS.limit_price.actionId]: f.limitPrice ?? '' } : {}),
    ...(shown.stopPrice ? { [TRADE_FIELDS.stop_price.actionId]: f.stopPrice ?? '' } : {}),
    [TRADE_FIELDS.time_in_force.actionId]: f.timeInForce ?? 'day',
    ...(shown.extendedHours
      ? { [TRADE_FIELDS.extended_hours.actionId]: f.extendedHours ? ['extended_hours'] : [] }
      : {}),
    [TRADE_FIELDS.gmv.actionId]: f.gmv ?? '',
  };
}

function shownActionIds(view: StoredView): Set<string> {
  const ids = new Set<string>();
  for (const block of (view.view.blocks ?? []) as { type: string; element?: { action_id?: string } }[]) {
    if (block.type === 'input' && block.element?.action_id) ids.add(block.element.action_id);
  }
  return ids;
}

/**
 * Chooses the order type and time in force as a trader does (each change redraws the form) and
 * waits until the form shows the fields `f` fills in.
 */
export async function showOrderType(t: LaunchedApp, view: StoredView, f: OrderFields, userId = DEFAULT_USER_ID) {
  const wanted = Object.keys(formValues(f));
  const byType = [TRADE_FIELDS.limit_price, TRADE_FIELDS.stop_price, TRADE_FIELDS.extended_hours].map(
    (x) => x.actionId,
  );
  const ready = () => {
    const shown = shownActionIds(t.slack.views.get(view.id)!);
    return byType.every((id) => shown.has(id) === wanted.includes(id));
  };
  if (ready()) return;
  const choices: [string, string][] = [
    [TRADE_FIELDS.order_type.actionId, f.type ?? 'market'],
    [TRADE_FIELDS.time_in_force.actionId, f.timeInForce ?? 'day'],
  ];
  // One change at a time: each redraw carries the view's hash, so a second change sent before the
  // first redraw lands would be refused, as Slack refuses it.
  for (const [actionId, value] of choices) {
    if (ready()) return;
    const versions = t.slack.views.get(view.id)!.history.length;
    await t.slack.blockAction({ viewId: view.id, userId, actionId, selectedOption: value });
    await expect
      .poll(() => t.slack.views.get(view.id)!.history.length, { timeout: 5000, interval: 20 })
      .toBeGreaterThan(versions);
  }
  await expect.poll(ready, { timeout: 5000, interval: 20 }).toBe(true);
}

/** `/trade <text>` and the modal it opens. */
export async function openOrderForm(t: LaunchedApp, text = '', userId = DEFAULT_USER_ID): Promise<StoredView> {
  const before = t.slack.callsTo('views.open').length;
  const command = await t.slack.slashCommand({ command: '/trade', text, userId });
  expect(command.ackMs).toBeLessThan(3000);
  await expect.poll(() => t.slack.callsTo('views.open').length, { timeout: 5000 }).toBeGreaterThan(before);
  const call = t.slack.callsTo('views.open').at(-1)!;
  expect(call.response).toMatchObject({ ok: true });
  const viewId = (call.response as { view: { id: string } }).view.id;
  return t.slack.views.get(viewId)!;
}

/** Opens the form, fills it in and submits; returns the submission's ack. */
/** A message as text to search: its fallback text and its blocks. */
export function messageText(m: { text?: string; blocks?: unknown }): string {
  return `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;
}

export async function placeOrder(t: LaunchedApp, fields: OrderFields, userId = DEFAULT_USER_ID) {
  const view = await openOrderForm(t, '', userId);
  await showOrderType(t, view, fields, userId);
  const ack = await t.slack.submitView({ viewId: view.id, userId, values: formValues(fields) });
  return { view, ack, clientOrderId: `oms-${view.id}` };
}

/** Waits until the order's confirmation message (found by its client order id) satisfies `predicate`. */
export async function waitForConfirmation(
  t: LaunchedApp,
  clientOrderId: string,
  predicate: (m: StoredMessage) => boolean = () => true,
  channel = DEFAULT_CHANNEL_ID,
  timeoutMs = 10_000,
): Promise<StoredMessage> {
  let found: StoredMessage | undefined;
  await expect
    .poll(
      () => {
        found = t.slack.messages(channel).find((m) => JSON.stringify(m.blocks ?? []).includes(clientOrderId));
        return found !== undefined && predicate(found);
      },
      { timeout: timeoutMs, interval: 50 },
    )
    .toBe(true);
  return found!;
}
