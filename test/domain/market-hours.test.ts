import { describe, expect, it } from 'vitest';
import { describeMarket, formatNewYorkDateTime, formatNewYorkTime } from '../../src/domain/market-hours';

// January is EST (UTC-5), July is EDT (UTC-4). 2026-01-05 is a Monday.
const at = (iso: string) => new Date(iso);

describe('formatNewYorkTime', () => {
  it('shows only the time on the same New York day', () => {
    expect(formatNewYorkTime(at('2026-01-05T21:00:00Z'), at('2026-01-05T15:00:00Z'))).toBe('16:00 ET');
  });

  it('uses the New York calendar day, not UTC (23:30 ET is already tomorrow in UTC)', () => {
    const now = at('2026-01-06T04:30:00Z'); // Mon 23:30 ET
    expect(formatNewYorkTime(at('2026-01-06T14:30:00Z'), now)).toBe('Tue 09:30 ET');
    expect(formatNewYorkTime(at('2026-01-06T04:45:00Z'), now)).toBe('23:45 ET');
  });

  it('adds the date when more than 6 days away, or in the past', () => {
    expect(formatNewYorkTime(at('2026-01-12T14:30:00Z'), at('2026-01-06T15:00:00Z'))).toBe('Mon 09:30 ET');
    expect(formatNewYorkTime(at('2026-01-13T14:30:00Z'), at('2026-01-05T15:00:00Z'))).toBe('Tue Jan 13 09:30 ET');
    expect(formatNewYorkTime(at('2026-01-02T14:30:00Z'), at('2026-01-05T15:00:00Z'))).toBe('Fri Jan 2 09:30 ET');
  });

  it('follows daylight saving time', () => {
    expect(formatNewYorkTime(at('2026-07-06T13:30:00Z'), at('2026-07-06T12:00:00Z'))).toBe('09:30 ET');
  });

  it('uses a 24-hour clock with midnight as 00', () => {
    expect(formatNewYorkTime(at('2026-01-06T05:05:00Z'), at('2026-01-06T05:00:00Z'))).toBe('00:05 ET');
  });
});

describe('formatNewYorkDateTime', () => {
  it('always shows weekday, date, year and time', () => {
    expect(formatNewYorkDateTime(at('2026-01-05T14:31:07Z'))).toBe('Mon Jan 5, 2026 09:31 ET');
  });
});

describe('describeMarket', () => {
  it('open: closes today', () => {
    const market = describeMarket(
      { isOpen: true, nextClose: at('2026-01-05T21:00:00Z'), nextOpen: at('2026-01-06T14:30:00Z') },
      at('2026-01-05T15:00:00Z'),
    );
    expect(market).toEqual({
      open: true,
      headline: 'Market open — closes 16:00 ET',
      detail: 'Closes 16:00 ET (in 6 h); next open Tue 09:30 ET.',
    });
  });

  it('closed over the weekend: opens Monday', () => {
    const market = describeMarket(
      { isOpen: false, nextOpen: at('2026-01-12T14:30:00Z'), nextClose: at('2026-01-12T21:00:00Z') },
      at('2026-01-09T22:00:00Z'),
    );
    expect(market).toEqual({
      open: false,
      headline: 'Market closed — opens Mon 09:30 ET',
      detail: 'Opens Mon 09:30 ET (in 2 d 16 h); closes Mon 16:00 ET.',
    });
  });

  it('closed before the open on a trading day', () => {
    const market = describeMarket(
      { isOpen: false, nextOpen: at('2026-01-05T14:30:00Z'), nextClose: at('2026-01-05T21:00:00Z') },
      at('2026-01-05T12:15:00Z'),
    );
    expect(market.headline).toBe('Market closed — opens 09:30 ET');
    expect(market.detail).toBe('Opens 09:30 ET (in 2 h 15 min); closes 16:00 ET.');
  });

  it('a long holiday shows the date of the next open', () => {
    const market = describeMarket(
      { isOpen: false, nextOpen: at('2026-01-13T14:30:00Z'), nextClose: at('2026-01-13T21:00:00Z') },
      at('2026-01-05T22:00:00Z'),
    );
    expect(market.headline).toBe('Market closed — opens Tue Jan 13 09:30 ET');
  });

  it('counts down in minutes, then under a minute, and drops the countdown for a stale clock', () => {
    const clock = { isOpen: false, nextOpen: at('2026-01-05T14:30:00Z'), nextClose: at('2026-01-05T21:00:00Z') };
    expect(describeMarket(clock, at('2026-01-05T14:20:00Z')).detail).toBe(
      'Opens 09:30 ET (in 10 min); closes 16:00 ET.',
    );
    expect(describeMarket(clock, at('2026-01-05T14:29:30Z')).detail).toBe(
      'Opens 09:30 ET (in less than a minute); closes 16:00 ET.',
    );
    expect(describeMarket(clock, at('2026-01-05T14:31:00Z')).detail).toBe('Opens 09:30 ET; closes 16:00 ET.');
  });
});
