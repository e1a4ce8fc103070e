import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Dec, dec } from '../../src/domain/money';
import {
  applyFill,
  averageCost,
  FLAT_POSITION,
  type PositionFill,
  type PositionState,
  replayFills,
} from '../../src/domain/positions';

const at = (minute: number) => new Date(Date.UTC(2026, 0, 5, 14, 30 + minute));
const buy = (qty: string, price: string, minute = 0): PositionFill => ({
  side: 'buy',
  qty: dec(qty),
  price: dec(price),
  filledAt: at(minute),
});
const sell = (qty: string, price: string, minute = 0): PositionFill => ({
  side: 'sell',
  qty: dec(qty),
  price: dec(price),
  filledAt: at(minute),
});

function figures(state: PositionState) {
  return {
    qty: state.qty.toFixed(),
    costBasis: state.costBasis.toFixed(),
    realizedPnl: state.realizedPnl.toFixed(),
    avgCost: averageCost(state)?.toFixed(),
    fillCount: state.fillCount,
  };
}

describe('average-cost positions', () => {
  it('buys raise the cost basis; the average is cost over quantity', () => {
    const state = replayFills([buy('10', '100'), buy('30', '120')]);
    expect(figures(state)).toEqual({ qty: '40', costBasis: '4600', realizedPnl: '0', avgCost: '115', fillCount: 2 });
  });

  it('a partial sell realizes (price − average) × quantity and keeps the average of what is left', () => {
    const state = replayFills([buy('10', '100'), buy('30', '120'), sell('15', '130')]);
    // 15 × (130 − 115) = 225; 25 shares left at 115.
    expect(figures(state)).toEqual({ qty: '25', costBasis: '2875', realizedPnl: '225', avgCost: '115', fillCount: 3 });
  });

  it('a loss is realized as a negative amount', () => {
    const state = replayFills([buy('4', '50'), sell('1', '45.5')]);
    expect(figures(state)).toMatchObject({ qty: '3', realizedPnl: '-4.5', avgCost: '50' });
  });

  it('a round trip to zero resets the cost basis; the next buy starts a fresh average', () => {
    const flat = replayFills([buy('10', '100'), sell('4', '110'), sell('6', '90')]);
    // +40 then −60.
    expect(figures(flat)).toEqual({ qty: '0', costBasis: '0', realizedPnl: '-20', avgCost: undefined, fillCount: 3 });
    const again = applyFill(flat, buy('5', '200'));
    expect(figures(again)).toEqual({ qty: '5', costBasis: '1000', realizedPnl: '-20', avgCost: '200', fillCount: 4 });
  });

  it('selling more than is held closes the long at its average and opens a short at the sale price', () => {
    const state = replayFills([buy('10', '100'), sell('15', '110')]);
    expect(figures(state)).toEqual({ qty: '-5', costBasis: '-550', realizedPnl: '100', avgCost: '110', fillCount: 2 });
  });

  it('covering a short realizes (average − price) × quantity', () => {
    const state = replayFills([sell('10', '50'), buy('4', '40')]);
    expect(figures(state)).toEqual({ qty: '-6', costBasis: '-300', realizedPnl: '40', avgCost: '50', fillCount: 2 });
  });

  it('fractional shares and sub-cent prices keep money to a millionth of a dollar, half-even', () => {
    const state = replayFills([buy('0.333333333', '189.4275'), buy('1.5', '0.0001'), sell('1', '190')]);
    // Cost 63.142499936859… → 63.1425; + 0.00015 → 63.14265; average over 1.833333333 sh.
    expect(state.qty.toFixed()).toBe('0.833333333');
    const removed = dec('63.14265').times(1).div('1.833333333').toDecimalPlaces(6);
    expect(state.costBasis.toFixed()).toBe(dec('63.14265').minus(removed).toFixed());
    expect(state.realizedPnl.toFixed()).toBe(dec('190').minus(removed).toFixed());
    expect(state.costBasis.decimalPlaces()).toBeLessThanOrEqual(6);
  });

  it('starts from the flat position and records when the last fill happened', () => {
    expect(FLAT_POSITION.lastFillAt).toBeNull();
    expect(applyFill(FLAT_POSITION, buy('1', '1', 7)).lastFillAt).toEqual(at(7));
  });
});

/** Fills drawn so that quantities and prices look like Alpaca's (9 and 6 decimals at most). */
const fillArbitrary = fc.record({
  side: fc.constantFrom<'buy' | 'sell'>('buy', 'sell'),
  qty: fc.integer({ min: 1, max: 5_000_000_000 }).map((n) => dec(n).div(1e6)),
  price: fc.integer({ min: 1, max: 50_000_000 }).map((n) => dec(n).div(1e4)),
  filledAt: fc.constant(at(0)),
});

describe('average-cost invariants (property-based)', () => {
  it('quantity is the signed sum of fills, whatever the order', () => {
    fc.assert(
      fc.property(fc.array(fillArbitrary, { maxLength: 40 }), (fills) => {
        const expected = fills.reduce((sum: Dec, f) => (f.side === 'buy' ? sum.plus(f.qty) : sum.minus(f.qty)), dec(0));
        expect(replayFills(fills).qty.eq(expected)).toBe(true);
      }),
    );
  });

  it('a flat position has no cost left; the books balance: realized = proceeds − purchases when flat', () => {
    fc.assert(
      fc.property(fc.array(fillArbitrary, { maxLength: 30 }), (fills) => {
        const state = replayFills(fills);
        if (state.qty.isZero()) expect(state.costBasis.isZero()).toBe(true);
        // Cash out minus cash in, plus what is still held at cost, equals realized P&L (to rounding).
        const cash = fills.reduce(
          (sum: Dec, f) => (f.side === 'sell' ? sum.plus(f.qty.times(f.price)) : sum.minus(f.qty.times(f.price))),
          dec(0),
        );
        const drift = cash.plus(state.costBasis).minus(state.realizedPnl).abs();
        expect(drift.lte(dec('0.000001').times(fills.length * 2 + 1))).toBe(true);
      }),
    );
  });

  it(
    'the average cost of an open position lies between the lowest and highest price paid, ' +
      'up to the millionth-of-a-dollar rounding of the cost',
    () => {
      fc.assert(
        fc.property(
          fc.array(
            fillArbitrary.map((f) => ({ ...f, side: 'buy' as const })),
            { minLength: 1, maxLength: 20 },
          ),
          (fills) => {
            const state = replayFills(fills);
            const avg = averageCost(state)!;
            const prices = fills.map((f) => f.price);
            // Each fill's cost is rounded by at most half a millionth of a dollar; spread over the shares held.
            const tolerance = dec('0.0000005').times(fills.length).div(state.qty);
            expect(avg.gte(prices.reduce((a, b) => (a.lt(b) ? a : b)).minus(tolerance))).toBe(true);
            expect(avg.lte(prices.reduce((a, b) => (a.gt(b) ? a : b)).plus(tolerance))).toBe(true);
          },
        ),
      );
    },
  );
});
