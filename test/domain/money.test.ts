import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimalText, formatUsd, moneyText, parseDecimal, parseMoney } from '../../src/domain/money';

describe('decimalText / moneyText — the one parser of typed numbers', () => {
  it.each([
    ['10', '10'],
    ['2.5', '2.5'],
    ['.5', '.5'],
    ['10.', '10'],
    ['1,000', '1000'],
    ['1,000.50', '1000.50'],
    ['12,345,678.9', '12345678.9'],
    ['  42  ', '42'],
    ['0.000000001', '0.000000001'],
  ])('%j → %j', (typed, digits) => {
    expect(decimalText(typed)).toBe(digits);
  });

  const refused = [
    '',
    ' ',
    '.',
    '-1',
    '+1',
    '1e3',
    '1,00',
    '12,34',
    '1 000',
    '$10',
    '10$',
    'ten',
    '1.2.3',
    '１０',
    '0x10',
  ];
  it.each(refused)('refuses %j', (typed) => {
    expect(decimalText(typed)).toBeUndefined();
  });

  it('money may carry a leading "$", and only that', () => {
    expect(moneyText('$1,000.50')).toBe('1000.50');
    expect(moneyText(' $ 500 ')).toBe('500');
    expect(moneyText('500')).toBe('500');
    expect(moneyText('500$')).toBeUndefined();
    expect(moneyText('$$5')).toBeUndefined();
    expect(parseMoney('$.5')?.toFixed()).toBe('0.5');
    expect(parseDecimal('$5')).toBeUndefined();
  });

  it('reads back every amount as the app formats it', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), (cents) => {
        const shown = formatUsd(parseDecimal(`${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`)!);
        expect(parseMoney(shown)?.toFixed(2)).toBe(shown.replace(/[$,]/g, ''));
      }),
    );
  });
});
