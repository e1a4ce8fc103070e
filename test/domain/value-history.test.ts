import { describe, expect, it } from 'vitest';
import { newYorkDate } from '../../src/domain/market-hours';
import { dec } from '../../src/domain/money';
import {
  addDays,
  barDates,
  type ClosesBySymbol,
  portfolioValueHistory,
  type ValueFill,
  weekdaysBetween,
} from '../../src/domain/value-history';

/** A fill at a New York wall-clock time in late 2025 (EST, UTC−5). */
const fill = (side: 'buy' | 'sell', qty: string, symbol: string, price: string, nyDateTime: string): ValueFill => ({
  symbol,
  side,
  qty: dec(qty),
  price: dec(price),
  filledAt: new Date(`${nyDateTime}-05:00`),
});

const closes = (table: Record<string, Record<string, string>>): ClosesBySymbol =>
  new Map(
    Object.entries(table).map(([symbol, byDate]) => [
      symbol,
      new Map(Object.entries(byDate).map(([date, close]) => [date, dec(close)])),
    ]),
  );

// Thanksgiving (Thu Nov 27) and the weekend have no bars; BBB has none on Nov 25; CCC starts trading on Nov 26.
const BARS = closes({
  AAA: {
    '2025-11-21': '9.5',
    '2025-11-24': '10',
    '2025-11-25': '11',
    '2025-11-26': '12',
    '2025-11-28': '13',
    '2025-12-01': '14',
  },
  BBB: { '2025-11-24': '50', '2025-11-26': '52', '2025-11-28': '53', '2025-12-01': '55' },
  CCC: { '2025-11-26': '20', '2025-11-28': '21', '2025-12-01': '22' },
});

const values = (points: { date: string; value: { toFixed(): string } }[]) =>
  points.map((p) => [p.date, p.value.toFixed()]);

describe('portfolioValueHistory', () => {
  it('values holdings at each close: opening holding, buys, partial sell, mid-period symbol, missing bar', () => {
    const fills = [
      fill('buy', '10', 'AAA', '9', '2025-11-20T10:00:00'), // before the period: the opening holding
      fill('buy', '4', 'BBB', '49.5', '2025-11-24T15:00:00'),
      fill('buy', '5', 'AAA', '11', '2025-11-25T11:00:00'),
      fill('sell', '6', 'AAA', '12', '2025-11-26T14:00:00'), // partial: 15 → 9
      fill('buy', '3', 'CCC', '20.5', '2025-11-28T10:00:00'), // bought mid-period
      fill('sell', '1', 'BBB', '54', '2025-12-01T19:30:00'), // after the close, 00:30 UTC on Dec 2: still Dec 1
    ];
    const days = barDates(BARS, '2025-11-24', '2025-12-01');
    expect(days).toEqual(['2025-11-24', '2025-11-25', '2025-11-26', '2025-11-28', '2025-12-01']);

    const points = portfolioValueHistory(fills, BARS, days);
    // Worked by hand:
    //   Nov 24: AAA 10 × 10 + BBB 4 × 50                = 100 + 200       = 300
    //   Nov 25: AAA 15 × 11 + BBB 4 × 50 (no bar: Nov 24) = 165 + 200       = 365
    //   Nov 26: AAA  9 × 12 + BBB 4 × 52                = 108 + 208       = 316
    //   Nov 28: AAA  9 × 13 + BBB 4 × 53 + CCC 3 × 21     = 117 + 212 + 63  = 392
    //   Dec  1: AAA  9 × 14 + BBB 3 × 55 + CCC 3 × 22     = 126 + 165 + 66  = 357
    expect(values(points)).toEqual([
      ['2025-11-24', '300'],
      ['2025-11-25', '365'],
      ['2025-11-26', '316'],
      ['2025-11-28', '392'],
      ['2025-12-01', '357'],
    ]);
    expect(points.every((p) => p.atFillPrice.length === 0)).toBe(true);
  });

  it('counts fills of a weekend or holiday from the next day drawn, and fractional quantities exactly', () => {
    const fills = [
      fill('buy', '0.1', 'AAA', '12.5', '2025-11-27T12:00:00'), // Thanksgiving (a ledger-mode record)
      fill('buy', '0.2', 'AAA', '13', '2025-11-29T12:00:00'), // Saturday
    ];
    const points = portfolioValueHistory(fills, BARS, ['2025-11-26', '2025-11-28', '2025-12-01']);
    // Nov 26: nothing yet; Nov 28: 0.1 × 13; Dec 1: 0.3 × 14.
    expect(values(points)).toEqual([
      ['2025-11-26', '0'],
      ['2025-11-28', '1.3'],
      ['2025-12-01', '4.2'],
    ]);
  });

  it('values a holding with no close yet at its latest fill price, and says so', () => {
    const fills = [
      fill('buy', '2', 'CCC', '19', '2025-11-24T10:00:00'), // CCC's first bar is Nov 26
      fill('buy', '3', 'ZZZ', '7.25', '2025-11-24T10:00:00'), // no bars at all (ledger mode, or not on the feed)
      fill('buy', '1', 'ZZZ', '8', '2025-11-26T10:00:00'),
    ];
    const points = portfolioValueHistory(fills, BARS, ['2025-11-24', '2025-11-25', '2025-11-26']);
    // Nov 24: CCC 2 × 19 (fill) + ZZZ 3 × 7.25 (fill) = 38 + 21.75 = 59.75
    // Nov 25: the same                                  = 59.75
    // Nov 26: CCC 2 × 20 (close) + ZZZ 4 × 8 (fill)     = 40 + 32   = 72
    expect(values(points)).toEqual([
      ['2025-11-24', '59.75'],
      ['2025-11-25', '59.75'],
      ['2025-11-26', '72'],
    ]);
    expect(points.map((p) => p.atFillPrice)).toEqual([['CCC', 'ZZZ'], ['CCC', 'ZZZ'], ['ZZZ']]);
  });

  it('uses the last close before the first day drawn, and values a short position negative', () => {
    const fills = [
      fill('buy', '1', 'AAA', '9', '2025-11-21T10:00:00'),
      fill('sell', '2', 'BBB', '51', '2025-11-25T10:00:00'), // opens a short
    ];
    // AAA on Nov 23 (a Sunday) is worth its Friday close; BBB short −2 × 50 (Nov 24's close) on Nov 25.
    const points = portfolioValueHistory(fills, BARS, ['2025-11-23', '2025-11-25']);
    expect(values(points)).toEqual([
      ['2025-11-23', '9.5'],
      ['2025-11-25', '-89'],
    ]);
  });

  it('is zero when everything was sold, and empty without days', () => {
    const fills = [
      fill('buy', '5', 'AAA', '10', '2025-11-24T10:00:00'),
      fill('sell', '5', 'AAA', '11', '2025-11-25T10:00:00'),
    ];
    expect(values(portfolioValueHistory(fills, BARS, ['2025-11-24', '2025-11-25']))).toEqual([
      ['2025-11-24', '50'],
      ['2025-11-25', '0'],
    ]);
    expect(portfolioValueHistory(fills, BARS, [])).toEqual([]);
  });
});

describe('dates', () => {
  it('newYorkDate is the New York calendar day, across the DST change', () => {
    expect(newYorkDate(new Date('2025-12-02T00:30:00Z'))).toBe('2025-12-01');
    expect(newYorkDate(new Date('2025-07-01T03:59:00Z'))).toBe('2025-06-30');
    expect(newYorkDate(new Date('2025-07-01T04:00:00Z'))).toBe('2025-07-01');
  });

  it('addDays and weekdaysBetween', () => {
    expect(addDays('2025-11-28', 3)).toBe('2025-12-01');
    expect(addDays('2025-03-01', -1)).toBe('2025-02-28');
    expect(weekdaysBetween('2025-11-27', '2025-12-02')).toEqual([
      '2025-11-27',
      '2025-11-28',
      '2025-12-01',
      '2025-12-02',
    ]);
  });
});
