import { describe, expect, it } from 'vitest';
import { axisDollars, niceTicks, shortDate, valueDollars } from '../../src/charts/labels';

describe('chart labels', () => {
  it('dates as a phone reads them', () => {
    expect(shortDate('2025-11-03')).toBe('Nov 3');
    expect(shortDate('2026-01-30')).toBe('Jan 30');
  });

  it('axis dollars in the unit of the axis, with the decimals the step needs', () => {
    const ticks = niceTicks(99_400, 102_100, 4);
    expect(ticks.values).toEqual([99_000, 100_000, 101_000, 102_000, 103_000]);
    expect(ticks.values.map((v) => axisDollars(v, ticks.step, ticks.max))).toEqual([
      '$99k',
      '$100k',
      '$101k',
      '$102k',
      '$103k',
    ]);
    expect(axisDollars(100_500, 500, 102_000)).toBe('$100.5k');
    expect(axisDollars(1_250_000, 250_000, 2_000_000)).toBe('$1.25M');
    expect(axisDollars(0.25, 0.25, 1)).toBe('$0.25');
    expect(axisDollars(-2_000, 1_000, 4_000)).toBe('−$2k');
    expect(axisDollars(0, 1_000, 4_000)).toBe('$0');
    // A step too small for the unit falls back to plain dollars.
    expect(axisDollars(50_030, 10, 50_030)).toBe('$50,030');
    expect(axisDollars(1_002_500, 2_500, 1_005_000)).toBe('$1,002.5k');
  });

  it('line-end values in whole dollars, cents below $100, millions from $1M', () => {
    expect(valueDollars(101_834.56)).toBe('$101,835');
    expect(valueDollars(9_642.1)).toBe('$9,642');
    expect(valueDollars(512.4)).toBe('$512');
    expect(valueDollars(12.345)).toBe('$12.35');
    expect(valueDollars(1_234_567)).toBe('$1.23M');
    expect(valueDollars(-4_268)).toBe('−$4,268');
    expect(valueDollars(0)).toBe('$0');
  });

  it('ticks for a flat line keep it mid-panel, and all-zero is one $0 baseline', () => {
    const flat = niceTicks(5_000, 5_000, 4);
    expect(flat.min).toBeLessThan(5_000);
    expect(flat.max).toBeGreaterThan(5_000);
    expect(niceTicks(0, 0).values).toEqual([0]);
  });
});
