import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BrokerAsset, Snapshot } from '../../../src/domain/market';
import { describeMarket } from '../../../src/domain/market-hours';
import { dec } from '../../../src/domain/money';
import { ORDER_FIELDS, validateOrderForm } from '../../../src/domain/order-form';
import { type OrderPrefill, parseTradeCommand } from '../../../src/domain/trade-command';
import {
  buildSymbolOptions,
  buildTradeModal,
  PORTFOLIO_CHOICE,
  readTradeForm,
  type SubmittedValue,
  SYMBOL_ACTION_ID,
  symbolOption,
  TRADE_FIELDS,
  TRADE_MODAL_CALLBACK_ID,
  type TradeModalState,
} from '../../../src/slack/trade/order-modal';
import { checkBlockKit } from '../../support/slack/block-kit';

/** Slack refuses a modal of more than 100 blocks. */
const SLACK_MAX_VIEW_BLOCKS = 100;

const AAPL: BrokerAsset = {
  symbol: 'AAPL',
  name: 'Apple Inc. Common Stock',
  exchange: 'NASDAQ',
  tradable: true,
  fractionable: true,
  shortable: true,
  status: 'active',
};
const SNAPSHOT: Snapshot = {
  symbol: 'AAPL',
  lastPrice: dec('189.42'),
  bid: dec('189.40'),
  ask: dec('189.45'),
  prevClose: dec('188.19'),
};
const CLOSED = describeMarket(
  { isOpen: false, nextOpen: new Date('2026-01-12T14:30:00Z'), nextClose: new Date('2026-01-12T21:00:00Z') },
  new Date('2026-01-09T22:00:00Z'),
);
const OPEN = describeMarket(
  { isOpen: true, nextOpen: new Date('2026-01-06T14:30:00Z'), nextClose: new Date('2026-01-05T21:00:00Z') },
  new Date('2026-01-05T15:00:00Z'),
);

function state(overrides: Partial<TradeModalState> = {}): TradeModalState {
  return {
    prefill: {},
    portfolios: ['Default Portfolio', 'Growth'],
    defaultPortfolio: 'Default Portfolio',
    ledgerOnly: false,
    privateMetadata: '{"c":"C1"}',
    ...overrides,
  };
}

type Json = Record<string, any>;
const blocksOf = (view: { blocks: unknown[] }) => view.blocks as Json[];
const blockById = (view: { blocks: unknown[] }, id: string) => blocksOf(view).find((b) => b.block_id === id);
const allText = (view: unknown) => JSON.stringify(view);

function mrkdwnTexts(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(mrkdwnTexts);
  if (typeof node !== 'object' || node === null) return [];
  const record = node as Json;
  const own = record.type === 'mrkdwn' && typeof record.text === 'string' ? [record.text as string] : [];
  return [...own, ...Object.values(record).flatMap(mrkdwnTexts)];
}

describe('buildTradeModal', () => {
  it('is a valid modal with the agreed callback id, title and buttons', () => {
    const view = buildTradeModal(state());
    expect(checkBlockKit('modal', view)).toEqual([]);
    expect(view.callback_id).toBe(TRADE_MODAL_CALLBACK_ID);
    expect(view.title).toMatchObject({ text: 'New order' });
    expect(view.submit).toMatchObject({ text: 'Place order' });
    expect(view.close).toMatchObject({ text: 'Cancel' });
    expect(view.private_metadata).toBe('{"c":"C1"}');
  });

  it('has one input block per order field, with the block and action ids of TRADE_FIELDS', () => {
    // Between them a limit day order and a stop limit order show every field.
    const limit = buildTradeModal(state({ prefill: { type: 'limit' } }));
    const stopLimit = buildTradeModal(state({ prefill: { type: 'stop_limit' } }));
    for (const field of ORDER_FIELDS) {
      const block = blockById(limit, field) ?? blockById(stopLimit, field);
      expect(block, field).toBeDefined();
      expect(block?.type).toBe('input');
      expect(TRADE_FIELDS[field].blockId).toBe(field);
      expect(block?.element.action_id).toBe(TRADE_FIELDS[field].actionId);
    }
    expect(blockById(limit, PORTFOLIO_CHOICE.blockId)?.element.action_id).toBe(PORTFOLIO_CHOICE.actionId);
  });

  it('shows only the fields the order type needs, and redraws on a change of type or time in force', () => {
    const shown = (prefill: OrderPrefill) =>
      ['limit_price', 'stop_price', 'extended_hours'].filter((id) =>
        blockById(buildTradeModal(state({ prefill })), id),
      );
    expect(shown({})).toEqual([]);
    expect(shown({ type: 'market' })).toEqual([]);
    expect(shown({ type: 'limit' })).toEqual(['limit_price', 'extended_hours']);
    expect(shown({ type: 'limit', timeInForce: 'gtc' })).toEqual(['limit_price']);
    expect(shown({ type: 'stop' })).toEqual(['stop_price']);
    expect(shown({ type: 'stop_limit' })).toEqual(['limit_price', 'stop_price']);
    const view = buildTradeModal(state());
    expect(blockById(view, 'order_type')?.dispatch_action).toBe(true);
    expect(blockById(view, 'time_in_force')?.dispatch_action).toBe(true);
  });

  it('asks for symbol suggestions from the first character and dispatches the choice under SYMBOL_ACTION_ID', () => {
    const symbol = blockById(buildTradeModal(state()), 'symbol');
    expect(symbol?.dispatch_action).toBe(true);
    expect(symbol?.element).toMatchObject({
      type: 'external_select',
      action_id: SYMBOL_ACTION_ID,
      min_query_length: 1,
    });
    expect(symbol?.element.initial_option).toBeUndefined();
    const known = blockById(
      buildTradeModal(state({ prefill: { symbol: 'AAPL' }, context: { market: OPEN, asset: AAPL } })),
      'symbol',
    );
    expect(known?.element.initial_option).toEqual(symbolOption('AAPL', 'Apple Inc. Common Stock'));
  });

  it('answers suggestions within Slack’s limits: ranked matches, then the typed text unless it is listed', () => {
    const long = 'Very Long Company Name Holdings Incorporated Class A Common Stock Beneficial Interest';
    expect(symbolOption('AAPL', 'Apple Inc. Common Stock').text.text).toBe('AAPL — Apple Inc. Common Stock');
    const cut = symbolOption('LONG', long).text.text;
    expect(cut.length).toBeLessThanOrEqual(75);
    expect(cut).toMatch(/^LONG — Very Long Company.*…$/);
    const many = Array.from({ length: 150 }, (_, i) => ({ symbol: `S${i}`, name: `Stock ${i}` }));
    const answer = buildSymbolOptions({ typed: 'st', matches: many, offerTyped: true });
    expect(answer.options).toHaveLength(100);
    expect(answer.options.at(-1)).toMatchObject({ value: 'st', text: { text: 'Use “st” as typed' } });
    expect(
      buildSymbolOptions({
        typed: 'AAPL',
        matches: [{ symbol: 'AAPL', name: 'Apple' }],
        offerTyped: false,
      }).options.map((o) => o.value),
    ).toEqual(['AAPL']);
    expect(buildSymbolOptions({ typed: 'zz', matches: [], offerTyped: true }).options.map((o) => o.value)).toEqual([
      'zz',
    ]);
  });

  it(
    'only quantity/amount, prices, extended hours, ' + 'the typed portfolio and (outside ledger mode) GMV are optional',
    () => {
      const optional = (view: { blocks: unknown[] }) =>
        blocksOf(view)
          .filter((b) => b.type === 'input' && b.optional)
          .map((b) => b.block_id)
          .sort();
      expect(optional(buildTradeModal(state()))).toEqual(['amount', 'gmv', 'portfolio', 'quantity']);
      expect(optional(buildTradeModal(state({ prefill: { type: 'limit' } })))).toEqual([
        'amount',
        'extended_hours',
        'gmv',
        'limit_price',
        'portfolio',
        'quantity',
      ]);
      expect(optional(buildTradeModal(state({ prefill: { type: 'stop' } })))).toContain('stop_price');
      const ledger = buildTradeModal(state({ ledgerOnly: true }));
      expect(optional(ledger)).not.toContain('gmv');
      expect(blockById(ledger, 'gmv')?.label.text).toBe('GMV (required)');
      const stopLimit = buildTradeModal(state({ prefill: { type: 'stop_limit' } }));
      expect(blockById(stopLimit, 'limit_price')?.hint.text).toMatch(/The most to pay on a buy/);
      expect(blockById(stopLimit, 'stop_price')?.hint.text).toMatch(/triggers the order/);
    },
  );

  it('fills the form from the parsed command', () => {
    const command = parseTradeCommand('sell 5 msft stop 400 limit 410.50 gtc ext pf:growth');
    if (command.kind !== 'order') throw new Error('expected an order');
    const view = buildTradeModal(state({ prefill: command.prefill }));
    expect(blockById(view, 'symbol')?.element.initial_option.value).toBe('MSFT');
    expect(blockById(view, 'side')?.element.initial_option.value).toBe('sell');
    expect(blockById(view, 'quantity')?.element.initial_value).toBe('5');
    expect(blockById(view, 'order_type')?.element.initial_option.value).toBe('stop_limit');
    expect(blockById(view, 'limit_price')?.element.initial_value).toBe('410.50');
    expect(blockById(view, 'stop_price')?.element.initial_value).toBe('400');
    expect(blockById(view, 'time_in_force')?.element.initial_option.value).toBe('gtc');
    // Extended hours is for limit day orders only: a stop limit GTC form does not show it.
    expect(blockById(view, 'extended_hours')).toBeUndefined();
    const limitDay = buildTradeModal(state({ prefill: { ...command.prefill, type: 'limit', timeInForce: 'day' } }));
    expect(blockById(limitDay, 'extended_hours')?.element.initial_options).toHaveLength(1);
    // "growth" matches the existing "Growth" case-insensitively: selected, not typed as a new name.
    expect(blockById(view, PORTFOLIO_CHOICE.blockId)?.element.initial_option.value).toBe('Growth');
    expect(blockById(view, 'portfolio')?.element.initial_value).toBeUndefined();
    expect(checkBlockKit('modal', view)).toEqual([]);
  });

  it('defaults: the default portfolio selected, market, day; a new portfolio name goes to the text input', () => {
    const plain = buildTradeModal(state());
    expect(blockById(plain, PORTFOLIO_CHOICE.blockId)?.element.initial_option.value).toBe('Default Portfolio');
    expect(blockById(plain, 'order_type')?.element.initial_option.value).toBe('market');
    expect(blockById(plain, 'time_in_force')?.element.initial_option.value).toBe('day');
    expect(blockById(plain, 'side')?.element.initial_option).toBeUndefined();
    const fresh = buildTradeModal(state({ prefill: { portfolio: 'Brand New' } }));
    expect(blockById(fresh, 'portfolio')?.element.initial_value).toBe('Brand New');
  });

  it('a named portfolio that only looks different from an existing one selects it', () => {
    const portfolios = ['Default Portfolio', 'Growth', 'Caf\u00e9', 'Growth Fund'];
    for (const [typed, existing] of [
      ['grow\u200Bth', 'Growth'],
      ['CAFE\u0301', 'Caf\u00e9'],
      ['growth  fund', 'Growth Fund'],
    ]) {
      const view = buildTradeModal(state({ portfolios, prefill: { portfolio: typed } }));
      expect(blockById(view, PORTFOLIO_CHOICE.blockId)?.element.initial_option.value, typed).toBe(existing);
      expect(blockById(view, 'portfolio')?.element.initial_value, typed).toBeUndefined();
    }
    // A new name is offered in the spelling it will be stored in.
    const fresh = buildTradeModal(state({ portfolios, prefill: { portfolio: 'New\u200B  Fund' } }));
    expect(blockById(fresh, 'portfolio')?.element.initial_value).toBe('New Fund');
  });

  it('shows the asset, prices, estimate and buying power once the symbol is known', () => {
    const view = buildTradeModal(
      state({
        prefill: { symbol: 'AAPL' },
        context: {
          asset: AAPL,
          snapshot: SNAPSHOT,
          buyingPower: dec('100000'),
          estimatedCost: dec('1894.2'),
          market: OPEN,
        },
      }),
    );
    expect(checkBlockKit('modal', view)).toEqual([]);
    const text = allText(view);
    expect(text).toContain('*Apple Inc. Common Stock* (AAPL) · NASDAQ');
    expect(text).toContain('*Last price*\\n$189.42');
    expect(text).toContain('*Bid / ask*\\n$189.40 / $189.45');
    expect(text).toContain('*Estimated cost*\\n$1,894.20');
    expect(text).toContain('*Buying power*\\n$100,000.00');
    expect(text).toContain('Market open — closes 16:00 ET');
  });

  it('warns when the market is closed, in words a trader can act on', () => {
    const view = buildTradeModal(state({ context: { market: CLOSED } }));
    const banner = blocksOf(view).find((b) => b.type === 'section' && String(b.text?.text).includes('Market closed'));
    expect(banner?.text.text).toBe(
      ':crescent_moon: *Market closed — opens Mon 09:30 ET.* A market order will queue until the open; ' +
        'use a limit order with extended hours to trade pre-/after-market.',
    );
  });

  it('says when it is ledger-only, and shows a symbol lookup problem', () => {
    const view = buildTradeModal(
      state({
        ledgerOnly: true,
        context: { market: CLOSED, symbolError: 'We couldn’t find a stock with the symbol <ZZZZ>.' },
      }),
    );
    const text = allText(view);
    expect(text).toContain('Ledger-only mode:* nothing is sent to Alpaca');
    expect(text).toContain('We couldn’t find a stock with the symbol &lt;ZZZZ&gt;.');
    expect(text).not.toContain('A market order will queue');
    expect(checkBlockKit('modal', view)).toEqual([]);
  });

  it('lists at most 100 portfolios and says how many more can be typed', () => {
    const portfolios = Array.from({ length: 250 }, (_, i) => `Portfolio ${i}`);
    const view = buildTradeModal(state({ portfolios }));
    const choice = blockById(view, PORTFOLIO_CHOICE.blockId);
    expect(choice?.element.options).toHaveLength(100);
    expect(choice?.element.options[0].value).toBe('Default Portfolio');
    expect(choice?.hint.text).toBe('151 more portfolios not listed: type the name below.');
    expect(checkBlockKit('modal', view)).toEqual([]);
    // An unlisted portfolio named in the command goes to the text input, in its stored spelling.
    const named = buildTradeModal(state({ portfolios, prefill: { portfolio: 'portfolio 200' } }));
    expect(blockById(named, 'portfolio')?.element.initial_value).toBe('Portfolio 200');
    expect(blockById(named, PORTFOLIO_CHOICE.blockId)?.element.initial_option.value).toBe('Default Portfolio');
  });

  it('stays within every limit for 5,000-character names, markup and long prefills', () => {
    const huge = `<!channel> *${'x'.repeat(5000)}* \`code\` ${'😀'.repeat(100)}`;
    const prefill: OrderPrefill = {
      portfolio: huge,
      symbol: 'A'.repeat(500),
      quantity: '9'.repeat(5000),
      amount: '1'.repeat(5000),
      limitPrice: '2'.repeat(5000),
      stopPrice: '3'.repeat(5000),
    };
    const view = buildTradeModal(
      state({
        prefill,
        defaultPortfolio: huge,
        portfolios: [huge, ...Array.from({ length: 150 }, (_, i) => `${huge}${i}`), 'Growth'],
        context: {
          asset: { ...AAPL, name: huge, exchange: huge },
          snapshot: SNAPSHOT,
          market: CLOSED,
          symbolError: huge,
        },
        privateMetadata: 'm'.repeat(3000),
      }),
    );
    expect(checkBlockKit('modal', view)).toEqual([]);
    expect(view.blocks.length).toBeLessThanOrEqual(SLACK_MAX_VIEW_BLOCKS);
    // Typed text may hold anything; text Slack renders as mrkdwn must not carry live markup.
    for (const text of mrkdwnTexts(view)) expect(text).not.toContain('<!channel>');
  });

  it('falls back to a required name input when no portfolio name can be an option', () => {
    const view = buildTradeModal(state({ defaultPortfolio: 'z'.repeat(200), portfolios: [] }));
    expect(blockById(view, PORTFOLIO_CHOICE.blockId)).toBeUndefined();
    expect(blockById(view, 'portfolio')?.optional).toBe(false);
    expect(checkBlockKit('modal', view)).toEqual([]);
  });

  it('refuses private metadata Slack would reject, rather than corrupting it', () => {
    expect(() => buildTradeModal(state({ privateMetadata: 'm'.repeat(3001) }))).toThrow(/3000/);
  });

  it('stays valid for any names and prefill (property)', () => {
    const text = fc.string({ maxLength: 300, unit: 'grapheme' });
    fc.assert(
      fc.property(
        fc.array(text, { maxLength: 130 }),
        text,
        fc.record(
          { portfolio: text, symbol: text, quantity: text, amount: text, limitPrice: text, stopPrice: text },
          { requiredKeys: [] },
        ),
        fc.boolean(),
        (portfolios, defaultPortfolio, prefill, ledgerOnly) => {
          const view = buildTradeModal(
            state({
              portfolios,
              defaultPortfolio,
              prefill,
              ledgerOnly,
              context: { market: CLOSED, asset: { ...AAPL, name: defaultPortfolio } },
            }),
          );
          expect(checkBlockKit('modal', view)).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('readTradeForm', () => {
  function submitted(overrides: Record<string, SubmittedValue> = {}): Record<string, Record<string, SubmittedValue>> {
    const values: Record<string, Record<string, SubmittedValue>> = {
      [PORTFOLIO_CHOICE.blockId]: { [PORTFOLIO_CHOICE.actionId]: { selected_option: { value: 'Growth' } } },
      portfolio: { [TRADE_FIELDS.portfolio.actionId]: { value: null } },
      symbol: { [TRADE_FIELDS.symbol.actionId]: { selected_option: { value: 'aapl' } } },
      side: { [TRADE_FIELDS.side.actionId]: { selected_option: { value: 'buy' } } },
      quantity: { [TRADE_FIELDS.quantity.actionId]: { value: '10' } },
      amount: { [TRADE_FIELDS.amount.actionId]: { value: null } },
      order_type: { [TRADE_FIELDS.order_type.actionId]: { selected_option: { value: 'limit' } } },
      limit_price: { [TRADE_FIELDS.limit_price.actionId]: { value: '189.5' } },
      stop_price: { [TRADE_FIELDS.stop_price.actionId]: { value: null } },
      time_in_force: { [TRADE_FIELDS.time_in_force.actionId]: { selected_option: { value: 'day' } } },
      extended_hours: { [TRADE_FIELDS.extended_hours.actionId]: { selected_options: [{ value: 'extended_hours' }] } },
      gmv: { [TRADE_FIELDS.gmv.actionId]: { value: null } },
    };
    for (const [blockId, value] of Object.entries(overrides)) {
      const actionId =
        blockId === PORTFOLIO_CHOICE.blockId
          ? PORTFOLIO_CHOICE.actionId
          : TRADE_FIELDS[blockId as keyof typeof TRADE_FIELDS].actionId;
      values[blockId] = { [actionId]: value };
    }
    return values;
  }

  it('reads every field as the validator expects it', () => {
    const input = readTradeForm(submitted());
    expect(input).toEqual({
      portfolio: 'Growth',
      symbol: 'aapl',
      side: 'buy',
      quantity: '10',
      amount: '',
      orderType: 'limit',
      limitPrice: '189.5',
      stopPrice: '',
      timeInForce: 'day',
      extendedHours: true,
      gmv: '',
    });
    const result = validateOrderForm(input, {
      asset: { symbol: 'AAPL', tradable: true, fractionable: true, status: 'active' },
      maxOrderNotional: dec(50000),
      heldQty: dec(0),
      ledgerOnly: false,
    });
    expect(result.ok).toBe(true);
  });

  it('a typed portfolio name wins over the select; blanks and missing blocks read as empty', () => {
    expect(readTradeForm(submitted({ portfolio: { value: '  New Fund ' } })).portfolio).toBe('  New Fund ');
    expect(readTradeForm(submitted({ portfolio: { value: '   ' } })).portfolio).toBe('Growth');
    expect(readTradeForm({})).toEqual({
      portfolio: '',
      symbol: '',
      side: '',
      quantity: '',
      amount: '',
      orderType: '',
      limitPrice: '',
      stopPrice: '',
      timeInForce: '',
      extendedHours: false,
      gmv: '',
    });
  });
});
