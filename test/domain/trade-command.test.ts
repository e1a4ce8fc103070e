import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type OrderPrefill, parseTradeCommand, RESERVED_WORDS } from '../../src/domain/trade-command';

function prefillOf(text: string): OrderPrefill {
  const command = parseTradeCommand(text);
  if (command.kind !== 'order') throw new Error(`expected an order for ${JSON.stringify(text)}, got ${command.kind}`);
  return command.prefill;
}

describe('parseTradeCommand — commands', () => {
  it.each([
    ['help', { kind: 'help' }],
    ['HELP me please', { kind: 'help' }],
    ['?', { kind: 'help' }],
    ['quote AAPL', { kind: 'quote', symbol: 'AAPL' }],
    ['q aapl', { kind: 'quote', symbol: 'AAPL' }],
    ['Price brk.b', { kind: 'quote', symbol: 'BRK.B' }],
    ['quote $day', { kind: 'quote', symbol: 'DAY' }],
    ['quote', { kind: 'quote' }],
    ['quote 123', { kind: 'quote' }],
    ['market', { kind: 'market' }],
    ['  Clock ', { kind: 'market' }],
    ['hours', { kind: 'market' }],
  ])('%j → %j', (text, expected) => {
    expect(parseTradeCommand(text)).toEqual(expected);
  });

  it('an empty command opens an empty form', () => {
    expect(parseTradeCommand('')).toEqual({ kind: 'order', prefill: {} });
    expect(parseTradeCommand('   \n\t ')).toEqual({ kind: 'order', prefill: {} });
  });
});

describe('parseTradeCommand — order prefill', () => {
  it.each<[string, OrderPrefill]>([
    ['AAPL', { symbol: 'AAPL' }],
    ['buy 10 AAPL', { side: 'buy', quantity: '10', symbol: 'AAPL' }],
    ['BUY 10 aapl', { side: 'buy', quantity: '10', symbol: 'AAPL' }],
    ['sell 5 msft limit 410.50', { side: 'sell', quantity: '5', symbol: 'MSFT', type: 'limit', limitPrice: '410.50' }],
    ['buy $500 AAPL', { side: 'buy', amount: '500', symbol: 'AAPL' }],
    ['buy 500$ of aapl', { side: 'buy', amount: '500', symbol: 'AAPL' }],
    ['buy $ 1,250.50 of aapl', { side: 'buy', amount: '1250.50', symbol: 'AAPL' }],
    ['buy 500 usd of tsla', { side: 'buy', amount: '500', symbol: 'TSLA' }],
    ['buy 500 dollars tsla', { side: 'buy', amount: '500', symbol: 'TSLA' }],
    ['buy 10 aapl stop 180', { side: 'buy', quantity: '10', symbol: 'AAPL', type: 'stop', stopPrice: '180' }],
    [
      'buy 10 aapl stop 180 limit 179.5',
      { side: 'buy', quantity: '10', symbol: 'AAPL', type: 'stop_limit', stopPrice: '180', limitPrice: '179.5' },
    ],
    [
      'buy 10 aapl limit 179.5 stp $180',
      { side: 'buy', quantity: '10', symbol: 'AAPL', type: 'stop_limit', stopPrice: '180', limitPrice: '179.5' },
    ],
    ['buy 10 aapl stop_limit', { side: 'buy', quantity: '10', symbol: 'AAPL', type: 'stop_limit' }],
    ['buy 10 aapl limit', { side: 'buy', quantity: '10', symbol: 'AAPL', type: 'limit' }],
    ['buy 10 aapl @ 189.5', { side: 'buy', quantity: '10', symbol: 'AAPL', type: 'limit', limitPrice: '189.5' }],
    ['buy 10 aapl @189.5', { side: 'buy', quantity: '10', symbol: 'AAPL', type: 'limit', limitPrice: '189.5' }],
    ['buy 10 aapl at $189.50', { side: 'buy', quantity: '10', symbol: 'AAPL', type: 'limit', limitPrice: '189.50' }],
    ['buy 10 aapl mkt', { side: 'buy', quantity: '10', symbol: 'AAPL', type: 'market' }],
    ['buy 10 aapl market', { side: 'buy', quantity: '10', symbol: 'AAPL', type: 'market' }],
    ['sell 1 aapl GTC', { side: 'sell', quantity: '1', symbol: 'AAPL', timeInForce: 'gtc' }],
    ['sell 1 aapl day', { side: 'sell', quantity: '1', symbol: 'AAPL', timeInForce: 'day' }],
    [
      'buy 1 aapl limit 180 ext',
      { side: 'buy', quantity: '1', symbol: 'AAPL', type: 'limit', limitPrice: '180', extendedHours: true },
    ],
    [
      'buy 1 aapl limit 180 extended hours',
      { side: 'buy', quantity: '1', symbol: 'AAPL', type: 'limit', limitPrice: '180', extendedHours: true },
    ],
    ['b 3 nvda', { side: 'buy', quantity: '3', symbol: 'NVDA' }],
    ['s 3 nvda', { side: 'sell', quantity: '3', symbol: 'NVDA' }],
    ['long 2.5 spy', { side: 'buy', quantity: '2.5', symbol: 'SPY' }],
    ['short 2 spy', { side: 'sell', quantity: '2', symbol: 'SPY' }],
    ['purchase 1,000 f', { side: 'buy', quantity: '1000', symbol: 'F' }],
    ['buy 10 s', { side: 'buy', quantity: '10', symbol: 'S' }],
    ['sell 10 b', { side: 'sell', quantity: '10', symbol: 'B' }],
    ['buy 10 $day', { side: 'buy', quantity: '10', symbol: 'DAY' }],
    ['aapl buy 10', { side: 'buy', quantity: '10', symbol: 'AAPL' }],
    ['buy .5 brk.b', { side: 'buy', quantity: '.5', symbol: 'BRK.B' }],
    ['buy 10 aapl pf:Growth', { side: 'buy', quantity: '10', symbol: 'AAPL', portfolio: 'Growth' }],
    ['buy 10 aapl portfolio:Growth', { side: 'buy', quantity: '10', symbol: 'AAPL', portfolio: 'Growth' }],
    ['buy 10 aapl pf:"Growth Fund"', { side: 'buy', quantity: '10', symbol: 'AAPL', portfolio: 'Growth Fund' }],
    ['buy 10 aapl PF:“Growth Fund”', { side: 'buy', quantity: '10', symbol: 'AAPL', portfolio: 'Growth Fund' }],
    ['buy 10 aapl pf: Growth', { side: 'buy', quantity: '10', symbol: 'AAPL', portfolio: 'Growth' }],
    ['buy 10 aapl pf:R&amp;D', { side: 'buy', quantity: '10', symbol: 'AAPL', portfolio: 'R&D' }],
  ])('%j', (text, expected) => {
    expect(prefillOf(text)).toEqual(expected);
  });

  it('ignores what it does not understand and keeps the first value of each kind', () => {
    expect(prefillOf('please buy 10 aapl now now now')).toEqual({ side: 'buy', quantity: '10', symbol: 'PLEASE' });
    expect(prefillOf('buy 10 20 aapl msft sell')).toEqual({ side: 'buy', quantity: '10', symbol: 'AAPL' });
    expect(prefillOf('buy -5 aapl 1e3 <@U123> :rocket: !!!')).toEqual({ side: 'buy', symbol: 'AAPL' });
    expect(prefillOf('sell 5 msft 410.50')).toEqual({ side: 'sell', quantity: '5', symbol: 'MSFT' });
    expect(prefillOf('buy 10 aapl limit abc')).toEqual({ side: 'buy', quantity: '10', symbol: 'AAPL', type: 'limit' });
    expect(prefillOf('"unterminated quote buy 10')).toEqual({});
  });

  it('keeps quantities as the typed decimal string, not a float', () => {
    expect(prefillOf('buy 0.1000000001 aapl').quantity).toBe('0.1000000001');
    expect(prefillOf('buy 12345678901234567890.5 aapl').quantity).toBe('12345678901234567890.5');
  });
});

const SIDE_WORDS = { buy: ['buy', 'B', 'long', 'Purchase'], sell: ['sell', 'S', 'short'] } as const;

const decimalString = fc
  .tuple(fc.nat({ max: 9_999_999 }), fc.option(fc.stringMatching(/^[0-9]{1,9}$/), { nil: undefined }))
  .map(([whole, fraction]) => (fraction === undefined ? String(whole) : `${whole}.${fraction}`));
const symbol = fc.stringMatching(/^[A-Z]{1,5}(\.[A-Z])?$/);
// Names as a Slack client would type them: no double quotes (they delimit the name).
const portfolioName = fc
  .string({ minLength: 1, maxLength: 40, unit: 'grapheme' })
  .map((s) => s.replace(/["“”„‟]/g, '').trim())
  .filter((s) => s !== '');

// Priced types always carry their prices here: a bare "limit" followed by the quantity would
// rightly read the quantity as the price (the example tests cover bare keywords).
const prefillArbitrary: fc.Arbitrary<OrderPrefill> = fc
  .record(
    {
      side: fc.constantFrom('buy' as const, 'sell' as const),
      size: fc.oneof(
        decimalString.map((quantity) => ({ quantity })),
        decimalString.map((amount) => ({ amount })),
      ),
      symbol,
      pricing: fc.oneof(
        fc.constant({ type: 'market' as const }),
        decimalString.map((limitPrice) => ({ type: 'limit' as const, limitPrice })),
        decimalString.map((stopPrice) => ({ type: 'stop' as const, stopPrice })),
        fc
          .tuple(decimalString, decimalString)
          .map(([stopPrice, limitPrice]) => ({ type: 'stop_limit' as const, stopPrice, limitPrice })),
      ),
      timeInForce: fc.constantFrom('day' as const, 'gtc' as const),
      extendedHours: fc.constant(true),
      portfolio: portfolioName,
    },
    { requiredKeys: [] },
  )
  .map(({ size, pricing, ...rest }): OrderPrefill => ({ ...rest, ...size, ...pricing }));

interface Spelling {
  sideWord: number;
  cashtag: boolean;
  dollarAfter: boolean;
}

/** The words a trader might type for a prefill (Slack escapes &, < and >); each unit stays together. */
function renderUnits(prefill: OrderPrefill, spelling: Spelling): { side?: string; others: string[] } {
  const others: string[] = [];
  if (prefill.quantity !== undefined) others.push(prefill.quantity);
  if (prefill.amount !== undefined) others.push(spelling.dollarAfter ? `${prefill.amount}$` : `$${prefill.amount}`);
  if (prefill.symbol !== undefined) {
    const reserved = RESERVED_WORDS.has(prefill.symbol);
    others.push(spelling.cashtag || reserved ? `$${prefill.symbol.toLowerCase()}` : prefill.symbol.toLowerCase());
  }
  if (prefill.type === 'market') others.push('mkt');
  if (prefill.limitPrice !== undefined) others.push(`limit ${prefill.limitPrice}`);
  if (prefill.stopPrice !== undefined) others.push(`stop ${prefill.stopPrice}`);
  if (prefill.timeInForce !== undefined) others.push(prefill.timeInForce.toUpperCase());
  if (prefill.extendedHours) others.push('ext');
  if (prefill.portfolio !== undefined) {
    others.push(`pf:"${prefill.portfolio.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}"`);
  }
  if (prefill.side === undefined) return { others };
  const choices = SIDE_WORDS[prefill.side];
  return { side: choices[spelling.sideWord % choices.length], others };
}

// Random sentences over the parser's own vocabulary hit its branches far more often than random text.
const vocabulary = [...RESERVED_WORDS].map((w) => w.toLowerCase());
const sentence = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        ...vocabulary,
        '$',
        '@',
        'pf:',
        'portfolio:',
        '"',
        '“',
        '&amp;',
        '&lt;',
        'pf:"a b"',
        '$1,000.50',
        '500$',
        '1,00',
        '-3',
        '.5',
        '5.',
      ),
      decimalString,
      symbol,
      fc.string({ maxLength: 8 }),
    ),
    { maxLength: 12 },
  )
  .map((words) => words.join(' '));

describe('parseTradeCommand — properties', () => {
  it('never throws and always returns a known command kind', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300, unit: 'binary' }), sentence), (text) => {
        const command = parseTradeCommand(text);
        expect(['help', 'quote', 'market', 'order']).toContain(command.kind);
        if (command.kind === 'order') {
          const { symbol: sym, quantity, amount, limitPrice, stopPrice } = command.prefill;
          if (sym !== undefined) expect(sym).toBe(sym.toUpperCase());
          for (const n of [quantity, amount, limitPrice, stopPrice]) {
            if (n !== undefined) expect(n).toMatch(/^\d*\.?\d+$/);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back every order it can be given, words in any order', () => {
    const typed = fc
      .tuple(prefillArbitrary, fc.record({ sideWord: fc.nat(), cashtag: fc.boolean(), dollarAfter: fc.boolean() }))
      .chain(([prefill, spelling]) => {
        const { side, others } = renderUnits(prefill, spelling);
        return (
          fc
            .shuffledSubarray(others, { minLength: others.length, maxLength: others.length })
            // A one-letter side word must lead: after a side is known, b / s are the tickers B / S.
            .map((shuffled) => ({ prefill, text: [...(side === undefined ? [] : [side]), ...shuffled].join(' ') }))
        );
      });
    fc.assert(
      fc.property(typed, ({ prefill, text }) => {
        expect(prefillOf(text)).toEqual(prefill);
      }),
      { numRuns: 1000 },
    );
  });
});
