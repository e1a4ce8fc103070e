import { describe, expect, it } from 'vitest';
import { LedgerBroker, newYorkRegularHoursClock } from '../../src/broker/ledger-broker';
import { LedgerOnlyError } from '../../src/domain/errors';
import { dec } from '../../src/domain/money';

describe('LedgerBroker', () => {
  it('is the ledger kind', () => {
    expect(new LedgerBroker().kind).toBe('ledger');
  });

  it('accepts any well-formed US ticker as tradable and fractionable', async () => {
    const broker = new LedgerBroker();
    expect(await broker.getAsset(' brk.b ')).toEqual({
      symbol: 'BRK.B',
      name: 'BRK.B',
      exchange: 'UNKNOWN',
      tradable: true,
      fractionable: true,
      shortable: false,
      status: 'active',
    });
    expect((await broker.getAsset('A')).symbol).toBe('A');
    expect((await broker.getAsset('GOOGL')).symbol).toBe('GOOGL');
  });

  it.each(['', 'TOOLONG', 'AB1', 'BRK.C', 'BRK.', '$AAPL', 'BTC/USD'])('refuses %j as a ticker', async (symbol) => {
    await expect(new LedgerBroker().getAsset(symbol)).rejects.toMatchObject({ kind: 'invalid_symbol' });
  });

  it('has no prices, positions, orders or history', async () => {
    const broker = new LedgerBroker();
    expect((await broker.getSnapshots(['AAPL'])).size).toBe(0);
    expect(await broker.listPositions()).toEqual([]);
    expect(await broker.listOrders({ status: 'all' })).toEqual([]);
    expect(await broker.listAssets()).toEqual([]);
    expect(await broker.getPortfolioHistory('1M')).toEqual([]);
  });

  it('refuses everything that needs a real broker with LedgerOnlyError', async () => {
    const broker = new LedgerBroker();
    const intent = {
      clientOrderId: 'c',
      symbol: 'AAPL',
      side: 'buy' as const,
      type: 'market' as const,
      timeInForce: 'day' as const,
      qty: dec(1),
      extendedHours: false,
    };
    for (const call of [
      () => broker.submitOrder(intent),
      () => broker.getOrder('o'),
      () => broker.getOrderByClientOrderId('c'),
      () => broker.cancelOrder('o'),
      () => broker.getAccount(),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(LedgerOnlyError);
    }
  });

  it('offers a stream that is ready at once and never connected', async () => {
    const subscription = new LedgerBroker().streamTradeUpdates({ onUpdate: () => undefined });
    await expect(subscription.ready).resolves.toBeUndefined();
    expect(subscription.connected()).toBe(false);
    await subscription.close();
  });

  it('derives the clock from the injected time', async () => {
    const broker = new LedgerBroker({ now: () => new Date('2026-03-04T15:00:00Z') });
    expect((await broker.getClock()).isOpen).toBe(true);
  });
});

describe('newYorkRegularHoursClock', () => {
  const iso = (d: Date) => d.toISOString();

  it('is open on a weekday during 09:30–16:00 New York time (EST)', () => {
    const clock = newYorkRegularHoursClock(new Date('2026-01-14T15:00:00Z')); // Wed 10:00 EST
    expect(clock.isOpen).toBe(true);
    expect(iso(clock.nextClose)).toBe('2026-01-14T21:00:00.000Z');
    expect(iso(clock.nextOpen)).toBe('2026-01-15T14:30:00.000Z');
  });

  it('is closed before the open and opens the same day (EDT)', () => {
    const clock = newYorkRegularHoursClock(new Date('2026-07-08T12:00:00Z')); // Wed 08:00 EDT
    expect(clock.isOpen).toBe(false);
    expect(iso(clock.nextOpen)).toBe('2026-07-08T13:30:00.000Z');
    expect(iso(clock.nextClose)).toBe('2026-07-08T20:00:00.000Z');
  });

  it('is closed at exactly 16:00 and the next open is the next morning', () => {
    const clock = newYorkRegularHoursClock(new Date('2026-07-08T20:00:00Z'));
    expect(clock.isOpen).toBe(false);
    expect(iso(clock.nextOpen)).toBe('2026-07-09T13:30:00.000Z');
  });

  it('is open at exactly 09:30', () => {
    expect(newYorkRegularHoursClock(new Date('2026-07-08T13:30:00Z')).isOpen).toBe(true);
  });

  it('skips the weekend: Friday evening opens Monday', () => {
    const clock = newYorkRegularHoursClock(new Date('2026-01-16T23:00:00Z')); // Fri 18:00 EST
    expect(clock.isOpen).toBe(false);
    expect(iso(clock.nextOpen)).toBe('2026-01-19T14:30:00.000Z');
    expect(iso(clock.nextClose)).toBe('2026-01-19T21:00:00.000Z');
  });

  it("is closed on Saturday midday and uses New York's date, not UTC's", () => {
    expect(newYorkRegularHoursClock(new Date('2026-01-17T16:00:00Z')).isOpen).toBe(false);
    // Sunday 21:00 EST is already Monday 02:00 UTC: still closed, opens Monday 09:30.
    const sundayNight = newYorkRegularHoursClock(new Date('2026-01-19T02:00:00Z'));
    expect(sundayNight.isOpen).toBe(false);
    expect(iso(sundayNight.nextOpen)).toBe('2026-01-19T14:30:00.000Z');
  });

  it('follows the switch to daylight time (Friday EST → Monday EDT)', () => {
    const clock = newYorkRegularHoursClock(new Date('2026-03-06T22:00:00Z')); // Fri 17:00 EST; DST starts Sun 8 March
    expect(iso(clock.nextOpen)).toBe('2026-03-09T13:30:00.000Z');
  });

  it('ignores holidays (documented): Christmas Day 2026 is a Friday and reads as open', () => {
    expect(newYorkRegularHoursClock(new Date('2026-12-25T15:00:00Z')).isOpen).toBe(true);
  });
});
