import { describe, expect, it } from 'vitest';
import { countOrders, digestPortfolio, newYorkDayWindow, topMovers } from '../../src/domain/digest';
import { newYorkDate, newYorkMidnight } from '../../src/domain/market-hours';
import { dec } from '../../src/domain/money';
import { totalValuation, valuePosition } from '../../src/domain/portfolio-valuation';

const position = (symbol: string, qty: string, cost: string, last?: string, prevClose?: string) =>
  valuePosition(
    { symbol, qty: dec(qty), costBasis: dec(cost), realizedPnl: dec(0), lastFillAt: null },
    last === undefined
      ? undefined
      : { lastPrice: dec(last), prevClose: prevClose === undefined ? undefined : dec(prevClose) },
  );

describe('the closing digest, by hand', () => {
  it('New York trading days: the date of an instant and the day’s window, across both DST changes', () => {
    // 21:15 UTC on 2 Dec is 16:15 EST; 03:30 UTC on 3 Dec is still 2 Dec in New York.
    expect(newYorkDate(new Date('2026-12-02T21:15:00Z'))).toBe('2026-12-02');
    expect(newYorkDate(new Date('2026-12-03T03:30:00Z'))).toBe('2026-12-02');
    expect(newYorkMidnight('2026-12-02').toISOString()).toBe('2026-12-02T05:00:00.000Z');
    expect(newYorkMidnight('2026-07-01').toISOString()).toBe('2026-07-01T04:00:00.000Z');
    // 8 March 2026 springs forward: a 23-hour day; 1 November falls back: 25 hours.
    const spring = newYorkDayWindow('2026-03-08');
    expect(spring.from.toISOString()).toBe('2026-03-08T05:00:00.000Z');
    expect(spring.to.toISOString()).toBe('2026-03-09T04:00:00.000Z');
    const fall = newYorkDayWindow('2026-11-01');
    expect((fall.to.getTime() - fall.from.getTime()) / 3_600_000).toBe(25);
  });

  it('the day’s orders: placed as the trader report counts them, the never-sent apart, most common first', () => {
    const counts = countOrders([
      { status: 'filled', errorCode: null, count: 3 },
      { status: 'canceled', errorCode: null, count: 1 },
      { status: 'pending_approval', errorCode: null, count: 2 },
      { status: 'rejected', errorCode: 'insufficient_buying_power', count: 1 },
      { status: 'failed', errorCode: 'network', count: 1 },
      // Withdrawn before approval: canceled, but never sent.
      { status: 'canceled', errorCode: 'approval_withdrawn', count: 1 },
      { status: 'expired', errorCode: null, count: 0 },
    ]);
    expect(counts.placed).toBe(4);
    expect(counts.byStatus).toEqual([
      { status: 'filled', count: 3 },
      { status: 'canceled', count: 1 },
    ]);
    expect(counts.notPlaced).toEqual([
      { status: 'pending_approval', count: 2 },
      { status: 'canceled', count: 1 },
      { status: 'failed', count: 1 },
      { status: 'rejected', count: 1 },
    ]);
  });

  it('top movers: by the size of today’s move either way, each symbol once, unpriced left out', () => {
    const movers = topMovers([
      position('AAPL', '6', '600', '110', '98'), // +12.2449 %
      position('MSFT', '2', '800', '400', '410'), // -2.4390 %
      position('AAPL', '1', '100', '110', '98'), // the same symbol in another portfolio
      position('TSLA', '1', '200'), // no quote
      position('SPY', '3', '1500', '500', '500'), // flat
    ]);
    expect(movers.map((m) => [m.symbol, m.changePct.toDecimalPlaces(4).toFixed(4)])).toEqual([
      ['AAPL', '12.2449'],
      ['MSFT', '-2.4390'],
      ['SPY', '0.0000'],
    ]);
  });

  it('a portfolio’s line is the valuation the portfolio views use: value, day P&L, unrealized, realized', () => {
    // 6 AAPL at average 100, last 110, previous close 98: value 660, day 6 × 12 = 72, unrealized 60.
    const positions = [position('AAPL', '6', '600', '110', '98'), position('TSLA', '1', '200')];
    const p = digestPortfolio({ name: 'Growth', totals: totalValuation(positions, dec(40)) });
    expect(p.value.toFixed(2)).toBe('660.00');
    expect(p.dayPnl.toFixed(2)).toBe('72.00');
    expect(p.unrealizedPnl.toFixed(2)).toBe('60.00');
    expect(p.realizedPnl.toFixed(2)).toBe('40.00');
    expect(p.unpriced).toEqual(['TSLA']);
  });
});
