import type {
  ExternalSelect,
  InputBlock,
  KnownBlock,
  ModalView,
  PlainTextInput,
  PlainTextOption,
} from '@slack/web-api';
import type { BrokerAsset, Snapshot } from '../../domain/market';
import type { MarketDescription } from '../../domain/market-hours';
import { type Dec, formatUsd } from '../../domain/money';
import type { OrderType, Side, TimeInForce } from '../../domain/order';
import { MAX_PORTFOLIO_NAME_LENGTH, type OrderField, type OrderFormInput } from '../../domain/order-form';
import { pricingFieldsFor } from '../../domain/order-prefill';
import { normalizePortfolioName, portfolioNameKey } from '../../domain/portfolio-name';
import type { OrderPrefill } from '../../domain/trade-command';
import { formatBidAsk, formatPrice, ORDER_TYPE_LABELS, SIDE_LABELS, TIME_IN_FORCE_LABELS } from '../block-kit/format';
import { inputBlock, modalView, option, selectablePortfolios, staticSelect, textField } from '../block-kit/inputs';
import {
  contextBlock,
  MAX_OPTION_TEXT,
  MAX_OPTION_VALUE,
  MAX_PRIVATE_METADATA,
  MAX_SECTION_TEXT,
  MAX_STATIC_SELECT_OPTIONS,
  mrkdwn,
  plainText,
  sectionBlock,
  sectionField,
  truncate,
  userMrkdwn,
} from '../block-kit/limits';
import { marketContext } from './trade-messages';

/**
 * The /trade order modal. Portfolio is chosen with a static select of existing names (the
 * default first, at most 100) plus an optional text input for any other or new name; a typed
 * name wins (see readTradeForm). The text input carries the `portfolio` block_id so that name
 * errors appear where the name was typed.
 */

export const TRADE_MODAL_CALLBACK_ID = 'trade_modal';

export const TRADE_FIELDS = {
  portfolio: { blockId: 'portfolio', actionId: 'portfolio_name' },
  symbol: { blockId: 'symbol', actionId: 'symbol_input' },
  side: { blockId: 'side', actionId: 'side_choice' },
  quantity: { blockId: 'quantity', actionId: 'quantity_input' },
  amount: { blockId: 'amount', actionId: 'amount_input' },
  order_type: { blockId: 'order_type', actionId: 'order_type_choice' },
  limit_price: { blockId: 'limit_price', actionId: 'limit_price_input' },
  stop_price: { blockId: 'stop_price', actionId: 'stop_price_input' },
  time_in_force: { blockId: 'time_in_force', actionId: 'time_in_force_choice' },
  extended_hours: { blockId: 'extended_hours', actionId: 'extended_hours_choice' },
  gmv: { blockId: 'gmv', actionId: 'gmv_input' },
} as const satisfies Record<OrderField, { blockId: OrderField; actionId: string }>;

/** The select of existing portfolios; a name typed in TRADE_FIELDS.portfolio takes precedence. */
export const PORTFOLIO_CHOICE = { blockId: 'portfolio_choice', actionId: 'portfolio_choice' } as const;

/**
 * The symbol field is an external select: typing sends block_suggestion payloads with this
 * action_id (answered with options), and choosing one sends block_actions (look up the asset, then
 * views.update).
 */
export const SYMBOL_ACTION_ID = TRADE_FIELDS.symbol.actionId;

/** Changing the order type or the time in force redraws the form with the fields that type needs. */
export const ORDER_TYPE_ACTION_ID = TRADE_FIELDS.order_type.actionId;
export const TIME_IN_FORCE_ACTION_ID = TRADE_FIELDS.time_in_force.actionId;

/** Suggestions start with the first character typed (Slack's default waits for three). */
const SYMBOL_MIN_QUERY_LENGTH = 1;

export interface TradeModalContext {
  asset?: BrokerAsset;
  snapshot?: Snapshot;
  buyingPower?: Dec;
  estimatedCost?: Dec;
  market: MarketDescription;
  /** E.g. "We couldn’t find a stock with the symbol XYZ." after a symbol lookup. */
  symbolError?: string;
}

export interface TradeModalState {
  prefill: OrderPrefill;
  /** Existing portfolio names. */
  portfolios: readonly string[];
  defaultPortfolio: string;
  context?: TradeModalContext;
  ledgerOnly: boolean;
  /** Kept verbatim; must fit Slack's 3,000 characters (keep ids in it, not data). */
  privateMetadata: string;
}

const SYMBOL_MAX_LENGTH = 20;
const NUMBER_MAX_LENGTH = 30;
const USER_TEXT_IN_CONTEXT = 200;

const SIDE_OPTIONS: Record<Side, PlainTextOption> = {
  buy: option(SIDE_LABELS.buy, 'buy'),
  sell: option(SIDE_LABELS.sell, 'sell'),
};
const ORDER_TYPE_OPTIONS: Record<OrderType, PlainTextOption> = {
  market: option(ORDER_TYPE_LABELS.market, 'market'),
  limit: option(ORDER_TYPE_LABELS.limit, 'limit'),
  stop: option(ORDER_TYPE_LABELS.stop, 'stop'),
  stop_limit: option(ORDER_TYPE_LABELS.stop_limit, 'stop_limit'),
};
const TIME_IN_FORCE_OPTIONS: Record<TimeInForce, PlainTextOption> = {
  day: option(TIME_IN_FORCE_LABELS.day, 'day'),
  gtc: option(TIME_IN_FORCE_LABELS.gtc, 'gtc'),
};
const EXTENDED_HOURS_OPTION = option(
  'Allow pre-/after-market trading',
  'extended_hours',
  'Limit orders for the day only',
);

function input(
  field: OrderField,
  label: string,
  element: InputBlock['element'],
  options: { hint?: string; optional?: boolean; dispatchAction?: boolean } = {},
): InputBlock {
  return inputBlock(TRADE_FIELDS[field].blockId, label, element, { ...options, optional: options.optional ?? false });
}

function textInput(
  field: OrderField,
  placeholder: string,
  maxLength: number,
  initial: string | undefined,
): PlainTextInput {
  return textField(TRADE_FIELDS[field].actionId, { placeholder, maxLength, initial });
}

/** The optional number fields: a size (shares or dollars) and the prices an order type needs. */
const NUMBER_FIELDS = {
  quantity: {
    label: 'Quantity (shares)',
    example: 'e.g. 10 or 2.5',
    hint: 'Enter a quantity or a dollar amount below, not both.',
  },
  amount: {
    label: 'Dollar amount',
    example: 'e.g. 500 or $1,250.50',
    hint: 'Trade this many dollars’ worth instead of a share count (market orders for the day only).',
  },
  limit_price: {
    label: 'Limit price',
    example: 'e.g. 189.50',
    hint: 'The most to pay on a buy, the least to take on a sell.',
  },
  stop_price: { label: 'Stop price', example: 'e.g. 180', hint: 'The price that triggers the order.' },
} as const;

function numberInput(field: keyof typeof NUMBER_FIELDS, initial: string | undefined): InputBlock {
  const { label, example, hint } = NUMBER_FIELDS[field];
  return input(field, label, textInput(field, example, NUMBER_MAX_LENGTH, initial), { optional: true, hint });
}

function portfolioBlocks(state: TradeModalState): KnownBlock[] {
  // Names the select leaves out (too long, or past 100) can still be typed in the text input.
  const { names, unlisted } = selectablePortfolios(state.defaultPortfolio, state.portfolios);
  // "pf:growth" means the existing "Growth": use the stored spelling, so no near-duplicate portfolio is created.
  const typedName = normalizePortfolioName(state.prefill.portfolio ?? '');
  const known = [state.defaultPortfolio, ...state.portfolios];
  const wanted =
    typedName === ''
      ? state.defaultPortfolio
      : (known.find((name) => name === typedName) ??
        known.find((name) => portfolioNameKey(name) === portfolioNameKey(typedName)) ??
        typedName);
  const typedInitially = names.includes(wanted) ? undefined : wanted;
  const blocks: KnownBlock[] = [];
  const first = names[0];
  if (first !== undefined) {
    const initial = typedInitially === undefined ? wanted : first;
    const portfolioOption = (name: string) => option(name, name);
    const select = staticSelect(PORTFOLIO_CHOICE.actionId, names.map(portfolioOption), portfolioOption(initial));
    const notListed = `${unlisted} more portfolio${unlisted === 1 ? '' : 's'} not listed: type the name below.`;
    blocks.push(inputBlock(PORTFOLIO_CHOICE.blockId, 'Portfolio', select, unlisted > 0 ? { hint: notListed } : {}));
  }
  // Without a select (no name fits an option) the text input is the only way to name the portfolio.
  const listed = first !== undefined;
  const typed = textInput(
    'portfolio',
    listed ? 'Another or a new portfolio' : 'Portfolio name',
    MAX_PORTFOLIO_NAME_LENGTH,
    typedInitially,
  );
  blocks.push(
    input('portfolio', listed ? '…or type a portfolio name' : 'Portfolio', typed, {
      optional: listed,
      hint: 'A name that doesn’t exist yet creates a new portfolio.',
    }),
  );
  return blocks;
}

/** "AAPL — Apple Inc. Common Stock", the name cut to fit Slack's 75 characters; the value is the ticker. */
export function symbolOption(symbol: string, name?: string): PlainTextOption {
  const ticker = truncate(symbol, 20);
  const label = name && name.trim() !== '' && name !== symbol ? `${ticker} — ${name.trim()}` : ticker;
  return {
    text: plainText(truncate(label, MAX_OPTION_TEXT), MAX_OPTION_TEXT),
    value: truncate(symbol, MAX_OPTION_VALUE),
  };
}

/** What the trader typed, offered as is (validated on submit) when no listed ticker matches it exactly. */
export function typedSymbolOption(typed: string): PlainTextOption {
  const text = typed.trim().slice(0, SYMBOL_MAX_LENGTH);
  return { text: plainText(`Use “${text}” as typed`, MAX_OPTION_TEXT), value: text };
}

export interface SymbolOptionsModel {
  typed: string;
  matches: readonly { symbol: string; name: string }[];
  /** False when the typed text is exactly a listed ticker (then it needs no "as typed" option). */
  offerTyped: boolean;
}

/** The answer to a block_suggestion: matches in ranked order, then the typed text, at most Slack's 100 options. */
export function buildSymbolOptions(model: SymbolOptionsModel): { options: PlainTextOption[] } {
  const typed = model.typed.trim();
  const keepTyped = model.offerTyped && typed !== '';
  const room = MAX_STATIC_SELECT_OPTIONS - (keepTyped ? 1 : 0);
  const options = model.matches.slice(0, room).map((m) => symbolOption(m.symbol, m.name));
  if (keepTyped && !options.some((o) => o.value === typedSymbolOption(typed).value)) {
    options.push(typedSymbolOption(typed));
  }
  return { options };
}

function marketBlock(market: MarketDescription, ledgerOnly: boolean): KnownBlock {
  // In ledger-only mode nothing queues for the open, so the closed market is only mentioned.
  if (market.open || ledgerOnly) return marketContext(market);
  return sectionBlock(
    `:crescent_moon: *${market.headline}.* A market order will queue until the open; ` +
      'use a limit order with extended hours to trade pre-/after-market.',
  );
}

function assetBlocks(context: TradeModalContext): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  if (context.symbolError !== undefined) {
    blocks.push(sectionBlock(`:warning: ${userMrkdwn(context.symbolError, 500)}`));
  }
  const { asset, snapshot } = context;
  if (asset === undefined) return blocks;
  const notes: string[] = [];
  if (!asset.tradable || asset.status !== 'active') notes.push('not tradable on Alpaca');
  if (!asset.fractionable) notes.push('whole shares only');
  const name = `*${userMrkdwn(asset.name || asset.symbol, USER_TEXT_IN_CONTEXT)}* (${userMrkdwn(asset.symbol, 20)})`;
  const exchange = asset.exchange ? ` · ${userMrkdwn(asset.exchange, 20)}` : '';
  const heading = `${name}${exchange}${notes.length > 0 ? ` — ${notes.join(', ')}` : ''}`;
  const fields: [string, string][] = [];
  fields.push([
    'Last price',
    snapshot?.lastPrice !== undefined ? formatPrice(snapshot.lastPrice) : 'no quote available',
  ]);
  const bidAsk = formatBidAsk(snapshot?.bid, snapshot?.ask);
  if (bidAsk !== undefined) fields.push(['Bid / ask', bidAsk]);
  if (context.estimatedCost !== undefined) fields.push(['Estimated cost', formatUsd(context.estimatedCost)]);
  if (context.buyingPower !== undefined) fields.push(['Buying power', formatUsd(context.buyingPower)]);
  blocks.push({
    type: 'section',
    text: mrkdwn(heading, MAX_SECTION_TEXT),
    fields: fields.map(([label, value]) => sectionField(label, value)),
  });
  return blocks;
}

export function buildTradeModal(state: TradeModalState): ModalView {
  if (state.privateMetadata.length > MAX_PRIVATE_METADATA) {
    throw new RangeError(
      `private_metadata is ${state.privateMetadata.length} characters; Slack allows ${MAX_PRIVATE_METADATA}.`,
    );
  }
  const { prefill, context, ledgerOnly } = state;
  const blocks: KnownBlock[] = [];
  if (ledgerOnly) {
    const note =
      ':ledger: *Ledger-only mode:* nothing is sent to Alpaca. The trade is recorded as filled at the GMV you enter.';
    blocks.push(contextBlock(note));
  }
  if (context !== undefined) blocks.push(marketBlock(context.market, ledgerOnly));
  blocks.push(...portfolioBlocks(state));
  const symbolElement: ExternalSelect = {
    type: 'external_select',
    action_id: TRADE_FIELDS.symbol.actionId,
    placeholder: plainText('Type a ticker or a company name', 150),
    min_query_length: SYMBOL_MIN_QUERY_LENGTH,
  };
  if (prefill.symbol) {
    const name = context?.asset?.symbol === prefill.symbol ? context.asset.name : undefined;
    symbolElement.initial_option = symbolOption(prefill.symbol, name);
  }
  blocks.push(
    input('symbol', 'Symbol', symbolElement, {
      dispatchAction: true,
      hint: 'Choose a stock to see its price and the estimated cost.',
    }),
  );
  if (context !== undefined) blocks.push(...assetBlocks(context));

  const sideElement: InputBlock['element'] = {
    type: 'radio_buttons',
    action_id: TRADE_FIELDS.side.actionId,
    options: [SIDE_OPTIONS.buy, SIDE_OPTIONS.sell],
  };
  if (prefill.side !== undefined) sideElement.initial_option = SIDE_OPTIONS[prefill.side];
  blocks.push(input('side', 'Side', sideElement));

  // Only the fields the chosen type needs; a change of type or time in force redraws the form.
  const shown = pricingFieldsFor(prefill.type, prefill.timeInForce);
  const orderType = ORDER_TYPE_OPTIONS[prefill.type ?? 'market'];
  const orderTypes = staticSelect(TRADE_FIELDS.order_type.actionId, Object.values(ORDER_TYPE_OPTIONS), orderType);
  blocks.push(
    numberInput('quantity', prefill.quantity),
    numberInput('amount', prefill.amount),
    input('order_type', 'Order type', orderTypes, { dispatchAction: true }),
  );
  if (shown.limitPrice) blocks.push(numberInput('limit_price', prefill.limitPrice));
  if (shown.stopPrice) blocks.push(numberInput('stop_price', prefill.stopPrice));
  blocks.push(
    input(
      'time_in_force',
      'Time in force',
      {
        type: 'radio_buttons',
        action_id: TRADE_FIELDS.time_in_force.actionId,
        options: [TIME_IN_FORCE_OPTIONS.day, TIME_IN_FORCE_OPTIONS.gtc],
        initial_option: TIME_IN_FORCE_OPTIONS[prefill.timeInForce ?? 'day'],
      },
      { dispatchAction: true },
    ),
  );

  if (shown.extendedHours) {
    const extendedElement: InputBlock['element'] = {
      type: 'checkboxes',
      action_id: TRADE_FIELDS.extended_hours.actionId,
      options: [EXTENDED_HOURS_OPTION],
    };
    if (prefill.extendedHours) extendedElement.initial_options = [EXTENDED_HOURS_OPTION];
    blocks.push(input('extended_hours', 'Extended hours', extendedElement, { optional: true }));
  }

  blocks.push(
    input(
      'gmv',
      ledgerOnly ? 'GMV (required)' : 'GMV (optional)',
      textInput('gmv', 'e.g. 1,894.20', NUMBER_MAX_LENGTH, undefined),
      {
        optional: !ledgerOnly,
        hint: ledgerOnly
          ? 'The trade’s total value in dollars; it is recorded as the fill.'
          : 'Gross market value to record with the trade; leave empty to use the fill.',
      },
    ),
  );

  return modalView({
    callbackId: TRADE_MODAL_CALLBACK_ID,
    title: 'New order',
    submit: 'Place order',
    close: 'Cancel',
    privateMetadata: state.privateMetadata,
    blocks,
  });
}

/** One submitted value as Slack reports it in `view.state.values` (Bolt's ViewStateValue fits). */
export interface SubmittedValue {
  value?: string | null;
  selected_option?: { value: string } | null;
  selected_options?: { value: string }[];
}

/**
 * Reads a submitted trade modal into the validator's input; a typed portfolio name wins over the
 * select. A field the form does not show is absent from the state and reads as blank.
 */
export function readTradeForm(values: Record<string, Record<string, SubmittedValue>>): OrderFormInput {
  const entry = (blockId: string, actionId: string): SubmittedValue | undefined => values[blockId]?.[actionId];
  const field = (name: OrderField) => entry(TRADE_FIELDS[name].blockId, TRADE_FIELDS[name].actionId);
  const text = (name: OrderField) => field(name)?.value ?? '';
  const selected = (name: OrderField) => field(name)?.selected_option?.value ?? '';
  const typedPortfolio = text('portfolio');
  const chosenPortfolio = entry(PORTFOLIO_CHOICE.blockId, PORTFOLIO_CHOICE.actionId)?.selected_option?.value ?? '';
  return {
    portfolio: typedPortfolio.trim() !== '' ? typedPortfolio : chosenPortfolio,
    symbol: selected('symbol'),
    side: selected('side'),
    quantity: text('quantity'),
    amount: text('amount'),
    orderType: selected('order_type'),
    limitPrice: text('limit_price'),
    stopPrice: text('stop_price'),
    timeInForce: selected('time_in_force'),
    extendedHours: (field('extended_hours')?.selected_options?.length ?? 0) > 0,
    gmv: text('gmv'),
  };
}
