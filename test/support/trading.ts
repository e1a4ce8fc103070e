import { expect } from 'vitest';
import { TRADE_FIELDS } from '../../src/slack/trade/order-modal';
import type { LaunchedApp } from './launch';
import { DEFAULT_CHANNEL_ID, DEFAULT_USER_ID, type StoredMessage, type StoredView } from './slack-standin';

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

export function formValues(f: OrderFields): Record<string, string | string[] | null> {
  return {
    [TRADE_FIELDS.portfolio.actionId]: f.portfolio ?? '',
    [TRADE_FIELDS.symbol.actionId]: f.symbol ?? '',
    [TRADE_FIELDS.side.actionId]: f.side ?? 'buy',
    [TRADE_FIELDS.quantity.actionId]: f.quantity ?? '',
    [TRADE_FIELDS.amount.actionId]: f.amount ?? '',
    [TRADE_FIELDS.order_type.actionId]: f.type ?? 'market',
    [TRADE_FIELDS.limit_price.actionId]: f.limitPrice ?? '',
    [TRADE_FIELDS.stop_price.actionId]: f.stopPrice ?? '',
    [TRADE_FIELDS.time_in_force.actionId]: f.timeInForce ?? 'day',
    [TRADE_FIELDS.extended_hours.actionId]: f.extendedHours ? ['extended_hours'] : [],
    [TRADE_FIELDS.gmv.actionId]: f.gmv ?? '',
  };
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
