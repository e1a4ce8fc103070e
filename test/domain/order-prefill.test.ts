import { describe, expect, it } from 'vitest';
import { dec } from '../../src/domain/money';
import { decodePrefill, encodePrefill, prefillFromOrder, pricingFieldsFor } from '../../src/domain/order-prefill';

describe('pricingFieldsFor', () => {
  it('asks for a limit price, a stop price and extended hours only where the order type uses them', () => {
    expect(pricingFieldsFor(undefined, undefined)).toEqual({
      limitPrice: false,
      stopPrice: false,
      extendedHours: false,
    });
    expect(pricingFieldsFor('limit', 'day')).toEqual({ limitPrice: true, stopPrice: false, extendedHours: true });
    expect(pricingFieldsFor('limit', 'gtc')).toEqual({ limitPrice: true, stopPrice: false, extendedHours: false });
    expect(pricingFieldsFor('stop', 'day')).toEqual({ limitPrice: false, stopPrice: true, extendedHours: false });
    expect(pricingFieldsFor('stop_limit', 'day')).toEqual({ limitPrice: true, stopPrice: true, extendedHours: false });
  });
});

describe('prefillFromOrder and its button encoding', () => {
  it('round-trips an order, keeping a dollar amount as the size', () => {
    const prefill = prefillFromOrder({
      portfolio: 'Growth “Fund”',
      symbol: 'BRK.B',
      side: 'sell',
      notional: dec('1250.50'),
      type: 'limit',
      limitPrice: dec('410.500000'),
      timeInForce: 'day',
      extendedHours: true,
    });
    expect(prefill).toEqual({
      portfolio: 'Growth “Fund”',
      symbol: 'BRK.B',
      side: 'sell',
      amount: '1250.5',
      type: 'limit',
      limitPrice: '410.5',
      timeInForce: 'day',
      extendedHours: true,
    });
    expect(decodePrefill(encodePrefill(prefill))).toEqual(prefill);
    expect(encodePrefill(prefill).length).toBeLessThan(200);
  });

  it('drops anything malformed rather than trusting it', () => {
    expect(decodePrefill('not json')).toEqual({});
    expect(decodePrefill('{"d":"hold","t":"trailing","f":"ioc","s":7,"q":"3"}')).toEqual({ quantity: '3' });
  });
});
