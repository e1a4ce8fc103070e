import { describe, expect, it } from 'vitest';
import { dec } from '../../src/domain/money';
import { MAX_PORTFOLIO_NAME_LENGTH, type OrderFormResult, validateOrderForm } from '../../src/domain/order-form';
import { orderFormInput } from '../support/trading';

/** The portfolio field of the order form: the name an order is booked under is the normalised one. */

const form = (portfolio: string) => orderFormInput({ portfolio });

const validate = (portfolio: string): OrderFormResult =>
  validateOrderForm(form(portfolio), {
    asset: { symbol: 'AAPL', tradable: true, fractionable: true, status: 'active' },
    lastPrice: dec('189.42'),
    maxOrderNotional: dec('50000'),
    heldQty: dec(0),
    ledgerOnly: false,
  });

const portfolioOf = (portfolio: string) => {
  const result = validate(portfolio);
  if (!result.ok) throw new Error(`expected a valid order, got ${JSON.stringify(result.errors)}`);
  return result.order.portfolio;
};

const portfolioError = (portfolio: string) => {
  const result = validate(portfolio);
  return result.ok ? undefined : result.errors.portfolio;
};

describe('validateOrderForm — portfolio names', () => {
  it.each([
    ['Grow\u200Bth', 'Growth'],
    ['Cafe\u0301', 'Caf\u00e9'],
    ['Growth  Fund', 'Growth Fund'],
    ['\uFF27\uFF52\uFF4F\uFF57\uFF54\uFF48', 'Growth'],
  ])('%j is booked as %j', (typed, stored) => {
    expect(portfolioOf(typed)).toBe(stored);
  });

  it('a name of nothing but invisible characters is no name', () => {
    expect(portfolioError('\u200B\u200D')).toMatch(/Choose a portfolio/);
  });

  it('the length limit counts the name as stored, not the invisible characters', () => {
    expect(portfolioOf(`${'x'.repeat(MAX_PORTFOLIO_NAME_LENGTH)}\u200B`)).toHaveLength(MAX_PORTFOLIO_NAME_LENGTH);
  });

  it('full-width look-alikes of Slack markup are refused like the real thing', () => {
    expect(portfolioError('\uFF1C!channel\uFF1E')).toMatch(/can’t contain <, >, \* or `/);
    expect(portfolioError('\uFF0Abold\uFF0A')).toMatch(/can’t contain/);
  });
});
