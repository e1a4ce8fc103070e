import type { OrderType, Side, TimeInForce } from '../../domain/order';
import type { OrderFormInput } from '../../domain/order-form';
import { pricingFieldsFor } from '../../domain/order-prefill';
import type { OrderPrefill } from '../../domain/trade-command';
import { readTradeForm, type SubmittedValue, TRADE_FIELDS } from './order-modal';

/**
 * What the order form keeps between redraws. Slack keeps what was typed in an input only while the
 * block stays in the view, so the values of fields the chosen order type hides (a limit price
 * while "Market" is chosen) ride in private_metadata and come back when the field does.
 */

interface HiddenValues {
  limitPrice?: string;
  stopPrice?: string;
  extendedHours?: boolean;
}

export interface TradeModalMetadata {
  /** Where the confirmation is posted. */
  channelId?: string;
  hidden: HiddenValues;
}

/** Private metadata for a form drawn from `prefill`: the channel, and the values of the fields it hides. */
export function tradeModalMetadata(meta: { channelId?: string; prefill?: OrderPrefill }): string {
  const out: { c?: string; l?: string; x?: string; e?: 1 } = {};
  if (meta.channelId) out.c = meta.channelId;
  const prefill = meta.prefill ?? {};
  const shown = pricingFieldsFor(prefill.type, prefill.timeInForce);
  // Cut like the inputs they came from, so the metadata stays far inside Slack's 3,000 characters.
  if (!shown.limitPrice && prefill.limitPrice) out.l = prefill.limitPrice.slice(0, 30);
  if (!shown.stopPrice && prefill.stopPrice) out.x = prefill.stopPrice.slice(0, 30);
  if (!shown.extendedHours && prefill.extendedHours) out.e = 1;
  return JSON.stringify(out);
}

export function readTradeModalMetadata(raw: string | undefined): TradeModalMetadata {
  let parsed: Record<string, unknown>;
  try {
    const value = JSON.parse(raw || '{}') as unknown;
    parsed = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    parsed = {};
  }
  const text = (key: string) => (typeof parsed[key] === 'string' ? (parsed[key] as string) : undefined);
  const hidden: HiddenValues = {};
  if (text('l')) hidden.limitPrice = text('l');
  if (text('x')) hidden.stopPrice = text('x');
  if (parsed.e === 1) hidden.extendedHours = true;
  const channelId = text('c');
  return channelId ? { channelId, hidden } : { hidden };
}

export type StateValues = Record<string, Record<string, SubmittedValue>>;

/**
 * Everything the trader has entered so far: the shown fields from the view's state, the hidden
 * ones from the metadata.
 */
export function prefillFromView(view: { state?: { values: StateValues }; private_metadata?: string }): OrderPrefill {
  const values = view.state?.values ?? {};
  const prefill = prefillFromForm(readTradeForm(values));
  const { hidden } = readTradeModalMetadata(view.private_metadata);
  if (values[TRADE_FIELDS.limit_price.blockId] === undefined && hidden.limitPrice) {
    prefill.limitPrice = hidden.limitPrice;
  }
  if (values[TRADE_FIELDS.stop_price.blockId] === undefined && hidden.stopPrice) prefill.stopPrice = hidden.stopPrice;
  if (values[TRADE_FIELDS.extended_hours.blockId] === undefined && hidden.extendedHours) prefill.extendedHours = true;
  return prefill;
}

/** The form's current values as a prefill, so a re-render keeps what the trader typed. */
export function prefillFromForm(form: OrderFormInput): OrderPrefill {
  const prefill: OrderPrefill = {};
  if (form.symbol.trim()) prefill.symbol = form.symbol.trim();
  if (form.side === 'buy' || form.side === 'sell') prefill.side = form.side as Side;
  if (form.quantity.trim()) prefill.quantity = form.quantity.trim();
  if (form.amount.trim()) prefill.amount = form.amount.trim();
  if (form.orderType) prefill.type = form.orderType as OrderType;
  if (form.limitPrice.trim()) prefill.limitPrice = form.limitPrice.trim();
  if (form.stopPrice.trim()) prefill.stopPrice = form.stopPrice.trim();
  if (form.timeInForce) prefill.timeInForce = form.timeInForce as TimeInForce;
  if (form.extendedHours) prefill.extendedHours = true;
  if (form.portfolio.trim()) prefill.portfolio = form.portfolio.trim();
  return prefill;
}
