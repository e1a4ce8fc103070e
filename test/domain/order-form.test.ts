import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dec } from '../../src/domain/money';
import {
  MAX_MONEY,
  MAX_PORTFOLIO_NAME_LENGTH,
  MAX_PRICE,
  MAX_SHARES,
  ORDER_FIELDS,
  type OrderAsset,
  type OrderField,
  type OrderFormContext,
  type OrderFormInput,
  type OrderFormResult,
  validateOrderForm,
} from '../../src/domain/order-form';
import { orderFormInput } from '../support/trading';

const AAPL: OrderAsset = { symbol: 'AAPL', tradable: true, fractionable: true, status: 'active' };
const BRK_A: OrderAsset = { symbol: 'BRK.A', tradable: true, fractionable: false, status: 'active' };

function form(overrides: Partial<OrderFormInput> = {}): OrderFormInput {
  return orderFormInput({ portfolio: 'Growth', quantity: '10', ...overrides });
}

function context(overrides: Partial<OrderFormContext> = {}): OrderFormContext {
  return {
    asset: AAPL,
    lastPrice: dec('189.42'),
    maxOrderNotional: dec('50000'),
    heldQty: dec('3'),
    ledgerOnly: false,
    ...overrides,
  };
}

function errorsOf(result: OrderFormResult): Partial<Record<OrderField, string>> {
  if (result.ok) throw new Error(`expected errors, got a valid order ${JSON.stringify(result.order)}`);
  return result.errors;
}

function orderOf(result: OrderFormResult) {
  if (!result.ok) throw new Error(`expected a valid order, got ${JSON.stringify(result.errors)}`);
  return result.order;
}

describe('validateOrderForm — accepted orders', () => {
  it('a market buy by quantity, with the value estimated from the last price', () => {
    const order = orderOf(validateOrderForm(form({ portfolio: '  Growth  ', symbol: ' aapl ' }), context()));
    expect(order).toMatchObject({
      portfolio: 'Growth',
      symbol: 'AAPL',
      side: 'buy',
      type: 'market',
      timeInForce: 'day',
      extendedHours: false,
    });
    expect(order.qty?.toFixed()).toBe('10');
    expect(order.notional).toBeUndefined();
    expect(order.estimatedValue?.toFixed()).toBe('1894.2');
  });

  it('a dollar amount with "$1,000.50" money forms', () => {
    const order = orderOf(validateOrderForm(form({ quantity: '', amount: '$1,000.50' }), context()));
    expect(order.notional?.toFixed()).toBe('1000.5');
    expect(order.qty).toBeUndefined();
    expect(order.estimatedValue?.toFixed()).toBe('1000.5');
  });

  it('grouped quantities, and limit / stop / stop limit orders with their prices', () => {
    expect(
      orderOf(
        validateOrderForm(
          form({ quantity: '1,000', orderType: 'limit', limitPrice: '$40.5' }),
          context({ lastPrice: dec('40.10') }),
        ),
      ).qty?.toFixed(),
    ).toBe('1000');
    const stopLimit = orderOf(
      validateOrderForm(
        form({ orderType: 'stop_limit', stopPrice: '180', limitPrice: '179.50', timeInForce: 'gtc' }),
        context(),
      ),
    );
    expect(stopLimit.stopPrice?.toFixed()).toBe('180');
    expect(stopLimit.limitPrice?.toFixed()).toBe('179.5');
    // Valued at the highest of stop, limit and last: here the last trade, $189.42.
    expect(stopLimit.estimatedValue?.toFixed()).toBe('1894.2');
    expect(
      orderOf(validateOrderForm(form({ orderType: 'stop', stopPrice: '200' }), context())).estimatedValue?.toFixed(),
    ).toBe('2000');
  });

  it('sub-dollar prices may have 4 decimals; trailing zeros do not count', () => {
    expect(
      orderOf(validateOrderForm(form({ orderType: 'limit', limitPrice: '0.5125' }), context())).limitPrice?.toFixed(),
    ).toBe('0.5125');
    expect(
      orderOf(validateOrderForm(form({ orderType: 'limit', limitPrice: '189.5000' }), context())).limitPrice?.toFixed(),
    ).toBe('189.5');
  });

  it('extended hours with a limit day order; fractional market day order', () => {
    expect(
      orderOf(validateOrderForm(form({ orderType: 'limit', limitPrice: '180', extendedHours: true }), context()))
        .extendedHours,
    ).toBe(true);
    expect(orderOf(validateOrderForm(form({ quantity: '2.123456789' }), context())).qty?.toFixed()).toBe('2.123456789');
  });

  it('selling exactly what the portfolio holds', () => {
    expect(orderOf(validateOrderForm(form({ side: 'sell', quantity: '3' }), context())).side).toBe('sell');
    expect(
      orderOf(validateOrderForm(form({ side: 'SELL', quantity: '', amount: '500' }), context())).notional?.toFixed(),
    ).toBe('500');
  });

  it('an optional GMV outside ledger mode is kept', () => {
    expect(orderOf(validateOrderForm(form({ gmv: '$1,894.20' }), context())).gmv?.toFixed()).toBe('1894.2');
  });

  it(
    'without a quote: a limit buy is valued at its limit, ' +
      'a stop limit buy at the higher of stop and limit, a dollar amount at the amount',
    () => {
      const noQuote = context({ lastPrice: undefined });
      expect(
        orderOf(
          validateOrderForm(form({ quantity: '100', orderType: 'limit', limitPrice: '180' }), noQuote),
        ).estimatedValue?.toFixed(),
      ).toBe('18000');
      expect(
        orderOf(
          validateOrderForm(
            form({ quantity: '100', orderType: 'stop_limit', stopPrice: '185', limitPrice: '184' }),
            noQuote,
          ),
        ).estimatedValue?.toFixed(),
      ).toBe('18500');
      expect(orderOf(validateOrderForm(form({ quantity: '', amount: '500' }), noQuote)).estimatedValue?.toFixed()).toBe(
        '500',
      );
      expect(
        orderOf(
          validateOrderForm(form({ side: 'sell', quantity: '', amount: '500' }), noQuote),
        ).estimatedValue?.toFixed(),
      ).toBe('500');
    },
  );

  it('a whole share of a stock under $1 needs no $1 minimum; a fractional order worth $1 or more passes', () => {
    expect(
      orderOf(
        validateOrderForm(form({ quantity: '1' }), context({ lastPrice: dec('0.42') })),
      ).estimatedValue?.toFixed(),
    ).toBe('0.42');
    expect(orderOf(validateOrderForm(form({ quantity: '0.005279274' }), context())).qty?.toFixed()).toBe('0.005279274');
  });

  it('ledger-only: GMV is the recorded value and the estimate', () => {
    const order = orderOf(
      validateOrderForm(
        form({ gmv: '1,894.20', quantity: '10.5', orderType: 'limit', limitPrice: '180', timeInForce: 'gtc' }),
        context({ ledgerOnly: true }),
      ),
    );
    expect(order.gmv?.toFixed()).toBe('1894.2');
    expect(order.estimatedValue?.toFixed()).toBe('1894.2');
  });

  it('ledger-only needs no quote: the GMV is the value, and a tiny fractional quantity is fine', () => {
    const ledger = context({ ledgerOnly: true, lastPrice: undefined });
    expect(orderOf(validateOrderForm(form({ gmv: '1,894.20' }), ledger)).estimatedValue?.toFixed()).toBe('1894.2');
    expect(orderOf(validateOrderForm(form({ quantity: '0.0000001', gmv: '0.01' }), ledger)).qty?.toFixed()).toBe(
      '0.0000001',
    );
  });
});

describe('validateOrderForm — one clear sentence per broken rule', () => {
  it.each<[string, Partial<OrderFormInput>, Partial<OrderFormContext>, OrderField, RegExp]>([
    ['empty portfolio', { portfolio: '   ' }, {}, 'portfolio', /Choose a portfolio/],
    [
      'portfolio too long',
      { portfolio: 'x'.repeat(MAX_PORTFOLIO_NAME_LENGTH + 1) },
      {},
      'portfolio',
      /at most 80 characters \(this one has 81\)/,
    ],
    [
      'portfolio with a line break',
      { portfolio: 'Growth\nFund' },
      {},
      'portfolio',
      /line breaks or control characters/,
    ],
    ['portfolio with a bidi override', { portfolio: 'Growth\u202EdnuF' }, {}, 'portfolio', /control characters/],
    ['portfolio with Slack markup', { portfolio: '<!channel>' }, {}, 'portfolio', /can’t contain <, >, \* or `/],
    ['portfolio with backticks', { portfolio: '`code`' }, {}, 'portfolio', /can’t contain/],
    ['portfolio with an asterisk', { portfolio: '*bold*' }, {}, 'portfolio', /can’t contain/],
    ['empty symbol', { symbol: '' }, { asset: undefined }, 'symbol', /Enter a stock symbol, like AAPL/],
    ['malformed symbol', { symbol: '$AAPL' }, { asset: undefined }, 'symbol', /“\$AAPL” isn’t a stock symbol/],
    [
      'unknown symbol',
      { symbol: 'zzzz' },
      { asset: undefined },
      'symbol',
      /couldn’t find a stock with the symbol ZZZZ/,
    ],
    ['asset for another symbol', { symbol: 'MSFT' }, {}, 'symbol', /couldn’t find a stock with the symbol MSFT/],
    ['untradable symbol', {}, { asset: { ...AAPL, tradable: false } }, 'symbol', /AAPL can’t be traded/],
    ['inactive symbol', {}, { asset: { ...AAPL, status: 'inactive' } }, 'symbol', /AAPL can’t be traded/],
    ['no side', { side: '' }, {}, 'side', /Choose buy or sell/],
    ['no order type', { orderType: 'twap' }, {}, 'order_type', /Choose an order type/],
    ['no time in force', { timeInForce: 'ioc' }, {}, 'time_in_force', /Choose day or GTC/],
    ['quantity and amount', { amount: '500' }, {}, 'quantity', /^Enter a quantity or a dollar amount, not both\.$/],
    ['neither quantity nor amount', { quantity: '' }, {}, 'quantity', /one of them/],
    [
      'quantity not a number',
      { quantity: 'ten' },
      {},
      'quantity',
      /^Quantity must be a positive number of shares, like 10 or 2\.5\.$/,
    ],
    ['negative quantity', { quantity: '-5' }, {}, 'quantity', /positive number of shares/],
    ['zero quantity', { quantity: '0' }, {}, 'quantity', /positive number of shares/],
    ['exponent quantity', { quantity: '1e3' }, {}, 'quantity', /positive number of shares/],
    ['too many decimals', { quantity: '1.0000000001' }, {}, 'quantity', /at most 9 decimals/],
    ['absurdly large', { quantity: '10000001' }, { lastPrice: dec('0.0001') }, 'quantity', /at most 10,000,000 shares/],
    [
      'fractional on a whole-share asset',
      { symbol: 'brk.a', quantity: '0.5' },
      { asset: BRK_A },
      'quantity',
      /BRK\.A trades in whole shares only/,
    ],
    [
      'amount not money',
      { quantity: '', amount: 'lots' },
      {},
      'amount',
      /positive dollar figure, like 500 or \$1,250\.50/,
    ],
    ['amount with sub-cents', { quantity: '', amount: '10.555' }, {}, 'amount', /at most 2 decimals/],
    ['amount below a dollar', { quantity: '', amount: '0.99' }, {}, 'amount', /smallest dollar amount is \$1\.00/],
    [
      'amount with a limit order',
      { quantity: '', amount: '500', orderType: 'limit', limitPrice: '180' },
      {},
      'order_type',
      /Dollar amounts only work with market orders/,
    ],
    [
      'amount good till canceled',
      { quantity: '', amount: '500', timeInForce: 'gtc' },
      {},
      'time_in_force',
      /Dollar amounts only work with day orders/,
    ],
    [
      'fractional limit order',
      { quantity: '1.5', orderType: 'limit', limitPrice: '180' },
      {},
      'order_type',
      /Fractional quantities only work with market orders/,
    ],
    [
      'fractional gtc order',
      { quantity: '1.5', timeInForce: 'gtc' },
      {},
      'time_in_force',
      /Fractional quantities only work with day orders/,
    ],
    ['limit without price', { orderType: 'limit' }, {}, 'limit_price', /A limit order needs a limit price/],
    ['stop without price', { orderType: 'stop' }, {}, 'stop_price', /A stop order needs a stop price/],
    [
      'stop limit without stop',
      { orderType: 'stop_limit', limitPrice: '180' },
      {},
      'stop_price',
      /A stop limit order needs a stop price/,
    ],
    [
      'stop limit without limit',
      { orderType: 'stop_limit', stopPrice: '180' },
      {},
      'limit_price',
      /A stop limit order needs a limit price/,
    ],
    [
      'limit price not a number',
      { orderType: 'limit', limitPrice: 'cheap' },
      {},
      'limit_price',
      /must be a dollar price/,
    ],
    ['zero limit price', { orderType: 'limit', limitPrice: '0' }, {}, 'limit_price', /more than \$0/],
    ['negative stop price', { orderType: 'stop', stopPrice: '-1' }, {}, 'stop_price', /must be a dollar price/],
    [
      'sub-penny above a dollar',
      { orderType: 'limit', limitPrice: '189.421' },
      {},
      'limit_price',
      /at most 2 decimals at \$1\.00 and above/,
    ],
    [
      'too fine under a dollar',
      { orderType: 'limit', limitPrice: '0.51251' },
      {},
      'limit_price',
      /at most 4 decimals under \$1\.00/,
    ],
    [
      'a price the type ignores',
      { limitPrice: '180' },
      {},
      'limit_price',
      /A market order doesn’t use a limit price: choose Limit or Stop limit/,
    ],
    [
      'a stop price on a limit order',
      { orderType: 'limit', limitPrice: '180', stopPrice: '170' },
      {},
      'stop_price',
      /A limit order doesn’t use a stop price/,
    ],
    [
      'extended hours on a market order',
      { extendedHours: true },
      {},
      'extended_hours',
      /only works with limit orders for the day/,
    ],
    [
      'extended hours gtc',
      { orderType: 'limit', limitPrice: '180', timeInForce: 'gtc', extendedHours: true },
      {},
      'extended_hours',
      /for the day/,
    ],
    ['GMV not money', { gmv: 'abc' }, {}, 'gmv', /GMV must be a positive dollar figure/],
    ['GMV negative', { gmv: '-5' }, {}, 'gmv', /GMV must be a positive dollar figure/],
    ['GMV sub-cent', { gmv: '1.005' }, {}, 'gmv', /at most 2 decimals/],
    ['ledger-only without GMV', {}, { ledgerOnly: true }, 'gmv', /ledger-only mode the GMV is required/],
    [
      'ledger-only with a dollar amount',
      { quantity: '', amount: '500', gmv: '500' },
      { ledgerOnly: true },
      'amount',
      /enter a quantity of shares/,
    ],
  ])('%s', (_name, input, ctx, field, message) => {
    const errors = errorsOf(validateOrderForm(form(input), context(ctx)));
    expect(errors[field]).toMatch(message);
  });

  it('names the figures when the order is worth more than the limit', () => {
    expect(errorsOf(validateOrderForm(form({ quantity: '300' }), context())).quantity).toBe(
      'This order is worth about $56,826.00 (300 shares at $189.42), above the $50,000.00 limit per order.',
    );
    expect(errorsOf(validateOrderForm(form({ quantity: '', amount: '50,000.01' }), context())).amount).toBe(
      'This order is worth about $50,000.01, above the $50,000.00 limit per order.',
    );
    // A limit order is valued at its limit price, not the last trade.
    expect(
      errorsOf(validateOrderForm(form({ quantity: '100', orderType: 'limit', limitPrice: '600' }), context())).quantity,
    ).toMatch(/\$60,000\.00/);
    expect(errorsOf(validateOrderForm(form({ gmv: '60000' }), context({ ledgerOnly: true }))).gmv).toMatch(
      /\$60,000\.00, above the \$50,000\.00/,
    );
  });

  it('refuses to sell more than the portfolio holds, naming portfolio and holding', () => {
    expect(errorsOf(validateOrderForm(form({ side: 'sell', quantity: '4' }), context())).quantity).toBe(
      'Growth holds 3 AAPL; you can sell at most 3.',
    );
    expect(
      errorsOf(validateOrderForm(form({ side: 'sell', quantity: '1' }), context({ heldQty: dec(0) }))).quantity,
    ).toBe('Growth holds no AAPL, so there is nothing to sell.');
    expect(errorsOf(validateOrderForm(form({ side: 'sell', quantity: '', amount: '600' }), context())).amount).toBe(
      'Growth holds 3 AAPL (about $568.26); you can sell at most about $568.26.',
    );
    expect(
      errorsOf(validateOrderForm(form({ side: 'sell', quantity: '', amount: '5' }), context({ heldQty: dec(0) })))
        .amount,
    ).toMatch(/holds no AAPL/);
  });

  it('reports every broken field at once, never keys outside the form', () => {
    const errors = errorsOf(
      validateOrderForm(
        {
          portfolio: '',
          symbol: '',
          side: '',
          quantity: '',
          amount: '',
          orderType: '',
          limitPrice: 'x',
          stopPrice: 'y',
          timeInForce: '',
          extendedHours: true,
          gmv: 'z',
        },
        context({ asset: undefined }),
      ),
    );
    expect(Object.keys(errors).sort()).toEqual(
      [
        'gmv',
        'limit_price',
        'order_type',
        'portfolio',
        'quantity',
        'side',
        'stop_price',
        'symbol',
        'time_in_force',
      ].sort(),
    );
  });

  it('exports its limits', () => {
    expect(MAX_SHARES.toFixed()).toBe('10000000');
    expect(MAX_PRICE.toFixed()).toBe('999999999999.99');
    expect(MAX_MONEY.toFixed()).toBe('9999999999999999.99');
    expect(ORDER_FIELDS).toHaveLength(11);
  });
});

describe('validateOrderForm — the risk limit fails closed', () => {
  const noQuote = (overrides: Partial<OrderFormContext> = {}) => context({ lastPrice: undefined, ...overrides });
  const CANT_PRICE =
    'We can’t price AAPL right now, so the $50,000.00 limit per order can’t be checked — try again in a moment.';

  it('refuses a market buy it cannot price, with a sentence on the quantity', () => {
    expect(errorsOf(validateOrderForm(form({ quantity: '100000' }), noQuote())).quantity).toBe(CANT_PRICE);
    expect(errorsOf(validateOrderForm(form({ quantity: '1' }), noQuote())).quantity).toBe(CANT_PRICE);
  });

  it('refuses sells and stops it cannot price: only a buy with a limit has a ceiling without a quote', () => {
    expect(errorsOf(validateOrderForm(form({ side: 'sell', quantity: '1' }), noQuote())).quantity).toBe(CANT_PRICE);
    expect(
      errorsOf(
        validateOrderForm(form({ side: 'sell', quantity: '1', orderType: 'limit', limitPrice: '180' }), noQuote()),
      ).quantity,
    ).toBe(CANT_PRICE);
    expect(
      errorsOf(validateOrderForm(form({ quantity: '1', orderType: 'stop', stopPrice: '200' }), noQuote())).quantity,
    ).toBe(CANT_PRICE);
    expect(
      errorsOf(
        validateOrderForm(
          form({ side: 'sell', quantity: '1', orderType: 'stop_limit', stopPrice: '180', limitPrice: '179' }),
          noQuote(),
        ),
      ).quantity,
    ).toBe(CANT_PRICE);
  });

  it('values a stop far from the market at the last price, not at its stop', () => {
    expect(
      errorsOf(validateOrderForm(form({ quantity: '4000000', orderType: 'stop', stopPrice: '0.01' }), context()))
        .quantity,
    ).toBe(
      'This order is worth about $757,680,000.00 (4,000,000 shares at $189.42), above the $50,000.00 limit per order.',
    );
    expect(
      errorsOf(
        validateOrderForm(
          form({ quantity: '4000', orderType: 'stop_limit', stopPrice: '0.01', limitPrice: '0.02' }),
          context(),
        ),
      ).quantity,
    ).toMatch(/worth about \$757,680\.00 \(4,000 shares at \$189\.42\), above the \$50,000\.00 limit/);
    // A limit buy can spend no more than its limit, wherever the market is: 300 × $150 is within the limit.
    expect(
      validateOrderForm(form({ quantity: '300', orderType: 'limit', limitPrice: '150' }), context()),
    ).toMatchObject({ ok: true, order: { estimatedValue: dec(45_000) } });
    expect(
      errorsOf(validateOrderForm(form({ quantity: '400', orderType: 'limit', limitPrice: '150' }), context())).quantity,
    ).toMatch(/\$60,000\.00 \(400 shares at \$150\.00\)/);
    // A stop above the market is valued at the stop.
    expect(
      errorsOf(validateOrderForm(form({ quantity: '200', orderType: 'stop', stopPrice: '260' }), context())).quantity,
    ).toMatch(/\$52,000\.00 \(200 shares at \$260\.00\)/);
  });

  it('a limit buy without a quote is still capped at its limit', () => {
    expect(
      errorsOf(validateOrderForm(form({ quantity: '1000', orderType: 'limit', limitPrice: '60' }), noQuote())).quantity,
    ).toMatch(/worth about \$60,000\.00 \(1,000 shares at \$60\.00\)/);
  });

  it('refuses a fractional order under Alpaca’s $1 minimum, saying how many shares make $1', () => {
    expect(errorsOf(validateOrderForm(form({ quantity: '0.0000001' }), context())).quantity).toBe(
      'Alpaca needs at least $1.00 of value in a fractional order: ' +
        '0.0000001 AAPL is worth less than a cent. Enter at least 0.005279274 shares, or a whole number.',
    );
    expect(errorsOf(validateOrderForm(form({ quantity: '0.005' }), context())).quantity).toMatch(
      /worth about \$0\.95\. Enter at least 0\.005279274 shares/,
    );
    expect(errorsOf(validateOrderForm(form({ side: 'sell', quantity: '0.001' }), context())).quantity).toMatch(
      /at least \$1\.00 of value/,
    );
  });

  it('refuses a fractional order it cannot price, naming both checks it can’t make', () => {
    expect(errorsOf(validateOrderForm(form({ quantity: '0.5' }), noQuote())).quantity).toBe(
      'We can’t price AAPL right now, so the $50,000.00 limit per order and Alpaca’s ' +
        '$1.00 minimum for fractional shares can’t be checked — try again in a moment.',
    );
  });

  it('names the limit configured, not a default', () => {
    expect(errorsOf(validateOrderForm(form(), noQuote({ maxOrderNotional: dec('12500.5') }))).quantity).toMatch(
      /the \$12,500\.50 limit per order can’t be checked/,
    );
  });

  it('never adds a pricing sentence when the symbol itself is wrong', () => {
    const errors = errorsOf(validateOrderForm(form({ symbol: 'ZZZZ' }), noQuote({ asset: undefined })));
    expect(errors.symbol).toMatch(/ZZZZ/);
    expect(errors.quantity).toBeUndefined();
  });
});

describe('validateOrderForm — values the database can hold', () => {
  it('caps limit and stop prices below $1,000,000,000,000 (numeric(18,6))', () => {
    expect(
      errorsOf(validateOrderForm(form({ orderType: 'limit', limitPrice: '1000000000000' }), context())).limit_price,
    ).toBe('Limit price can be at most $999,999,999,999.99.');
    expect(
      errorsOf(validateOrderForm(form({ orderType: 'stop', stopPrice: '1,000,000,000,000.00' }), context())).stop_price,
    ).toBe('Stop price can be at most $999,999,999,999.99.');
  });

  it('caps GMV and dollar amounts below $10^16 (numeric(18,2)), even with no limit in sight', () => {
    const unlimited = context({ maxOrderNotional: dec('1e30') });
    expect(errorsOf(validateOrderForm(form({ gmv: '10000000000000000' }), unlimited)).gmv).toBe(
      'GMV can be at most $9,999,999,999,999,999.99.',
    );
    expect(errorsOf(validateOrderForm(form({ quantity: '', amount: '10000000000000000' }), unlimited)).amount).toBe(
      'Amount can be at most $9,999,999,999,999,999.99.',
    );
    expect(orderOf(validateOrderForm(form({ gmv: '9,999,999,999,999,999.99' }), unlimited)).gmv?.toFixed()).toBe(
      '9999999999999999.99',
    );
  });

  it('ledger-only: refuses a GMV and quantity whose price per share the fills table cannot hold', () => {
    const ledger = context({ ledgerOnly: true });
    expect(errorsOf(validateOrderForm(form({ quantity: '0.000000001', gmv: '50000' }), ledger)).gmv).toBe(
      'At $50,000.00 for 0.000000001 shares, ' +
        'each share would be recorded at about $50,000,000,000,000.00, ' +
        'more than the books can hold ($999,999,999,999.99 a share at most). Check the GMV and the quantity.',
    );
    expect(orderOf(validateOrderForm(form({ quantity: '0.00000001', gmv: '9999.99' }), ledger)).gmv?.toFixed()).toBe(
      '9999.99',
    );
  });
});

// ---- properties -------------------------------------------------------------------------

const anyText = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ maxLength: 12, unit: 'binary' }));
const plausibleNumber = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '1',
    '10',
    '2.5',
    '0.5125',
    '1,000',
    '$1,000.50',
    '189.42',
    '1e3',
    '-1',
    '.5',
    '10000001',
    '0.0000000001',
    '12.345',
  ),
  fc.constantFrom(
    '0.0000001',
    '0.000000001',
    '0.005',
    '1000000000000',
    '999999999999.99',
    '10000000000000000',
    '9999999999999999.99',
  ),
  fc.integer({ min: 1, max: 100_000 }).map(String),
  fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 9999 })).map(([w, f]) => `${w}.${f}`),
);
const plausibleForm: fc.Arbitrary<OrderFormInput> = fc.record({
  portfolio: fc.oneof(fc.constantFrom('Growth', 'Default Portfolio', '', '  Income  ', '<x>', 'a'.repeat(81)), anyText),
  symbol: fc.oneof(fc.constantFrom('AAPL', 'aapl', 'BRK.A', '', '$AAPL', 'ZZZZ'), anyText),
  side: fc.oneof(fc.constantFrom('buy', 'sell', ''), anyText),
  quantity: fc.oneof(plausibleNumber, fc.constant(''), anyText),
  amount: fc.oneof(fc.constant(''), plausibleNumber, anyText),
  orderType: fc.oneof(fc.constantFrom('market', 'limit', 'stop', 'stop_limit', ''), anyText),
  limitPrice: fc.oneof(fc.constant(''), plausibleNumber, anyText),
  stopPrice: fc.oneof(fc.constant(''), plausibleNumber, anyText),
  timeInForce: fc.oneof(fc.constantFrom('day', 'gtc', ''), anyText),
  extendedHours: fc.boolean(),
  gmv: fc.oneof(fc.constant(''), plausibleNumber, anyText),
});
const anyContext: fc.Arbitrary<OrderFormContext> = fc.record(
  {
    asset: fc.option(
      fc.record({
        symbol: fc.constantFrom('AAPL', 'BRK.A', 'ZZZZ'),
        tradable: fc.boolean(),
        fractionable: fc.boolean(),
        status: fc.constantFrom('active', 'inactive'),
      }),
      { nil: undefined },
    ),
    lastPrice: fc.constantFrom('0.42', '189.42', '5000').map(dec),
    // 10^20: no limit in practice, so only the column bounds stand between a value and the database.
    maxOrderNotional: fc.constantFrom('1000', '50000', '100000000000000000000').map(dec),
    heldQty: fc.constantFrom('0', '3', '1000.5').map(dec),
    ledgerOnly: fc.boolean(),
  },
  { requiredKeys: ['asset', 'maxOrderNotional', 'heldQty', 'ledgerOnly'] },
);

/** Mostly well-formed forms, each field occasionally off, so the accepting path is exercised too. */
function mostly<T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: good, weight: 9 }, { arbitrary: bad, weight: 1 });
}
const priceText = fc.oneof(
  fc.integer({ min: 1, max: 600 }).map(String),
  fc
    .tuple(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 0, max: 99 }))
    .map(([w, c]) => `${w}.${String(c).padStart(2, '0')}`),
  fc.integer({ min: 1, max: 9999 }).map((n) => `0.${String(n).padStart(4, '0')}`),
);
const nearlyValidForm: fc.Arbitrary<OrderFormInput> = fc
  .record({
    portfolio: mostly(
      fc.constantFrom('Growth', ' Income ', 'Default Portfolio'),
      plausibleForm.map((f) => f.portfolio),
    ),
    symbol: mostly(fc.constantFrom('AAPL', 'aapl', 'BRK.A'), anyText),
    side: mostly(fc.constantFrom('buy', 'sell'), anyText),
    size: fc.oneof(
      {
        arbitrary: fc
          .oneof(
            fc.integer({ min: 1, max: 400 }).map(String),
            fc.constantFrom('0.5', '2.25', '1,000', '3', '0.0000001', '0.000000001', '0.01'),
          )
          .map((quantity) => ({ quantity, amount: '' })),
        weight: 5,
      },
      {
        arbitrary: fc
          .oneof(fc.integer({ min: 1, max: 60_000 }).map(String), fc.constantFrom('$1,000.50', '0.5', '99.99'))
          .map((amount) => ({ quantity: '', amount })),
        weight: 3,
      },
      { arbitrary: fc.record({ quantity: plausibleNumber, amount: plausibleNumber }), weight: 1 },
    ),
    pricing: mostly(
      fc.oneof(
        fc.constant({ orderType: 'market', limitPrice: '', stopPrice: '' }),
        priceText.map((limitPrice) => ({ orderType: 'limit', limitPrice, stopPrice: '' })),
        priceText.map((stopPrice) => ({ orderType: 'stop', limitPrice: '', stopPrice })),
        fc
          .tuple(priceText, priceText)
          .map(([stopPrice, limitPrice]) => ({ orderType: 'stop_limit', limitPrice, stopPrice })),
      ),
      fc.record({
        orderType: plausibleForm.map((f) => f.orderType),
        limitPrice: plausibleNumber,
        stopPrice: plausibleNumber,
      }),
    ),
    timeInForce: mostly(fc.constantFrom('day', 'day', 'gtc'), anyText),
    extendedHours: mostly(fc.constant(false), fc.constant(true)),
    gmv: fc.oneof(
      { arbitrary: fc.constant(''), weight: 3 },
      { arbitrary: fc.integer({ min: 1, max: 60_000 }).map((n) => `$${n.toLocaleString('en-US')}.50`), weight: 5 },
      { arbitrary: plausibleNumber, weight: 1 },
    ),
  })
  .map(({ size, pricing, ...rest }) => ({ ...rest, ...size, ...pricing }));
const friendlyContext: fc.Arbitrary<OrderFormContext> = fc.record(
  {
    asset: mostly(
      fc.constantFrom<OrderAsset | undefined>(AAPL, BRK_A),
      fc.constantFrom<OrderAsset | undefined>(
        undefined,
        { ...AAPL, tradable: false },
        { ...BRK_A, status: 'inactive' },
      ),
    ),
    lastPrice: fc.constantFrom('0.42', '189.42', '5000').map(dec),
    // 10^20: no limit in practice, so only the column bounds stand between a value and the database.
    maxOrderNotional: fc.constantFrom('1000', '50000', '100000000000000000000').map(dec),
    heldQty: fc.constantFrom('0', '3', '1000.5').map(dec),
    ledgerOnly: fc.boolean(),
  },
  { requiredKeys: ['asset', 'maxOrderNotional', 'heldQty', 'ledgerOnly'] },
);

function pennyValid(price: ReturnType<typeof dec>): boolean {
  return price.gt(0) && price.decimalPlaces() <= (price.gte(1) ? 2 : 4);
}

describe('validateOrderForm — properties', () => {
  it('never throws; rejections carry at least one error, each keyed by a real field', () => {
    fc.assert(
      fc.property(fc.oneof(plausibleForm, nearlyValidForm), fc.oneof(anyContext, friendlyContext), (input, ctx) => {
        const result = validateOrderForm(input, ctx);
        if (!result.ok) {
          const keys = Object.keys(result.errors);
          expect(keys.length).toBeGreaterThan(0);
          for (const key of keys) {
            expect(ORDER_FIELDS).toContain(key);
            expect(result.errors[key as OrderField]).toMatch(/\S/);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it(
    'accepted orders keep the invariants: one of qty / notional, ' + 'valid prices, within the limit and the holding',
    () => {
      let accepted = 0;
      fc.assert(
        fc.property(
          fc.oneof({ arbitrary: nearlyValidForm, weight: 4 }, { arbitrary: plausibleForm, weight: 1 }),
          fc.oneof({ arbitrary: friendlyContext, weight: 4 }, { arbitrary: anyContext, weight: 1 }),
          fc.boolean(),
          (form, ctx, typedTheAssetSymbol) => {
            const input =
              typedTheAssetSymbol && ctx.asset !== undefined
                ? { ...form, symbol: ctx.asset.symbol.toLowerCase() }
                : form;
            const result = validateOrderForm(input, ctx);
            if (!result.ok) return;
            accepted++;
            const { order } = result;
            expect((order.qty === undefined) !== (order.notional === undefined)).toBe(true);
            if (order.qty !== undefined) {
              expect(order.qty.gt(0) && order.qty.lte(MAX_SHARES) && order.qty.decimalPlaces() <= 9).toBe(true);
              if (ctx.asset !== undefined && !ctx.asset.fractionable) expect(order.qty.isInteger()).toBe(true);
            }
            if (order.notional !== undefined)
              expect(order.notional.gte(1) && order.notional.decimalPlaces() <= 2).toBe(true);
            if (order.limitPrice !== undefined) expect(pennyValid(order.limitPrice)).toBe(true);
            if (order.stopPrice !== undefined) expect(pennyValid(order.stopPrice)).toBe(true);
            expect(order.limitPrice !== undefined).toBe(order.type === 'limit' || order.type === 'stop_limit');
            expect(order.stopPrice !== undefined).toBe(order.type === 'stop' || order.type === 'stop_limit');
            expect(order.portfolio).toBe(order.portfolio.trim());
            expect(order.portfolio.length).toBeGreaterThan(0);
            expect(order.portfolio.length).toBeLessThanOrEqual(MAX_PORTFOLIO_NAME_LENGTH);
            expect(order.portfolio).not.toMatch(/[<>*`\n]/);
            // The limit fails closed: every accepted order was valued, and within the limit.
            expect(order.estimatedValue).toBeDefined();
            const value = order.estimatedValue!;
            expect(value.lte(ctx.maxOrderNotional)).toBe(true);
            if (ctx.ledgerOnly) expect(value.eq(order.gmv!)).toBe(true);
            else if (order.notional !== undefined) expect(value.eq(order.notional)).toBe(true);
            else {
              const qty = order.qty!;
              // A limit buy is worth what it can spend at most; anything else at least qty × every
              // price it could trade at.
              if (order.side === 'buy' && order.type === 'limit')
                expect(value.eq(qty.times(order.limitPrice!))).toBe(true);
              else
                for (const price of [order.limitPrice, order.stopPrice, ctx.lastPrice])
                  if (price !== undefined) expect(value.gte(qty.times(price))).toBe(true);
              // Only a buy with a limit has a ceiling without a quote.
              if (!(order.side === 'buy' && order.limitPrice !== undefined)) expect(ctx.lastPrice).toBeDefined();
              if (!qty.isInteger()) expect(value.gte(1)).toBe(true);
            }
            // Nothing the columns cannot hold: money numeric(18,2), prices numeric(18,6), quantities numeric(24,9).
            for (const money of [order.gmv, order.notional])
              if (money !== undefined) expect(money.lte(MAX_MONEY)).toBe(true);
            for (const price of [order.limitPrice, order.stopPrice])
              if (price !== undefined) expect(price.lte(MAX_PRICE)).toBe(true);
            if (ctx.ledgerOnly) expect(order.gmv!.div(order.qty!).toDecimalPlaces(6).lt(dec('1e12'))).toBe(true);
            if (order.side === 'sell' && order.qty !== undefined) expect(order.qty.lte(ctx.heldQty)).toBe(true);
            if (ctx.ledgerOnly) expect(order.gmv !== undefined && order.qty !== undefined).toBe(true);
            if (!ctx.ledgerOnly && (order.notional !== undefined || !order.qty!.isInteger())) {
              expect([order.type, order.timeInForce]).toEqual(['market', 'day']);
            }
            if (order.extendedHours && !ctx.ledgerOnly)
              expect([order.type, order.timeInForce]).toEqual(['limit', 'day']);
          },
        ),
        { numRuns: 5000 },
      );
      // The generators must reach the accepting path, or the invariants above were never checked.
      expect(accepted).toBeGreaterThan(100);
    },
  );
});
