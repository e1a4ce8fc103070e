import { describe, expect, it } from 'vitest';
import {
  checkApprovalFreshness,
  checkRejectReason,
  endingSentence,
  needsApproval,
  priceMovePct,
  requestPrice,
} from '../../src/domain/approvals';
import { dec } from '../../src/domain/money';

const REQUESTED = new Date('2026-12-01T15:00:00.000Z');
const POLICY = { ttlMinutes: 15, maxPriceMovePct: dec(2) };
const minutesLater = (m: number) => new Date(REQUESTED.getTime() + m * 60_000);

describe('needsApproval', () => {
  it('waits strictly above the threshold, and never when approval is off', () => {
    expect(needsApproval(dec('10000.01'), dec(10_000))).toBe(true);
    expect(needsApproval(dec(10_000), dec(10_000))).toBe(false);
    expect(needsApproval(dec(1_000_000), undefined)).toBe(false);
    expect(needsApproval(undefined, dec(10_000))).toBe(false);
  });
});

describe('checkApprovalFreshness', () => {
  const request = { requestedAt: REQUESTED, priceAtRequest: dec(200) };
  const check = (now: Date, currentPrice: ReturnType<typeof dec> | undefined | null) =>
    checkApprovalFreshness({ request, symbol: 'AAPL', now, currentPrice, policy: POLICY });

  it('accepts an approval within the TTL and the allowed move (both edges included)', () => {
    expect(check(minutesLater(15), dec(204))).toEqual({ ok: true });
    expect(check(minutesLater(1), dec(196))).toEqual({ ok: true });
  });

  it('refuses one after the TTL, whatever the price', () => {
    expect(check(minutesLater(15.01), dec(200))).toEqual({
      ok: false,
      reason: 'The request is more than 15 minutes old, too old to approve',
    });
  });

  it('refuses a move beyond the limit either way, saying by how much', () => {
    expect(check(minutesLater(1), dec('204.02'))).toMatchObject({ ok: false });
    const down = check(minutesLater(1), dec(190));
    expect(down).toEqual({
      ok: false,
      reason: 'AAPL moved 5.00% since the request ($200.00 → $190.00), more than the 2% allowed',
    });
  });

  it('shows the move to two decimals, so a refused 2.04% never reads as the allowed 2.0%', () => {
    expect(check(minutesLater(1), dec('204.08'))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^AAPL moved 2\.04% since the request/),
    });
  });

  it('fails closed without a current price; null means not checked (ledger-only mode)', () => {
    expect(check(minutesLater(1), undefined)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/current price/),
    });
    expect(check(minutesLater(1), dec(0))).toMatchObject({ ok: false });
    expect(check(minutesLater(1), null)).toEqual({ ok: true });
    expect(check(minutesLater(20), null)).toMatchObject({ ok: false });
  });

  it('measures the move against the price at request', () => {
    expect(priceMovePct(dec(200), dec(205)).toFixed(2)).toBe('2.50');
  });
});

describe('the sentences and inputs around a decision', () => {
  it('requires a reject reason, trimmed, of bounded length', () => {
    expect(checkRejectReason('  ')).toEqual({ error: 'Say why, so the trader knows what to change.' });
    expect(checkRejectReason(' too big ')).toEqual({ reason: 'too big' });
    expect(checkRejectReason('x'.repeat(501)).error).toMatch(/At most 500/);
  });

  it('tells the trader nothing was sent, and to ask again after an expiry', () => {
    expect(endingSentence('reject', 'too big')).toBe('Not approved: too big. Nothing was sent to Alpaca.');
    expect(endingSentence('expire', 'Nobody approved it within 15 minutes')).toMatch(
      /^Nobody approved it within 15 minutes\. Nothing was sent to Alpaca — place the order again/,
    );
  });

  it('prices the request from the quote, else (ledger-only) from the GMV per share', () => {
    expect(requestPrice({ lastPrice: dec(200) })?.toFixed()).toBe('200');
    expect(requestPrice({ gmv: dec(20_000), qty: dec(80) })?.toFixed()).toBe('250');
    expect(requestPrice({})).toBeUndefined();
    // A quote of 0 is no price: the approval's price check would divide by it.
    expect(requestPrice({ lastPrice: dec(0) })).toBeUndefined();
  });
});
